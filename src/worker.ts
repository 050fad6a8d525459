/** Entry point: the Worker (HTTP API and WebSocket routing) and the Durable Object classes. */
import { createApp } from "./http/app";
import { trimAuditLog } from "./db/compliance";
import { trimSyncLog } from "./db/sync";
import { configOf } from "./kernel/config";
import type { PushJob } from "./protocol";
import { handlePushBatch } from "./push/consumer";
import { configureLogs, log } from "./ops/log";

export { Room } from "./room/room";
export { UserLimits } from "./user/limits";
export { Inbox } from "./user/inbox";

const app = createApp();

export default {
  fetch: (request, env, ctx) => {
    configureLogs(env);
    return app.fetch(request, env, ctx);
  },
  queue: (batch, env) => {
    configureLogs(env);
    return handlePushBatch(batch as MessageBatch<PushJob>, env);
  },
  async scheduled(_controller, env) {
    configureLogs(env);
    const config = configOf(env);
    const removed = await trimSyncLog(env.DB, config.syncRetentionMs);
    log("info", "sync_log_trimmed", { removed });
    // The audit log is append-only for everyone else; only age removes its entries.
    const audit = await trimAuditLog(env.DB, config.auditRetentionMs);
    log("info", "audit_log_trimmed", { removed: audit });
  },
} satisfies ExportedHandler<Env>;
