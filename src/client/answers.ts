/**
 * The schemas the SDK checks HTTP answers against: the protocol's, narrowed
 * where a method promises more than the route's schema says.
 */
import { RoomCreated } from "../protocol";

export {
  ActiveUsers,
  Attachment,
  ConnectTicket,
  DeleteRoomResult,
  DirectRoom,
  HistoryPage,
  JoinResult,
  LeaveResult,
  MediaUrl,
  Message,
  PresenceList,
  ReceiptList,
  RestoreRoomResult,
  RoomList,
  RoomSettings,
  SyncPage,
  UploadCreated,
  UploadStatus,
  UploadedPart,
} from "../protocol";
export { PushUnregistered, VapidPublicKey } from "../protocol/push-answers";

/** What createRoom promises: the creator owns the new group room. */
export const CreatedRoom = RoomCreated.extend({ kind: RoomCreated.shape.kind.extract(["group"]), role: RoomCreated.shape.role.extract(["owner"]) });
