/** An inbox socket through the real Worker, collecting parsed frames. */
import { SELF } from "cloudflare:test";
import { HEARTBEAT_RESPONSE, InboxFrame } from "../../src/protocol";
import { BASE, api, sleep } from "../helpers";

export class InboxSocket {
  readonly frames: InboxFrame[] = [];
  readonly invalid: string[] = [];
  closed: { code: number } | null = null;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string" || e.data === HEARTBEAT_RESPONSE) return;
      try {
        this.frames.push(InboxFrame.parse(JSON.parse(e.data)));
      } catch {
        this.invalid.push(String(e.data));
      }
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code };
    });
  }

  notices(roomId?: string) {
    return this.frames.flatMap((f) => (f.type === "inbox" && (roomId === undefined || f.room.roomId === roomId) ? [f] : []));
  }

  async waitFor(predicate: (f: InboxFrame) => boolean, ms = 5000, what = "frame"): Promise<InboxFrame> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.invalid.length) throw new Error(`invalid inbox frame: ${this.invalid[0]}`);
      const found = this.frames.find(predicate);
      if (found) return found;
      if (this.closed) throw new Error(`inbox socket closed (${this.closed.code}) while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames)}`);
      await sleep(20);
    }
  }

  #pings = 0;

  /**
   * A ping/pong round trip: the inbox answers in order, so once the pong is
   * here every frame it sent before has arrived too.
   */
  async sync(ms = 3000): Promise<void> {
    const reqId = `sync-${++this.#pings}`;
    this.ws.send(JSON.stringify({ type: "ping", reqId }));
    await this.waitFor((f) => f.type === "pong" && f.reqId === reqId, ms, `pong ${reqId}`);
  }

  close() {
    try {
      this.ws.close(1000, "done");
    } catch {}
  }
}

export async function inboxTicket(token: string): Promise<string> {
  const res = await api<{ url: string }>("POST", "/api/inbox/connect-ticket", { token });
  if (res.status !== 200) throw new Error(`inbox ticket: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.url;
}

export async function connectInbox(token: string, opts: { origin?: string } = {}): Promise<InboxSocket> {
  const url = await inboxTicket(token);
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (opts.origin) headers.Origin = opts.origin;
  const res = await SELF.fetch(`${BASE}${url}`, { headers });
  if (!res.webSocket) throw new Error(`inbox upgrade failed: ${res.status} ${await res.text()}`);
  res.webSocket.accept();
  const socket = new InboxSocket(res.webSocket);
  await socket.waitFor((f) => f.type === "inbox_state", 3000, "inbox_state");
  return socket;
}
