/**
 * Capped exponential backoff with full jitter: the delay before attempt n+1 is uniform in
 * [0, min(cap, base * 2^(n-1))]. Full jitter spreads retries of many writers so they do not
 * return in lockstep. https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
}

// Short steps (5 ms doubling to 1 s): the shared AIMD limiter, not each item's backoff, slows the
// run down for an overloaded table; a longer wait only idles the pipe and holds the item's file
// checkpoint mark back. The steps matter most at the end of a run, when the last withheld items
// are all that is left to send: with 20% withheld, the end of a run idled for about half a second
// with a 10 ms base, and the run took 4% longer than with 5 ms (median of 3 runs, 92.9k against
// 96.3k items/s; issue 4, point 3). A 25 ms base and a 2 s cap cost more still. `--max-retries`
// 30 keeps the time an item may go on failing (about 12 s on average, 23 s at most) near what 20
// steps of 25 ms to 2 s gave (15 s, 29 s).
export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 5, capMs: 1_000 });

/** `attempts` is how many attempts have failed so far (1 after the first failure). */
export function backoffDelay(attempts: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
