/**
 * The benchmark's baseline: the least a chat room object can do. Hibernatable
 * WebSockets (ctx.acceptWebSocket), and for each message one INSERT into
 * SQLite and one broadcast of the same string to every socket. No auth, no
 * validation, no features. Bench only: bound in bench/wrangler.toml, never in
 * the deployed wrangler.toml.
 *
 * To mirror the chat's figures it also has the bare minimum of a resume
 * (`?after=N` replays rows with id > N on connect), a history read and a seeder.
 */
import { DurableObject } from "cloudflare:workers";

const PAGE = 50;

export class BaselineRoom extends DurableObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, content TEXT NOT NULL); CREATE INDEX IF NOT EXISTS messages_ts ON messages (ts);",
    );
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const sql = this.ctx.storage.sql;
    if (url.pathname.endsWith("/ws")) {
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      const after = url.searchParams.get("after");
      if (after !== null) {
        for (const row of sql.exec<{ content: string }>("SELECT content FROM messages WHERE id > ? ORDER BY id", Number(after))) {
          pair[1].send(row.content);
        }
        pair[1].send('{"type":"live"}');
      }
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    if (url.pathname.endsWith("/seed")) {
      const count = Math.min(100_000, Number(url.searchParams.get("count") ?? 0));
      const ts = Date.now();
      const content = JSON.stringify({ content: "seeded for the benchmark ".padEnd(100, ".") });
      for (let i = 0; i < count; i++) sql.exec("INSERT INTO messages (ts, content) VALUES (?, ?)", ts, content);
      const head = sql.exec<{ id: number }>("SELECT max(id) AS id FROM messages").one().id;
      return Response.json({ toSeq: head, ts });
    }
    if (url.pathname.endsWith("/history")) {
      // before: a page of ids below it; from/to: a page of the newest rows in [from, to).
      const before = url.searchParams.get("before");
      const from = url.searchParams.get("from");
      const to = url.searchParams.get("to");
      let rows;
      if (from !== null && to !== null) {
        rows = sql.exec("SELECT * FROM messages WHERE ts >= ? AND ts < ? ORDER BY id DESC LIMIT ?", Number(from), Number(to), PAGE).toArray();
      } else if (before !== null) {
        rows = sql.exec("SELECT * FROM messages WHERE id < ? ORDER BY id DESC LIMIT ?", Number(before), PAGE).toArray();
      } else {
        rows = sql.exec("SELECT * FROM messages ORDER BY id DESC LIMIT ?", PAGE).toArray();
      }
      return Response.json({ messages: rows.reverse() });
    }
    return new Response("not found", { status: 404 });
  }

  override webSocketMessage(_ws: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message !== "string") return;
    this.ctx.storage.sql.exec("INSERT INTO messages (ts, content) VALUES (?, ?)", Date.now(), message);
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(message);
      } catch {
        // closing socket
      }
    }
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }
}
