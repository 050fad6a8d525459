/**
 * One room in the room list: a link with the room's name, time of last
 * activity, a preview of the last message and the unread badge. Built once
 * per room and updated in place, so focus and the link stay put.
 */
import type { RoomSummary } from "../client";
import { h, formatTime, replaceChildren } from "./dom";

export interface RoomItem {
  li: HTMLLIElement;
  link: HTMLAnchorElement;
  name: HTMLElement;
  preview: HTMLElement;
  time: HTMLTimeElement;
  unread: HTMLElement;
}

export function roomItem(roomId: string, open: (roomId: string) => void): RoomItem {
  const name = h("span", { class: "room-name" });
  const time = h("time", { class: "room-time" });
  const preview = h("span", { class: "room-preview" });
  const unread = h("span", { class: "unread", hidden: true });
  const link = h(
    "a",
    { href: `#/r/${encodeURIComponent(roomId)}`, class: "room-link" },
    h("span", { class: "room-line" }, name, time),
    h("span", { class: "room-line" }, preview, unread),
  );
  link.addEventListener("click", (event) => {
    event.preventDefault();
    open(roomId);
  });
  return { li: h("li", { "data-room": roomId }, link), link, name, preview, time, unread };
}

/** Shows `room` in its item; `count` is the unread count to show (0 for the conversation on screen). */
export function renderRoomItem(item: RoomItem, room: RoomSummary, displayName: string, me: string, count: number): void {
  item.name.textContent = displayName;
  item.li.classList.toggle("direct", room.kind === "direct");
  item.time.dateTime = room.lastActivityTs;
  item.time.textContent = formatTime(room.lastActivityTs);
  item.preview.textContent = previewText(room.lastMessage, me);
  item.unread.hidden = count === 0;
  const shown = count >= 999 ? "999+" : String(count);
  if (item.unread.dataset.count !== shown) {
    item.unread.dataset.count = shown;
    // Screen readers hear the count as words; the badge alone would be a bare number in the link's name.
    replaceChildren(
      item.unread,
      h("span", { "aria-hidden": "true", text: shown }),
      h("span", { class: "visually-hidden", text: count === 1 ? "1 unread message" : `${shown} unread messages` }),
    );
  }
  item.li.classList.toggle("has-unread", count > 0);
}

function previewText(message: RoomSummary["lastMessage"], me: string): string {
  if (!message) return "No messages yet";
  const who = message.sender === me ? "You" : message.sender;
  if ("deleted" in message) return `${who}: message deleted`;
  const text = message.preview.replace(/\s+/g, " ").trim();
  if (!text) return `${who}: sent an attachment`;
  return `${who}: ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`;
}
