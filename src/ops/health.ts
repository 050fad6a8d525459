/**
 * Readiness: whether D1, R2 and a room object answer, and how fast. Each
 * check is as cheap as its binding allows (a constant query, a HEAD of a key
 * that need not exist, an RPC to a room that never becomes a real room), runs
 * in parallel with the others, and gives up after CHECK_TIMEOUT_MS so a hung
 * binding makes the answer a 503, not a hung request. A `config` check
 * fails when the deployment's settings are unsafe to serve (the problems
 * that make every authenticated request a 500 misconfigured), naming them.
 */
import { pingD1 } from "../db/probe";
import { configOf } from "../kernel/config";
import { errorText, log } from "./log";

/** A room object name no user can take: ":" is outside the room id alphabet. */
export const HEALTH_ROOM = ":health";
/** A key under no room's prefix; its absence is the expected answer. */
const HEALTH_KEY = "health/probe";
const CHECK_TIMEOUT_MS = 5_000;

export type CheckName = "d1" | "r2" | "room" | "config";

export interface CheckResult {
  ok: boolean;
  /** Wall time of the check, ms (what the Worker saw: network and queueing included). */
  ms: number;
  /** Why it failed: "timeout" or "error" (details go to the log, not to the public), or "misconfigured". */
  error?: "timeout" | "error" | "misconfigured";
  /** With "misconfigured": what to fix, naming settings (never their values). */
  problems?: string[];
}

export interface Health {
  ok: boolean;
  checks: Record<CheckName, CheckResult>;
  /** The checks that failed, when any did. */
  failed?: CheckName[];
}

type HealthEnv = Pick<Env, "DB" | "MEDIA" | "ROOMS">;
type ProbeName = Exclude<CheckName, "config">;

export async function checkHealth(env: HealthEnv, timeoutMs = CHECK_TIMEOUT_MS): Promise<Health> {
  const probes: Record<ProbeName, () => Promise<unknown>> = {
    d1: () => pingD1(env.DB),
    r2: () => env.MEDIA.head(HEALTH_KEY),
    room: async () => {
      const answer = await env.ROOMS.getByName(HEALTH_ROOM).ping();
      if (answer !== "pong") throw new Error("unexpected answer from the room object");
    },
  };
  const probeNames = Object.keys(probes) as ProbeName[];
  const results = await Promise.all(probeNames.map((name) => timed(name, probes[name], timeoutMs)));
  const checks = Object.fromEntries(probeNames.map((name, i) => [name, results[i]!])) as Record<CheckName, CheckResult>;
  checks.config = configCheck(env);
  const failed = [...probeNames, "config" as const].filter((name) => !checks[name].ok);
  return failed.length ? { ok: false, checks, failed } : { ok: true, checks };
}

/** Parsed once per env object, so this costs nothing after the first request. */
function configCheck(env: object): CheckResult {
  const { problems } = configOf(env);
  if (problems.length === 0) return { ok: true, ms: 0 };
  log("error", "health_check_failed", { check: "config", reason: "misconfigured", problems: problems.join("; ") });
  return { ok: false, ms: 0, error: "misconfigured", problems: [...problems] };
}

async function timed(name: ProbeName, probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
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
