/**
 * The room's one alarm, shared by every timed job. Changes ask for a run by a
 * time (`at`); the alarm is kept at the earliest time asked for. A run goes
 * through an ordered list of jobs, each saying when it next needs to run (or
 * null); a job that throws is logged and the others still run, and the alarm
 * is then set to the earliest time any job (or any change meanwhile) asked for.
 */
import { errorText, log } from "../ops/log";

/** How a change asks for the alarm: "run the jobs no later than `time`". */
export interface Wake {
  at(time: number): void;
}

export interface AlarmJob {
  readonly name: string;
  /** Does its work due at `now`; returns when it next needs to run, or null for "not until asked". */
  run(now: number): number | null | Promise<number | null>;
}

/** The part of Durable Object storage the scheduler needs. */
export interface AlarmStorage {
  getAlarm(): Promise<number | null>;
  setAlarm(time: number): Promise<void>;
}

/** How soon a job that threw is run again. */
export const FAILED_JOB_RETRY_MS = 60_000;

export class AlarmScheduler implements Wake {
  /** When the alarm is set for (a cache of storage's; null: none or unknown). */
  #alarmAt: number | null = null;

  constructor(
    private readonly storage: AlarmStorage,
    private readonly roomId: string,
  ) {}

  /** Reads the stored alarm once, when the object starts (run inside blockConcurrencyWhile). */
  async load(): Promise<void> {
    this.#alarmAt = await this.storage.getAlarm();
  }

  at(time: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= time) return;
    this.#alarmAt = time;
    void this.storage.setAlarm(time);
  }

  /**
   * Runs every job in order (each at most once per run: the alarm may fire
   * more often than asked, so every job must be idempotent). `now` is read
   * per job: earlier jobs' I/O moves the clock on.
   */
  async run(jobs: readonly AlarmJob[], now: () => number): Promise<void> {
    this.#alarmAt = null;
    for (const job of jobs) {
      try {
        const next = await job.run(now());
        if (next !== null) this.at(next);
      } catch (error) {
        // Its work is still to do: it is tried again soon, the jobs after it run now.
        log("error", "alarm_job_failed", { room: this.roomId, job: job.name, error: errorText(error) });
        this.at(now() + FAILED_JOB_RETRY_MS);
      }
    }
  }
}
