import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COOLDOWN_MS, DECREASE, INCREASE_PER_SECOND, MIN_RATE, nextRate, RateController, TICK_MS } from '../../src/pool/rate-control.js';
import { createRateState, RateLimiter } from '../../src/pool/rate-limit.js';

describe('nextRate (AIMD)', () => {
  const seen = (throttled: number, now: number, sent = 0) => ({ sent, throttled, intervalMs: 1000, now });

  test('not adaptive: the cap, whatever happens', () => {
    assert.equal(nextRate({ cap: 500, adaptive: false }, { rate: 500, lastDecreaseAt: 0 }, seen(100, 10_000)), 500);
    assert.equal(nextRate({ cap: undefined, adaptive: false }, { rate: Infinity, lastDecreaseAt: 0 }, seen(100, 10_000)), Infinity);
  });

  test('throttling multiplies the rate by DECREASE, once per cooldown', () => {
    const state = { rate: 1000, lastDecreaseAt: -Infinity };
    assert.equal(nextRate({ cap: 1000, adaptive: true }, state, seen(5, 10_000)), 1000 * DECREASE);
    state.rate = 1000 * DECREASE;
    assert.equal(nextRate({ cap: 1000, adaptive: true }, state, seen(5, 10_000 + COOLDOWN_MS - 1)), 1000 * DECREASE, 'in cooldown');
  });

  test('without a rate yet, the first throttling starts from what was sent', () => {
    const state = { rate: Infinity, lastDecreaseAt: -Infinity };
    assert.equal(nextRate({ cap: undefined, adaptive: true }, state, seen(1, 1000, 2000)), 2000 * DECREASE);
  });

  test('no throttling: probes upward by INCREASE_PER_SECOND of the cap, never above it', () => {
    const policy = { cap: 1000, adaptive: true };
    assert.equal(nextRate(policy, { rate: 500, lastDecreaseAt: 0 }, seen(0, 5000)), 500 + INCREASE_PER_SECOND * 1000);
    assert.equal(nextRate(policy, { rate: 999, lastDecreaseAt: 0 }, seen(0, 5000)), 1000);
    assert.equal(nextRate({ cap: undefined, adaptive: true }, { rate: Infinity, lastDecreaseAt: 0 }, seen(0, 5000)), Infinity);
  });

  test('never below MIN_RATE', () => {
    assert.equal(nextRate({ cap: undefined, adaptive: true }, { rate: MIN_RATE, lastDecreaseAt: -Infinity }, seen(1, 10)), MIN_RATE);
  });
});

describe('RateController', () => {
  test('sets the shared rate from what workers report', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => 0);
    const changes: number[] = [];
    const controller = new RateController(limiter, [{ cap: 1000, adaptive: true }], (_, rate) => changes.push(rate));
    assert.equal(limiter.rate(0), 1000);
    limiter.throttled(new Map([['t', 10]]));
    controller.tick(performance.now() + TICK_MS);
    assert.equal(limiter.rate(0), 1000 * DECREASE);
    assert.deepEqual(changes, [1000 * DECREASE]);
  });
});
