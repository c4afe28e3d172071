import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffCeiling, backoffDelay, DEFAULT_BACKOFF, maxFailingMs } from '../../src/pipeline/backoff.js';
import { DEFAULTS } from '../../src/config.js';

// Full jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
// the delay after the n-th failed attempt is uniform in [0, min(cap, base * factor^(n-1))].
const LOWEST = (): number => 0;
const HIGHEST = (): number => 1 - Number.EPSILON;

const ceilings: Array<[attempts: number, baseMs: number, capMs: number, ceiling: number, factor?: number]> = [
  [1, 10, 1000, 10],
  [2, 10, 1000, 20],
  [3, 10, 1000, 40],
  [4, 10, 1000, 80],
  [7, 10, 1000, 640],
  [8, 10, 1000, 1000], // 1280 capped
  [20, 10, 1000, 1000],
  [1000, 10, 1000, 1000], // a huge exponent neither overflows nor escapes the cap
  [1, 1, 5, 1],
  [3, 1, 5, 4],
  [4, 1, 5, 5], // 8 capped
  [5, 100, 100, 100], // cap equal to base: never grows
  [1, 50, 20, 20], // cap below base wins
  [1, 10, 1000, 10, 1.5],
  [2, 10, 1000, 15, 1.5],
  [3, 10, 1000, 22.5, 1.5],
  [8, 10, 1000, 170.859375, 1.5],
  [13, 10, 1000, 1000, 1.5], // 1297.5 capped
  [1000, 5, 1000, 1000, 1.5],
];

describe('backoffDelay', () => {
  for (const [attempts, baseMs, capMs, ceiling, factor = 2] of ceilings) {
    test(`attempts ${attempts}, base ${baseMs}, cap ${capMs}, factor ${factor}: delay in [0, ${ceiling}]`, () => {
      const options = { baseMs, capMs, factor };
      assert.equal(backoffCeiling(attempts, options), ceiling);
      assert.equal(backoffDelay(attempts, options, LOWEST), 0);
      const high = backoffDelay(attempts, options, HIGHEST);
      assert.ok(high <= ceiling, `${high} <= ${ceiling}`);
      assert.ok(high >= ceiling - 1, `${high} >= ${ceiling - 1}: the top of the range is reachable`);
      const mid = backoffDelay(attempts, options, () => 0.5);
      assert.ok(Math.abs(mid - ceiling / 2) <= 1, `${mid} is about half of ${ceiling}`);
    });
  }

  for (const attempts of [0, -1, -100]) {
    test(`attempts ${attempts} is treated as 1`, () => {
      const options = { baseMs: 10, capMs: 1000, factor: 2 };
      for (const random of [LOWEST, () => 0.5, HIGHEST]) {
        assert.equal(backoffDelay(attempts, options, random), backoffDelay(1, options, random));
      }
    });
  }

  test('with Math.random the delay stays within bounds and is a whole number of ms', () => {
    for (let attempts = 1; attempts <= 12; attempts++) {
      const ceiling = backoffCeiling(attempts, DEFAULT_BACKOFF);
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(attempts, DEFAULT_BACKOFF);
        assert.ok(Number.isInteger(delay) && delay >= 0 && delay <= ceiling, `${delay} in [0, ${ceiling}]`);
      }
    }
  });

  test('the default options are frozen and capped', () => {
    assert.ok(Object.isFrozen(DEFAULT_BACKOFF));
    assert.ok(
      DEFAULT_BACKOFF.baseMs > 0 && DEFAULT_BACKOFF.capMs >= DEFAULT_BACKOFF.baseMs && DEFAULT_BACKOFF.factor > 1,
    );
  });

  test('sums the ceilings of the waits an item may fail through', () => {
    assert.equal(maxFailingMs(0, DEFAULT_BACKOFF), 0);
    assert.equal(maxFailingMs(4, { baseMs: 10, capMs: 50, factor: 2 }), 10 + 20 + 40 + 50);
  });

  test('by default an item may go on failing for 20-25 s before the run fails', () => {
    // What 30 doublings from 5 ms to 1 s gave (23.3 s): a shorter patience fails runs on a table
    // that throttles for a while, a longer one hides a table that takes nothing.
    const ms = maxFailingMs(DEFAULTS.maxRetries, DEFAULT_BACKOFF);
    assert.ok(ms >= 20_000 && ms <= 25_000, String(ms));
  });
});
