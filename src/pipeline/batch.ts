/**
 * The pure heart of the writer: which writes go into the next BatchWriteItem. No I/O, no timers, so
 * every ordering rule is tested synchronously.
 *
 * Rules (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html):
 * - at most 25 requests and 16 MB per batch;
 * - never two writes to the same key in one batch (DynamoDB rejects the whole batch);
 * - last write wins: at most one write per key is "active" (queued, waiting to retry, or in flight);
 *   a later write of the same key waits behind it, in arrival order, so a retried older write can
 *   never overwrite a newer one.
 */

import { DueHeap } from './due-heap.js';

export const MAX_BATCH_ITEMS = 25;
/** DynamoDB's limit is 16 MB per request; keep a margin for the request envelope. */
export const MAX_BATCH_BYTES = 15 * 1024 * 1024;

export interface QueueEntry {
  readonly key: string;
  readonly wire: number;
  /** Attempts that did not write this entry (withheld, throttled, failed). */
  attempts: number;
  /** Earliest time (ms) the entry may be sent again. */
  notBefore: number;
}

export class WriteQueue<E extends QueueEntry> {
  /**
   * Entries free to send, in arrival order (a deque: `ready[head..]`). A slot is cleared as its
   * entry is taken: a taken entry left behind `head` kept its request JSON and row alive until
   * the next compaction, up to a thousand items per worker (400 MB of items near 400 KB).
   */
  private ready: (E | undefined)[] = [];
  private head = 0;
  /** Entries waiting out a backoff, earliest due first. */
  private readonly waiting = new DueHeap<E>();
  /**
   * Later writes of a key, released when the write before them finished. They go out before fresh
   * entries: a key written over and over would otherwise wait a full queue per write, and hold the
   * file's checkpoint mark back all that time.
   */
  private released: E[] = [];
  /**
   * Active keys, each with the later writes of that key parked behind the active one (null while
   * there are none: most keys are written once, and an empty array per write costs GC time).
   */
  private readonly active = new Map<string, E[] | null>();
  private inFlight = 0;
  private total = 0;
  private totalBytes = 0;

  /** Entries not yet resolved: ready, waiting, parked or in flight. */
  get size(): number {
    return this.total;
  }

  /** Their request bytes (`wire`), summed. */
  get bytes(): number {
    return this.totalBytes;
  }

  get sending(): number {
    return this.inFlight;
  }

  /** Entries that could go out now or later without waiting for another write of their key. */
  get sendable(): number {
    return this.ready.length - this.head + this.waiting.size + this.released.length;
  }

  add(entry: E): void {
    this.total++;
    this.totalBytes += entry.wire;
    const parked = this.active.get(entry.key);
    if (parked === undefined) {
      this.active.set(entry.key, null);
      this.ready.push(entry);
    } else if (parked === null) {
      this.active.set(entry.key, [entry]);
    } else {
      parked.push(entry);
    }
  }

  /** How many entries could form a batch right now (due waiting ones plus ready ones). */
  available(now: number): number {
    const fresh = this.released.length + this.ready.length - this.head;
    if (fresh >= MAX_BATCH_ITEMS) return MAX_BATCH_ITEMS;
    return fresh + this.waiting.countDue(now, MAX_BATCH_ITEMS - fresh);
  }

  /** Earliest `notBefore` among waiting entries, if any. */
  nextDue(): number | undefined {
    return this.waiting.next();
  }

  /**
   * Takes up to 25 entries (and at most MAX_BATCH_BYTES) for one request: due retries first,
   * oldest first, then ready entries in arrival order. Keys are unique by construction.
   */
  take(now: number): E[] {
    const batch: E[] = [];
    let bytes = 0;
    for (
      let entry = this.waiting.peekDue(now);
      entry !== undefined && batch.length < MAX_BATCH_ITEMS;
      entry = this.waiting.peekDue(now)
    ) {
      if (batch.length > 0 && bytes + entry.wire > MAX_BATCH_BYTES) break;
      batch.push(entry);
      bytes += entry.wire;
      this.waiting.pop();
    }
    while (batch.length < MAX_BATCH_ITEMS && this.released.length > 0) {
      const entry = this.released[0] as E;
      if (batch.length > 0 && bytes + entry.wire > MAX_BATCH_BYTES) break;
      batch.push(this.released.shift() as E);
      bytes += entry.wire;
    }
    while (batch.length < MAX_BATCH_ITEMS && this.head < this.ready.length) {
      const entry = this.ready[this.head] as E;
      if (batch.length > 0 && bytes + entry.wire > MAX_BATCH_BYTES) break;
      batch.push(entry);
      bytes += entry.wire;
      this.ready[this.head++] = undefined;
    }
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    this.inFlight += batch.length;
    return batch;
  }

  /** An in-flight entry was not written and goes back to wait until `notBefore`; its key stays active. */
  retry(entry: E, notBefore: number): void {
    this.inFlight--;
    entry.attempts++;
    entry.notBefore = notBefore;
    this.waiting.push(entry);
  }

  /** An in-flight entry is resolved (written or rejected): the next write of its key becomes ready. */
  done(entry: E): void {
    this.inFlight--;
    this.total--;
    this.totalBytes -= entry.wire;
    const parked = this.active.get(entry.key);
    const next = parked?.shift();
    if (next === undefined) {
      this.active.delete(entry.key);
    } else {
      this.released.push(next);
    }
  }
}
