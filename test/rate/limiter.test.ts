import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BURST_MS, createRateState, RateLimiter } from '../../src/rate/limiter.js';

const units = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));

/** What drainCounters returns: units sent and throttled, the same for stale answers, and the items. */
const drained = (
  sent: number,
  throttled: number,
  staleSent: number,
  staleThrottled: number,
  items: number,
  staleItems: number,
) => ({
  sent,
  throttled,
  staleSent,
  staleThrottled,
  items,
  staleItems,
});

describe('RateLimiter (GCRA, shared)', () => {
  test('unlimited buckets never make a request wait', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => 0);
    limiter.setRate(0, Number.POSITIVE_INFINITY);
    assert.equal(limiter.reserve(units({ t: 1_000_000 })), 0);
    assert.equal(limiter.rate(0), Number.POSITIVE_INFINITY);
  });

  test('a steady stream is spaced at exactly the rate: 100 units/s, 25 units per request -> 250 ms apart', () => {
    let now = 10_000_000; // microseconds
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => now);
    limiter.setRate(0, 100);
    const waits = Array.from({ length: 5 }, () => limiter.reserve(units({ t: 25 })));
    // All reserved at the same instant: each starts 250 ms after the previous one (a rate just set has banked nothing).
    assert.deepEqual(waits, [0, 250, 500, 750, 1000]);
    now += 10_000_000; // 10 s idle: at most BURST_MS of credit is banked
    assert.equal(limiter.reserve(units({ t: 25 })), 0);
    assert.equal(limiter.reserve(units({ t: 25 })), 250 - BURST_MS);
  });

  test('with a horizon, books at most that far ahead; beyond it books nothing and says when to ask again', () => {
    let now = 10_000_000; // microseconds
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => now);
    limiter.setRate(0, 100);
    now += 1_000_000; // idle: BURST_MS of credit banked
    // 25 units at 100/s: 250 ms per request. The first uses the burst, the second waits 150 ms.
    assert.equal(limiter.reserve(units({ t: 25 }), 200), 0);
    assert.equal(limiter.reserve(units({ t: 25 }), 200), 250 - BURST_MS);
    // The next free time is 400 ms away: 200 ms past the horizon, so nothing is booked.
    assert.equal(limiter.reserve(units({ t: 25 }), 200), -200);
    assert.equal(limiter.reserve(units({ t: 25 }), 200), -200, 'a refused request took nothing');
    // The rate is lowered meanwhile: the request that asks again is spaced at the new rate.
    limiter.setRate(0, 50);
    now += 200_000;
    assert.equal(limiter.reserve(units({ t: 25 }), 200), 200);
    assert.equal(limiter.reserve(units({ t: 25 }), 200), -500, 'now 500 ms apart');
  });

  test('a lower rate starts now: idle credit banked before it is not spent at it; a higher rate keeps it', () => {
    let now = 10_000_000; // microseconds
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => now);
    limiter.setRate(0, 100);
    now += 10_000_000; // 10 s idle: BURST_MS of credit banked
    limiter.setRate(0, 200);
    assert.equal(limiter.reserve(units({ t: 25 })), 0);
    assert.equal(limiter.reserve(units({ t: 25 })), 125 - BURST_MS, 'raised: the credit is spent');
    now += 10_000_000;
    limiter.setRate(0, 100);
    assert.equal(limiter.reserve(units({ t: 25 })), 0);
    assert.equal(limiter.reserve(units({ t: 25 })), 250, 'lowered: no credit');
    // From unlimited (where nothing was booked), as a back-off from an unlimited start is.
    limiter.setRate(0, Number.POSITIVE_INFINITY);
    now += 10_000_000;
    assert.equal(limiter.reserve(units({ t: 25 })), 0);
    limiter.setRate(0, 100);
    assert.equal(limiter.reserve(units({ t: 25 })), 0);
    assert.equal(limiter.reserve(units({ t: 25 })), 250, 'from unlimited: no credit');
    // Lowered while requests are booked ahead: those keep their slots, the next comes after them.
    limiter.setRate(0, 50);
    assert.equal(limiter.reserve(units({ t: 25 })), 500);
  });

  test('with a horizon, an unlimited bucket or one the request does not touch never refuses', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }, { table: 'slow' }]), () => 0);
    limiter.setRate(0, Number.POSITIVE_INFINITY);
    limiter.setRate(1, 1);
    assert.equal(limiter.reserve(units({ slow: 1 }), 100), 0);
    assert.equal(limiter.reserve(units({ fast: 1_000 }), 100), 0);
    assert.ok(limiter.reserve(units({ slow: 1 }), 100) < 0);
  });

  test('two limiters over the same shared buffer (two workers) share one budget', () => {
    const now = 5_000_000;
    const state = createRateState([{ table: '*' }]);
    const a = new RateLimiter(state, () => now);
    const b = new RateLimiter(state, () => now);
    a.setRate(0, 1000);
    const waits = [a.reserve(units({ t: 100 })), b.reserve(units({ t: 100 })), a.reserve(units({ t: 100 }))];
    assert.deepEqual(waits, [0, 100, 200]);
  });

  test('a per-table bucket counts only its table; `*` counts all', () => {
    const now = 1_000_000;
    const limiter = new RateLimiter(createRateState([{ table: '*' }, { table: 'slow' }]), () => now);
    limiter.setRate(0, Number.POSITIVE_INFINITY);
    limiter.setRate(1, 10);
    assert.equal(limiter.reserve(units({ fast: 50 })), 0);
    assert.equal(limiter.reserve(units({ slow: 1 })), 0);
    assert.equal(limiter.reserve(units({ slow: 1 })), 100);
    assert.deepEqual(limiter.drainCounters(0), drained(0, 0, 0, 0, 0, 0), 'a reservation is not counted: answers are');
    limiter.answered(units({ fast: 50 }));
    limiter.answered(units({ slow: 2 }), units({ slow: 1 }));
    assert.deepEqual(limiter.drainCounters(0), drained(52, 1, 0, 0, 0, 0));
    assert.deepEqual(limiter.drainCounters(1), drained(2, 1, 0, 0, 0, 0));
    assert.deepEqual(limiter.drainCounters(1), drained(0, 0, 0, 0, 0, 0));
  });

  test('answered and throttled units are counted per bucket and drained once', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }, { table: 'a' }]), () => 0);
    // Items, when told: how many draws the units were (a 100 KB item is a hundred units but one draw).
    limiter.answered(units({ a: 5, b: 6 }), units({ a: 3, b: 4 }), undefined, units({ a: 1, b: 3 }));
    assert.deepEqual(limiter.drainCounters(0), drained(11, 7, 0, 0, 4, 0));
    assert.deepEqual(limiter.drainCounters(1), drained(5, 3, 0, 0, 1, 0));
    assert.deepEqual(limiter.drainCounters(0), drained(0, 0, 0, 0, 0, 0));
  });

  test('answers to requests booked before the last rate change are counted apart (stale), so a back-off is judged without them', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => now);
    limiter.setRate(0, 1000);
    const before = limiter.mark();
    now += 10;
    limiter.setRate(0, 500);
    now += 10;
    const after = limiter.mark();
    limiter.answered(units({ t: 25 }), units({ t: 5 }), before, units({ t: 5 }));
    limiter.answered(units({ t: 25 }), units({ t: 1 }), after, units({ t: 25 }));
    limiter.answered(units({ t: 3 }));
    assert.deepEqual(limiter.drainCounters(0), drained(28, 1, 25, 5, 25, 5));
  });

  test('pushback: the worst of the buckets covering the tables', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }, { table: 'a' }]), () => 0);
    assert.equal(limiter.pushback(units({ b: 1 })), undefined);
    limiter.setPushback(0, 'overdrive');
    assert.equal(limiter.pushback(units({ b: 1 })), 'overdrive');
    limiter.setPushback(1, 'refusing');
    assert.equal(limiter.pushback(units({ b: 1 })), 'overdrive');
    assert.equal(limiter.pushback(units({ a: 1 })), 'refusing');
    limiter.setPushback(0, undefined);
    limiter.setPushback(1, undefined);
    assert.equal(limiter.pushback(units({ a: 1 })), undefined);
  });

  test('background only: every bucket covering the tables says its withholding is the background it learned', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }, { table: 'a' }]), () => 0);
    assert.equal(limiter.backgroundOnly(units({ b: 1 })), false);
    limiter.setBackground(0, true);
    assert.equal(limiter.backgroundOnly(units({ b: 1 })), true);
    // Table a is also covered by its own bucket, which has learned nothing.
    assert.equal(limiter.backgroundOnly(units({ a: 1 })), false);
    assert.equal(limiter.backgroundOnly(units({ a: 1, b: 1 })), false);
    limiter.setBackground(1, true);
    assert.equal(limiter.backgroundOnly(units({ a: 1, b: 1 })), true);
    limiter.setBackground(0, false);
    assert.equal(limiter.backgroundOnly(units({ a: 1 })), false);
    // Units no bucket covers say nothing either way.
    const single = new RateLimiter(createRateState([{ table: 'a' }]), () => 0);
    single.setBackground(0, true);
    assert.equal(single.backgroundOnly(units({ b: 1 })), false);
  });
});
