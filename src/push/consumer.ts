/**
 * The push queue's consumer. A room enqueues one job per offline member after
 * a message (from its outbox, never on the send path). Each job is checked
 * again here: a muted room sends nothing, and a member who has come online
 * since (a live inbox socket) gets the inbox notice instead. Then each of the
 * member's push subscriptions gets the notification; a subscription the push
 * service reports gone (404/410) is deleted, and one that failed (5xx, 429,
 * network) is retried alone, with backoff, by a new job for just that endpoint.
 * An https endpoint off the allow-list (stored before it, or the list narrowed
 * since) is not sent to, and kept: a mistyped PUSH_ENDPOINT_HOSTS must not delete
 * every subscription.
 */
import { dropSubscription, isMuted, subscriptionsOf } from "../db/push";
import type { PushJob } from "../protocol";
import { configOf } from "../kernel/config";
import { httpsOffAllowList } from "./endpoints";
import { sendPush } from "./send";
import { errorText, log } from "../ops/log";
import { workerMetricsOf } from "../ops/metrics";

export const MAX_PUSH_ATTEMPTS = 6;

export function retryDelaySeconds(attempt: number): number {
  return Math.min(300, 2 ** attempt);
}

export async function handlePushBatch(batch: MessageBatch<PushJob>, env: Env): Promise<void> {
  const vapid = configOf(env).vapid;
  const allowHttp = configOf(env).devAuth;
  const hosts = configOf(env).push.endpointHosts;
  const metrics = workerMetricsOf(env);
  for (const message of batch.messages) {
    const job = message.body;
    try {
      if (!vapid) {
        log("warn", "push_skipped", { reason: "VAPID keys are not configured" });
        message.ack();
        continue;
      }
      if (await isMuted(env.DB, job.userId, job.payload.roomId)) {
        message.ack();
        continue;
      }
      if (job.endpoint === undefined && (await env.INBOXES.getByName(job.userId).hasLiveSocket())) {
        message.ack();
        continue;
      }
      const subs = (await subscriptionsOf(env.DB, job.userId)).filter((s) => job.endpoint === undefined || s.endpoint === job.endpoint);
      for (const sub of subs) {
        if (httpsOffAllowList(sub.endpoint, hosts, allowHttp)) {
          metrics.count("push_failures", "endpoint_not_allowed");
          continue;
        }
        const outcome = await sendPush(sub, job.payload, vapid, allowHttp);
        if (outcome === "gone") {
          metrics.count("push_failures", "gone");
          await dropSubscription(env.DB, sub.endpoint);
        } else if (outcome !== "retry") {
          metrics.count("push_sent");
        }
        if (outcome === "retry") {
          const attempt = (job.attempt ?? 0) + 1;
          if (attempt >= MAX_PUSH_ATTEMPTS) {
            metrics.count("push_failures", "given_up");
            log("warn", "push_given_up", { user: job.userId, attempts: attempt });
            continue;
          }
          metrics.count("push_failures", "retry");
          await env.PUSH_QUEUE.send({ ...job, endpoint: sub.endpoint, attempt } satisfies PushJob, { delaySeconds: retryDelaySeconds(attempt) });
        }
      }
      message.ack();
    } catch (error) {
      // D1 or the inbox unreachable: the whole job again later.
      metrics.count("push_failures", "job_failed");
      log("warn", "push_job_failed", { user: job.userId, attempt: message.attempts, error: errorText(error) });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
