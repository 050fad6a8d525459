/**
 * How much the fuzzers do: FUZZ_RUNS is the number of runs of the frames
 * fuzzer's main property (batches of 300-500 frames; default 50, about
 * 20,000 frames), and every other scaled property of both fuzzers runs
 * FUZZ_RUNS / 50 times its default count, never fewer than that default (its
 * coverage checks need them), with its timeout stretched alike.
 * `npm test` leaves it unset. vitest.config.ts passes the shell's FUZZ_RUNS
 * to the test pool as a binding: `FUZZ_RUNS=250 npx vitest run test/fuzz`.
 */
import { env } from "cloudflare:test";

export const DEFAULT_FUZZ_RUNS = 50;

const asked = Number((env as { FUZZ_RUNS?: unknown }).FUZZ_RUNS);
export const FUZZ_RUNS = Number.isSafeInteger(asked) && asked > 0 ? asked : DEFAULT_FUZZ_RUNS;

const factor = FUZZ_RUNS / DEFAULT_FUZZ_RUNS;

/** A property's run count, scaled up from its default. */
export const scaled = (runs: number): number => Math.round(runs * Math.max(1, factor));

/** A test's timeout, stretched (never shortened) with the runs. */
export const scaledTimeout = (ms: number): number => Math.round(ms * Math.max(1, factor));
