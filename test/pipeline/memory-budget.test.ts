import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MIN_WORKER_MIB, OPEN_ROW_BYTES, memoryBounds } from '../../src/pipeline/memory-budget.js';

const MIB = 1024 * 1024;
const total = (b: ReturnType<typeof memoryBounds>): number =>
  b.writerBytes + b.orderBytes + b.openRows * OPEN_ROW_BYTES + b.rejectBytes;

describe('memoryBounds', () => {
  const cases: Array<[memoryMib: number, workers: number]> = [
    [128, 1],
    [128, 2],
    [128, 8],
    [1024, 4],
    [64, 64],
    [16, 1],
  ];
  for (const [memoryMib, workers] of cases) {
    test(`${memoryMib} MiB over ${workers} worker(s): every bound is in bytes and all of them fit the worker's share`, () => {
      const bounds = memoryBounds(memoryMib, workers);
      const share = Math.max(MIN_WORKER_MIB, memoryMib / workers) * MIB;
      assert.ok(total(bounds) <= share, `${total(bounds)} > ${share}`);
      assert.ok(bounds.writerBytes > 0 && bounds.orderBytes > 0 && bounds.openRows > 0 && bounds.rejectBytes > 0);
    });
  }

  test('the bounds scale down, not up, with the number of workers: the run has one budget', () => {
    const one = memoryBounds(128, 1);
    const two = memoryBounds(128, 2);
    const four = memoryBounds(128, 4);
    assert.equal(two.writerBytes, one.writerBytes / 2);
    assert.equal(four.writerBytes, one.writerBytes / 4);
    assert.ok(4 * total(four) <= 128 * MIB);
    assert.ok(2 * total(two) <= 128 * MIB);
  });

  test('a worker never gets less than the floor (a tiny budget slows a run, it does not stall it)', () => {
    assert.deepEqual(memoryBounds(16, 64), memoryBounds(MIN_WORKER_MIB, 1));
    // The writer still holds ten items near the 400 KB limit.
    assert.ok(memoryBounds(16, 64).writerBytes >= 10 * 400 * 1024);
  });

  test('the rows held open for the checkpoint mark are capped at a million', () => {
    assert.equal(memoryBounds(65_536, 1).openRows, 1_000_000);
    assert.equal(memoryBounds(128, 2).openRows, Math.floor((64 * MIB) / 8 / OPEN_ROW_BYTES));
  });
});
