// When a request the shared limiter turned away asks again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REASK_MAX_MS, RESERVE_HORIZON_MS, reaskDelay } from '../../src/rate/reservation.js';

describe('reaskDelay', () => {
  const cases: { name: string; wait: number; random: number; expected: number }[] = [
    { name: 'a slot 30 ms past the horizon, no jitter: when it is near', wait: -30, random: 0, expected: 30 },
    {
      name: 'the same with the most jitter: half the horizon later',
      wait: -30,
      random: 0.999,
      expected: 30 + 0.999 * (RESERVE_HORIZON_MS / 2),
    },
    { name: 'a slot seconds away: within REASK_MAX_MS', wait: -5_000, random: 0, expected: REASK_MAX_MS },
    {
      name: 'a slot seconds away, with jitter',
      wait: -5_000,
      random: 0.5,
      expected: REASK_MAX_MS + 0.5 * (RESERVE_HORIZON_MS / 2),
    },
  ];
  for (const { name, wait, random, expected } of cases) {
    test(name, () => assert.equal(reaskDelay(wait, random), expected));
  }
});
