/**
 * Capped exponential backoff with full jitter: the delay before attempt n+1 is uniform in
 * [0, min(cap, base * factor^(n-1))]. Full jitter spreads retries of many writers so they do not
 * return in lockstep. https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
  /** Growth per failed attempt (2: doubling). */
  readonly factor: number;
}

// Short steps (5 ms, growing by half each attempt, to 1 s): the shared AIMD limiter, not each
// item's backoff, slows the run down for an overloaded table; a longer wait only idles the pipe and
// holds the item's file checkpoint mark back. The steps matter most at the end of a run, when the
// last withheld items are all that is left to send:
// - with 20% withheld, a 10 ms base made the run 4% slower than 5 ms (median of 3 runs, 92.9k
//   against 96.3k items/s); a 25 ms base and a 2 s cap cost more still;
// - doubling, the last worker's tail (reading done to all written) was 110-235 ms of a 1M-row run;
//   growing by half, 39-58 ms (six runs each). The unlucky items' 7th to 9th waits are what shrank:
//   their ceilings are 57-128 ms instead of 320-1,000 ms.
// The default `--max-retries` (34) keeps the time an item may go on failing near what 30 doublings
// gave: about 11.5 s on average and 23 s at most (sum of the ceilings), see maxFailingMs.
export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 5, capMs: 1_000, factor: 1.5 });

/** The longest wait after `attempts` failed attempts (1 after the first failure; less counts as 1). */
export function backoffCeiling(attempts: number, options: BackoffOptions): number {
  // Clamped so that the power stays finite whatever the count (60 steps of 1.5 are 3.6e10 times the base).
  const exponent = Math.min(Math.max(attempts - 1, 0), 60);
  return Math.min(options.capMs, options.baseMs * options.factor ** exponent);
}

/** A wait drawn uniformly below the ceiling (full jitter), in whole ms. */
export function backoffDelay(attempts: number, options: BackoffOptions, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempts, options));
}

/** The longest an item may go on failing before `retries` failures fail the run: the sum of the waits' ceilings. */
export function maxFailingMs(retries: number, options: BackoffOptions): number {
  let total = 0;
  for (let attempts = 1; attempts <= retries; attempts++) total += backoffCeiling(attempts, options);
  return total;
}
