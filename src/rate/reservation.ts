/**
 * How a writer books its time to send with the shared limiter (src/rate/limiter.ts): how far ahead
 * it may book, and when a request the limiter turned away asks again.
 */

/**
 * How far ahead a request may book its time to send. Booked further ahead, a whole round of
 * requests would go out at the old rate after the controller lowered it (at a 500-unit table,
 * seconds of them), and the back-off would seem not to have helped.
 */
export const RESERVE_HORIZON_MS = 100;
/** The longest a request refused by the limiter sleeps before asking again. */
export const REASK_MAX_MS = 250;

/** The shared write-rate limiter, as the writer sees it (src/rate/limiter.ts). */
export interface WriteLimiter {
  /**
   * Reserves capacity for a request and returns the ms to wait before sending it; or, when the
   * next free slot is more than `horizonMs` away, reserves nothing and returns minus the ms after
   * which to ask again.
   */
  reserve(unitsByTable: ReadonlyMap<string, number>, horizonMs?: number): number;
  /**
   * Reports an answered request: units sent, and of those the units withheld or throttled;
   * `bookedAt`, the request's `mark()` when it was booked; `items`, how many items the units were.
   */
  answered(
    sent: ReadonlyMap<string, number>,
    throttled?: ReadonlyMap<string, number>,
    bookedAt?: number,
    items?: ReadonlyMap<string, number>,
  ): void;
  /** A token for the time a request is booked: answers to requests booked before a rate change are told apart. */
  mark?(): number;
  /**
   * How the tables push back, as the rate controller last saw them: `overdrive` (the loader sends
   * more than they accept: withheld items are the loader's own doing) or `refusing` (they accept nothing).
   */
  pushback?(unitsByTable: ReadonlyMap<string, number>): 'overdrive' | 'refusing' | undefined;
  /** What the tables of these units withhold is only the background the rate controller learned. */
  backgroundOnly?(unitsByTable: ReadonlyMap<string, number>): boolean;
}

/**
 * When a request refused by `reserve` (which returned `wait`, below 0) asks again: when its slot is
 * near, but spread over half the horizon (requests refused together would all wake together, and
 * all but one be refused again), and within REASK_MAX_MS (so a rate raised meanwhile reaches it).
 * `random` in [0, 1).
 */
export function reaskDelay(wait: number, random: number): number {
  return Math.min(-wait, REASK_MAX_MS) + random * (RESERVE_HORIZON_MS / 2);
}
