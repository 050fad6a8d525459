/** The web client's error texts: each action's words for the codes it knows, the error's own message otherwise. */
import { describe, expect, it } from "vitest";
import { ChatError } from "../../../src/client";
import { codeText, describe as describeError, errorText, knownText } from "../../../src/web/errors";

describe("error texts", () => {
  it("words a code by the action that failed", () => {
    expect(errorText("send", new ChatError("content_too_large", "too big"))).toBe("The message is too long.");
    expect(errorText("upload", new ChatError("content_too_large", "too big"))).toBe("the file is too large.");
    expect(errorText("send", new ChatError("cancelled", "send was cancelled"))).toBe("The server did not answer in time.");
    expect(errorText("room-form", new ChatError("room_not_found", "x"))).toBe("There is no room with that name.");
    expect(knownText("open", new ChatError("room_not_found", "x"))).toBe("There is no conversation with this name.");
  });

  it("falls back to the error's own message for codes the action does not list", () => {
    expect(errorText("room-form", new ChatError("invalid_request", "room ids are 1 to 64 letters"))).toBe("room ids are 1 to 64 letters");
    expect(errorText("upload", new ChatError("forbidden", "not yours"))).toBe("not yours");
    expect(errorText("send", new Error("boom"))).toBe("boom");
    expect(errorText("send", "plain")).toBe("plain");
    expect(knownText("open", new ChatError("internal", "x"))).toBeUndefined();
    expect(knownText("session", new Error("unauthorized"))).toBeUndefined();
  });

  it("answers codes read from a raw error body, and nothing for unknown or inherited keys", () => {
    expect(codeText("sign-in", "not_found")).toBe("Sign-in by user name is only for local development. Paste a token instead.");
    expect(codeText("session", "unauthorized")).toBe("Your session has expired. Please sign in again.");
    expect(codeText("sign-in", undefined)).toBeUndefined();
    expect(codeText("sign-in", "no_such_code")).toBeUndefined();
    expect(codeText("sign-in", "constructor")).toBeUndefined();
  });

  it("describe reads message from anything that has one", () => {
    expect(describeError({ message: "m" })).toBe("m");
    expect(describeError(42)).toBe("42");
    expect(describeError(null)).toBe("null");
  });
});
