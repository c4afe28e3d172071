/**
 * One write-rate limiter for the whole run, shared by every worker thread through a
 * SharedArrayBuffer (a limiter per worker would let N workers write N times the cap).
 *
 * Each bucket is a GCRA ("virtual scheduling") limiter: a shared theoretical arrival time `tat`
 * advanced by each reservation with compare-and-swap, so workers take turns without a lock and the
 * long-run rate is exactly the configured one. A bucket covers one table, or every table (`*`).
 * The main thread sets the rate (`--max-wcu`, or the AIMD controller); workers only reserve.
 */

/** Slots per bucket in the BigInt64Array. */
const TAT = 0; // theoretical arrival time, microseconds since timeOrigin
const RATE = 1; // write units per second x 1000; 0 = unlimited
const SENT = 2; // units answered since the controller last looked
const THROTTLED = 3; // of those, units withheld or throttled
const PUSHBACK = 4; // what the controller last saw: 0 nothing, 1 overdrive, 2 refusing (see Pushback)
const CHANGED_AT = 5; // when the rate was last set, microseconds (the clock of TAT)
const STALE_SENT = 6; // like SENT and THROTTLED, for requests booked before CHANGED_AT
const STALE_THROTTLED = 7;
const ITEMS = 8; // the items those units were, fresh and stale: how many independent draws a sample holds
const STALE_ITEMS = 9;
const BACKGROUND = 10; // 1: what the table withholds is the background the controller learned (see backgroundOnly)
const SLOTS = 11;

/** Idle time a bucket may bank, so a paused writer does not come back with a burst. */
export const BURST_MS = 100;

/**
 * `overdrive`: the loader sends more than a table accepts (its own doing: failures then do not
 * count toward `--max-retries`); `refusing`: a table accepts nothing (the patience is also a time).
 */
export type Pushback = 'overdrive' | 'refusing';

export interface BucketSpec {
  /** A table name, or `*` for every table. */
  readonly table: string;
}

export interface SharedRateState {
  readonly buffer: SharedArrayBuffer;
  readonly buckets: readonly BucketSpec[];
}

export function createRateState(buckets: readonly BucketSpec[]): SharedRateState {
  return { buffer: new SharedArrayBuffer(Math.max(1, buckets.length) * SLOTS * 8), buckets };
}

/** Microseconds on a clock every thread shares. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export class RateLimiter {
  private readonly slots: BigInt64Array;
  private readonly buckets: readonly BucketSpec[];
  private readonly now: () => number;

  constructor(state: SharedRateState, now: () => number = nowMicros) {
    this.slots = new BigInt64Array(state.buffer);
    this.buckets = state.buckets;
    this.now = now;
  }

  get size(): number {
    return this.buckets.length;
  }

  /** Units per second of bucket `i` (Infinity when unlimited). */
  rate(i: number): number {
    const milli = Number(Atomics.load(this.slots, i * SLOTS + RATE));
    return milli === 0 ? Number.POSITIVE_INFINITY : milli / 1000;
  }

  setRate(i: number, unitsPerSecond: number): void {
    const milli = Number.isFinite(unitsPerSecond) ? Math.max(1, Math.round(unitsPerSecond * 1000)) : 0;
    const before = Atomics.exchange(this.slots, i * SLOTS + RATE, BigInt(milli));
    const now = this.now();
    // A lower rate starts now: idle time banked before it (up to BURST_MS; all of it after an
    // unlimited spell, when nothing was booked) is not spent at it. Spent, the answers right after
    // a back-off came at about the rate it backed off from, and the controller took the goodput
    // that held for a capacity limit.
    if (milli !== 0 && (before === 0n || BigInt(milli) < before)) {
      for (;;) {
        const tat = Atomics.load(this.slots, i * SLOTS + TAT);
        if (tat >= BigInt(now) || Atomics.compareExchange(this.slots, i * SLOTS + TAT, tat, BigInt(now)) === tat) break;
      }
    }
    Atomics.store(this.slots, i * SLOTS + CHANGED_AT, BigInt(now));
  }

  /** The time a request is booked, to pass to `answered`: answers to requests booked before a rate change are told apart. */
  mark(): number {
    return this.now();
  }

  /** Set by the controller from its last full sample of bucket `i` (BucketState.overdrive, .refusing). */
  setPushback(i: number, pushback: Pushback | undefined): void {
    Atomics.store(this.slots, i * SLOTS + PUSHBACK, pushback === 'refusing' ? 2n : pushback === 'overdrive' ? 1n : 0n);
  }

  /** Set by the controller: what bucket `i` withholds is the background it learned, not the loader's doing (backgroundOnly). */
  setBackground(i: number, backgroundOnly: boolean): void {
    Atomics.store(this.slots, i * SLOTS + BACKGROUND, backgroundOnly ? 1n : 0n);
  }

  /**
   * Every bucket covering these units withholds only the background its controller learned (a
   * share withheld whatever the rate, as a proxy withholding at random): items coming back there
   * say nothing of how near the table's capacity the loader is.
   */
  backgroundOnly(unitsByTable: ReadonlyMap<string, number>): boolean {
    let covered = false;
    for (let i = 0; i < this.buckets.length; i++) {
      if (this.unitsIn(i, unitsByTable) === 0) continue;
      if (Atomics.load(this.slots, i * SLOTS + BACKGROUND) !== 1n) return false;
      covered = true;
    }
    return covered;
  }

  /**
   * How the tables of these units push back, by the buckets covering them: `refusing` (one accepts
   * nothing) before `overdrive` (the loader sends more than one accepts); undefined when neither.
   */
  pushback(unitsByTable: ReadonlyMap<string, number>): Pushback | undefined {
    let worst = 0n;
    for (let i = 0; i < this.buckets.length; i++) {
      if (this.unitsIn(i, unitsByTable) === 0) continue;
      const value = Atomics.load(this.slots, i * SLOTS + PUSHBACK);
      if (value > worst) worst = value;
    }
    return worst === 2n ? 'refusing' : worst === 1n ? 'overdrive' : undefined;
  }

  /**
   * Reserves `units` per table for one request and returns how long (ms) to wait before sending it.
   * Reservations are taken in every bucket that covers one of the tables. When a bucket's next
   * free time is more than `horizonMs` away, nothing is reserved and the result is negative: minus
   * the ms after which the request may ask again (so a rate lowered meanwhile applies to it).
   */
  reserve(unitsByTable: ReadonlyMap<string, number>, horizonMs = Number.POSITIVE_INFINITY): number {
    if (Number.isFinite(horizonMs)) {
      let later = 0;
      const now = this.now();
      for (let i = 0; i < this.buckets.length; i++) {
        if (this.unitsIn(i, unitsByTable) === 0 || Atomics.load(this.slots, i * SLOTS + RATE) === 0n) continue;
        const ahead = (Number(Atomics.load(this.slots, i * SLOTS + TAT)) - now) / 1000;
        later = Math.max(later, ahead - horizonMs);
      }
      // At least a millisecond, so a caller's timer always moves on.
      if (later > 0) return -Math.max(1, Math.ceil(later));
    }
    let wait = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      const units = this.unitsIn(i, unitsByTable);
      if (units > 0) wait = Math.max(wait, this.reserveIn(i, units));
    }
    return wait;
  }

  /** The units of bucket `i`: its table's, or every table's for `*`. */
  private unitsIn(i: number, unitsByTable: ReadonlyMap<string, number> | undefined): number {
    if (unitsByTable === undefined) return 0;
    const table = (this.buckets[i] as BucketSpec).table;
    if (table !== '*') return unitsByTable.get(table) ?? 0;
    let units = 0;
    for (const u of unitsByTable.values()) units += u;
    return units;
  }

  private reserveIn(i: number, units: number): number {
    const milli = Number(Atomics.load(this.slots, i * SLOTS + RATE));
    if (milli === 0) return 0;
    const cost = Math.ceil((units * 1e9) / milli); // microseconds this request occupies
    for (;;) {
      const now = this.now();
      const tat = Atomics.load(this.slots, i * SLOTS + TAT);
      const start = Math.max(Number(tat), now - BURST_MS * 1000);
      if (Atomics.compareExchange(this.slots, i * SLOTS + TAT, tat, BigInt(start + cost)) === tat) {
        return Math.max(0, (start - now) / 1000);
      }
    }
  }

  /**
   * A request was answered: `sent` units went out, of which `throttled` were withheld or
   * throttled. Both are counted when the answer arrives, so the controller's withheld fraction
   * compares the same requests. Counting `sent` when the request reserved its slot made the
   * fraction lag behind by the limiter's queue: at a small table's rate, seconds of writes, and a
   * back-off judged on that looked like it had not helped.
   */
  answered(
    sent: ReadonlyMap<string, number>,
    throttled?: ReadonlyMap<string, number>,
    bookedAt?: number,
    items?: ReadonlyMap<string, number>,
  ): void {
    for (let i = 0; i < this.buckets.length; i++) {
      const units = this.unitsIn(i, sent);
      const count = items === undefined ? 0 : this.unitsIn(i, items);
      const withheld = this.unitsIn(i, throttled);
      // Booked before the last rate change: it went out at the old rate, and says nothing of the new one.
      const stale = bookedAt !== undefined && bookedAt < Number(Atomics.load(this.slots, i * SLOTS + CHANGED_AT));
      if (units > 0) Atomics.add(this.slots, i * SLOTS + (stale ? STALE_SENT : SENT), BigInt(units));
      if (withheld > 0) Atomics.add(this.slots, i * SLOTS + (stale ? STALE_THROTTLED : THROTTLED), BigInt(withheld));
      if (count > 0) Atomics.add(this.slots, i * SLOTS + (stale ? STALE_ITEMS : ITEMS), BigInt(count));
    }
  }

  /**
   * Reads and resets the units sent and throttled in bucket `i` since the last call (`stale*`:
   * booked before the last rate change), and the items they were (0 when not told).
   */
  drainCounters(i: number): {
    sent: number;
    throttled: number;
    staleSent: number;
    staleThrottled: number;
    items: number;
    staleItems: number;
  } {
    return {
      sent: Number(Atomics.exchange(this.slots, i * SLOTS + SENT, 0n)),
      throttled: Number(Atomics.exchange(this.slots, i * SLOTS + THROTTLED, 0n)),
      staleSent: Number(Atomics.exchange(this.slots, i * SLOTS + STALE_SENT, 0n)),
      staleThrottled: Number(Atomics.exchange(this.slots, i * SLOTS + STALE_THROTTLED, 0n)),
      items: Number(Atomics.exchange(this.slots, i * SLOTS + ITEMS, 0n)),
      staleItems: Number(Atomics.exchange(this.slots, i * SLOTS + STALE_ITEMS, 0n)),
    };
  }
}
