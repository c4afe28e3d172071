import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyCounters, type WorkerCounters } from '../src/pipeline/counters.js';
import { buildSummary, formatSummary } from '../src/summary.js';

const extra = {
  kind: 'put' as const,
  rejectedByCode: {},
  pricePerMillionWru: 0.625,
  maxWcu: undefined,
  durationMs: 1000,
  configFile: null,
  endpoint: { url: null, source: 'the AWS SDK (region, profile)' },
  rejectsFile: null,
  checkpointFile: null,
  previous: null,
  stopped: null,
  resumeCommand: null,
  unreadFiles: [],
  exitCode: 0,
  error: undefined,
};

function counters(over: Partial<WorkerCounters>): WorkerCounters {
  return { ...emptyCounters(), ...over };
}

describe('buildSummary', () => {
  test('rows = written + rejected + skipped + notWritten, with notWritten derived', () => {
    for (const c of [
      { rowsRead: 10, rowsWritten: 5, rowsRejected: 2, rowsSkipped: 3 },
      { rowsRead: 10, rowsWritten: 0, rowsRejected: 0, rowsSkipped: 10 },
      { rowsRead: 10, rowsWritten: 4, rowsRejected: 1, rowsSkipped: 2 },
    ]) {
      const s = buildSummary(counters(c), { ...extra, dryRun: false });
      assert.equal(s.rows, s.written + s.rejected + s.skipped + s.notWritten, JSON.stringify(c));
      assert.equal(s.notWritten, c.rowsRead - c.rowsWritten - c.rowsRejected - c.rowsSkipped);
      assert.equal(s.wouldWrite, null);
    }
  });

  test('a run that skips every row says so in the human summary', () => {
    const text = formatSummary(buildSummary(counters({ rowsRead: 4, rowsSkipped: 4 }), { ...extra, dryRun: false }));
    assert.match(text, /^ {2}skipped {6}4 rows/m);
    assert.match(text, /^ {2}not written {2}0 rows/m);
  });

  test('a dry run counts nothing as written or sent; what would be written is in wouldWrite', () => {
    const s = buildSummary(
      counters({
        rowsRead: 7,
        rowsWritten: 5,
        rowsRejected: 1,
        rowsSkipped: 1,
        itemsWritten: 6,
        unitsWritten: 9,
        requests: 3,
        tables: { t: { written: 6, rejected: 1 } },
      }),
      { ...extra, dryRun: true },
    );
    assert.deepEqual([s.written, s.items, s.requests, s.rowsPerSecond], [0, 0, 0, 0]);
    assert.deepEqual(s.tables, { t: { written: 0, rejected: 1 } });
    assert.deepEqual(s.wouldWrite, { rows: 5, items: 6, tables: { t: 6 } });
    assert.equal(s.notWritten, 5);
    assert.equal(s.writeUnits, 9, 'the estimate is of the write units a real run would use');
    assert.match(formatSummary(s), /^ {2}items {8}6 \(t 6\)$/m);
  });
});
