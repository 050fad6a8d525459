import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatError, type Message } from "../../src/client";
import { type LocalChat, startLocalChat } from "./server";

let chat: LocalChat;
beforeAll(async () => {
  chat = await startLocalChat();
});
afterAll(async () => {
  await chat?.stop();
});

function waitFor<T>(check: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const value = check();
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error("timed out"));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe("the seed scenario over npm start, with the SDK and ws", () => {
  it("alice and bob chat in general; bob receives live; history and activeUsers agree", async () => {
    const alice = await chat.client("alice");
    const bob = await chat.client("bob");
    await alice.createRoom("general");
    expect(await alice.joinRoom("general")).toBe(false); // the creator is already a member
    expect(await bob.joinRoom("general")).toBe(true);

    const received: Message[] = [];
    const sub = await bob.subscribe("general", { onMessage: (m) => received.push(m) });
    const sent = await alice.sendMessage("general", "Hello!");
    expect(sent).toMatchObject({ roomId: "general", sender: "alice", content: "Hello!" });
    expect(sent.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const live = await waitFor(() => received[0], 1000);
    expect(live).toMatchObject({ id: sent.id, seq: sent.seq, sender: "alice", content: "Hello!" });

    const page = await alice.getHistory("general", { limit: 10 });
    expect(page.messages.map((m) => ({ sender: m.sender, content: m.content, ts: m.ts }))).toEqual([
      { sender: "alice", content: "Hello!", ts: sent.ts },
    ]);
    expect(await alice.activeUsers("general")).toEqual(["alice", "bob"]);

    sub.close();
    alice.close();
    bob.close();
  });

  it("refuses a non-member with not_member, over HTTP and for subscriptions", async () => {
    const mallory = await chat.client("mallory");
    await expect(mallory.sendMessage("general", "let me in")).rejects.toMatchObject({ code: "not_member" });
    await expect(mallory.getHistory("general")).rejects.toBeInstanceOf(ChatError);
    await expect(mallory.subscribe("general", {})).rejects.toMatchObject({ code: "not_member" });
  });

  it("pages back through a few hundred messages, each exactly once", async () => {
    const alice = await chat.client("alice");
    await alice.createRoom("paging");
    const sent: string[] = [];
    for (let i = 0; i < 300; i++) sent.push((await alice.sendMessage("paging", `message ${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await alice.getHistory("paging", { limit: 70, cursor });
      const seqs = page.messages.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      seen.unshift(...page.messages.map((m) => m.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(sent);
  });

  it("lists the caller's rooms, most recent activity first, within a few seconds", async () => {
    const carol = await chat.client("carol");
    await carol.createRoom("carol-a");
    await carol.createRoom("carol-b");
    await carol.sendMessage("carol-a", "newer activity");
    const deadline = Date.now() + 5000;
    let ids: string[] = [];
    while (Date.now() < deadline) {
      ids = (await carol.listRooms()).map((r) => r.roomId);
      if (ids.length === 2 && ids[0] === "carol-a") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ids).toEqual(["carol-a", "carol-b"]);
  });

  it("opens the same direct room from both sides", async () => {
    const alice = await chat.client("alice");
    const bob = await chat.client("bob");
    const a = await alice.openDirect("bob");
    const b = await bob.openDirect("alice");
    expect(a.roomId).toBe(b.roomId);
    await alice.sendMessage(a.roomId, "psst");
    expect((await bob.getHistory(b.roomId)).messages.map((m) => m.content)).toEqual(["psst"]);
    const carol = await chat.client("carol");
    await expect(carol.joinRoom(a.roomId)).rejects.toMatchObject({ code: "forbidden" });
  });
});

/**
 * Security headers as `wrangler dev` applies them: the HTML (the app at `/` and at a
 * deep link, served from the assets with dist/web/_headers) gets a CSP without inline
 * script and with frame-ancestors 'none', and nosniff; the Worker's own answers
 * (JSON, errors, unknown API routes) get nosniff. Runs last, on this file's server.
 */
describe("security headers over npm start", () => {
  it("are on every HTML response and on the Worker's own responses", async () => {
    for (const path of ["/", "/rooms/general", "/some/deep/link?x=1"]) {
      const res = await fetch(`${chat.baseUrl}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toContain("text/html");
      const csp = res.headers.get("content-security-policy") ?? "";
      const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
      expect(directives.get("script-src"), path).toEqual(["'self'"]);
      expect(csp, path).not.toContain("unsafe-inline");
      expect(csp, path).not.toContain("unsafe-eval");
      expect(directives.get("frame-ancestors"), path).toEqual(["'none'"]);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      const html = await res.text();
      // No inline script: every <script> has a src.
      expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/gi), path).toBeNull();
    }
    for (const [path, status] of [["/api/health", 200], ["/api/rooms", 401], ["/api/nowhere", 404]] as const) {
      const res = await fetch(`${chat.baseUrl}${path}`);
      expect(res.status, path).toBe(status);
      expect(res.headers.get("content-type"), path).toContain("application/json");
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });
});
