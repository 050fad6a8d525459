/**
 * The room's record of its media: who uploaded what, where it is in R2, what
 * it turned out to be, and which message holds it. The room is the source of
 * truth; R2 holds only bytes under keys this table names. Everything here is
 * synchronous SQL, so recording an attachment commits with its message.
 * Owner of `media` and `media_parts`.
 */
import type { Attachment } from "../protocol";

export type MediaState = "uploading" | "pending" | "attached" | "removed" | "deleting";

export interface MediaRow extends Record<string, SqlStorageValue> {
  media_id: string;
  uploader: string;
  r2_key: string;
  filename: string;
  content_type: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
  etag: string | null;
  state: MediaState;
  msg_seq: number | null;
  upload_id: string | null;
  r2_upload_id: string | null;
  part_size: number | null;
  created_ts: number;
}

export interface PartRow extends Record<string, SqlStorageValue> {
  part_number: number;
  etag: string;
  size: number;
}

export function toAttachment(row: MediaRow): Attachment {
  const a: Attachment = { mediaId: row.media_id, filename: row.filename, contentType: row.content_type ?? "application/octet-stream", size: row.size ?? 0 };
  if (row.width !== null && row.height !== null) {
    a.width = row.width;
    a.height = row.height;
  }
  return a;
}

export class MediaRecords {
  constructor(private readonly sql: SqlStorage) {}

  begin(row: { mediaId: string; uploader: string; key: string; filename: string; size: number | null; uploadId: string | null; partSize: number | null; now: number }): void {
    this.sql.exec(
      "INSERT INTO media (media_id, uploader, r2_key, filename, size, state, upload_id, part_size, created_ts) VALUES (?, ?, ?, ?, ?, 'uploading', ?, ?, ?)",
      row.mediaId,
      row.uploader,
      row.key,
      row.filename,
      row.size,
      row.uploadId,
      row.partSize,
      row.now,
    );
  }

  get(mediaId: string): MediaRow | null {
    return this.sql.exec<MediaRow>("SELECT * FROM media WHERE media_id = ?", mediaId).toArray()[0] ?? null;
  }

  byUpload(uploadId: string): MediaRow | null {
    return this.sql.exec<MediaRow>("SELECT * FROM media WHERE upload_id = ?", uploadId).toArray()[0] ?? null;
  }

  setR2Upload(mediaId: string, r2UploadId: string): void {
    this.sql.exec("UPDATE media SET r2_upload_id = ? WHERE media_id = ?", r2UploadId, mediaId);
  }

  /** What the first bytes showed: set by the first part of a multipart upload, or by a single-shot upload's finish. */
  setType(mediaId: string, type: { contentType: string; filename: string; width?: number; height?: number }): void {
    this.sql.exec(
      "UPDATE media SET content_type = ?, filename = ?, width = ?, height = ? WHERE media_id = ?",
      type.contentType,
      type.filename,
      type.width ?? null,
      type.height ?? null,
      mediaId,
    );
  }

  recordPart(mediaId: string, partNumber: number, etag: string, size: number): void {
    this.sql.exec(
      "INSERT INTO media_parts (media_id, part_number, etag, size) VALUES (?, ?, ?, ?) ON CONFLICT (media_id, part_number) DO UPDATE SET etag = excluded.etag, size = excluded.size",
      mediaId,
      partNumber,
      etag,
      size,
    );
  }

  parts(mediaId: string): PartRow[] {
    return this.sql.exec<PartRow>("SELECT part_number, etag, size FROM media_parts WHERE media_id = ? ORDER BY part_number", mediaId).toArray();
  }

  /** The bytes are in R2: the upload may now be attached. */
  finish(mediaId: string, info: { size: number; etag: string }): void {
    this.sql.exec("UPDATE media SET state = 'pending', size = ?, etag = ?, upload_id = NULL WHERE media_id = ?", info.size, info.etag, mediaId);
    this.sql.exec("DELETE FROM media_parts WHERE media_id = ?", mediaId);
  }

  attach(mediaIds: string[], seq: number): void {
    for (const id of mediaIds) this.sql.exec("UPDATE media SET state = 'attached', msg_seq = ? WHERE media_id = ?", seq, id);
  }

  remove(mediaId: string): void {
    this.sql.exec("DELETE FROM media WHERE media_id = ?", mediaId);
    this.sql.exec("DELETE FROM media_parts WHERE media_id = ?", mediaId);
  }

  /**
   * Takes a deleted message's media out of reach (downloads refuse it) without
   * destroying it yet: the room's purge turns `removed` into `deleting` unless
   * a legal hold on the room or the uploader keeps it.
   */
  markMessageRemoved(seq: number): number {
    return this.sql.exec("UPDATE media SET state = 'removed' WHERE msg_seq = ? AND state = 'attached'", seq).rowsWritten;
  }

  /**
   * Removed media that no hold keeps: ready for deletion. `heldUploaders` keep
   * theirs; only those with media here are bound, as one JSON array (a
   * statement takes at most 100 parameters, and the held may be more).
   */
  releaseRemoved(heldUploaders: ReadonlySet<string>, everything = false): number {
    const states = everything ? "state != 'deleting'" : "state = 'removed'";
    const keep = this.#uploadersWhere(states).filter((uploader) => heldUploaders.has(uploader));
    const sql = `UPDATE media SET state = 'deleting' WHERE ${states} AND uploader NOT IN (SELECT value FROM json_each(?))`;
    return this.sql.exec(sql, JSON.stringify(keep)).rowsWritten;
  }

  /**
   * An erasure: the user's uploads here name `pseudonym` instead. Only for a
   * user no legal hold covers: the purge finds a held user's media by this
   * column (releaseRemoved, uploaders), so theirs keeps the real id.
   */
  renameUploader(userId: string, pseudonym: string): number {
    return this.sql.exec("UPDATE media SET uploader = ? WHERE uploader = ?", pseudonym, userId).rowsWritten;
  }

  /** Who uploaded the media not yet being deleted (whom a room's purge must ask about holds). */
  uploaders(): string[] {
    return this.#uploadersWhere("state != 'deleting'");
  }

  #uploadersWhere(states: string): string[] {
    return this.sql
      .exec<{ uploader: string }>(`SELECT DISTINCT uploader FROM media WHERE ${states}`)
      .toArray()
      .map((row) => row.uploader);
  }

  markAllForDeletion(): number {
    return this.sql.exec("UPDATE media SET state = 'deleting' WHERE state != 'deleting'").rowsWritten;
  }

  /** Marks uploads never attached (finished or not) created at or before `cutoff` for deletion. */
  markExpired(cutoff: number): number {
    return this.sql.exec("UPDATE media SET state = 'deleting' WHERE state IN ('uploading', 'pending') AND created_ts <= ?", cutoff).rowsWritten;
  }

  /** Rows marked for deletion, oldest first. */
  deleting(limit = 500): MediaRow[] {
    return this.sql.exec<MediaRow>("SELECT * FROM media WHERE state = 'deleting' ORDER BY created_ts LIMIT ?", limit).toArray();
  }

  /** When the next unattached upload expires (its creation time), or null. */
  oldestUnattached(): number | null {
    return this.sql.exec<{ ts: number | null }>("SELECT min(created_ts) AS ts FROM media WHERE state IN ('uploading', 'pending')").one().ts;
  }

  /** An upload given up: whatever reached R2 goes with the next cleanup. */
  abandon(mediaId: string): void {
    this.sql.exec("UPDATE media SET state = 'deleting' WHERE media_id = ?", mediaId);
  }

  /** Media of deleted messages waiting for the purge to decide (a hold may keep it). */
  countRemoved(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM media WHERE state = 'removed'").one().n;
  }

  countDeleting(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM media WHERE state = 'deleting'").one().n;
  }
}
