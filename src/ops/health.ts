/**
 * Readiness: whether D1, R2 and a room object answer, and how fast. Each
 * check is as cheap as its binding allows (a constant query, a HEAD of a key
 * that need not exist, an RPC to a room that never becomes a real room), runs
 * in parallel with the others, and gives up after CHECK_TIMEOUT_MS so a hung
 * binding makes the answer a 503, not a hung request.
 */
import { pingD1 } from "../db/probe";
import { errorText, log } from "./log";

/** A room object name no user can take: ":" is outside the room id alphabet. */
export const HEALTH_ROOM = ":health";
/** A key under no room's prefix; its absence is the expected answer. */
const HEALTH_KEY = "health/probe";
const CHECK_TIMEOUT_MS = 5_000;

export type CheckName = "d1" | "r2" | "room";

export interface CheckResult {
  ok: boolean;
  /** Wall time of the check, ms (what the Worker saw: network and queueing included). */
  ms: number;
  /** Why it failed: "timeout" or "error" (details go to the log, not to the public). */
  error?: "timeout" | "error";
}

export interface Health {
  ok: boolean;
  checks: Record<CheckName, CheckResult>;
  /** The checks that failed, when any did. */
  failed?: CheckName[];
}

type HealthEnv = Pick<Env, "DB" | "MEDIA" | "ROOMS">;

export async function checkHealth(env: HealthEnv, timeoutMs = CHECK_TIMEOUT_MS): Promise<Health> {
  const probes: Record<CheckName, () => Promise<unknown>> = {
    d1: () => pingD1(env.DB),
    r2: () => env.MEDIA.head(HEALTH_KEY),
    room: async () => {
      const answer = await env.ROOMS.getByName(HEALTH_ROOM).ping();
      if (answer !== "pong") throw new Error("unexpected answer from the room object");
    },
  };
  const names = Object.keys(probes) as CheckName[];
  const results = await Promise.all(names.map((name) => timed(name, probes[name], timeoutMs)));
  const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!])) as Record<CheckName, CheckResult>;
  const failed = names.filter((name) => !checks[name].ok);
  return failed.length ? { ok: false, checks, failed } : { ok: true, checks };
}

async function timed(name: CheckName, probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([probe().then(() => "ok" as const), timeout]);
    const ms = elapsed(started);
    if (outcome === "ok") return { ok: true, ms };
    log("error", "health_check_failed", { check: name, reason: "timeout", ms });
    return { ok: false, ms, error: "timeout" };
  } catch (error) {
    const ms = elapsed(started);
    log("error", "health_check_failed", { check: name, reason: "error", ms, error: errorText(error) });
    return { ok: false, ms, error: "error" };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Workers' clocks only move on I/O (a Spectre mitigation), so a local check
 * can read 0 ms; in production the I/O of each probe moves them.
 */
function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
