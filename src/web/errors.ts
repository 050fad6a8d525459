/**
 * The one place where error codes become words for people. A code means
 * different things depending on what failed (`content_too_large` is a long
 * message when sending, a big file when uploading), so texts are keyed by the
 * failed action first. Codes an action does not list fall back to the
 * error's own message.
 */
import { ChatError, type ChatErrorCode } from "../client";

/** What the user tried when the error came. */
export type Action = "send" | "open" | "upload" | "room-form" | "sign-in" | "session";

type Texts = Partial<Record<ChatErrorCode, string>>;

const TEXTS: Record<Action, Texts> = {
  send: {
    // The composer aborts a send the server has not stored in time; the SDK reports it as cancelled.
    cancelled: "The server did not answer in time.",
    content_too_large: "The message is too long.",
  },
  open: {
    not_member: "You are not a member of this conversation.",
    room_not_found: "There is no conversation with this name.",
  },
  // Shown after "Upload failed: ", hence the lower case.
  upload: {
    content_too_large: "the file is too large.",
    unsupported_media_type: "this kind of file is not allowed.",
    rate_limited: "too much uploaded in the last hour; try again later.",
  },
  // invalid_request is left out on purpose: the server's message says which rule the name broke.
  "room-form": {
    room_exists: "A room with that name already exists: join it instead.",
    room_not_found: "There is no room with that name.",
    room_deleted: "That room was deleted.",
    forbidden: "You may not do that.",
  },
  // Dev sign-in reads the server's error body itself (it runs before there is a ChatClient).
  "sign-in": {
    not_found: "Sign-in by user name is only for local development. Paste a token instead.",
    invalid_request: "User names are 1 to 128 letters, digits or . _ @ : | -",
  },
  session: {
    unauthorized: "Your session has expired. Please sign in again.",
  },
};

/** The text for `code` after `action` failed, if that action has words for it. */
export function codeText(action: Action, code: string | undefined): string | undefined {
  const texts = TEXTS[action];
  return code !== undefined && Object.hasOwn(texts, code) ? texts[code as ChatErrorCode] : undefined;
}

/** The text for a ChatError whose code `action` has words for; undefined for anything else. */
export function knownText(action: Action, error: unknown): string | undefined {
  return error instanceof ChatError ? codeText(action, error.code) : undefined;
}

/** The text to show when `action` failed with `error`. */
export function errorText(action: Action, error: unknown): string {
  return knownText(action, error) ?? describe(error);
}

/** An error's own message (anything thrown, not only ChatError). */
export function describe(error: unknown): string {
  if (error && typeof error === "object" && "message" in error && typeof error.message === "string") return error.message;
  return String(error);
}
