/** The push consumer counts what it sends and what fails, in the Worker's figures. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addSubscription, subscriptionsOf } from "../../src/db/push";
import type { PushJob } from "../../src/protocol";
import { handlePushBatch } from "../../src/push/consumer";
import { api, tokenFor, uniqueUser } from "../helpers";

function batchOf(jobs: PushJob[]) {
  const outcome = { acked: 0, retried: 0 };
  const messages = jobs.map((body, i) => ({
    id: String(i),
    timestamp: new Date(),
    attempts: 1,
    body,
    ack: () => void outcome.acked++,
    retry: () => void outcome.retried++,
  }));
  return { batch: { queue: "edge-chat-push", messages, ackAll() {}, retryAll() {} } as unknown as MessageBatch<PushJob>, outcome };
}

const job = (userId: string): PushJob => ({
  userId,
  payload: { type: "message", roomId: "room-x", seq: 1, messageId: "m_1", sender: "alice", preview: "hi", ts: new Date().toISOString() },
});

async function workerCounters(): Promise<Record<string, number>> {
  const res = await api("GET", "/api/admin/stats?roomIds=", { token: await tokenFor(uniqueUser("ops-admin"), true) });
  expect(res.status).toBe(200);
  return res.body.worker.counters;
}

const withVapid = (patch: Record<string, unknown> = {}) => ({ ...env, VAPID_PUBLIC_KEY: "test-public", VAPID_PRIVATE_KEY: "test-private", ...patch }) as unknown as Env;

describe("push consumer metrics", () => {
  it("counts a subscription the push service no longer knows, and a job that failed", async () => {
    const before = await workerCounters();
    const user = uniqueUser("push");
    // Not a push service URL at all: dropped as gone, without a request.
    await addSubscription(env.DB, user, { endpoint: `ftp://push.invalid/${user}`, p256dh: "k", auth: "a" });
    const gone = batchOf([job(user)]);
    await handlePushBatch(gone.batch, withVapid());
    expect(gone.outcome).toEqual({ acked: 1, retried: 0 });
    expect(await subscriptionsOf(env.DB, user)).toEqual([]);

    const broken = batchOf([job(user)]);
    const db = { prepare: () => ({ bind: () => ({ first: () => Promise.reject(new Error("D1 is unavailable (test)")) }) }) };
    await handlePushBatch(broken.batch, withVapid({ DB: db }));
    expect(broken.outcome).toEqual({ acked: 0, retried: 1 });

    const after = await workerCounters();
    const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
    expect(delta("push_failures:gone")).toBe(1);
    expect(delta("push_failures:job_failed")).toBe(1);
  });
});
