/**
 * The position in one input below which every row is written, rejected or skipped. Batches
 * complete out of order, so this is a low-water mark over the rows in read order, not "the last
 * row sent": a row still waiting for a retry holds the mark back, however far later rows got.
 */
export interface Mark {
  /** Byte offset just past the last settled row (of the decompressed input). */
  offset: number;
  /** Line breaks before `offset`. */
  lines: number;
  /** Rows below the mark, and what became of them. */
  rows: number;
  written: number;
  rejected: number;
  skipped: number;
}

export type Outcome = 'written' | 'rejected' | 'skipped';

export interface Settled {
  readonly end: number;
  readonly lines: number;
  outcome: Outcome | undefined;
}

export function startMark(from?: Partial<Mark>): Mark {
  return { offset: 0, lines: 0, rows: 0, written: 0, rejected: 0, skipped: 0, ...from };
}

export class LowWater<R extends Settled> {
  readonly mark: Mark;
  private queue: R[] = [];
  private head = 0;
  /** True once the mark moved since `changed` was last cleared. */
  changed = false;

  constructor(start?: Partial<Mark>) {
    this.mark = startMark(start);
  }

  /** Rows not yet below the mark. */
  get open(): number {
    return this.queue.length - this.head;
  }

  /** Registers a row in read order (before it can settle). */
  add(row: R): void {
    this.queue.push(row);
  }

  /** Moves the mark past every settled row at the front. Call when a row settles. */
  settle(): void {
    while (this.head < this.queue.length) {
      const row = this.queue[this.head] as R;
      if (row.outcome === undefined) break;
      this.mark.offset = row.end;
      this.mark.lines = row.lines;
      this.mark.rows++;
      this.mark[row.outcome]++;
      this.head++;
      this.changed = true;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
