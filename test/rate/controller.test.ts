import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BACKGROUND_HALF_LIFE_S,
  BACKOFF,
  backgroundOnly,
  COOLDOWN_MS,
  INCREASE_PER_SECOND,
  initialState,
  MAX_BACKGROUND,
  MIN_SAMPLE,
  MIN_SAMPLE_MS,
  nextRate,
  RateController,
  TICK_MS,
  TOLERANCE,
} from '../../src/rate/controller.js';
import { mulberry32 } from '../../src/random.js';
import { createRateState, RateLimiter } from '../../src/rate/limiter.js';

const seen = (sent: number, throttled: number, now: number, intervalMs = 1000) => ({
  sent,
  throttled,
  intervalMs,
  now,
});

describe('nextRate (AIMD with a learned background)', () => {
  test('not adaptive: the cap, whatever happens', () => {
    assert.equal(
      nextRate({ cap: 500, adaptive: false }, initialState({ cap: 500, adaptive: false }), seen(1000, 900, 10_000)),
      500,
    );
  });

  test('a start below the cap is where an adaptive rate begins, probing by what the table takes', () => {
    const started = initialState({ cap: 5000, adaptive: true, start: 200 });
    assert.equal(started.rate, 200);
    assert.equal(started.peakGoodput, 200);
    // One quiet second: the step is 4% of the 200 the table takes, not of the cap.
    assert.equal(
      nextRate({ cap: 5000, adaptive: true, start: 200 }, started, seen(200, 0, 1000)),
      200 + INCREASE_PER_SECOND * 200,
    );
    assert.equal(initialState({ cap: 5000, adaptive: false, start: 200 }).rate, 5000);
    assert.equal(initialState({ cap: 100, adaptive: true, start: 200 }).rate, 100);
    assert.equal(initialState({ cap: undefined, adaptive: true, start: 200 }).rate, 200);
  });

  test('more withheld than tolerated: the rate drops to just below the goodput', () => {
    const policy = { cap: 1000, adaptive: true };
    const state = initialState(policy);
    // 1000 units sent in 1 s, 100 withheld: goodput 900/s.
    assert.equal(nextRate(policy, state, seen(1000, 100, 10_000)), 900 * BACKOFF);
  });

  test('while the rate climbs, the back-off starts from the last interval, not the pooled average', () => {
    const policy = { cap: undefined, adaptive: true };
    const state = initialState(policy);
    // Too small a sample to judge: pooled with the next one.
    assert.equal(nextRate(policy, state, seen(150, 0, 10_000, 300)), Infinity);
    // Then 1,000 units in 250 ms (4,000/s), 200 of the 1,150 pooled withheld.
    const rate = nextRate(policy, state, seen(1000, 200, 10_250, 250));
    assert.equal(rate, 4000 * (1 - 200 / 1150) * BACKOFF);
  });

  test('a fraction within the tolerance is not throttling: probe upward by INCREASE_PER_SECOND of the cap', () => {
    const policy = { cap: 1000, adaptive: true };
    const state = { ...initialState(policy), rate: 500 };
    const withheld = Math.floor(1000 * TOLERANCE) - 1;
    assert.equal(nextRate(policy, state, seen(1000, withheld, 10_000)), 500 + INCREASE_PER_SECOND * 1000);
  });

  test('never above the cap; unlimited stays unlimited while nothing is withheld', () => {
    assert.equal(
      nextRate(
        { cap: 1000, adaptive: true },
        { ...initialState({ cap: 1000, adaptive: true }), rate: 999 },
        seen(1000, 0, 5000),
      ),
      1000,
    );
    assert.equal(
      nextRate(
        { cap: undefined, adaptive: true },
        initialState({ cap: undefined, adaptive: true }),
        seen(1000, 0, 5000),
      ),
      Infinity,
    );
  });

  test('a constant withheld fraction that slowing down does not reduce becomes the background: the rate stops falling', () => {
    const policy = { cap: undefined, adaptive: true };
    const state = initialState(policy);
    // 20% withheld at any rate, as a proxy withholding at random does.
    const first = nextRate(policy, state, seen(10_000, 2_000, 10_000));
    assert.equal(first, 10_000 * 0.8 * BACKOFF);
    state.rate = first;
    // The interval right after the back-off is left out: its answers are to requests sent before it took effect.
    assert.equal(nextRate(policy, state, seen(10_000, 2_000, 10_000 + COOLDOWN_MS)), first);
    assert.equal(state.background, 0);
    // One back-off that did not help may have been too small (computed from answers lagging the
    // rate): a second one, from answers at the lowered rate, decides.
    const again = nextRate(policy, state, seen(first, first * 0.2, 10_000 + 2 * COOLDOWN_MS));
    assert.equal(again, first * 0.8 * BACKOFF, 'backs off once more');
    assert.equal(state.background, 0);
    state.rate = again;
    assert.equal(
      nextRate(policy, state, seen(first, first * 0.2, 10_000 + 3 * COOLDOWN_MS)),
      again,
      'the interval right after it is left out',
    );
    assert.equal(backgroundOnly(state), false, 'while a back-off is judged, items coming back may be ours');
    const second = nextRate(policy, state, seen(again, again * 0.2, 10_000 + 5 * COOLDOWN_MS));
    assert.equal(second, Infinity, 'both back-offs are undone: they did not help');
    assert.equal(state.background, 0.2);
    assert.equal(backgroundOnly(state), true, 'what comes back now is the background');
    state.rate = second;
    const third = nextRate(policy, state, seen(10_000, 2_000, 10_000 + 6 * COOLDOWN_MS));
    assert.equal(third, Infinity, 'the background no longer counts as throttling');
    assert.equal(backgroundOnly(state), true);
    // More than the background comes back: the loader may be sending more than the table takes.
    nextRate(policy, state, seen(10_000, 5_000, 10_000 + 7 * COOLDOWN_MS));
    assert.equal(backgroundOnly(state), false);
  });

  test('with booking times told, a back-off is judged from the next tick, on the answers booked after it', () => {
    const policy = { cap: undefined, adaptive: true };
    const state = initialState(policy);
    const told = (sent: number, throttled: number, staleSent: number, staleThrottled: number, now: number) => ({
      sent,
      throttled,
      staleSent,
      staleThrottled,
      intervalMs: TICK_MS,
      now,
    });
    const first = nextRate(policy, state, told(2_500, 500, 0, 0, 10_000));
    assert.equal(first, 10_000 * 0.8 * BACKOFF);
    state.rate = first;
    // The tick right after: answers booked before the back-off (half withheld) are left out; those
    // booked after it still have a fifth withheld at the lower rate, so it did not help.
    const sent = (first * TICK_MS) / 1000;
    const again = nextRate(policy, state, told(sent, sent * 0.2, 2_000, 1_000, 10_000 + TICK_MS));
    assert.equal(again, first * 0.8 * BACKOFF, 'judged, and backed off once more');
    // Without booking times, the same tick is left out (COOLDOWN_MS).
    const blind = initialState(policy);
    blind.rate = nextRate(policy, blind, seen(2_500, 500, 10_000, TICK_MS));
    assert.equal(nextRate(policy, blind, seen(sent, sent * 0.2, 10_000 + TICK_MS, TICK_MS)), blind.rate);
  });

  test('with booking times told, a sample above the new rate right after a back-off is judged, not left out as lagging', () => {
    const policy = { cap: undefined, adaptive: true };
    const told = (sent: number, throttled: number, now: number) => ({
      sent,
      throttled,
      staleSent: 0,
      staleThrottled: 0,
      intervalMs: TICK_MS,
      now,
    });
    const state = initialState(policy);
    const first = nextRate(policy, state, told(2_500, 500, 10_000));
    assert.equal(first, 10_000 * 0.8 * BACKOFF);
    state.rate = first;
    // The limiter lets a burst through right after the change: 9,000 units/s booked after it, above
    // the middle of the old and new rates, with a fifth still withheld.
    const burst = (9_000 * TICK_MS) / 1000;
    assert.ok((burst * 1000) / TICK_MS > (first + 10_000) / 2);
    const second = nextRate(policy, state, told(burst, burst * 0.2, 10_000 + TICK_MS));
    assert.equal(second, first * 0.8 * BACKOFF, 'judged (did not help), and backed off once more');
    state.rate = second;
    const sent = (second * TICK_MS) / 1000;
    assert.equal(nextRate(policy, state, told(sent, sent * 0.2, 10_000 + 2 * TICK_MS)), Infinity);
    assert.ok(Math.abs(state.background - 0.2) < 1e-9, `learned the fifth as background: ${state.background}`);
    // Without booking times, the same sample past the cooldown is taken as lagging and left out.
    const blind = initialState(policy);
    blind.rate = nextRate(policy, blind, seen(2_500, 500, 10_000, TICK_MS));
    assert.equal(nextRate(policy, blind, seen(burst, burst * 0.2, 10_000 + 2 * TICK_MS, TICK_MS)), blind.rate);
    assert.equal(blind.judgePending, true);
  });

  test('capacity-limited: after the drop little is withheld, and the next overshoot drops it again', () => {
    const policy = { cap: undefined, adaptive: true };
    const state = initialState(policy);
    const capacity = 5000;
    let rate = nextRate(policy, state, seen(6000, 1000, 1000)); // 6000/s sent, 5000 admitted
    assert.equal(rate, capacity * BACKOFF);
    state.rate = rate;
    assert.equal(
      nextRate(policy, state, seen(6000, 1000, 1000 + COOLDOWN_MS)),
      rate,
      'the interval right after the back-off is left out',
    );
    rate = nextRate(policy, state, seen(rate, 0, 1000 + 2 * COOLDOWN_MS));
    assert.ok(rate > capacity * BACKOFF && rate < capacity, `climbs again: ${rate}`);
    assert.equal(state.background, 0);
  });

  test('pools intervals until MIN_SAMPLE units were seen', () => {
    const policy = { cap: 1000, adaptive: true };
    const state = initialState(policy);
    assert.equal(nextRate(policy, state, seen(MIN_SAMPLE - 1, MIN_SAMPLE - 1, 100, 1000)), 1000);
    assert.equal(state.sent, MIN_SAMPLE - 1);
    const short = initialState(policy);
    assert.equal(nextRate(policy, short, seen(10_000, 10_000, 100, MIN_SAMPLE_MS - 1)), 1000, 'too short an interval');
  });
});

/**
 * A table admitting `capacity` units/s (a token bucket holding 1 s, empty at the start) and a
 * client able to send `max` units/s, in 250 ms ticks; or, with `withhold`, a table withholding that
 * fraction at any rate. Returns what the last 50 s looked like.
 */
function simulate(
  table: { capacity?: number; withhold?: number },
  max: number,
  options: { cap?: number; lagTicks?: number; start?: number; ticks?: number; skip?: number } = {},
): { share: number; wasted: number; background: number; sentPerSecond: number; rate: number } {
  const policy = { cap: options.cap, adaptive: true, ...(options.start === undefined ? {} : { start: options.start }) };
  const state = initialState(policy);
  // Rates in effect: with a lag, the answers of a tick are to requests sent at an earlier rate
  // (requests booked ahead, or in flight, when the rate changed).
  const rates: number[] = [];
  let tokens = 0;
  let admitted = 0;
  let sentTotal = 0;
  let withheldTotal = 0;
  const ticks = options.ticks ?? 240;
  const skip = options.skip ?? 40;
  for (let tick = 0; tick < ticks; tick++) {
    rates.push(state.rate);
    const sent = Math.min(rates[Math.max(0, rates.length - 1 - (options.lagTicks ?? 0))] as number, max) * 0.25;
    let ok = sent * (1 - (table.withhold ?? 0));
    if (table.capacity !== undefined) {
      tokens = Math.min(table.capacity, tokens + table.capacity * 0.25);
      ok = Math.min(sent, tokens);
      tokens -= ok;
    }
    if (tick >= skip) {
      admitted += ok;
      sentTotal += sent;
      withheldTotal += sent - ok;
    }
    state.rate = nextRate(policy, state, { sent, throttled: sent - ok, intervalMs: 250, now: 250 * (tick + 1) });
  }
  const seconds = (ticks - skip) / 4;
  return {
    share: table.capacity === undefined ? Number.NaN : admitted / (table.capacity * seconds),
    wasted: withheldTotal / admitted,
    background: state.background,
    sentPerSecond: sentTotal / seconds,
    rate: state.rate,
  };
}

describe('nextRate against simulated tables', () => {
  for (const [capacity, max] of [
    [200, 5_000],
    [1_000, 20_000],
    [5_000, 90_000],
  ] as const) {
    test(`capacity ${capacity} units/s, a client able to send ${max}: at least 90% of capacity, under 10% wasted, no background learned`, () => {
      const result = simulate({ capacity }, max);
      assert.ok(result.share >= 0.9, `share ${result.share}`);
      assert.ok(result.wasted < 0.1, `wasted ${result.wasted}`);
      assert.ok(result.background < TOLERANCE, `background ${result.background}`);
    });
  }

  // The answers lag the rate by a tick or two, as when requests were booked ahead at the old rate:
  // judged on those, a back-off looked useless and throttling was learned as background.
  for (const [capacity, cap, lagTicks] of [
    [500, 2_000, 1],
    [500, 2_000, 2],
    [5_000, 20_000, 1],
    [200, 5_000, 2],
    [200, 5_000, 0],
  ] as const) {
    test(`capacity ${capacity} units/s under a cap of ${cap}, answers ${lagTicks} tick(s) behind the rate: at least 90% of capacity, under 10% wasted, no background learned`, () => {
      const result = simulate({ capacity }, cap * 10, { cap, lagTicks });
      assert.ok(result.share >= 0.9, `share ${result.share}`);
      assert.ok(result.wasted < 0.1, `wasted ${result.wasted}`);
      assert.ok(result.background < TOLERANCE, `background ${result.background}`);
    });
  }

  test('20% withheld at any rate, answers a tick behind: still learned as background, the rate not dragged down', () => {
    const result = simulate({ withhold: 0.2 }, 50_000, { lagTicks: 1 });
    // Learned, then fading until earned again: between 0.1 and 0.25 at any moment.
    assert.ok(result.background > 0.1 && result.background < 0.25, `background ${result.background}`);
    assert.ok(result.sentPerSecond > 45_000, `sent ${result.sentPerSecond}/s`);
  });

  // At a few hundred units per second a sample takes several intervals to gather; the back-off
  // must still be judged by it (judged by a time window, it was missed and the rate fell to ~10/s).
  for (const cap of [700, 1_000, undefined]) {
    test(`20% withheld at any rate, a cap of ${cap ?? 'none'}, a client able to send 1,000/s: learned as background, the rate not dragged down`, () => {
      const policy = { cap, adaptive: true };
      const state = initialState(policy);
      for (let tick = 0; tick < 400; tick++) {
        const sent = Math.min(state.rate, 1_000) * 0.25;
        state.rate = nextRate(policy, state, { sent, throttled: sent * 0.2, intervalMs: 250, now: 250 * (tick + 1) });
      }
      assert.ok(state.background > 0.1 && state.background < 0.25, `background ${state.background}`);
      assert.ok(state.rate >= Math.min(cap ?? Number.POSITIVE_INFINITY, 1_000) * 0.9, `rate ${state.rate}`);
    });
  }

  // A cap above a provisioned table's capacity starts at the capacity (src/rate/policy.ts):
  // started at the cap, the first second went out at it.
  for (const [capacity, cap] of [
    [200, 5_000],
    [500, 2_000],
    [5_000, 20_000],
  ] as const) {
    for (const lagTicks of [0, 1, 2]) {
      test(`capacity ${capacity} under a cap of ${cap}, started at the capacity, answers ${lagTicks} tick(s) behind: the first 10 s waste under 5%, under a fifth of what starting at the cap wastes`, () => {
        const started = simulate({ capacity }, cap * 10, { cap, lagTicks, start: capacity, ticks: 40, skip: 0 });
        const atCap = simulate({ capacity }, cap * 10, { cap, lagTicks, ticks: 40, skip: 0 });
        assert.ok(started.share >= 0.9, `share ${started.share}`);
        assert.ok(started.wasted < 0.05, `wasted ${started.wasted}`);
        assert.ok(started.wasted < atCap.wasted / 5, `wasted ${started.wasted} against ${atCap.wasted} from the cap`);
      });
    }
  }

  // Each probe overshoots a little, within the tolerance. Those samples used to raise the learned
  // background, which widened the tolerance, which allowed larger overshoots.
  for (const lagTicks of [0, 1]) {
    test(`capacity 5,000 under a cap of 20,000, started at the capacity, answers ${lagTicks} tick(s) behind: no background creeps in over 60 s`, () => {
      const result = simulate({ capacity: 5_000 }, 200_000, { cap: 20_000, lagTicks, start: 5_000 });
      assert.ok(result.background < TOLERANCE / 2, `background ${result.background}`);
      assert.ok(result.rate < 5_000 * 1.15, `rate ${result.rate}`);
      assert.ok(result.wasted < 0.05, `wasted ${result.wasted}`);
    });
  }

  test('20% withheld at any rate: learned as background, the rate is not dragged down', () => {
    const result = simulate({ withhold: 0.2 }, 50_000);
    // Learned, then fading until earned again: between 0.1 and 0.25 at any moment.
    assert.ok(result.background > 0.1 && result.background < 0.25, `background ${result.background}`);
    assert.ok(result.sentPerSecond > 45_000, `sent ${result.sentPerSecond}/s`);
  });
});

/**
 * A table admitting `capacity` units/s (a token bucket holding 1 s, empty at the start) whose
 * answers arrive one to three intervals after the requests were sent (drawn per interval, so some
 * intervals see none and some see two or three intervals' worth), as on a busy machine. Returns the
 * longest time the rate in effect stayed above twice the capacity, when the table first admitted 90%
 * of its capacity over 2 s, and the last 50 s's figures. `first`: the first interval's answers, in
 * place of the table's (a sample distorted by a busy machine or a table's start).
 */
function simulateLate(
  capacity: number,
  max: number,
  seed: number,
  cap?: number,
  first?: { sent: number; throttled: number },
): { longestOverMs: number; reachedMs: number; share: number; wasted: number; background: number } {
  const policy = { cap, adaptive: true };
  const state = initialState(policy);
  const random = mulberry32(seed);
  // Answers due at a tick, each with the tick its request was sent in.
  const arrivals = new Map<number, { sentAt: number; sent: number; throttled: number }[]>();
  let changedAt = -1;
  let tokens = 0;
  let over = 0;
  let longestOver = 0;
  let admitted = 0;
  let sentTotal = 0;
  let reachedMs = Number.POSITIVE_INFINITY;
  const window: number[] = [];
  const ticks = 400;
  for (let tick = 0; tick < ticks; tick++) {
    const rate = Math.min(state.rate, max);
    over = rate > 2 * capacity ? over + 1 : 0;
    longestOver = Math.max(longestOver, over);
    const sent = rate * 0.25;
    tokens = Math.min(capacity, tokens + capacity * 0.25);
    const ok = Math.min(sent, tokens);
    tokens -= ok;
    if (tick >= ticks - 200) {
      admitted += ok;
      sentTotal += sent;
    }
    window.push(ok);
    if (window.length > 8) window.shift();
    if (window.length === 8 && window.reduce((a, b) => a + b) >= 0.9 * capacity * 2)
      reachedMs = Math.min(reachedMs, 250 * (tick + 1));
    const at = tick + 1 + Math.floor(random() * 3);
    arrivals.set(at, [...(arrivals.get(at) ?? []), { sentAt: tick, sent, throttled: sent - ok }]);
    const seen = { sent: 0, throttled: 0, staleSent: 0, staleThrottled: 0 };
    for (const answer of arrivals.get(tick) ?? []) {
      // Booked before the last rate change (set at the end of tick `changedAt`).
      const stale = answer.sentAt <= changedAt;
      seen[stale ? 'staleSent' : 'sent'] += answer.sent;
      seen[stale ? 'staleThrottled' : 'throttled'] += answer.throttled;
    }
    arrivals.delete(tick);
    if (tick === 0 && first) Object.assign(seen, first);
    const before = state.rate;
    state.rate = nextRate(policy, state, { ...seen, intervalMs: 250, now: 250 * (tick + 1) });
    if (state.rate !== before) changedAt = tick;
  }
  return {
    longestOverMs: longestOver * 250,
    reachedMs,
    share: admitted / (capacity * 50),
    wasted: (sentTotal - admitted) / admitted,
    background: state.background,
  };
}

describe('nextRate with answers one to three intervals late (a table whose capacity is not known)', () => {
  for (const [capacity, max, cap] of [
    [5_000, 60_000, undefined],
    [1_000, 20_000, undefined],
    [200, 5_000, undefined],
    [5_000, 60_000, 20_000],
  ] as const) {
    test(`capacity ${capacity} units/s, a client able to send ${max}, cap ${cap ?? 'none'}: never above 2x the capacity for more than 2 s (20 seeds), and after the first 50 s at least 90% used and under 10% wasted`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const result = simulateLate(capacity, max, seed, cap);
        assert.ok(result.longestOverMs <= 2_000, `seed ${seed}: above 2x the capacity for ${result.longestOverMs} ms`);
        assert.ok(result.share >= 0.9, `seed ${seed}: share ${result.share}`);
        assert.ok(result.wasted < 0.1, `seed ${seed}: wasted ${result.wasted}`);
        assert.ok(result.background < TOLERANCE * 2, `seed ${seed}: background ${result.background}`);
      }
    });
  }

  // A first back-off computed from a distorted sample (a busy machine's answers, a table's token
  // bucket empty at the start) landed far below the table's capacity, the recent peak with it, and
  // the climb by a few percent of that peak took 29-50 s to get back to 90% (the bench, on a busy
  // machine: 67% of a 5,000-unit table used over a 50 s load).
  for (const [capacity, sent, throttled] of [
    [5_000, 1_600, 1_435],
    [1_000, 400, 375],
    [200, 200, 190],
  ] as const) {
    test(`capacity ${capacity} units/s, the first sample ${sent} sent and ${throttled} withheld in 250 ms: back at 90% within 15 s, never above 2x the capacity for more than 2 s, then under 10% wasted`, () => {
      for (let seed = 1; seed <= 10; seed++) {
        const result = simulateLate(capacity, capacity * 12, seed, undefined, { sent, throttled });
        assert.ok(result.reachedMs <= 15_000, `seed ${seed}: 90% reached after ${result.reachedMs} ms`);
        assert.ok(result.longestOverMs <= 2_000, `seed ${seed}: above 2x the capacity for ${result.longestOverMs} ms`);
        assert.ok(result.wasted < 0.1, `seed ${seed}: wasted ${result.wasted}`);
        assert.ok(result.share >= 0.9, `seed ${seed}: share ${result.share}`);
      }
    });
  }

  test('after a shallow back-off near the limit the climb is not accelerated, however long it stays clean', () => {
    const policy = { cap: undefined, adaptive: true };
    const state = initialState(policy);
    let now = 1_000;
    // The first back-off (deep: nothing was known), then a clean climb that accelerates.
    state.rate = nextRate(policy, state, seen(10_000, 5_000, now));
    assert.equal(state.deepBackoff, true);
    for (let i = 0; i < 12; i++) state.rate = nextRate(policy, state, seen(state.rate, 0, (now += 1_000)));
    assert.equal(state.accelerated, true);
    // The accelerated climb overshoots by design: its back-off, even a deep one, does not arm it again.
    state.rate = nextRate(policy, state, seen(state.rate, state.rate * 0.6, (now += 1_000)));
    assert.equal(state.deepBackoff, false);
    // A shallow back-off: 10% withheld.
    state.rate = nextRate(policy, state, seen(state.rate, state.rate * 0.1, (now += 5_000)));
    assert.equal(state.deepBackoff, false);
    for (let i = 0; i < 10; i++) {
      const before = state.rate;
      state.rate = nextRate(policy, state, seen(state.rate, 0, (now += 1_000)));
      // The step is INCREASE_PER_SECOND of the peak the sample left.
      const step = state.rate - before;
      assert.ok(
        step <= INCREASE_PER_SECOND * state.peakGoodput * 1.001,
        `second ${i}: step ${step}, peak ${state.peakGoodput}`,
      );
    }
  });

  // At a few hundred units per second an interval's answers are whole batches of 25: one, none,
  // or three. Judged interval by interval, no sample after a back-off was ever complete, and 30%
  // withheld at random dragged the rate to single digits.
  for (const withhold of [0.2, 0.35]) {
    test(`${withhold * 100}% withheld at any rate, answers in whole batches of 25 units at up to 400 units/s: the rate is not dragged down`, () => {
      const policy = { cap: undefined, adaptive: true };
      const state = initialState(policy);
      const random = mulberry32(7);
      let owed = 0;
      let sentTotal = 0;
      for (let tick = 0; tick < 480; tick++) {
        owed += Math.min(state.rate, 400) * 0.25;
        let sent = 0;
        let throttled = 0;
        while (owed >= 25 && random() < 0.8) {
          owed -= 25;
          sent += 25;
          for (let unit = 0; unit < 25; unit++) if (random() < withhold) throttled++;
        }
        if (tick >= 240) sentTotal += sent;
        state.rate = nextRate(policy, state, { sent, throttled, intervalMs: 250, now: 250 * (tick + 1) });
      }
      assert.ok(sentTotal / 60 > 400 * 0.7, `sent ${sentTotal / 60}/s`);
    });
  }

  // Items of 100 KB weigh about a hundred units each, and are withheld one by one: a request of 25
  // such items is 2,450 units but only 25 draws. Judged as 2,450 draws, 20% withheld at random
  // looked like throttling in every other sample and the rate sank to a few items per second.
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`20% of 100 KB items withheld at random (seed ${seed}), answers in requests of 25 items: the rate is not dragged down`, () => {
      const policy = { cap: undefined, adaptive: true };
      const state = initialState(policy);
      const random = mulberry32(seed);
      const weight = 98;
      const maxUnits = 60 * weight;
      let owed = 0;
      let sentTotal = 0;
      for (let tick = 0; tick < 480; tick++) {
        owed += Math.min(state.rate, maxUnits) * 0.25;
        let sent = 0;
        let throttled = 0;
        let items = 0;
        while (owed >= 25 * weight) {
          owed -= 25 * weight;
          sent += 25 * weight;
          items += 25;
          for (let item = 0; item < 25; item++) if (random() < 0.2) throttled += weight;
        }
        if (tick >= 240) sentTotal += sent;
        state.rate = nextRate(policy, state, { sent, throttled, items, intervalMs: 250, now: 250 * (tick + 1) });
      }
      assert.ok(sentTotal / 60 > maxUnits * 0.7, `sent ${Math.round(sentTotal / 60 / weight)} items/s of 60`);
    });
  }

  test('a learned background is bounded and fades unless earned again', () => {
    const policy = { cap: undefined, adaptive: true };
    const state = { ...initialState(policy), rate: 10_000 };
    // A back-off at 60% withheld that did not help: beyond MAX_BACKGROUND, so not learned; the rate stays down.
    const down = nextRate(policy, state, seen(10_000, 6_000, 10_000));
    state.rate = down;
    const after = nextRate(policy, state, seen(down, down * 0.6, 10_000 + 2 * COOLDOWN_MS));
    assert.ok(after < down, `kept falling: ${after} after ${down}`);
    assert.equal(state.background, 0);
    assert.ok(MAX_BACKGROUND < 0.6);
    // A background learned at 20% fades: within BACKGROUND_HALF_LIFE_S of 20% withheld, a back-off
    // must earn it again.
    const fading = { ...initialState(policy), rate: 10_000, background: 0.2 };
    let backedOff = false;
    for (let s = 0; s < BACKGROUND_HALF_LIFE_S && !backedOff; s++)
      backedOff = nextRate(policy, fading, seen(10_000, 2_000, 20_000 + s * 1000)) < 10_000;
    assert.ok(backedOff, 'a back-off within the half-life');
  });

  test('overdrive: more withheld than the background allows while the table accepts some; not when it accepts nothing', () => {
    const policy = { cap: undefined, adaptive: true };
    const busy = initialState(policy);
    nextRate(policy, busy, seen(10_000, 5_000, 10_000));
    assert.equal(busy.overdrive, true);
    const refusing = initialState(policy);
    nextRate(policy, refusing, seen(10_000, 10_000, 10_000));
    assert.equal(refusing.overdrive, false);
    const fine = initialState(policy);
    nextRate(policy, fine, seen(10_000, 100, 10_000));
    assert.equal(fine.overdrive, false);
  });

  /**
   * A client limited by its own CPU: each 250 ms tick it can send about `mean` items/s (varying by
   * `noise` either way), and sends what the rate allows of that; `answer` draws what is withheld
   * of the items sent. Returns, for the last 50 s, what went out as a share of what the client could send.
   */
  function cpuBoundShare(
    seed: number,
    mean: number,
    noise: number,
    answer: (allowed: number, random: () => number) => { sent: number; throttled: number },
  ): number {
    const random = mulberry32(seed);
    const policy = { cap: undefined, adaptive: true };
    const state = initialState(policy);
    let sentTotal = 0;
    let could = 0;
    for (let tick = 0; tick < 240; tick++) {
      const able = mean * (1 + noise * (random() * 2 - 1));
      const { sent, throttled } = answer(Math.min(state.rate, able) * 0.25, random);
      if (tick >= 40) {
        sentTotal += sent;
        could += able * 0.25;
      }
      state.rate = nextRate(policy, state, { sent, throttled, items: sent, intervalMs: 250, now: 250 * (tick + 1) });
    }
    return sentTotal / could;
  }

  const bySeed = (shares: number[]): string =>
    `sent of what it could, by seed: ${shares.map((s) => s.toFixed(2)).join(' ')}`;

  // A run limited by its own CPU sends what the machine lets it, not what the rate allows; 30% of
  // its items withheld at random. Once the learned background faded to the edge of that fraction,
  // every other sample backed off and the sample after it, just inside the band, counted the
  // back-off as having helped: the rate ratcheted down to a third of what the client sent.
  for (const noise of [0, 0.5]) {
    test(`30% withheld at random from a client able to send about 3,000 items/s (varying by ${noise * 100}% per tick, 8 seeds): at least 90% of what it could send goes out`, () => {
      const shares = Array.from({ length: 8 }, (_, i) =>
        cpuBoundShare(i + 1, 3_000, noise, (allowed, random) => {
          const sent = Math.round(allowed);
          let throttled = 0;
          for (let item = 0; item < sent; item++) if (random() < 0.3) throttled++;
          return { sent, throttled };
        }),
      );
      assert.ok(
        shares.every((share) => share >= 0.9),
        bySeed(shares),
      );
    });
  }

  // As the fault proxy does: requests of 25 items, 30% of the items withheld and 5% of the requests
  // throttled whole (ThrottlingException). The whole requests make the fraction of a sample swing
  // far more than item-by-item draws would, and each high sample backed off once more.
  test('30% of items withheld and 5% of requests throttled whole, a client able to send about 2,000 items/s varying by half (16 seeds): the median seed sends at least 85% of what it could', () => {
    const shares = Array.from({ length: 16 }, (_, i) =>
      cpuBoundShare(i + 1, 2_000, 0.5, (allowed, random) => {
        const requests = Math.round(allowed / 25);
        let throttled = 0;
        for (let request = 0; request < requests; request++) {
          if (random() < 0.05) throttled += 25;
          else for (let item = 0; item < 25; item++) if (random() < 0.3) throttled++;
        }
        return { sent: requests * 25, throttled };
      }),
    );
    // The worst seeds still lose up to half (a run of high samples at a low rate, where a few
    // throttled requests are most of a sample); the old controller lost about 60% at the median.
    const median = [...shares].sort((a, b) => a - b)[shares.length / 2] as number;
    assert.ok(median >= 0.85, bySeed(shares));
  });
});

describe('RateController', () => {
  test('ticks before the first write, and the first tick with writes, are not judged', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => 0);
    const changes: number[] = [];
    const controller = new RateController(limiter, [{ cap: undefined, adaptive: true }], (_, rate) =>
      changes.push(rate),
    );
    const start = performance.now();
    // Workers start: two seconds of nothing, then a tick in which writes began (half withheld).
    controller.tick(start + 1000);
    controller.tick(start + 2000);
    limiter.answered(new Map([['t', 5000]]), new Map([['t', 2500]]));
    controller.tick(start + 2000 + TICK_MS);
    assert.deepEqual(changes, [], 'nothing judged yet');
    // A full interval after that: 20,000 units in 1 s, 4,000 withheld. The back-off starts from
    // the rate of that interval, not from one diluted by the idle start.
    limiter.answered(new Map([['t', 20_000]]), new Map([['t', 4_000]]));
    controller.tick(start + 3000 + TICK_MS);
    // (Within rounding: the interval is measured on performance.now(), whose sums are not exact.)
    assert.equal(changes.length, 1);
    assert.ok(Math.abs(Number(changes[0]) - 20_000 * 0.8 * BACKOFF) < 1e-6, String(changes[0]));
  });

  test('sets the shared rate from what workers report', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => 0);
    const changes: number[] = [];
    const controller = new RateController(limiter, [{ cap: 1000, adaptive: true }], (_, rate) => changes.push(rate));
    assert.equal(limiter.rate(0), 1000);
    // The first tick with writes only starts the clock: writes began somewhere inside it.
    limiter.answered(new Map([['t', 10]]));
    controller.tick(performance.now() + TICK_MS);
    limiter.answered(new Map([['t', 1000]]), new Map([['t', 500]]));
    controller.tick(performance.now() + 5 * TICK_MS);
    assert.equal(changes.length, 1);
    assert.ok((changes[0] as number) < 1000);
    assert.equal(limiter.rate(0), Math.max(1, Math.round((changes[0] as number) * 1000)) / 1000);
  });

  test('tells the workers once what comes back is only the background it learned, and not before', () => {
    const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => 0);
    const controller = new RateController(limiter, [{ cap: undefined, adaptive: true }]);
    const units = new Map([['t', 1]]);
    let now = performance.now();
    const told: boolean[] = [];
    // A client able to send 10,000 units/s; 20% withheld whatever the rate.
    for (let tick = 0; tick < 40; tick++) {
      const sent = Math.round((Math.min(limiter.rate(0), 10_000) * TICK_MS) / 1000);
      limiter.answered(new Map([['t', sent]]), new Map([['t', Math.round(sent * 0.2)]]));
      now += TICK_MS;
      controller.tick(now);
      told.push(limiter.backgroundOnly(units));
    }
    const first = told.indexOf(true);
    assert.ok(first > 0, `told at tick ${first}`);
    // From then on, it stays so: the rate is back where it was, nothing more is withheld.
    assert.ok(
      told.slice(first).every((t) => t),
      told.map((t) => (t ? 1 : 0)).join(''),
    );
    assert.equal(limiter.rate(0), Infinity);
  });

  for (const withhold of [0.2, 0.1]) {
    test(`a client next to the table, ${withhold * 100}% withheld at random (8 seeds): the background is learned and the rate is unlimited again`, () => {
      // Writers booking through the real limiter, answered at once. Were idle credit spent at a
      // lowered rate, the sample judging the first back-off would come at about the rate it backed
      // off from, look like a capacity limit, and the rate would climb from that back-off for the
      // rest of the run.
      for (let seed = 1; seed <= 8; seed++) {
        const { rates, learned } = nextToTheTable(withhold, seed);
        const trace = rates.map((rate) => (Number.isFinite(rate) ? Math.round(rate) : 'unlimited')).join(' ');
        assert.ok(rates.some(Number.isFinite), `seed ${seed}: backed off at least once: ${trace}`);
        assert.ok(learned, `seed ${seed}: learned the background: ${trace}`);
        assert.equal(rates.at(-1), Infinity, `seed ${seed}: ${trace}`);
      }
    });
  }

  test('a tick measured a little under TICK_MS is a full sample: the background is learned as soon as with exact ticks', () => {
    // setInterval's ticks, read on performance.now(), come a fraction of a millisecond early or late.
    const ticksToLearn = (intervals: (tick: number) => number): number => {
      const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => 0);
      const controller = new RateController(limiter, [{ cap: undefined, adaptive: true }]);
      const units = new Map([['t', 1]]);
      let now = performance.now();
      for (let tick = 0; tick < 40; tick++) {
        const intervalMs = intervals(tick);
        // A client able to send 10,000 units/s; 20% withheld whatever the rate.
        const sent = Math.round((Math.min(limiter.rate(0), 10_000) * intervalMs) / 1000);
        limiter.answered(new Map([['t', sent]]), new Map([['t', Math.round(sent * 0.2)]]), 0);
        now += intervalMs;
        controller.tick(now);
        if (limiter.backgroundOnly(units)) return tick;
      }
      return Number.POSITIVE_INFINITY;
    };
    const exact = ticksToLearn(() => TICK_MS);
    assert.ok(Number.isFinite(exact), 'learned with exact ticks');
    assert.equal(
      ticksToLearn((tick) => TICK_MS + (tick % 2 === 0 ? 0.4 : -0.4)),
      exact,
      'every other tick early',
    );
    assert.equal(
      ticksToLearn(() => TICK_MS - 0.4),
      exact,
      'every tick early',
    );
  });
});

/** 10 s of writers able to send 20,000 units/s in requests of 25, answered at once, `withhold` of the items withheld at random. */
function nextToTheTable(withhold: number, seed: number): { rates: number[]; learned: boolean } {
  let clockMs = 0;
  const limiter = new RateLimiter(createRateState([{ table: '*' }]), () => Math.round(clockMs * 1000));
  const controller = new RateController(limiter, [{ cap: undefined, adaptive: true }]);
  const random = mulberry32(seed);
  const units = new Map([['t', 25]]);
  const pending: { at: number; bookedAt: number }[] = [];
  const rates: number[] = [];
  let budget = 0;
  for (let ms = 1; ms <= 10_000; ms++) {
    clockMs = ms;
    // Each request asks for a slot at most 100 ms ahead.
    budget = Math.min(budget + 20, 100);
    while (budget >= 25) {
      const bookedAt = limiter.mark();
      const wait = limiter.reserve(units, 100);
      if (wait < 0) break;
      budget -= 25;
      pending.push({ at: ms + wait, bookedAt });
    }
    for (let i = pending.length - 1; i >= 0; i--) {
      const request = pending[i] as { at: number; bookedAt: number };
      if (request.at > ms) continue;
      pending.splice(i, 1);
      let withheld = 0;
      for (let item = 0; item < 25; item++) if (random() < withhold) withheld++;
      limiter.answered(units, new Map([['t', withheld]]), request.bookedAt, units);
    }
    if (ms % TICK_MS === 0) {
      controller.tick(ms);
      rates.push(limiter.rate(0));
    }
  }
  return { rates, learned: limiter.backgroundOnly(units) };
}
