/**
 * GET /api/admin/stats: the running instance's figures, for local use and
 * tests (deployment admins only; the /api/admin/* middleware checks). The
 * Worker isolate's own, and the sum over room objects, each asked over RPC.
 * Production figures across every instance come from Analytics Engine SQL
 * (docs/operations.md).
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { RoomId } from "../../protocol";
import { type HistogramSnapshot, type MetricsSnapshot, mergeSnapshots, workerMetricsOf } from "../../ops/metrics";
import { errorText, log } from "../../ops/log";
import { recentlyActiveRooms } from "../../db/room-index";
import { mapBounded } from "../../kernel/bounded";
import type { AuthedEnv } from "../context";
import { ApiError } from "../errors";
import { bearer, errorResponses, json, roomStub } from "./shared";

const Percentiles = z.object({ count: z.number(), sum: z.number(), min: z.number(), max: z.number(), p50: z.number(), p95: z.number(), p99: z.number() });
const Figures = z.object({ counters: z.record(z.string(), z.number()), histograms: z.record(z.string(), Percentiles) });
const Stats = z.object({
  /** This Worker isolate's own figures (HTTP, push consumer). Other isolates keep their own. */
  worker: Figures,
  /** The sum over the room objects asked. */
  rooms: Figures.extend({
    asked: z.number(),
    answered: z.number(),
    liveConnections: z.number(),
  }),
  note: z.string(),
});
const StatsQuery = z.object({
  /** How many of the most recently active rooms (D1 index) to ask; default 100. */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  /** Ask these rooms instead, comma separated. */
  roomIds: z.string().max(6600).optional(),
});
/** Rooms asked at once for their figures. */
const STATS_CONCURRENCY = 16;

/** Percentiles without the buckets they were computed from. */
function figures(snapshot: MetricsSnapshot): z.infer<typeof Figures> {
  const histograms: Record<string, Omit<HistogramSnapshot, "buckets">> = {};
  for (const [name, { buckets: _, ...rest }] of Object.entries(snapshot.histograms)) histograms[name] = rest;
  return { counters: snapshot.counters, histograms };
}

export function statsRoutes(app: OpenAPIHono<AuthedEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/admin/stats",
      summary: "Counters and p50/p95/p99 of this running instance: the Worker isolate's, and the sum over room objects",
      description:
        "For local use and tests. Rooms keep their figures since creation (saved by their alarm); the endpoint asks the most recently active rooms in the D1 index (or `roomIds`) and sums them. Production figures across every instance come from the Analytics Engine dataset (docs/operations.md).",
      security: bearer,
      request: { query: StatsQuery },
      responses: { 200: json(Stats, "Figures"), ...errorResponses },
    }),
    async (c) => {
      const q = c.req.valid("query");
      let roomIds: string[];
      if (q.roomIds !== undefined) {
        const parsed = z.array(RoomId).max(100).safeParse(q.roomIds.split(",").filter(Boolean));
        if (!parsed.success) throw new ApiError("invalid_request", "roomIds: up to 100 room ids, comma separated");
        roomIds = parsed.data;
      } else {
        roomIds = await recentlyActiveRooms(c.env.DB, q.limit ?? 100);
      }
      const answers = await mapBounded(roomIds, STATS_CONCURRENCY, async (roomId) => {
        try {
          return await roomStub(c.env, roomId).stats();
        } catch (error) {
          log("warn", "room_stats_failed", { req: c.get("requestId"), room: roomId, error: errorText(error) });
          return null;
        }
      });
      const answered = answers.filter((a) => a !== null);
      return c.json(
        {
          worker: figures(workerMetricsOf(c.env).snapshot()),
          rooms: {
            asked: roomIds.length,
            answered: answered.length,
            liveConnections: answered.reduce((n, a) => n + a.liveConnections, 0),
            ...figures(mergeSnapshots(answered)),
          },
          note: "this instance only; production figures: Analytics Engine SQL (docs/operations.md)",
        },
        200,
      );
    },
  );
}
