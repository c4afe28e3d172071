/**
 * Puts rows whose outputs arrive out of order (async transforms settle when they settle) back in
 * the order they were read before they are routed: the writer sees a file's rows in input order,
 * so the last row of a key is the one that stays, and rejects come out in line order. Rows mapped
 * synchronously while nothing is waiting go straight through, without a promise.
 */
export interface RowOrderOptions<R, O> {
  /** Routes one row's outputs; returns a promise when the writer is full and routing must wait. */
  readonly route: (row: R, outputs: O) => Promise<void> | undefined;
  /** True once the run stops or fails: nothing more is routed, waits end. */
  readonly halted: () => boolean;
  /** The size of a row and its outputs, for the bound in bytes. */
  readonly bytes: (row: R, outputs: O | undefined) => number;
  readonly maxRows: number;
  readonly maxBytes: number;
}

interface Slot<R, O> {
  readonly row: R;
  outputs: O | undefined;
  bytes: number;
}

/** How often a wait checks whether the run is stopping (a stop is a flag, not an event). */
const HALT_POLL_MS = 50;

export class RowOrder<R, O> {
  private readonly slots: Slot<R, O>[] = [];
  private head = 0;
  private bytes = 0;
  private flushing = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: RowOrderOptions<R, O>) {}

  /** Rows held: waiting for their outputs, for an earlier row's, or for the writer. */
  get size(): number {
    return this.slots.length - this.head;
  }

  /**
   * Adds a row with its outputs or the promise of them. Returns a promise when the reader must
   * wait before reading on: the writer is full, or the rows held reach the bound.
   */
  push(row: R, outputs: O | Promise<O>): Promise<void> | undefined {
    if (!(outputs instanceof Promise) && this.size === 0) return this.options.route(row, outputs);
    const slot: Slot<R, O> = { row, outputs: undefined, bytes: 0 };
    this.slots.push(slot);
    if (outputs instanceof Promise) {
      this.grow(slot, this.options.bytes(row, undefined));
      void outputs.then((settled) => this.fill(slot, settled));
    } else {
      this.fill(slot, outputs);
    }
    return this.full() ? this.until(() => !this.full()) : undefined;
  }

  /** Resolves once every row held is routed, or the run halted (the rows left stay unrouted). */
  idle(): Promise<void> | undefined {
    return this.size === 0 ? undefined : this.until(() => this.size === 0);
  }

  /** Resolves once `wait` does, or the run halts (whichever is first). */
  async whileRunning(wait: Promise<void>): Promise<void> {
    let ended = false;
    void wait.then(() => {
      ended = true;
      this.wake();
    });
    await this.until(() => ended);
  }

  private full(): boolean {
    return this.size >= this.options.maxRows || this.bytes >= this.options.maxBytes;
  }

  private grow(slot: Slot<R, O>, bytes: number): void {
    slot.bytes += bytes;
    this.bytes += bytes;
  }

  private fill(slot: Slot<R, O>, outputs: O): void {
    slot.outputs = outputs;
    this.grow(slot, this.options.bytes(slot.row, outputs));
    if (this.slots[this.head] === slot) void this.flush();
  }

  /** Routes settled rows from the head, one at a time; a row leaves once the writer took all of it. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (
        let slot = this.slots[this.head];
        slot?.outputs !== undefined && !this.options.halted();
        slot = this.slots[this.head]
      ) {
        const wait = this.options.route(slot.row, slot.outputs);
        if (wait) await wait;
        this.head++;
        this.bytes -= slot.bytes;
        if (this.head > 1024 && this.head * 2 > this.slots.length) {
          this.slots.splice(0, this.head);
          this.head = 0;
        }
        this.wake();
      }
    } finally {
      this.flushing = false;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Waits until `done()` holds or the run halts; a halt is polled, since nothing announces it. */
  private async until(done: () => boolean): Promise<void> {
    while (!done() && !this.options.halted()) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, HALT_POLL_MS);
      });
      clearTimeout(timer);
    }
  }
}
