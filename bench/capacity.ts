/**
 * Write capacity as the capacity-limited endpoint models it, and the rate figures the bench reports.
 * Pure (the clock is passed in), so it can be checked without a server.
 */

/**
 * Write units an item costs, estimated from the UTF-8 length of its wire JSON
 * (`{"user":{"N":"1000123"},...}`). DynamoDB bills ceil(size / 1 KB) per write, where size is the
 * attribute names plus the values (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
 * The JSON adds about 10 bytes per attribute (quotes, braces, the type tag), so the estimate never
 * bills less than DynamoDB would; for the bench's rows (about 110 bytes of JSON) both give 1 unit.
 */
export function itemUnits(item: unknown): number {
  return Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(item)) / 1024));
}

/**
 * A token bucket like a provisioned table's write capacity: `rate` units per second, holding at most
 * `rate * burstSeconds`. It starts empty at the first `take` (the first write), so over any span
 * from the first write it admits at most `rate` units per second (DynamoDB keeps up to 300 s of
 * unused capacity as burst; a bench that drew on it would measure the burst, not the rate).
 */
export class TokenBucket {
  private tokens = 0;
  private last: number | undefined;
  private readonly size: number;

  constructor(
    private readonly rate: number,
    burstSeconds: number,
  ) {
    this.size = rate * burstSeconds;
  }

  /** Takes `units` if the bucket holds them; an item never takes part of its units. */
  take(units: number, now: number): boolean {
    this.last ??= now;
    if (now > this.last) {
      this.tokens = Math.min(this.size, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    if (this.tokens < units) return false;
    this.tokens -= units;
    return true;
  }
}

/** Counts per whole second since the first `add`. */
export class PerSecond {
  readonly counts: number[] = [];
  private start: number | undefined;

  add(value: number, now: number): void {
    this.start ??= now;
    const second = Math.floor((now - this.start) / 1000);
    while (this.counts.length <= second) this.counts.push(0);
    this.counts[second] = (this.counts[second] ?? 0) + value;
  }
}

export interface WindowDeviation {
  /** Signed deviation of the window furthest from the target, as a fraction (-0.04 = 4% under). */
  readonly worst: number;
  /** First second of that window. */
  readonly at: number;
  readonly windows: number;
}

/**
 * Sliding `windowSeconds` windows (1 s step) over a per-second series, skipping the first `warmup`
 * seconds and the last, partial second (the run ended inside it). Undefined when no window fits.
 */
export function worstWindow(
  perSecond: readonly number[],
  target: number,
  windowSeconds = 10,
  warmup = 10,
): WindowDeviation | undefined {
  const full = perSecond.slice(0, -1);
  let worst: WindowDeviation | undefined;
  let windows = 0;
  for (let start = warmup; start + windowSeconds <= full.length; start++) {
    let sum = 0;
    for (let s = start; s < start + windowSeconds; s++) sum += full[s] ?? 0;
    const deviation = sum / windowSeconds / target - 1;
    windows++;
    if (worst === undefined || Math.abs(deviation) > Math.abs(worst.worst))
      worst = { worst: deviation, at: start, windows: 0 };
  }
  return worst && { ...worst, windows };
}
