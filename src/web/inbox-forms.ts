/**
 * "New conversation" in the room list: create a room, join one, or start a
 * direct chat, each a small form; a shared status line says why one failed.
 */
import type { ChatClient } from "../client";
import { h } from "./dom";
import { errorText } from "./errors";

export interface FormHooks {
  /** The room list, re-read so the new room is in it before it opens. */
  refresh(): Promise<void>;
  open(roomId: string): void;
  /** Opens (creating if need be) the 1:1 room with `userId`; answers its room id. */
  openDirect(userId: string): Promise<string>;
}

export function newConversationForms(chat: ChatClient, hooks: FormHooks): HTMLElement {
  const status = h("p", { class: "form-status", role: "status" });
  const form = (label: string, id: string, button: string, action: (value: string) => Promise<string>) => {
    const input = h("input", { id, name: id, autocomplete: "off", required: true, spellcheck: "false" });
    const submit = h("button", { type: "submit" }, button);
    const el = h("form", { class: "inline-form" }, h("label", { for: id, text: label }), h("div", { class: "row" }, input, submit));
    el.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      submit.disabled = true;
      status.textContent = "";
      try {
        const roomId = await action(value);
        input.value = "";
        await hooks.refresh();
        hooks.open(roomId);
      } catch (error) {
        status.textContent = errorText("room-form", error);
      } finally {
        submit.disabled = false;
      }
    });
    return el;
  };
  return h(
    "details",
    { class: "new-conversation" },
    h("summary", {}, "New conversation"),
    form("Room name", "create-room", "Create room", async (roomId) => (await chat.createRoom(roomId)).roomId),
    form("Room to join", "join-room", "Join room", async (roomId) => {
      await chat.joinRoom(roomId);
      return roomId;
    }),
    form("Direct chat with (user name)", "direct-user", "Start direct chat", (userId) => hooks.openDirect(userId)),
    status,
  );
}
