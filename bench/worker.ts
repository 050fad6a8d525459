/**
 * Bench-only entry (bench/wrangler.toml): the chat Worker unchanged, plus the
 * baseline room under /baseline/*, so both run in the same workerd.
 */
import chat from "../src/worker";
import { BaselineRoom } from "./baseline";

export { Inbox, Room, UserLimits } from "../src/worker";
export { BaselineRoom };

interface BenchEnv extends Env {
  BASELINE: DurableObjectNamespace<BaselineRoom>;
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/baseline/")) {
      return env.BASELINE.getByName(url.searchParams.get("room") ?? "default").fetch(request);
    }
    return chat.fetch(request, env, ctx);
  },
  queue: chat.queue,
  scheduled: chat.scheduled,
} satisfies ExportedHandler<BenchEnv>;
