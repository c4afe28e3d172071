/**
 * Async transform calls in flight in one worker: at most `limit` at once, each given `timeoutMs`
 * to settle. A call is known to be async only once made (it returned a promise), so the reader
 * asks for room before it calls the transform for a row, and a synchronous transform never waits
 * nor makes a promise. p-limit would wrap every call in a promise and queue without bound; what is
 * needed here is the reader waiting, so the count is kept here.
 */
export class TransformCalls {
  private active = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly timeoutMs: number,
  ) {}

  /** Calls in flight (a call that timed out no longer counts: it may never settle). */
  get pending(): number {
    return this.active;
  }

  /**
   * Resolves once `calls` more calls fit under the limit; undefined when they fit now. A row
   * needing more calls than the limit (a wide fan-out) waits for all others to settle.
   */
  room(calls: number): Promise<void> | undefined {
    if (this.fits(calls)) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.room(calls));
  }

  /** Follows one call's promise: its value, its failure, or `timeout` when it has not settled in time. */
  track<T>(promise: PromiseLike<T>): Promise<{ value: T } | { failure: unknown } | { timeout: true }> {
    this.active++;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const release = (): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      this.active--;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    };
    const settled = Promise.resolve(promise).then(
      (value) => ({ value }),
      (failure: unknown) => ({ failure: failure ?? new Error('rejected without a reason') }),
    );
    const timedOut = new Promise<{ timeout: true }>((resolve) => {
      timer = setTimeout(() => resolve({ timeout: true }), this.timeoutMs);
    });
    return Promise.race([settled, timedOut]).finally(release);
  }

  private fits(calls: number): boolean {
    return this.active === 0 || this.active + calls <= this.limit;
  }
}
