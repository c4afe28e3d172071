import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/pipeline/backoff.js';

// Full jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
// the delay after the n-th failed attempt is uniform in [0, min(cap, base * 2^(n-1))].
const LOWEST = (): number => 0;
const HIGHEST = (): number => 1 - Number.EPSILON;

const ceilings: Array<[attempts: number, baseMs: number, capMs: number, ceiling: number]> = [
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
];

describe('backoffDelay', () => {
  for (const [attempts, baseMs, capMs, ceiling] of ceilings) {
    test(`attempts ${attempts}, base ${baseMs}, cap ${capMs}: delay in [0, ${ceiling}]`, () => {
      const options = { baseMs, capMs };
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
      const options = { baseMs: 10, capMs: 1000 };
      for (const random of [LOWEST, () => 0.5, HIGHEST]) {
        assert.equal(backoffDelay(attempts, options, random), backoffDelay(1, options, random));
      }
    });
  }

  test('with Math.random the delay stays within bounds and is a whole number of ms', () => {
    for (let attempts = 1; attempts <= 12; attempts++) {
      const ceiling = Math.min(DEFAULT_BACKOFF.capMs, DEFAULT_BACKOFF.baseMs * 2 ** (attempts - 1));
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(attempts, DEFAULT_BACKOFF);
        assert.ok(Number.isInteger(delay) && delay >= 0 && delay <= ceiling, `${delay} in [0, ${ceiling}]`);
      }
    }
  });

  test('the default options are frozen and capped', () => {
    assert.ok(Object.isFrozen(DEFAULT_BACKOFF));
    assert.ok(DEFAULT_BACKOFF.baseMs > 0 && DEFAULT_BACKOFF.capMs >= DEFAULT_BACKOFF.baseMs);
  });
});
