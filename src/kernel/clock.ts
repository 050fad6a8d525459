/**
 * Time as a dependency. The room and user objects read the time only through
 * a Clock, so a test that must cross a window (a rate-limit minute, an undo
 * window, a presence grace period) moves a ManualClock instead of sleeping.
 * Alarms still fire by the runtime's own clock: tests run them with
 * `runDurableObjectAlarm` after moving the clock.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told: starts at `start` (default: the real time now). */
export class ManualClock implements Clock {
  #now: number;

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  set(ms: number): void {
    this.#now = ms;
  }
}

/**
 * The clock an object hands its modules: it reads whichever clock it is told
 * to use now, so a test that swaps an object's clock after construction moves
 * the time of every module that was given this one.
 */
export class ClockSlot implements Clock {
  constructor(public source: Clock = systemClock) {}

  now(): number {
    return this.source.now();
  }
}
