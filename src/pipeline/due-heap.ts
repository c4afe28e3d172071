/**
 * Entries waiting out a backoff, ordered by when they are due (then by when they started waiting):
 * a binary min-heap. With 20% of items withheld a few hundred entries wait at any time, and the
 * writer asks "how many are due?" and "when is the next one due?" for every item it queues, so a
 * linear scan of them cost more than the retries themselves.
 */
export interface Due {
  notBefore: number;
}

export class DueHeap<E extends Due> {
  private readonly heap: { entry: E; at: number; seq: number }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Earliest `notBefore`, if any entry waits. */
  next(): number | undefined {
    return this.heap[0]?.at;
  }

  push(entry: E): void {
    const heap = this.heap;
    heap.push({ entry, at: entry.notBefore, seq: this.seq++ });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The earliest entry when it is due at `now`, without removing it. */
  peekDue(now: number): E | undefined {
    const top = this.heap[0];
    return top !== undefined && top.at <= now ? top.entry : undefined;
  }

  pop(): E | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && this.less(left, least)) least = left;
        if (right < heap.length && this.less(right, least)) least = right;
        if (least === i) break;
        this.swap(i, least);
        i = least;
      }
    }
    return top.entry;
  }

  /** How many entries are due at `now`, counting no further than `limit`. */
  countDue(now: number, limit: number): number {
    let count = 0;
    // Due entries form a subtree at the root: walk only it.
    const stack = this.heap.length > 0 ? [0] : [];
    while (stack.length > 0 && count < limit) {
      const i = stack.pop() as number;
      const node = this.heap[i];
      if (node === undefined || node.at > now) continue;
      count++;
      stack.push(2 * i + 1, 2 * i + 2);
    }
    return count;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a] as { at: number; seq: number };
    const y = this.heap[b] as { at: number; seq: number };
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    const t = heap[a] as (typeof heap)[number];
    heap[a] = heap[b] as (typeof heap)[number];
    heap[b] = t;
  }
}
