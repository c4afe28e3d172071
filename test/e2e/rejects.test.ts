import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../support/cli.js';
import { createTable, TEST_REGION } from '../support/dynalite.js';
import { assertExit, assertTable, N, readRejects, S, upload, useDynalite, type Item } from './helpers.js';

const db = useDynalite();

const BIG = 'x'.repeat(410_000);

interface Expected {
  line: number;
  code: string;
  column?: string;
  /** A function of the table name: messages name the table. */
  message: (table: string) => string | RegExp;
  row: unknown;
}

/**
 * One file, header on line 1: good rows mixed with a row for every rejection rule. Each entry is
 * the text of one record (quoted newlines make some records span two lines).
 */
const RECORDS: (string | { bad: Expected; text: string })[] = [
  'id,n,flag,blob',
  'g1,1,true,x',
  {
    text: ',5,true,x',
    bad: {
      line: 3,
      code: 'KEY_EMPTY',
      column: 'id',
      message: (t) => `Expected a value for key column \`id\` of table \`${t}\`, got an empty cell`,
      row: { id: '', n: '5', flag: 'true', blob: 'x' },
    },
  },
  {
    text: 'bad-count,1,true',
    bad: {
      line: 4,
      code: 'COLUMN_COUNT',
      message: () => 'Expected 4 columns (id,n,flag,blob), got 3',
      row: ['bad-count', '1', 'true'],
    },
  },
  'g2,12345678901234567890,false,"multi\nline"',
  {
    text: 'bad-nan,abc,true,"two\nlines"',
    bad: {
      line: 7,
      code: 'NUMBER_INVALID',
      column: 'n',
      message: () => 'Column `n`: Expected a decimal number such as `-12.5` or `1e3`, got `abc`',
      row: { id: 'bad-nan', n: 'abc', flag: 'true', blob: 'two\nlines' },
    },
  },
  {
    text: 'bad-digits,123456789012345678901234567890123456789,true,x',
    bad: {
      line: 9,
      code: 'NUMBER_PRECISION',
      column: 'n',
      message: () =>
        'Column `n`: Expected a number with at most 38 significant digits, got `123456789012345678901234567890123456789` (39 digits)',
      row: { id: 'bad-digits', n: '123456789012345678901234567890123456789', flag: 'true', blob: 'x' },
    },
  },
  {
    text: 'bad-range,1e126,true,x',
    bad: {
      line: 10,
      code: 'NUMBER_RANGE',
      column: 'n',
      message: () =>
        'Column `n`: Expected a number whose magnitude is 0 or between 1E-130 and 9.9999999999999999999999999999999999999E+125, got `1e126`',
      row: { id: 'bad-range', n: '1e126', flag: 'true', blob: 'x' },
    },
  },
  'g3,-0.25,0,00123',
  {
    text: 'bad-bool,1,maybe,x',
    bad: {
      line: 12,
      code: 'BOOL_INVALID',
      column: 'flag',
      message: () => 'Column `flag`: Expected true, false, 1 or 0 for a BOOL value, got `maybe`',
      row: { id: 'bad-bool', n: '1', flag: 'maybe', blob: 'x' },
    },
  },
  {
    text: `bad-size,1,true,${BIG}`,
    bad: {
      line: 13,
      code: 'ITEM_TOO_LARGE',
      message: () => /^Expected an item of at most 409600 bytes \(400 KB, DynamoDB's limit\), got 4100\d\d bytes$/,
      row: { id: 'bad-size', n: '1', flag: 'true', blob: BIG },
    },
  },
  'g4,7,1,"quoted, with ""quotes"""',
  // An unescaped quote inside a quoted field.
  {
    text: 'bad-quote,1,true,"ab"c',
    bad: {
      line: 15,
      code: 'CSV_INVALID',
      message: () =>
        /^Expected a well-formed CSV record: Invalid Closing Quote: .*\(CSV_INVALID_CLOSING_QUOTE\); the line was skipped$/,
      row: 'bad-quote,1,true,"ab"c',
    },
  },
  // A good row with quoted fields right after the broken one: the parser must find its footing again.
  'g5,"8","true","after ""broken"" quoting"',
  'g6,9,false,last',
];

const GOOD: Item[] = [
  { id: S('g1'), n: N('1'), flag: { BOOL: true }, blob: S('x') },
  { id: S('g2'), n: N('12345678901234567890'), flag: { BOOL: false }, blob: S('multi\nline') },
  { id: S('g3'), n: N('-0.25'), flag: { BOOL: false }, blob: S('00123') },
  { id: S('g4'), n: N('7'), flag: { BOOL: true }, blob: S('quoted, with "quotes"') },
  { id: S('g5'), n: N('8'), flag: { BOOL: true }, blob: S('after "broken" quoting') },
  { id: S('g6'), n: N('9'), flag: { BOOL: false }, blob: S('last') },
];

describe('rejected rows (end to end)', () => {
  it('rejects every bad row with file, start line, code and message, and writes all the good rows', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'mixed.csv');
    await writeFile(file, RECORDS.map((r) => (typeof r === 'string' ? r : r.text)).join('\n') + '\n');
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const expected = RECORDS.flatMap((r) => (typeof r === 'string' ? [] : [r.bad]));

    // --strict-quotes: by default `"ab"c` is data, kept as written.
    const run = await upload(
      db.endpoint,
      [file, '--table', table, '--types', 'n:N,flag:BOOL', '--rejects', rejectsFile, '--strict-quotes'],
      { cwd: dir },
    );
    assertExit(run, 3);
    const rejects = (await readRejects(rejectsFile)).sort((a, b) => a.line - b.line);
    assert.deepEqual(
      rejects.map((r) => [r.line, r.code]),
      expected.map((e) => [e.line, e.code]),
      'one reject per bad row, at its start line',
    );
    for (const [i, want] of expected.entries()) {
      const got = rejects[i];
      assert.ok(got);
      const where = `reject at line ${want.line} (${want.code})`;
      assert.equal(got.file, file, where);
      const message = want.message(table);
      if (typeof message === 'string') assert.equal(got.message, message, where);
      else assert.match(got.message, message, where);
      assert.equal(got.column, want.column, where);
      assert.deepEqual(got.row, want.row, where);
      if (want.code !== 'CSV_INVALID') assert.equal(got.table, table, where);
    }
    const s = run.summary;
    assert.equal(s.exitCode, 3);
    assert.equal(s.error, null);
    assert.equal(s.rows, GOOD.length + expected.length);
    assert.equal(s.written, GOOD.length);
    assert.equal(s.rejected, expected.length);
    assert.equal(s.notWritten, 0);
    assert.equal(s.rejectsFile, rejectsFile);

    await assertTable(db.endpoint, table, GOOD, 'id');
  });

  it('refuses a file whose header lacks the key column before reading its rows (exit 2, no rejects file)', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'nokey.csv');
    await writeFile(file, 'name,n\r\na,1\r\nb,"2\n3"\r\nc,4\r\n');
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--rejects', rejectsFile], { cwd: dir });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'HEADER_MISMATCH');
    assert.match(
      run.summary.error?.message ?? '',
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: table \`${table}\` needs key attribute \`id\``),
    );
    await assert.rejects(readRejects(rejectsFile), { code: 'ENOENT' });
    await assertTable(db.endpoint, table, [], 'id');
  });

  it('counts a CRLF inside quotes as one line break (CRLF file)', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'crlf.csv');
    // line 1 header, 2-3 a quoted CRLF, 4 a bad number, 5-7 two quoted CRLFs, 8 a bad number
    await writeFile(file, 'id,n,text\r\ng1,1,"one\r\ntwo"\r\nbad1,x,y\r\ng2,2,"a\r\nb\r\nc"\r\nbad2,y,z\r\n');
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--types', 'n:N', '--rejects', rejectsFile], {
      cwd: dir,
    });
    assertExit(run, 3);
    const rejects = (await readRejects(rejectsFile)).sort((a, b) => a.line - b.line);
    assert.deepEqual(
      rejects.map((r) => [r.line, r.code, r.row]),
      [
        [4, 'NUMBER_INVALID', { id: 'bad1', n: 'x', text: 'y' }],
        [8, 'NUMBER_INVALID', { id: 'bad2', n: 'y', text: 'z' }],
      ],
    );
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('g1'), n: N('1'), text: S('one\r\ntwo') },
        { id: S('g2'), n: N('2'), text: S('a\r\nb\r\nc') },
      ],
      'id',
    );
  });

  it('refuses --columns without the key column as bad usage, before reading', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, 'a,1\n');
    const run = await upload(db.endpoint, [file, '--table', table, '--no-header', '--columns', 'name,n'], { cwd: dir });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'KEY_MISSING');
    assert.match(run.stderr, /Expected `--columns` to include key `id`/);
    await assertTable(db.endpoint, table, [], 'id');
  });
});

describe('rejects on stdout (`--rejects -`)', () => {
  it('streams one JSON line per rejected row to stdout, and the summary to stderr', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'two-bad.csv');
    await writeFile(file, 'id,n\na,1\n,2\nb,x\n');
    const run = await runCli(
      [
        'upload',
        file,
        '--table',
        table,
        '--types',
        'n:N',
        '--rejects',
        '-',
        '--json',
        '--endpoint',
        db.endpoint,
        '--region',
        TEST_REGION,
      ],
      { cwd: dir },
    );
    assert.equal(run.code, 3, run.stderr);
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; code: string });
    assert.deepEqual(
      lines.map((r) => [r.line, r.code]),
      [
        [3, 'KEY_EMPTY'],
        [4, 'NUMBER_INVALID'],
      ],
    );
    const summary = JSON.parse(run.stderr.trimEnd().split('\n').at(-1) as string) as {
      rejected: number;
      written: number;
      rejectsFile: string;
    };
    assert.equal(summary.rejected, 2);
    assert.equal(summary.written, 1);
    assert.equal(summary.rejectsFile, '-');
  });
});
