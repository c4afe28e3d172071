import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir, writeCsv } from '../support/cli.js';
import { createTable, TEST_REGION } from '../support/dynalite.js';
import { assertExit, assertTable, N, run as runCli, S, upload, useDynalite, type Item } from './helpers.js';

const db = useDynalite();

const HEADER = ['user', 'moddt', 'big', 'code', 'title'];
/** Rows of the shard tests: user:N (hash), moddt:S (range), big:N, code and title as S. */
const ROWS: string[][] = [
  ['1', '2024-01-01', '12345678901234567890', '00123', 'plain'],
  ['1', '2024-01-02', '-0.5', '007', 'comma, inside'],
  ['2', '2024-01-01', '99999999999999999999999999999999999999', '0', 'quote "inside"'],
  ['3', '2024-02-29', '1e3', '00000', 'ünïcödé ✓'],
  ['9007199254740993', '2024-03-01', '0.000000000000000000001', '00123', ' padded '],
  ['4', '2024-03-02', '42', 'x', 'last'],
];

function rowItem(row: string[]): Item {
  const [user, moddt, big, code, title] = row as [string, string, string, string, string];
  return { user: N(user), moddt: S(moddt), big: N(big), code: S(code), title: S(title) };
}

/** DynamoDB (and dynalite) store numbers normalised: "1e3" reads back as "1000". */
function normalised(item: Item): Item {
  const out: Item = { ...item };
  if (item.big?.N === '1e3') out.big = N('1000');
  return out;
}

async function userTable(): Promise<string> {
  return createTable(db.endpoint, { hash: ['user', 'N'], range: ['moddt', 'S'] });
}

describe('dynaload upload (end to end)', () => {
  it('loads several shards with a header line, numbers and zero-padded strings exact', async () => {
    const dir = await tempDir();
    const table = await userTable();
    const files = [0, 1, 2].map((i) => path.join(dir, `shard-${i}.csv`));
    await writeCsv(files[0] as string, HEADER, ROWS.slice(0, 2));
    await writeCsv(files[1] as string, HEADER, ROWS.slice(2, 4));
    await writeCsv(files[2] as string, HEADER, ROWS.slice(4));

    const run = await upload(db.endpoint, [...files, '--table', table, '--types', 'big:N', '--workers', '2'], {
      cwd: dir,
    });
    assertExit(run, 0);
    assert.equal(run.summary.rows, ROWS.length);
    assert.equal(run.summary.written, ROWS.length);
    assert.equal(run.summary.rejected, 0);
    assert.equal(run.summary.notWritten, 0);
    assert.deepEqual(run.summary.tables, { [table]: { written: ROWS.length, rejected: 0 } });
    assert.equal(run.summary.rejectsFile, null);
    assert.equal(run.summary.error, null);
    assert.equal(run.summary.exitCode, 0);
    await assertTable(db.endpoint, table, ROWS.map(rowItem).map(normalised), 'user', 'moddt');
  });

  it('reads standard input for `-`', async () => {
    const dir = await tempDir();
    const table = await userTable();
    const csv =
      'user,moddt,big,code,title\n' +
      ROWS.map((r) => r.map((c) => (/[",\s]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',')).join('\n') +
      '\n';
    const run = await upload(db.endpoint, ['-', '--table', table, '--types', 'big:N'], { cwd: dir, input: csv });
    assertExit(run, 0);
    assert.equal(run.summary.written, ROWS.length);
    await assertTable(db.endpoint, table, ROWS.map(rowItem).map(normalised), 'user', 'moddt');
  });

  it('names the columns with --no-header --columns', async () => {
    const dir = await tempDir();
    const table = await userTable();
    const file = path.join(dir, 'noheader.csv');
    await writeCsv(file, null, ROWS);
    const run = await upload(
      db.endpoint,
      [file, '--table', table, '--no-header', '--columns', HEADER.join(','), '--types', 'big:N'],
      { cwd: dir },
    );
    assertExit(run, 0);
    assert.equal(run.summary.rows, ROWS.length, 'the first line is a row, not a header');
    await assertTable(db.endpoint, table, ROWS.map(rowItem).map(normalised), 'user', 'moddt');
  });

  it('splits on a tab with --delimiter \\t (commas stay inside cells)', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    // Not a .tsv name: TSV reads unquoted; this is CSV with tabs, quotes and all.
    const file = path.join(dir, 'tabs.txt');
    await writeFile(file, 'id\tn\tnote\na\t1\tx, y\nb\t2\t"quoted\ttab"\n');
    const run = await upload(db.endpoint, [file, '--table', table, '--delimiter', '\\t', '--types', 'n:N'], {
      cwd: dir,
    });
    assertExit(run, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('a'), n: N('1'), note: S('x, y') },
        { id: S('b'), n: N('2'), note: S('quoted\ttab') },
      ],
      'id',
    );
  });

  it('expands a quoted glob itself, in sorted order, matching only what the pattern says', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    await writeCsv(
      path.join(dir, 'part-b.csv'),
      ['id', 'v'],
      [
        ['b1', 'x'],
        ['b2', 'y'],
      ],
    );
    await writeCsv(path.join(dir, 'part-a.csv'), ['id', 'v'], [['a1', 'z']]);
    await writeCsv(path.join(dir, 'other.txt'), ['id', 'v'], [['nope', 'n']]);
    // spawn() passes the pattern unexpanded, as a quoted glob in a shell would.
    const run = await upload(db.endpoint, [path.join(dir, 'part-*.csv'), '--table', table], { cwd: dir });
    assertExit(run, 0);
    assert.equal(run.summary.rows, 3);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('a1'), v: S('z') },
        { id: S('b1'), v: S('x') },
        { id: S('b2'), v: S('y') },
      ],
      'id',
    );
    const relative = await upload(db.endpoint, ['part-?.csv', '--table', table], { cwd: dir });
    assertExit(relative, 0);
    assert.equal(relative.summary.rows, 3);
  });

  it('keeps quoted newlines, handles CRLF line ends and a UTF-8 BOM', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'bom.csv');
    const body = '\uFEFFid,text,n\r\n' + 'k1,"line one\r\nline two",1\r\n' + 'k2,"a\nb ""c""",2\r\n' + 'k3,plain,3\r\n';
    await writeFile(file, body, 'utf8');
    const run = await upload(db.endpoint, [file, '--table', table, '--types', 'n:N'], { cwd: dir });
    assertExit(run, 0);
    assert.equal(run.summary.rows, 3);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('k1'), text: S('line one\r\nline two'), n: N('1') },
        { id: S('k2'), text: S('a\nb "c"'), n: N('2') },
        { id: S('k3'), text: S('plain'), n: N('3') },
      ],
      'id',
    );
  });

  it('prints a human summary on stdout without --json, logs only on stderr', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'small.csv');
    await writeCsv(
      file,
      ['id', 'v'],
      [
        ['a', '1'],
        ['b', '2'],
      ],
    );
    const run = await runCli(
      ['upload', file, '--table', table, '--endpoint', db.endpoint, '--region', TEST_REGION, '--log-level', 'debug'],
      { cwd: dir },
    );
    assertExit(run, 0);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] as string, /^Done: 2 rows read in \d+\.\d s \(\d+ rows\/s written[^)]*\)$/);
    assert.match(run.stdout, new RegExp(`^  written {6}2 rows \\(items: ${table} 2\\)$`, 'm'));
    assert.match(run.stdout, /^ {2}rejected {5}0 rows$/m);
    assert.match(run.stdout, /^ {2}not written {2}0 rows$/m);
    assert.match(run.stdout, /^ {2}retries {6}0 unprocessed items resent/m);
    assert.match(run.stdout, /^ {2}checkpoint {3}\S+\.dynaload-checkpoint-t_[0-9a-f]+\.json$/m);
    assert.match(
      run.stdout,
      new RegExp(`^ {2}endpoint {5}${db.endpoint.replace(/[.]/g, '\\.')} \\(from --endpoint\\)$`, 'm'),
    );
    assert.match(
      run.stdout,
      /^ {2}in flight {4}\d+ requests \(\d+\), round-trip [\d.]+ ms \(fastest [\d.]+ ms\), [a-z,-]+$/m,
    );
    assert.equal(lines.length, 8, `only the summary on stdout, got:\n${run.stdout}`);
    assert.doesNotMatch(run.stdout, /"level"/);
    // debug logs exist and went to stderr
    assert.match(run.stderr, /"level":\s*(20|30|"debug"|"info")/);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('a'), v: S('1') },
        { id: S('b'), v: S('2') },
      ],
      'id',
    );

    const json = await upload(db.endpoint, [file, '--table', table, '--log-level', 'debug'], { cwd: dir });
    assertExit(json, 0);
    assert.equal(json.summary.written, 2);
  });

  for (const [policy, expected] of [
    ['drop', {}],
    ['string', { note: S(''), n: S('') }],
    ['null', { note: { NULL: true }, n: { NULL: true } }],
  ] as const) {
    it(`--empty ${policy}: empty non-key cells`, async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
      const file = path.join(dir, 'empty.csv');
      await writeFile(file, 'id,note,n\ne1,,\ne2,"",\ne3,full,5\n');
      const run = await upload(db.endpoint, [file, '--table', table, '--types', 'n:N', '--empty', policy], {
        cwd: dir,
      });
      assertExit(run, 0);
      assert.equal(run.summary.written, 3);
      await assertTable(
        db.endpoint,
        table,
        [
          { id: S('e1'), ...expected },
          { id: S('e2'), ...expected },
          { id: S('e3'), note: S('full'), n: N('5') },
        ],
        'id',
      );
    });
  }

  it('defaults to --empty drop', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'empty.csv');
    await writeFile(file, 'id,note\ne1,\n');
    const run = await upload(db.endpoint, [file, '--table', table], { cwd: dir });
    assertExit(run, 0);
    await assertTable(db.endpoint, table, [{ id: S('e1') }], 'id');
  });
});
