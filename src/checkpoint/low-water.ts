/**
 * The position in one input below which every row is written, rejected or skipped. Batches
 * complete out of order, so this is a low-water mark over the rows in read order, not "the last
 * row sent": a row still waiting for a retry holds the mark back, however far later rows got.
 *
 * Rows above the mark are kept in typed arrays (17 bytes a row), not as objects: one row in a
 * long backoff may hold the mark while hundreds of thousands of later rows settle, and the reader
 * should not have to wait for it, nor the heap grow with objects the GC must
 * trace.
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

/** Where one input stands: its low-water mark, and whether every row of it has settled. */
export interface FileProgress {
  readonly path: string;
  readonly mark: Mark;
  readonly complete: boolean;
}

export type Outcome = 'written' | 'rejected' | 'skipped';

const OUTCOMES: readonly Outcome[] = ['written', 'rejected', 'skipped'];
const OPEN = 0;

export function startMark(from?: Partial<Mark>): Mark {
  return { offset: 0, lines: 0, rows: 0, written: 0, rejected: 0, skipped: 0, ...from };
}

export class LowWater {
  readonly mark: Mark;
  /** True once the mark moved since `changed` was last cleared. */
  changed = false;
  /** A ring over row numbers [head, tail): where each row ends, and its outcome (0 while open). */
  private ends = new Float64Array(1024);
  private lineCounts = new Float64Array(1024);
  private outcomes = new Uint8Array(1024);
  private head = 0;
  private tail = 0;

  constructor(start?: Partial<Mark>) {
    this.mark = startMark(start);
  }

  /** Rows not yet below the mark. */
  get open(): number {
    return this.tail - this.head;
  }

  /**
   * Registers a row in read order (before it can settle): `end` is the byte offset past it and
   * `lines` the line breaks up to there. Returns the row's number, for `settle`.
   */
  add(end: number, lines: number): number {
    if (this.tail - this.head === this.outcomes.length) this.grow();
    const at = this.tail & (this.outcomes.length - 1);
    this.ends[at] = end;
    this.lineCounts[at] = lines;
    this.outcomes[at] = OPEN;
    return this.tail++;
  }

  /** Records a row's outcome and moves the mark past every settled row at the front. */
  settle(row: number, outcome: Outcome): void {
    const mask = this.outcomes.length - 1;
    if (row < this.head || row >= this.tail || this.outcomes[row & mask] !== OPEN) return;
    this.outcomes[row & mask] = OUTCOMES.indexOf(outcome) + 1;
    while (this.head < this.tail) {
      const at = this.head & mask;
      const settled = this.outcomes[at] as number;
      if (settled === OPEN) break;
      this.mark.offset = this.ends[at] as number;
      this.mark.lines = this.lineCounts[at] as number;
      this.mark.rows++;
      this.mark[OUTCOMES[settled - 1] as Outcome]++;
      this.head++;
      this.changed = true;
    }
  }

  /** Doubles the ring; rows keep their numbers (a row lives at `number & (size - 1)`). */
  private grow(): void {
    const size = this.outcomes.length * 2;
    const ends = new Float64Array(size);
    const lineCounts = new Float64Array(size);
    const outcomes = new Uint8Array(size);
    const oldMask = this.outcomes.length - 1;
    for (let row = this.head; row < this.tail; row++) {
      ends[row & (size - 1)] = this.ends[row & oldMask] as number;
      lineCounts[row & (size - 1)] = this.lineCounts[row & oldMask] as number;
      outcomes[row & (size - 1)] = this.outcomes[row & oldMask] as number;
    }
    this.ends = ends;
    this.lineCounts = lineCounts;
    this.outcomes = outcomes;
  }
}
