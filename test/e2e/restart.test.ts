/**
 * A server restart (SIGTERM, then whatever is left killed) with a subscriber
 * connected: it reconnects, resumes, and receives what is sent afterwards.
 * Regression: after a restart the room could be woken first by its alarm,
 * which carries no object name, and then stamped every frame with an empty
 * roomId, which clients rightly refused to parse.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ConnectionState } from "../../src/client";
import { type LocalChat, startLocalChat } from "./server";

let server: LocalChat;
beforeAll(async () => {
  server = await startLocalChat();
});
afterAll(async () => {
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("a subscriber resumes after a restart and receives later messages live, with the right roomId", async () => {
  const rita = await server.client("rita");
  const sid = await server.client("sid");
  await rita.createRoom("ops");
  await sid.joinRoom("ops");
  const got: Array<{ content: string; roomId: string }> = [];
  const states: ConnectionState[] = [];
  const sub = await sid.subscribe("ops", {
    onMessage: (m) => got.push({ content: m.content, roomId: m.roomId }),
    onConnectionState: (s) => states.push(s),
  });
  await rita.sendMessage("ops", "before");
  await server.kill();
  // Restarted only once the subscriber has seen the server go: the resume is then certain
  // to go through a reconnect, however quickly the server comes back.
  for (let i = 0; i < 200 && !states.includes("offline"); i++) await sleep(50);
  expect(states).toContain("offline");
  await server.restart();
  for (let i = 0; i < 300 && (sub.state !== "live" || !states.includes("offline")); i++) await sleep(100);
  expect(states).toContain("offline");
  expect(sub.state).toBe("live");
  await rita.sendMessage("ops", "after");
  for (let i = 0; i < 100 && got.length < 2; i++) await sleep(50);
  expect(got).toEqual([
    { content: "before", roomId: "ops" },
    { content: "after", roomId: "ops" },
  ]);
  const page = await rita.getHistory("ops");
  expect(page.messages.map((m) => m.roomId)).toEqual(["ops", "ops"]);
  sid.close();
  rita.close();
}, 120_000);
