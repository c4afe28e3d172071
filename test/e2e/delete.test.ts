import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, TEST_REGION } from '../support/dynalite.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import {
  assertExit,
  assertTable,
  N,
  parseSummary,
  readRejects,
  run as runCli,
  S,
  upload,
  useDynalite,
  type Item,
  type UploadRun,
} from './helpers.js';

// `dynaload delete` removes exactly the listed keys, with the writer's retries.

const db = useDynalite();

async function put(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function remove(endpoint: string, args: string[], opts: { cwd: string; input?: string }): Promise<UploadRun> {
  const result = await runCli(['delete', ...args, '--endpoint', endpoint, '--region', TEST_REGION, '--json'], opts);
  return { ...result, summary: parseSummary(result) };
}

/** A loaded table of `count` watch rows keyed (user N, timestamp N); returns it with its items. */
async function loaded(dir: string, count: number): Promise<{ table: string; items: Item[] }> {
  const table = await createTable(db.endpoint, { hash: ['user', 'N'], range: ['timestamp', 'N'] });
  const lines = ['user,timestamp,title'];
  const items: Item[] = [];
  for (let i = 0; i < count; i++) {
    const user = 100 + (i % 10);
    const timestamp = 1_700_000_000 + i;
    lines.push(`${user},${timestamp},t${i}`);
    items.push({ user: N(user), timestamp: N(timestamp), title: S(`t${i}`) });
  }
  const file = await put(dir, 'load.csv', lines.join('\n') + '\n');
  const run = await upload(db.endpoint, [file, '--table', table], { cwd: dir });
  assertExit(run, 0);
  await assertTable(db.endpoint, table, items, 'user', 'timestamp');
  return { table, items };
}

describe('dynaload delete (end to end)', () => {
  it('removes exactly the listed keys through the fault proxy (30% withheld); the others remain', async (t) => {
    const dir = await tempDir();
    const { table, items } = await loaded(dir, 300);
    // Every third item, keys written as a user would (other columns are ignored, even unreadable ones),
    // plus a key that was never loaded: deleting it is not an error.
    const listed = items.filter((_, i) => i % 3 === 0);
    const lines = [
      'timestamp,user,comment',
      ...listed.map((item) => `${item.timestamp?.N},${item.user?.N},"not, a number"`),
      '1,1,never loaded',
    ];
    const keys = await put(dir, 'keys.csv', lines.join('\n') + '\n');
    const proxy = await startFaultProxy(db.endpoint, { withhold: 0.3, seed: 41 });
    t.after(() => proxy.close());
    const run = await remove(proxy.endpoint, [keys, '--table', table, '--types', 'comment:N'], { cwd: dir });
    assertExit(run, 0);
    const s = run.summary as UploadRun['summary'] & { kind: string; skipped: number };
    assert.equal(s.kind, 'delete');
    assert.deepEqual([s.rows, s.written, s.rejected, s.skipped, s.notWritten], [101, 101, 0, 0, 0]);
    assert.deepEqual(s.tables, { [table]: { written: 101, rejected: 0 } });
    assert.ok(proxy.stats.itemsWithheld > 0);
    assert.equal(s.unprocessedRetries, proxy.stats.itemsWithheld);
    await assertTable(
      db.endpoint,
      table,
      items.filter((_, i) => i % 3 !== 0),
      'user',
      'timestamp',
    );
  });

  it('rejects a key row with a missing key cell (KEY_EMPTY) or too few cells (COLUMN_COUNT), and deletes the rest', async () => {
    const dir = await tempDir();
    const { table, items } = await loaded(dir, 6);
    const keys = await put(
      dir,
      'keys.csv',
      [
        'user,timestamp', // 1
        '100,1700000000', // 2
        '101,', //          3: empty sort key
        ',1700000002', //   4: empty partition key
        '103', //           5: one cell
        '105,1700000005', // 6
      ].join('\n') + '\n',
    );
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await remove(db.endpoint, [keys, '--table', table, '--rejects', rejectsFile], { cwd: dir });
    assertExit(run, 3);
    assert.deepEqual(
      [run.summary.rows, run.summary.written, run.summary.rejected, run.summary.notWritten],
      [5, 2, 3, 0],
    );
    const rejects = await readRejects(rejectsFile);
    assert.deepEqual(
      rejects.map((r) => [r.line, r.code, r.column]),
      [
        [3, 'KEY_EMPTY', 'timestamp'],
        [4, 'KEY_EMPTY', 'user'],
        [5, 'COLUMN_COUNT', undefined],
      ],
    );
    await assertTable(
      db.endpoint,
      table,
      items.filter((_, i) => i !== 0 && i !== 5),
      'user',
      'timestamp',
    );
  });

  it('a keys file without a key column is refused before anything is deleted (exit 2, no rejects file)', async () => {
    const dir = await tempDir();
    const { table, items } = await loaded(dir, 3);
    const keys = await put(dir, 'keys.csv', 'user,title\n100,t0\n101,t1\n');
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await remove(db.endpoint, [keys, '--table', table, '--rejects', rejectsFile], { cwd: dir });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'HEADER_MISMATCH');
    assert.match(run.summary.error?.message ?? '', /keys\.csv: table `t_[0-9a-f]+` needs key attribute `timestamp`/);
    await assert.rejects(readRejects(rejectsFile), { code: 'ENOENT' });
    await assertTable(db.endpoint, table, items, 'user', 'timestamp');
  });

  it('keys as NDJSON on standard input, numbers as JSON numbers', async () => {
    const dir = await tempDir();
    const { table, items } = await loaded(dir, 4);
    const input = '{"user":100,"timestamp":1700000000}\n{"user":103,"timestamp":1700000003,"title":"ignored"}\n';
    const run = await remove(db.endpoint, ['-', '--table', table, '--format', 'ndjson'], { cwd: dir, input });
    assertExit(run, 0);
    assert.equal(run.summary.written, 2);
    await assertTable(db.endpoint, table, items.slice(1, 3), 'user', 'timestamp');
  });

  it("the --help recipe: keys from `jq -c '.Items[] | {user: .user.N, timestamp: .timestamp.N}'` (numbers as strings) on standard input", async () => {
    const dir = await tempDir();
    const { table, items } = await loaded(dir, 4);
    // What that jq program prints for a Query page: the N values are JSON strings.
    const input = '{"user":"100","timestamp":"1700000000"}\n{"user":"103","timestamp":"1700000003"}\n';
    const run = await remove(
      db.endpoint,
      ['-', '--table', table, '--format', 'ndjson', '--rejects', path.join(dir, 'rejects.ndjson')],
      { cwd: dir, input },
    );
    assertExit(run, 0);
    assert.equal(run.summary.written, 2);
    await assertTable(db.endpoint, table, items.slice(1, 3), 'user', 'timestamp');
  });
});
