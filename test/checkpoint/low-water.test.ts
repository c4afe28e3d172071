import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LowWater, startMark, type Outcome } from '../../src/checkpoint/low-water.js';
import { mulberry32 } from '../support/fault-proxy.js';

// Batches complete out of order, so the checkpoint holds a low-water mark: the position
// below which every row is written, rejected or skipped.

interface Row {
  readonly n: number;
  readonly seq: number;
  outcome: Outcome | undefined;
}

/** Rows 1..count, each line `line` bytes long, registered in read order. */
function rows(tracker: LowWater, count: number, line = 10, from = 0): Row[] {
  const out: Row[] = [];
  for (let i = 1; i <= count; i++)
    out.push({ n: from + i, seq: tracker.add((from + i) * line, from + i), outcome: undefined });
  return out;
}

function settle(tracker: LowWater, row: Row | undefined, outcome: Outcome = 'written'): void {
  assert.ok(row);
  row.outcome = outcome;
  tracker.settle(row.seq, outcome);
}

describe('LowWater', () => {
  test('a fresh mark is at zero; startMark fills in what is not given', () => {
    assert.deepEqual(new LowWater().mark, { offset: 0, lines: 0, rows: 0, written: 0, rejected: 0, skipped: 0 });
    assert.deepEqual(startMark({ offset: 50, rows: 3, written: 3 }), {
      offset: 50,
      lines: 0,
      rows: 3,
      written: 3,
      rejected: 0,
      skipped: 0,
    });
  });

  test('rows settled out of order move the mark only over the contiguous settled prefix', () => {
    const tracker = new LowWater();
    const [r1, r2, r3, r4, r5] = rows(tracker, 5);
    const steps: { settle: Row | undefined; rows: number; offset: number; open: number }[] = [
      { settle: r3, rows: 0, offset: 0, open: 5 },
      { settle: r5, rows: 0, offset: 0, open: 5 },
      { settle: r2, rows: 0, offset: 0, open: 5 },
      { settle: r1, rows: 3, offset: 30, open: 2 },
      { settle: r4, rows: 5, offset: 50, open: 0 },
    ];
    for (const step of steps) {
      settle(tracker, step.settle);
      assert.equal(tracker.mark.rows, step.rows, `after row ${step.settle?.n}`);
      assert.equal(tracker.mark.offset, step.offset, `after row ${step.settle?.n}`);
      assert.equal(tracker.mark.lines, step.rows);
      assert.equal(tracker.open, step.open);
    }
  });

  test('the mark counts rows below it by outcome', () => {
    const tracker = new LowWater();
    const all = rows(tracker, 6);
    const outcomes: Outcome[] = ['written', 'rejected', 'written', 'skipped', 'rejected', 'written'];
    // Settle from the back: nothing moves until the first row settles, then everything does.
    for (let i = all.length - 1; i >= 0; i--) settle(tracker, all[i], outcomes[i]);
    assert.deepEqual(tracker.mark, { offset: 60, lines: 6, rows: 6, written: 3, rejected: 2, skipped: 1 });
  });

  test('`changed` is set only when the mark moves', () => {
    const tracker = new LowWater();
    const [r1, r2] = rows(tracker, 2);
    settle(tracker, r2);
    assert.equal(tracker.changed, false);
    settle(tracker, r1);
    assert.equal(tracker.changed, true);
    tracker.changed = false;
    tracker.settle((r1 as Row).seq, 'rejected');
    assert.equal(tracker.changed, false, 'settling a row again does not move the mark');
    assert.deepEqual(
      tracker.mark,
      { offset: 20, lines: 2, rows: 2, written: 2, rejected: 0, skipped: 0 },
      'nor change its counts',
    );
  });

  test('a resumed file continues from its start mark: counts add to the earlier ones', () => {
    const tracker = new LowWater({ offset: 40, lines: 4, rows: 3, written: 2, rejected: 1 });
    const [a, b] = rows(tracker, 2, 10, 4);
    settle(tracker, b, 'skipped');
    assert.equal(tracker.mark.rows, 3);
    assert.equal(tracker.mark.offset, 40);
    settle(tracker, a);
    assert.deepEqual(tracker.mark, { offset: 60, lines: 6, rows: 5, written: 3, rejected: 1, skipped: 1 });
  });

  test('a row that never settles holds the mark however far later rows get (a retry still pending)', () => {
    const tracker = new LowWater();
    const all = rows(tracker, 10_000);
    for (const row of all.slice(0, 99)) settle(tracker, row);
    for (const row of all.slice(100)) settle(tracker, row);
    assert.equal(tracker.mark.rows, 99);
    assert.equal(tracker.mark.offset, 990);
    assert.equal(tracker.open, 9_901);
    settle(tracker, all[99]);
    assert.equal(tracker.mark.rows, 10_000);
    assert.equal(tracker.open, 0);
  });

  test('the kept rows grow past the first allocation while one row holds the mark, then drain in one step', () => {
    const tracker = new LowWater();
    const all = rows(tracker, 300_000, 7);
    for (const row of all.slice(1)) settle(tracker, row, 'skipped');
    assert.equal(tracker.open, 300_000);
    // Rows read after growing, while the mark is still held, land after the others.
    const later = rows(tracker, 5, 7, 300_000);
    assert.equal(tracker.open, 300_005);
    settle(tracker, all[0], 'rejected');
    assert.deepEqual(tracker.mark, {
      offset: 300_000 * 7,
      lines: 300_000,
      rows: 300_000,
      written: 0,
      rejected: 1,
      skipped: 299_999,
    });
    for (const row of later) settle(tracker, row);
    assert.deepEqual(tracker.mark, {
      offset: 300_005 * 7,
      lines: 300_005,
      rows: 300_005,
      written: 5,
      rejected: 1,
      skipped: 299_999,
    });
    assert.equal(tracker.open, 0);
  });

  for (const seed of [1, 2, 3, 4]) {
    test(`random settling order (seed ${seed}): the mark is always the longest settled prefix, as the kept rows wrap around`, () => {
      const random = mulberry32(seed);
      const tracker = new LowWater();
      const all: Row[] = [];
      // Rows are read as they are needed and settle in a shuffled order, never more than 300 ahead
      // of the first unsettled one: the kept rows wrap around their first allocation many times.
      const window: Row[] = [];
      let prefix = 0;
      while (all.length < 5_000 || window.length > 0) {
        while (window.length < 300 && all.length < 5_000) {
          const [row] = rows(tracker, 1, 10, all.length);
          all.push(row as Row);
          window.push(row as Row);
        }
        const [picked] = window.splice(Math.floor(random() * window.length), 1);
        settle(tracker, picked, random() < 0.1 ? 'rejected' : 'written');
        while (prefix < all.length && all[prefix]?.outcome !== undefined) prefix++;
        assert.equal(tracker.mark.rows, prefix);
        assert.equal(tracker.mark.offset, prefix * 10);
        assert.equal(tracker.open, all.length - prefix);
      }
      assert.equal(tracker.mark.written + tracker.mark.rejected, 5_000);
      assert.equal(tracker.mark.rejected, all.filter((r) => r.outcome === 'rejected').length);
    });
  }
});
