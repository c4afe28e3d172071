/**
 * `--from-rejects`: every rejects line replays as its format; a row rejected again keeps its file,
 * line and row exactly, through any number of replays; fixed by hand, the rows are written.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import { assertExit, readRejects, scanSorted, upload, useDynalite, type RejectLine } from './helpers.js';

const db = useDynalite();

/** What a replay must keep of a reject: where the row came from, why, and the row itself. */
const kept = (lines: RejectLine[]): unknown[] => lines.map(({ file, line, code, row }) => ({ file, line, code, row }));

async function writeLines(file: string, lines: unknown[]): Promise<void> {
  await writeFile(file, lines.map((l) => JSON.stringify(l) + '\n').join(''));
}

/**
 * Loads `args`, then replays its rejects unchanged twice (each replay's rejects must equal the
 * first's), then replays them after `fix` and expects them all written. Returns the first rejects.
 */
async function roundTrip(
  dir: string,
  table: string,
  args: string[],
  replayArgs: string[],
  fix: (lines: RejectLine[]) => RejectLine[],
  opts: { input?: string } = {},
): Promise<RejectLine[]> {
  const first = path.join(dir, 'r0.ndjson');
  const load = await upload(db.endpoint, [...args, '--table', table, '--rejects', first, '--no-checkpoint'], {
    cwd: dir,
    ...opts,
  });
  assertExit(load, 3);
  const original = await readRejects(first);
  let previous = first;
  for (const n of [1, 2]) {
    const next = path.join(dir, `r${n}.ndjson`);
    const replay = await upload(
      db.endpoint,
      ['--from-rejects', previous, ...replayArgs, '--table', table, '--rejects', next, '--no-checkpoint'],
      { cwd: dir },
    );
    assertExit(replay, 3);
    assert.equal(replay.summary.rejected, original.length, `replay ${n}: every row rejected again`);
    assert.deepEqual(kept(await readRejects(next)), kept(original), `replay ${n} keeps file, line, code and row`);
    previous = next;
  }
  const fixed = path.join(dir, 'fixed.ndjson');
  await writeLines(fixed, fix(await readRejects(previous)));
  const replay = await upload(
    db.endpoint,
    ['--from-rejects', fixed, ...replayArgs, '--table', table, '--no-checkpoint'],
    { cwd: dir },
  );
  assertExit(replay, 0);
  assert.equal(replay.summary.written, original.length);
  return original;
}

describe('--from-rejects (end to end)', () => {
  it('CSV: rows by name and the text of a broken line replay as they were, again and again; fixed, they are written', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    await writeFile(path.join(dir, 'in.csv'), 'id,v\na,1\nb,x\n,3\nc,"4\n');
    const original = await roundTrip(dir, table, ['in.csv', '--types', 'v:N'], ['--types', 'v:N'], (lines) =>
      lines.map((l) => ({
        ...l,
        row: l.code === 'NUMBER_INVALID' ? { id: 'b', v: '2' } : l.code === 'KEY_EMPTY' ? { id: 'd', v: '3' } : 'c,4',
      })),
    );
    assert.deepEqual(
      original.map((l) => [l.line, l.code, l.row]),
      [
        [3, 'NUMBER_INVALID', { id: 'b', v: 'x' }],
        [4, 'KEY_EMPTY', { id: '', v: '3' }],
        [5, 'CSV_INVALID', 'c,"4'],
      ],
    );
    const items = await scanSorted(db.endpoint, table, 'id');
    assert.deepEqual(items, [
      { id: { S: 'a' }, v: { N: '1' } },
      { id: { S: 'b' }, v: { N: '2' } },
      { id: { S: 'c' }, v: { N: '4' } },
      { id: { S: 'd' }, v: { N: '3' } },
    ]);
  });

  it('NDJSON: rejects replay as NDJSON lines (text kept); fixed, they are written', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    await writeFile(path.join(dir, 'in.ndjson'), '{"id":"a","v":1}\n{"v":2}\n{bad\n');
    const original = await roundTrip(dir, table, ['in.ndjson'], [], (lines) =>
      lines.map((l) => ({ ...l, row: l.line === 2 ? '{"id":"b","v":2}' : '{"id":"c","v":3}' })),
    );
    assert.deepEqual(
      original.map((l) => [l.line, l.code, l.row]),
      [
        [2, 'KEY_MISSING', '{"v":2}'],
        [3, 'JSON_INVALID', '{bad'],
      ],
    );
    const items = await scanSorted(db.endpoint, table, 'id');
    assert.deepEqual(items, [
      { id: { S: 'a' }, v: { N: '1' } },
      { id: { S: 'b' }, v: { N: '2' } },
      { id: { S: 'c' }, v: { N: '3' } },
    ]);
  });

  it("DynamoDB JSON: rejects replay with the first run's --format ddb-json; fixed, they are written", async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    await writeFile(path.join(dir, 'export.json'), '{"Item":{"id":{"S":"a"}}}\n{"Item":{"v":{"N":"1"}}}\n');
    const original = await roundTrip(
      dir,
      table,
      ['export.json', '--format', 'ddb-json'],
      ['--format', 'ddb-json'],
      (lines) => lines.map((l) => ({ ...l, row: '{"Item":{"id":{"S":"b"},"v":{"N":"1"}}}' })),
    );
    assert.deepEqual(
      original.map((l) => [l.line, l.code]),
      [[2, 'KEY_MISSING']],
    );
    assert.deepEqual(await scanSorted(db.endpoint, table, 'id'), [
      { id: { S: 'a' } },
      { id: { S: 'b' }, v: { N: '1' } },
    ]);
  });

  it('standard input: raw rows need --columns (REPLAY_UNNAMED keeps the row as it was); with it, fixed rows are written', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const first = path.join(dir, 'r0.ndjson');
    const load = await upload(db.endpoint, ['-', '--table', table, '--rejects', first, '--no-checkpoint'], {
      cwd: dir,
      input: 'id,v\na,1\nb,2,extra\nc,"3\n',
    });
    assertExit(load, 3);
    const original = await readRejects(first);
    assert.deepEqual(
      original.map((l) => [l.file, l.line, l.code, l.row]),
      [
        ['-', 3, 'COLUMN_COUNT', ['b', '2', 'extra']],
        ['-', 4, 'CSV_INVALID', 'c,"3'],
      ],
    );

    const unnamed = path.join(dir, 'r1.ndjson');
    const replay = await upload(
      db.endpoint,
      ['--from-rejects', first, '--table', table, '--rejects', unnamed, '--no-checkpoint'],
      { cwd: dir },
    );
    assertExit(replay, 3);
    const again = await readRejects(unnamed);
    assert.deepEqual(
      again.map((l) => [l.file, l.line, l.code, l.row]),
      [
        ['-', 3, 'REPLAY_UNNAMED', ['b', '2', 'extra']],
        ['-', 4, 'CSV_INVALID', 'c,"3'],
      ],
      'the rows as they were, not the rejects line',
    );
    assert.match(again[0]?.message ?? '', /standard input.*--columns/);

    const fixed = path.join(dir, 'fixed.ndjson');
    await writeLines(fixed, [
      { ...original[0], row: ['b', '2'] },
      { ...original[1], row: 'c,3' },
    ]);
    const written = await upload(
      db.endpoint,
      ['--from-rejects', fixed, '--columns', 'id,v', '--table', table, '--no-checkpoint'],
      { cwd: dir },
    );
    assertExit(written, 0);
    assert.deepEqual(await scanSorted(db.endpoint, table, 'id'), [
      { id: { S: 'a' }, v: { S: '1' } },
      { id: { S: 'b' }, v: { S: '2' } },
      { id: { S: 'c' }, v: { S: '3' } },
    ]);
  });
});
