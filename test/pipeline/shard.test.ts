/**
 * The shard loader's accounting against fake sends (no DynamoDB, no thread): what it counts, what
 * it rejects and how, and where its files' marks stand while an item waits out a backoff. End to
 * end, through worker threads and dynalite: test/e2e.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { UnprocessedTexts } from '../../src/dynamo/unprocessed-text.js';
import type { RowEntry } from '../../src/pipeline/row.js';
import type { LoadedTransform } from '../../src/pipeline/transform-module.js';
import {
  acknowledge,
  completed,
  csvRows,
  idOf,
  tablePlan,
  tableSchema,
  tempFile,
  testShard,
  until,
} from '../support/shard-loader.js';

const ROWS = 50;

/** Answers a request as DynamoDB does when it withholds `withheld` of its items. */
function withholding(batch: readonly RowEntry[], withheld: (entry: RowEntry) => boolean): Promise<UnprocessedTexts> {
  const texts = batch.filter(withheld).map((entry) => entry.json);
  return Promise.resolve({ texts: new Map(texts.length === 0 ? [] : [['T', texts]]) });
}

/** DynamoDB's answer to a request holding an item it refuses (the writer halves the request to find it). */
function refused(): Promise<never> {
  return Promise.reject(
    Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException' }),
  );
}

describe('ShardLoader', () => {
  test('withheld items are resent until written; each row is counted written once, and the mark agrees', async (t) => {
    const file = await tempFile(t, 'rows.csv', csvRows(ROWS));
    const acknowledged = new Map<string, number>();
    const seen = new Set<string>();
    // Every fifth item is withheld the first time it is sent.
    const { shard, rejects } = testShard((batch) =>
      withholding(batch, (entry) => {
        const id = idOf(entry);
        const first = !seen.has(id);
        seen.add(id);
        const withheld = first && Number(id.slice(1)) % 5 === 0;
        if (!withheld) acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1);
        return withheld;
      }),
    );
    assert.equal(await shard.loadFile(file, tablePlan()), true);
    await shard.drain();
    assert.equal(shard.failure, undefined);
    assert.deepEqual([...acknowledged.values()], Array<number>(ROWS).fill(1), 'every item written once');
    const counters = shard.snapshot();
    assert.deepEqual(
      {
        rowsRead: counters.rowsRead,
        rowsWritten: counters.rowsWritten,
        rowsRejected: counters.rowsRejected,
        rowsSkipped: counters.rowsSkipped,
        itemsWritten: counters.itemsWritten,
        unitsWritten: counters.unitsWritten,
        unprocessedRetries: counters.unprocessedRetries,
        filesRead: counters.filesRead,
        tables: counters.tables,
      },
      {
        rowsRead: ROWS,
        rowsWritten: ROWS,
        rowsRejected: 0,
        rowsSkipped: 0,
        itemsWritten: ROWS,
        unitsWritten: ROWS,
        unprocessedRetries: ROWS / 5,
        filesRead: 1,
        tables: { T: { written: ROWS, rejected: 0 } },
      },
    );
    assert.deepEqual(rejects, []);
    const { mark } = completed(shard.fileProgress());
    assert.deepEqual([mark.rows, mark.written, mark.rejected, mark.skipped], [ROWS, ROWS, 0, 0]);
    assert.deepEqual(shard.fileProgress(), [], 'a complete file is reported once');
  });

  test('the mark stops just before a row waiting out its backoff, however far later rows got, and moves on once it is written', async (t) => {
    const file = await tempFile(t, 'rows.csv', csvRows(ROWS));
    let holding = true;
    const written = new Set<string>();
    const { shard } = testShard((batch) =>
      withholding(batch, (entry) => {
        const withheld = holding && idOf(entry) === 'k5';
        if (!withheld) written.add(idOf(entry));
        return withheld;
      }),
    );
    assert.equal(await shard.loadFile(file, tablePlan()), true);
    await until(() => written.size === ROWS - 1);
    const [progress, ...others] = shard.fileProgress();
    assert.deepEqual(others, []);
    // `id,v\n` and five rows `kN,N\n` of 5 bytes each: k0 to k4 are below the mark, k5 is not.
    assert.deepEqual(progress, {
      path: file,
      mark: { offset: 30, lines: 6, rows: 5, written: 5, rejected: 0, skipped: 0 },
      complete: false,
    });
    assert.equal(shard.snapshot().rowsWritten, ROWS - 1);
    holding = false;
    await shard.drain();
    const { mark } = completed(shard.fileProgress());
    assert.deepEqual([mark.rows, mark.written], [ROWS, ROWS]);
  });

  test('a row the plan refuses and an item DynamoDB refuses are each rejected once, with file, line, reason and the row by column', async (t) => {
    const file = await tempFile(t, 'rows.csv', 'id,v\na,1\n,2\nbad,3\nc,4\n');
    const written: string[] = [];
    const { shard, rejects, rejectBytes } = testShard((batch) => {
      if (batch.some((entry) => idOf(entry) === 'bad')) return refused();
      written.push(...batch.map(idOf));
      return Promise.resolve(undefined);
    });
    assert.equal(await shard.loadFile(file, tablePlan()), true);
    await shard.drain();
    assert.deepEqual(written.sort(), ['a', 'c']);
    const lines = rejects.map(({ file: f, line, code, table, row }) => ({ file: f, line, code, table, row }));
    assert.deepEqual(lines, [
      { file, line: 3, code: 'KEY_EMPTY', table: 'T', row: { id: '', v: '2' } },
      { file, line: 4, code: 'DYNAMODB_REJECTED', table: 'T', row: { id: 'bad', v: '3' } },
    ]);
    assert.match(rejects[1]?.message ?? '', /ValidationException/);
    assert.deepEqual(
      rejectBytes,
      rejects.map((r) => Object.values(r.row as Record<string, string>).join('').length + r.message.length),
      'each counted at its cells and message, until the rejects file has it',
    );
    const counters = shard.snapshot();
    assert.deepEqual(
      [counters.rowsRead, counters.rowsWritten, counters.rowsRejected, counters.tables],
      [4, 2, 2, { T: { written: 2, rejected: 2 } }],
    );
    assert.ok(counters.validationSplits >= 1, 'the refused request was halved to find the item');
    const { mark } = completed(shard.fileProgress());
    assert.deepEqual([mark.rows, mark.written, mark.rejected], [4, 2, 2]);
  });

  test('fan-out: a row one or both tables refuse is rejected once, each table counting its own items; a row mapped to nothing is skipped', async (t) => {
    const file = await tempFile(t, 'rows.csv', 'id\nx\ny\nnone\nz\n');
    const transform: LoadedTransform = new Map([
      ['T', ((row: Record<string, string>) => (row.id === 'none' ? null : { id: row.id })) as never],
      ['U', ((row: Record<string, string>) => (row.id === 'none' ? null : { id: row.id })) as never],
    ]);
    const schemas = new Map([
      ['T', tableSchema('T')],
      ['U', tableSchema('U')],
    ]);
    // T's item of row x is refused before U's is written: the row must not count as written then.
    // Both items of row z are refused: one rejects line, the row counted once, each table once.
    const refuses = (entry: RowEntry): boolean => (entry.table === 'T' && idOf(entry) === 'x') || idOf(entry) === 'z';
    const { shard, rejects } = testShard((batch) => (batch.some(refuses) ? refused() : Promise.resolve(undefined)), {
      schemas,
    });
    assert.equal(await shard.loadFile(file, tablePlan({ table: undefined, schemas, transform })), true);
    await shard.drain();
    assert.deepEqual(
      rejects.map(({ line, code, table }) => ({ line, code, table })),
      [
        { line: 2, code: 'DYNAMODB_REJECTED', table: 'T' },
        { line: 5, code: 'DYNAMODB_REJECTED', table: 'T' },
      ],
    );
    const counters = shard.snapshot();
    assert.deepEqual(
      [counters.rowsRead, counters.rowsWritten, counters.rowsRejected, counters.rowsSkipped, counters.itemsWritten],
      [4, 1, 2, 1, 3],
    );
    assert.deepEqual(counters.tables, { T: { written: 1, rejected: 2 }, U: { written: 2, rejected: 1 } });
    const { mark } = completed(shard.fileProgress());
    assert.deepEqual([mark.rows, mark.written, mark.rejected, mark.skipped], [4, 1, 2, 1]);
  });

  test('progress: the counters and the marks that moved, at every tick until stopped', async (t) => {
    const file = await tempFile(t, 'rows.csv', csvRows(ROWS));
    const { shard, reports } = testShard(acknowledge());
    const stopReports = shard.reportEvery(5);
    await shard.loadFile(file, tablePlan());
    await shard.drain();
    await until(() => reports.some((r) => r.files.some((f) => f.complete)));
    stopReports();
    const last = reports.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(reports.length, last, 'no report after the stop');
    const final = reports.at(-1);
    assert.equal(final?.counters.rowsWritten, ROWS);
    assert.deepEqual(
      reports.flatMap((r) => r.files.filter((f) => f.complete).map((f) => [f.path, f.mark.rows])),
      [[file, ROWS]],
      'the complete file is reported once',
    );
  });
});
