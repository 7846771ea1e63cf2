/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in arrival order. The limit
 * can be lowered while in use (a server that refuses channels below sshfix's guess of its
 * MaxSessions); holders above the new limit finish, and no waiter starts until the count is under it.
 */
export class Semaphore {
  private active = 0;
  private current: number;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a semaphore needs a limit of at least 1, not ${limit}`);
    this.current = limit;
  }

  /** The most holders allowed at once now. */
  get limit(): number {
    return this.current;
  }

  /** Lowers the limit (never below 1, never raises it). */
  lower(limit: number): void {
    this.current = Math.max(1, Math.min(this.current, Math.floor(limit)));
  }

  /** Runs `work` once a slot is free and frees the slot when it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** Holders right now (for tests and diagnostics). */
  get inUse(): number {
    return this.active;
  }

  private acquire(): Promise<void> {
    if (this.active < this.current) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    // The slot passes straight to the next waiter, so the count stays as it is, unless the limit
    // was lowered below the count in the meantime.
    if (this.active <= this.current) {
      const next = this.waiting.shift();
      if (next) return next();
    }
    this.active--;
  }
}
