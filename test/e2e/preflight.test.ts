import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { assertExit, assertTable, N, S, upload, useDynalite } from './helpers.js';

// What the headers already tell is refused before the first write: one usage error naming the file,
// the table and the column, instead of one reject per row (and shards written before the bad one).

const db = useDynalite();

async function put(dir: string, name: string, text: string | Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

/** Nothing but the inputs in the folder: no rejects file, no checkpoint. */
async function assertOnly(dir: string, names: string[]): Promise<void> {
  assert.deepEqual((await readdir(dir)).sort(), [...names].sort());
}

describe('header preflight (end to end)', () => {
  it('a 100,000-row CSV whose header lacks the key: exit 2 naming file and column, nothing written, no rejects file', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const rows = ['a,b'];
    for (let i = 0; i < 100_000; i++) rows.push(`${i},x`);
    const file = await put(dir, 'big.csv', rows.join('\n') + '\n');
    const run = await upload(db.endpoint, [file, '--table', table], { cwd: dir });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'HEADER_MISMATCH');
    assert.match(
      run.summary.error?.message ?? '',
      /big\.csv: table `t_[0-9a-f]+` needs key attribute `id`, which no column gives/,
    );
    assert.deepEqual(await scanAll(db.endpoint, table), []);
    await assertOnly(dir, ['big.csv']);
  });

  it('three good shards and one bad: nothing written; with --skip-bad-files the three good ones, the bad one listed as not read', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const names = ['p1.csv', 'p2.csv', 'p3.csv', 'p4.csv'];
    for (const [i, name] of names.entries()) await put(dir, name, i === 2 ? 'ID,v\nz,1\n' : `id,v\nr${i},${i}\n`);
    const files = names.map((n) => path.join(dir, n));
    const refused = await upload(db.endpoint, [...files, '--table', table, '--workers', '1'], { cwd: dir });
    assertExit(refused, 2);
    assert.match(refused.summary.error?.message ?? '', /1 of 4 files.*\n.*p3\.csv: .*`id`/);
    assert.deepEqual(await scanAll(db.endpoint, table), []);
    await assertOnly(dir, names);

    const skipped = await upload(db.endpoint, [...files, '--table', table, '--skip-bad-files'], { cwd: dir });
    assertExit(skipped, 3);
    assert.deepEqual([skipped.summary.rows, skipped.summary.written, skipped.summary.rejected], [3, 3, 0]);
    assert.deepEqual(skipped.summary.unreadFiles, [path.join(dir, 'p3.csv')]);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('r0'), v: S('0') },
        { id: S('r1'), v: S('1') },
        { id: S('r3'), v: S('3') },
      ],
      'id',
    );
  });

  it('a duplicate or empty column name is a usage error naming it (a column was dropped silently)', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const dup = await put(dir, 'dup.csv', 'id,v,v\nd1,first,second\n');
    const run = await upload(db.endpoint, [dup, '--table', table], { cwd: dir });
    assertExit(run, 2);
    assert.match(run.summary.error?.message ?? '', /dup\.csv: columns named more than once: `v`/);
    const empty = await put(dir, 'empty.csv', 'id,,v\nd1,x,y\n');
    const second = await upload(db.endpoint, [empty, '--table', table], { cwd: dir });
    assertExit(second, 2);
    assert.match(second.summary.error?.message ?? '', /empty\.csv: an empty column name at position 2/);
    // Standard input is checked when its header arrives.
    const piped = await upload(db.endpoint, ['-', '--table', table], { cwd: dir, input: 'id,v,v\nd2,first,second\n' });
    assertExit(piped, 2);
    assert.equal(piped.summary.error?.code, 'HEADER_MISMATCH');
    assert.deepEqual(await scanAll(db.endpoint, table), []);
  });

  it('standard input whose header lacks the key stops the run when the header arrives', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const run = await upload(db.endpoint, ['-', '--table', table], { cwd: dir, input: 'a,b\n1,2\n3,4\n' });
    assertExit(run, 2);
    assert.match(run.summary.error?.message ?? '', /standard input.*`id`/);
    assert.equal(run.summary.rejected, 0);
    await assertOnly(dir, []);
  });

  it('a mapping that gives no sort key, or uses a column the file lacks, is refused per file before writing; gzip is read by content', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['pk', 'N'], range: ['sk', 'S'] });
    const good = await put(dir, 'good.csv', 'user,series,episode\n1,77,3\n');
    const bad = await put(dir, 'bad.data', gzipSync('user,series\n2,78\n'));
    const mapping = await put(
      dir,
      'map.json',
      JSON.stringify({ rename: { user: 'pk' }, set: { sk: '${series}#${episode}' } }),
    );
    const run = await upload(db.endpoint, [good, bad, '--table', table, '--map', mapping], { cwd: dir });
    assertExit(run, 2);
    assert.match(
      run.summary.error?.message ?? '',
      /bad\.data: table `t_[0-9a-f]+`: the mapping uses column `episode` \(used by set\.sk\), which the file lacks/,
    );
    assert.deepEqual(await scanAll(db.endpoint, table), []);
    const noSort = await put(dir, 'nosort.json', JSON.stringify({ rename: { user: 'pk' } }));
    const second = await upload(db.endpoint, [good, '--table', table, '--map', noSort], { cwd: dir });
    assertExit(second, 2);
    assert.match(
      second.summary.error?.message ?? '',
      /good\.csv: table `t_[0-9a-f]+` needs key attribute `sk`, which no column, rename or set gives/,
    );
    const fine = await upload(db.endpoint, [good, '--table', table, '--map', mapping], { cwd: dir });
    assertExit(fine, 0);
    await assertTable(db.endpoint, table, [{ pk: N(1), sk: S('77#3'), series: S('77'), episode: S('3') }], 'pk', 'sk');
  });

  it('`--map` key types that disagree with the table are one usage error before reading, not KEY_TYPE per row', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['pk', 'N'] });
    const file = await put(dir, 'in.csv', 'user,v\n1,a\n2,b\n');
    const mapping = await put(dir, 'map.json', JSON.stringify({ rename: { user: 'pk' }, types: { pk: 'S' } }));
    const run = await upload(db.endpoint, [file, '--table', table, '--map', mapping], { cwd: dir });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'MAP_KEY_TYPE');
    assert.match(
      run.summary.error?.message ?? '',
      /`pk` \(partition key of table `t_[0-9a-f]+`\) the table's type N, got S/,
    );
    const text = await put(dir, 'text.json', JSON.stringify({ drop: ['user'], set: { pk: 'seven' } }));
    const constant = await upload(db.endpoint, [file, '--table', table, '--map', text], { cwd: dir });
    assertExit(constant, 2);
    assert.match(constant.summary.error?.message ?? '', /`set\.pk`.*type N, got `seven`/);
    // A template over columns is text per row: whether it reads as a number is known only per row.
    const overColumns = await put(dir, 'template.json', JSON.stringify({ drop: ['user'], set: { pk: '${v}' } }));
    const templated = await upload(
      db.endpoint,
      [file, '--table', table, '--map', overColumns, '--rejects', path.join(dir, 'r.ndjson')],
      { cwd: dir },
    );
    assertExit(templated, 3);
    assert.deepEqual(templated.summary.rejectedByCode, { NUMBER_INVALID: 2 });
    const numberConstant = await put(dir, 'num.json', JSON.stringify({ drop: ['user'], set: { pk: true } }));
    const wrong = await upload(db.endpoint, [file, '--table', table, '--map', numberConstant], { cwd: dir });
    assertExit(wrong, 2);
    assert.match(wrong.summary.error?.message ?? '', /`set\.pk`.*type N, got a constant of type BOOL/);
  });

  it('--no-header with --columns: a first record of another column count is refused before writing', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = await put(dir, 'raw.csv', 'a,1,extra\nb,2,extra\n');
    const run = await upload(db.endpoint, [file, '--table', table, '--no-header', '--columns', 'id,v'], { cwd: dir });
    assertExit(run, 2);
    assert.match(
      run.summary.error?.message ?? '',
      /raw\.csv: its first record has 3 columns, `--columns` names 2 \(id,v\)/,
    );
    assert.deepEqual(await scanAll(db.endpoint, table), []);
  });

  it('--dry-run shows the check for every file', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const good = await put(dir, 'good.csv', 'id,v\na,1\n');
    const bad = await put(dir, 'bad.csv', 'a,b\n1,2\n');
    const run = await upload(db.endpoint, [good, bad, '--table', table, '--dry-run', '--skip-bad-files'], { cwd: dir });
    assertExit(run, 3);
    assert.match(run.stderr, /header check .*good\.csv: ok\n/);
    assert.match(run.stderr, /header check .*bad\.csv: table `t_[0-9a-f]+` needs key attribute `id`/);
    assert.deepEqual(run.summary.unreadFiles, [bad]);
  });

  it('a transform module is not pre-checked: its rows are its own business', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = await put(dir, 'in.csv', 'a,b\n1,2\n');
    const transform = await put(dir, 't.mjs', 'export default (row) => ({ id: `k${row.a}`, b: row.b });\n');
    const run = await upload(db.endpoint, [file, '--table', table, '--transform', transform], { cwd: dir });
    assertExit(run, 0);
    await assertTable(db.endpoint, table, [{ id: S('k1'), b: S('2') }], 'id');
  });
});
