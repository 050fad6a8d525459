/**
 * Who is typing in one room, from the room's ephemeral `typing` frames. A
 * notice lasts until its expiry (at most 10 s) unless refreshed; the user's
 * message arriving ends it early.
 */
export interface TypingChange {
  userId: string;
  typing: boolean;
  expiresTs?: string;
}

const MAX_TYPING_MS = 10_000;

export class TypingTracker {
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly report: (change: TypingChange) => void) {}

  get users(): string[] {
    return [...this.#timers.keys()];
  }

  /** A typing notice: reported when the user was not typing already; a repeat only extends it. */
  started(userId: string, expiresTs: string): void {
    const existing = this.#timers.get(userId);
    if (existing) clearTimeout(existing);
    const ms = Math.max(0, Math.min(MAX_TYPING_MS, Date.parse(expiresTs) - Date.now())) || MAX_TYPING_MS;
    this.#timers.set(
      userId,
      setTimeout(() => this.stopped(userId), ms),
    );
    if (!existing) this.report({ userId, typing: true, expiresTs });
  }

  stopped(userId: string): void {
    const timer = this.#timers.get(userId);
    if (!timer) return;
    clearTimeout(timer);
    this.#timers.delete(userId);
    this.report({ userId, typing: false });
  }

  /** Forgets everyone without reporting (the subscription is closing). */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
