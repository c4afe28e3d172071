import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  advanceProgress,
  createProgress,
  formatCount,
  formatDuration,
  formatProgress,
  type Clock,
  type ProgressSnapshot,
  type ProgressState,
} from '../src/progress.js';

const zero: ProgressSnapshot = {
  rowsRead: 0,
  rowsWritten: 0,
  rowsRejected: 0,
  rowsSkipped: 0,
  itemsWritten: 0,
  unitsWritten: 0,
  unprocessedRetries: 0,
  throttledRequests: 0,
  serverErrors: 0,
  networkErrors: 0,
};
const snap = (fields: Partial<ProgressSnapshot>): ProgressSnapshot => ({ ...zero, ...fields });

// At 0 s nothing; at 2 s: a quarter of 2 MB read, 10,000 rows read, 8,000 done (7,997 written, 3
// rejected), 5,000 items/s, 6,000 WCU/s, 7 retries.
const start = advanceProgress(undefined, snap({ bytesRead: 0, bytesTotal: 2_000_000 }), 0);
const midway = snap({
  rowsRead: 10_000,
  rowsWritten: 7_997,
  itemsWritten: 10_000,
  unitsWritten: 12_000,
  rowsRejected: 3,
  unprocessedRetries: 5,
  throttledRequests: 2,
  bytesRead: 500_000,
  bytesTotal: 2_000_000,
});

describe('formatProgress', () => {
  const cases: Array<
    [
      label: string,
      snapshot: ProgressSnapshot,
      previous: ProgressState | undefined,
      nowMs: number,
      width: number,
      expected: string,
    ]
  > = [
    [
      'first snapshot, total unknown (stdin): no rates, no ETA',
      snap({ rowsRead: 1234, itemsWritten: 1200, unitsWritten: 1300 }),
      undefined,
      0,
      200,
      '1,234 rows · 1,200 items · - items/s · - WCU/s · 0 retries · 0 rejected',
    ],
    [
      'with a previous sample and a known total',
      midway,
      start,
      2000,
      200,
      '8,000 of ~40,000 rows done (20%) · 10,000 items · 5,000 items/s · 6,000 WCU/s · 7 retries · 3 rejected · ETA 8s',
    ],
    [
      '111 columns fit exactly',
      midway,
      start,
      2000,
      111,
      '8,000 of ~40,000 rows done (20%) · 10,000 items · 5,000 items/s · 6,000 WCU/s · 7 retries · 3 rejected · ETA 8s',
    ],
    [
      '100 columns: retries go first',
      midway,
      start,
      2000,
      100,
      '8,000 of ~40,000 rows done (20%) · 10,000 items · 5,000 items/s · 6,000 WCU/s · 3 rejected · ETA 8s',
    ],
    [
      '80 columns: then WCU/s and items',
      midway,
      start,
      2000,
      80,
      '8,000 of ~40,000 rows done (20%) · 5,000 items/s · 3 rejected · ETA 8s',
    ],
    ['41 columns: rows and ETA', midway, start, 2000, 41, '8,000 of ~40,000 rows done (20%) · ETA 8s'],
    ['20 columns: the rows, cut', midway, start, 2000, 20, '8,000 of ~40,000 row'],
    [
      'every row written: 100%, ETA 0s',
      snap({
        rowsRead: 40_000,
        rowsWritten: 40_000,
        itemsWritten: 40_000,
        unitsWritten: 40_000,
        bytesRead: 2_000_000,
        bytesTotal: 2_000_000,
      }),
      start,
      8000,
      200,
      '40,000 of ~40,000 rows done (100%) · 40,000 items · 5,000 items/s · 5,000 WCU/s · 0 retries · 0 rejected · ETA 0s',
    ],
    // Reading runs far ahead of a slow table (--max-wcu): every byte read is not every row written.
    [
      'every byte read, a quarter written: 25%, and the ETA of the rest at the rate rows get written',
      snap({
        rowsRead: 40_000,
        rowsWritten: 10_000,
        itemsWritten: 10_000,
        unitsWritten: 10_000,
        bytesRead: 2_000_000,
        bytesTotal: 2_000_000,
      }),
      start,
      8000,
      200,
      '10,000 of ~40,000 rows done (25%) · 10,000 items · 1,250 items/s · 1,250 WCU/s · 0 retries · 0 rejected · ETA 24s',
    ],
    [
      'total known, nothing read yet: no percentage, ETA unknown',
      snap({ bytesTotal: 100 }),
      undefined,
      0,
      200,
      '0 rows · 0 items · - items/s · - WCU/s · 0 retries · 0 rejected · ETA -',
    ],
    [
      'large counts are compact',
      snap({ rowsRead: 12_345_678, itemsWritten: 1_234_567_890, serverErrors: 1, networkErrors: 1 }),
      undefined,
      0,
      200,
      '12.3M rows · 1.23B items · - items/s · - WCU/s · 2 retries · 0 rejected',
    ],
  ];
  for (const [label, snapshot, previous, nowMs, width, expected] of cases) {
    test(label, () => {
      const line = formatProgress(snapshot, previous, nowMs, { width });
      assert.equal(line, expected);
      assert.ok(line.length <= width);
    });
  }

  test('colors only retries and rejects, and only when asked; width ignores the escapes', () => {
    assert.equal(
      formatProgress(midway, start, 2000, { width: 111, color: true }),
      '8,000 of ~40,000 rows done (20%) · 10,000 items · 5,000 items/s · 6,000 WCU/s · \x1b[33m7 retries\x1b[39m · \x1b[31m3 rejected\x1b[39m · ETA 8s',
    );
    assert.ok(!formatProgress(snap({ rowsRead: 1 }), undefined, 0, { width: 200, color: true }).includes('\x1b'));
  });

  test('is pure: the same arguments give the same line', () => {
    assert.equal(
      formatProgress(midway, start, 2000, { width: 120 }),
      formatProgress(midway, start, 2000, { width: 120 }),
    );
    assert.equal(start.samples.length, 1);
  });
});

describe('advanceProgress', () => {
  test('rates average over the last 5 s, anchored on the newest sample at or before the window', () => {
    let state: ProgressState | undefined;
    // 100 items/s for 5 s, then a stall.
    for (let t = 0; t <= 7; t += 1)
      state = advanceProgress(state, snap({ itemsWritten: Math.min(t, 5) * 100 }), t * 1000);
    assert.deepEqual(
      state?.samples.map((s) => s.atMs),
      [2000, 3000, 4000, 5000, 6000, 7000],
    );
    // (500 - 200) items over 5 s.
    assert.match(formatProgress(snap({ itemsWritten: 500 }), state, 7000, { width: 200 }), / 60 items\/s /);
    // Two more idle seconds: the anchor is now the sample at 4 s (400 items); (500 - 400) / 5 = 20.
    state = advanceProgress(state, snap({ itemsWritten: 500 }), 8000);
    assert.match(formatProgress(snap({ itemsWritten: 500 }), state, 9000, { width: 200 }), / 20 items\/s /);
  });
});

describe('formatCount and formatDuration', () => {
  const counts: Array<[number, string]> = [
    [0, '0'],
    [999, '999'],
    [1000, '1,000'],
    [123_456, '123,456'],
    [999_999, '999,999'],
    [1_000_000, '1.00M'],
    [45_600_000, '45.6M'],
    [999_999_999, '1.00B'],
    [1_204_000_000, '1.20B'],
  ];
  for (const [n, text] of counts) test(`formatCount(${n}) = ${text}`, () => assert.equal(formatCount(n), text));
  const durations: Array<[number, string]> = [
    [0, '0s'],
    [0.2, '1s'],
    [59, '59s'],
    [60, '1m00s'],
    [185, '3m05s'],
    [3600, '1h00m'],
    [7620, '2h07m'],
  ];
  for (const [s, text] of durations)
    test(`formatDuration(${s}) = ${text}`, () => assert.equal(formatDuration(s), text));
});

/** A clock whose time and interval ticks the test drives. */
function fakeClock(): Clock & { advance(ms: number): void; intervals: Map<number, { tick: () => void; ms: number }> } {
  let now = 0;
  let next = 1;
  const intervals = new Map<number, { tick: () => void; ms: number; due: number }>();
  return {
    intervals,
    now: () => now,
    setInterval(tick, ms) {
      intervals.set(next, { tick, ms, due: now + ms });
      return next++;
    },
    clearInterval(handle) {
      intervals.delete(handle as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...intervals.values()].filter((i) => i.due <= end).sort((a, b) => a.due - b.due)[0];
        if (!due) break;
        now = due.due;
        due.due += due.ms;
        due.tick();
      }
      now = end;
    },
  };
}

function fakeStream(columns = 120): { columns: number; writes: string[]; write(text: string): boolean } {
  return {
    columns,
    writes: [],
    write(text) {
      this.writes.push(text);
      return true;
    },
  };
}

function fakeLog(): {
  lines: Array<[Record<string, unknown>, string]>;
  info(fields: Record<string, unknown>, message: string): void;
} {
  return {
    lines: [],
    info(fields, message) {
      this.lines.push([fields, message]);
    },
  };
}

/** Fails the test if anything reaches stdout while `run` runs. */
function noStdout(run: () => void): void {
  const write = process.stdout.write;
  let wrote = false;
  process.stdout.write = (() => {
    wrote = true;
    return true;
  }) as typeof process.stdout.write;
  try {
    run();
  } finally {
    process.stdout.write = write;
  }
  assert.equal(wrote, false, 'progress wrote to stdout');
}

describe('createProgress on a terminal', () => {
  test('draws at once, redraws on the timer only when the line changed, and clears at the end', () => {
    noStdout(() => {
      const clock = fakeClock();
      const stream = fakeStream(120);
      const log = fakeLog();
      const progress = createProgress({
        stream,
        isTTY: true,
        log: log as never,
        clock,
        env: {},
        bytesTotal: 2_000_000,
      });
      progress.update(snap({ bytesRead: 0 }));
      assert.deepEqual(stream.writes, [
        '\r\x1b[2K0 rows · 0 items · - items/s · - WCU/s · 0 retries · 0 rejected · ETA -',
      ]);
      assert.equal([...clock.intervals.values()][0]?.ms, 200);
      clock.advance(2000);
      assert.equal(stream.writes.length, 2, 'the rate became 0/s once: one redraw, then the same line');
      progress.update(midway);
      clock.advance(200);
      assert.ok(stream.writes.at(-1)?.startsWith('\r\x1b[2K8,000 of ~40,000 rows done (20%) · 10,000 items · '));
      assert.ok(stream.writes.at(-1)?.includes('\x1b[31m3 rejected\x1b[39m'));
      progress.done();
      assert.equal(stream.writes.at(-1), '\r\x1b[2K');
      const count = stream.writes.length;
      progress.update(midway);
      progress.done();
      clock.advance(10_000);
      assert.equal(stream.writes.length, count, 'nothing after done()');
      assert.equal(clock.intervals.size, 0);
      assert.equal(log.lines.length, 0);
    });
  });

  test('keeps one column free', () => {
    const stream = fakeStream(41);
    const progress = createProgress({ stream, isTTY: true, log: fakeLog() as never, clock: fakeClock(), env: {} });
    progress.update(midway);
    assert.equal(stream.writes[0], '\r\x1b[2K8,000 of ~40,000 rows done (20%) · ETA -');
    progress.done();
  });

  const colorCases: Array<[label: string, noColor: boolean, env: NodeJS.ProcessEnv, colored: boolean]> = [
    ['colors by default', false, {}, true],
    ['NO_COLOR set: no colors', false, { NO_COLOR: '1' }, false],
    ['NO_COLOR empty: colors (no-color.org)', false, { NO_COLOR: '' }, true],
    ['noColor option: no colors', true, {}, false],
  ];
  for (const [label, noColor, env, colored] of colorCases) {
    test(label, () => {
      const stream = fakeStream(200);
      const progress = createProgress({
        stream,
        isTTY: true,
        noColor,
        log: fakeLog() as never,
        clock: fakeClock(),
        env,
      });
      progress.update(midway);
      progress.done();
      const text = stream.writes.join('');
      assert.equal(text.includes('\x1b[31m') || text.includes('\x1b[33m'), colored);
      assert.ok(text.startsWith('\r\x1b[2K'), 'line clearing is not a color');
    });
  }
});

describe('createProgress elsewhere', () => {
  test('not a terminal: an info line every 10 s through the logger, nothing on the stream', () => {
    noStdout(() => {
      const clock = fakeClock();
      const stream = fakeStream();
      const log = fakeLog();
      const progress = createProgress({ stream, isTTY: false, log: log as never, clock, env: {} });
      progress.update(snap({ bytesRead: 0, bytesTotal: 2_000_000 }));
      clock.advance(2000);
      progress.update(midway);
      clock.advance(7999);
      assert.equal(log.lines.length, 0);
      clock.advance(1);
      assert.deepEqual(log.lines, [
        [
          {
            rows: 10_000,
            done: 8_000,
            items: 10_000,
            rejected: 3,
            retries: 7,
            itemsPerSecond: 1000,
            wcuPerSecond: 1200,
            percent: 20,
            etaSeconds: 40,
          },
          'progress',
        ],
      ]);
      clock.advance(10_000);
      assert.equal(log.lines.length, 2);
      progress.done();
      clock.advance(30_000);
      assert.equal(log.lines.length, 2);
      assert.deepEqual(stream.writes, []);
    });
  });

  test('a custom log interval', () => {
    const clock = fakeClock();
    const log = fakeLog();
    const progress = createProgress({
      stream: fakeStream(),
      isTTY: false,
      logIntervalMs: 1000,
      log: log as never,
      clock,
      env: {},
    });
    progress.update(midway);
    clock.advance(3000);
    assert.equal(log.lines.length, 3);
    progress.done();
  });

  for (const isTTY of [true, false]) {
    test(`quiet (${isTTY ? 'terminal' : 'pipe'}): nothing at all`, () => {
      const clock = fakeClock();
      const stream = fakeStream();
      const log = fakeLog();
      const progress = createProgress({ stream, isTTY, quiet: true, log: log as never, clock, env: {} });
      progress.update(midway);
      clock.advance(60_000);
      progress.done();
      assert.deepEqual(stream.writes, []);
      assert.deepEqual(log.lines, []);
      assert.equal(clock.intervals.size, 0);
    });
  }
});
