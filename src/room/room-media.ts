/**
 * The room's media RPCs: the Worker streams bytes to R2 and reports back;
 * the room checks membership and records each upload (uploads.ts, media.ts).
 */
import { roomMediaPrefix } from "../media/keys";
import { RoomBase } from "./room-base";
import * as uploads from "./uploads";

export class RoomMedia extends RoomBase {

  /** This room's objects live under `rooms/<object id>/`: a server-made prefix. */
  get mediaPrefix(): string {
    return roomMediaPrefix(this.ctx.id.toString());
  }

  beginUpload(userId: string, req: uploads.BeginUpload) {
    const now = this.time.now();
    const result = uploads.beginUpload(this.core, this.ctx.id.toString(), userId, req, now);
    if (result.ok) this.parts.scheduler.at(now + this.parts.media.orphanTtlMs);
    return result;
  }

  setMultipartUpload(userId: string, uploadId: string, r2UploadId: string) {
    return uploads.setMultipartUpload(this.core, userId, uploadId, r2UploadId);
  }

  uploadTarget(userId: string, uploadId: string) {
    return uploads.uploadTarget(this.core, userId, uploadId);
  }

  recordPart(userId: string, uploadId: string, part: { partNumber: number; etag: string; size: number }, type: uploads.FileType | null) {
    return uploads.recordPart(this.core, userId, uploadId, part, type);
  }

  uploadStatus(userId: string, uploadId: string) {
    return uploads.uploadStatus(this.core, userId, uploadId, this.parts.media.orphanTtlMs);
  }

  prepareComplete(userId: string, uploadId: string) {
    return uploads.prepareComplete(this.core, userId, uploadId);
  }

  finishUpload(userId: string, mediaId: string, info: { size: number; etag: string; type: uploads.FileType | null }) {
    return uploads.finishUpload(this.core, userId, mediaId, info);
  }

  /** The upload failed or was refused: whatever reached R2 is deleted by the alarm, now. */
  abandonUpload(userId: string, mediaId: string): boolean {
    const abandoned = uploads.abandonUpload(this.core, userId, mediaId);
    if (abandoned) this.parts.scheduler.at(this.time.now());
    return abandoned;
  }

  mediaForDownload(userId: string, mediaId: string) {
    return uploads.mediaForDownload(this.core, userId, mediaId);
  }

  /** Deletes every media object of this room (the purge of a deleted room). */
  purgeMedia(): Promise<number> {
    return this.parts.purgeJob.purgeMedia();
  }
}
