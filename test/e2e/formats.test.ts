import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import {
  assertExit,
  assertTable,
  N,
  readRejects,
  S,
  upload,
  useDynalite,
  type Item,
  type UploadRun,
} from './helpers.js';

// Gzip (by magic bytes, files and stdin), NDJSON, DynamoDB JSON (S3 export
// lines), TSV; standard input for each. Expected items derived from the formats' rules.

const db = useDynalite();

async function put(dir: string, name: string, content: string | Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

async function idTable(key = 'id'): Promise<string> {
  return createTable(db.endpoint, { hash: [key, 'S'] });
}

function assertAll(run: UploadRun, rows: number): void {
  assertExit(run, 0);
  assert.equal(run.summary.rows, rows);
  assert.equal(run.summary.written, rows);
  assert.equal(run.summary.rejected, 0);
  assert.equal(run.summary.notWritten, 0);
}

const CSV = 'id,n,note\na,1,"x, y"\nb,12345678901234567890,00123\n';
const CSV_ITEMS: Item[] = [
  { id: S('a'), n: N(1), note: S('x, y') },
  { id: S('b'), n: N('12345678901234567890'), note: S('00123') },
];

const NDJSON =
  [
    '{"id":"a","n":12345678901234567890123,"f":0.25,"s":"00123","b":true,"z":null,"l":[1,"x"],"m":{"k":1.5}}',
    '{"id":"b","n":-7}',
  ].join('\n') + '\n';
const NDJSON_ITEMS: Item[] = [
  {
    id: S('a'),
    n: N('12345678901234567890123'),
    f: N('0.25'),
    s: S('00123'),
    b: { BOOL: true },
    z: { NULL: true },
    l: { L: [N(1), S('x')] },
    m: { M: { k: N('1.5') } },
  },
  { id: S('b'), n: N(-7) },
];

// DynamoDB's export to S3: one {"Item": ...} per line, every value type-tagged.
const DDB_JSON =
  [
    '{"Item":{"pk":{"S":"a"},"n":{"N":"1.50"},"b":{"B":"AQI="},"ss":{"SS":["x"]},"m":{"M":{"l":{"L":[{"N":"1"}]}}}}}',
    '{"Item":{"pk":{"S":"b"},"big":{"N":"12345678901234567890123456789"},"t":{"BOOL":false},"z":{"NULL":true},"ns":{"NS":["1","2.5"]},"bs":{"BS":["AA=="]}}}',
  ].join('\n') + '\n';
const DDB_ITEMS: Item[] = [
  // DynamoDB gives numbers back normalised: 1.50 is 1.5.
  { pk: S('a'), n: N('1.5'), b: { B: new Uint8Array([1, 2]) }, ss: { SS: ['x'] }, m: { M: { l: { L: [N(1)] } } } },
  {
    pk: S('b'),
    big: N('12345678901234567890123456789'),
    t: { BOOL: false },
    z: { NULL: true },
    ns: { NS: ['1', '2.5'] },
    bs: { BS: [new Uint8Array([0])] },
  },
];

const TSV = 'id\tn\tnote\na\t1\tx, y\nb\t12345678901234567890\t00123\n';

describe('input formats (end to end)', () => {
  it('a gzip file, by the .gz name and by its magic bytes under a plain .csv name', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const gz = await put(dir, 'a.csv.gz', gzipSync(CSV));
    const disguised = await put(dir, 'b.csv', gzipSync(CSV.replace('a,1', 'c,1').replace('b,1234', 'd,1234')));
    const run = await upload(db.endpoint, [gz, disguised, '--table', table, '--types', 'n:N'], { cwd: dir });
    assertAll(run, 4);
    await assertTable(
      db.endpoint,
      table,
      [...CSV_ITEMS, { ...CSV_ITEMS[0], id: S('c') }, { ...CSV_ITEMS[1], id: S('d') }],
      'id',
    );
  });

  it('gzip through standard input, two concatenated gzip members (cat a.gz b.gz)', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const [head, ...rest] = CSV.split('\n');
    const input = Buffer.concat([gzipSync(`${head}\n${rest[0]}\n`), gzipSync(rest.slice(1).join('\n'))]);
    const run = await upload(db.endpoint, ['-', '--table', table, '--types', 'n:N'], { cwd: dir, input });
    assertAll(run, 2);
    await assertTable(db.endpoint, table, CSV_ITEMS, 'id');
  });

  it('NDJSON by the .ndjson and .jsonl names, and by --format ndjson for another name; numbers exact', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const rename = (text: string, suffix: string): string =>
      text.replaceAll('"id":"a"', `"id":"a${suffix}"`).replaceAll('"id":"b"', `"id":"b${suffix}"`);
    const ndjson = await put(dir, 'rows.ndjson', NDJSON);
    const jsonl = await put(dir, 'rows.jsonl.gz', gzipSync(rename(NDJSON, '2')));
    const run = await upload(db.endpoint, [ndjson, jsonl, '--table', table], { cwd: dir });
    assertAll(run, 4);
    const other = await put(dir, 'rows.txt', rename(NDJSON, '3'));
    const forced = await upload(db.endpoint, [other, '--table', table, '--format', 'ndjson'], { cwd: dir });
    assertAll(forced, 2);
    const suffixed = (suffix: string): Item[] =>
      NDJSON_ITEMS.map((item) => ({ ...item, id: S(`${(item.id as { S: string }).S}${suffix}`) }));
    await assertTable(db.endpoint, table, [...NDJSON_ITEMS, ...suffixed('2'), ...suffixed('3')], 'id');
  });

  it('DynamoDB JSON (S3 export lines), gzipped, with --format ddb-json', async () => {
    const dir = await tempDir();
    const table = await idTable('pk');
    const file = await put(dir, 'export-0001.json.gz', gzipSync(DDB_JSON));
    const run = await upload(db.endpoint, [file, '--table', table, '--format', 'ddb-json'], { cwd: dir });
    assertAll(run, 2);
    await assertTable(db.endpoint, table, DDB_ITEMS, 'pk');
  });

  it("TSV by the .tsv name, by --delimiter '\\t', and by --delimiter tab", async () => {
    const dir = await tempDir();
    const table = await idTable();
    const byName = await put(dir, 'rows.tsv', TSV);
    const run = await upload(db.endpoint, [byName, '--table', table, '--types', 'n:N'], { cwd: dir });
    assertAll(run, 2);
    await assertTable(db.endpoint, table, CSV_ITEMS, 'id');
    const byOption = await put(dir, 'rows.txt', TSV.replace('a\t', 'c\t').replace('b\t', 'd\t'));
    const escaped = await upload(db.endpoint, [byOption, '--table', table, '--types', 'n:N', '--delimiter', '\\t'], {
      cwd: dir,
    });
    assertAll(escaped, 2);
    const byWord = await put(dir, 'rows.dat', TSV.replace('a\t', 'e\t').replace('b\t', 'f\t'));
    const word = await upload(db.endpoint, [byWord, '--table', table, '--types', 'n:N', '--delimiter', 'tab'], {
      cwd: dir,
    });
    assertAll(word, 2);
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    await assertTable(
      db.endpoint,
      table,
      ids.map((id, i) => ({ ...(CSV_ITEMS[i % 2] as Item), id: S(id) })),
      'id',
    );
  });

  it('standard input for every format: TSV, NDJSON, gzipped NDJSON, DynamoDB JSON, gzipped DynamoDB JSON', async () => {
    const dir = await tempDir();
    const ids = await idTable();
    const pks = await idTable('pk');
    const tsv = await upload(db.endpoint, ['-', '--table', ids, '--types', 'n:N', '--delimiter', '\\t'], {
      cwd: dir,
      input: TSV,
    });
    assertAll(tsv, 2);
    await assertTable(db.endpoint, ids, CSV_ITEMS, 'id');

    const ndjson = await upload(db.endpoint, ['-', '--table', ids, '--format', 'ndjson'], { cwd: dir, input: NDJSON });
    assertAll(ndjson, 2);
    await assertTable(db.endpoint, ids, NDJSON_ITEMS, 'id');
    const ndjsonGz = await upload(db.endpoint, ['-', '--table', ids, '--format', 'ndjson'], {
      cwd: dir,
      input: gzipSync(NDJSON.replaceAll('"id":"', '"id":"z')),
    });
    assertAll(ndjsonGz, 2);
    await assertTable(
      db.endpoint,
      ids,
      [...NDJSON_ITEMS, ...NDJSON_ITEMS.map((item) => ({ ...item, id: S(`z${(item.id as { S: string }).S}`) }))],
      'id',
    );

    const ddb = await upload(db.endpoint, ['-', '--table', pks, '--format', 'ddb-json'], { cwd: dir, input: DDB_JSON });
    assertAll(ddb, 2);
    await assertTable(db.endpoint, pks, DDB_ITEMS, 'pk');
    const ddbGz = await upload(db.endpoint, ['-', '--table', pks, '--format', 'ddb-json'], {
      cwd: dir,
      input: gzipSync(DDB_JSON.replaceAll('{"S":"', '{"S":"z')),
    });
    assertAll(ddbGz, 2);
    const zDdb = DDB_ITEMS.map((item) => ({ ...item, pk: S(`z${(item.pk as { S: string }).S}`) }));
    await assertTable(db.endpoint, pks, [...DDB_ITEMS, ...zDdb], 'pk');
  });

  it('bad NDJSON lines are rejected with their line numbers (blank lines and CRLF are fine)', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const text = [
      '{"id":"ok1"}', //         1
      '', //                     2 blank
      '{"id":', //               3 broken JSON
      '[1,2]', //                4 an array
      '{"id":"ok2"}\r', //       5 CRLF
      '"scalar"', //             6
      '{"n":1}', //              7 no key
      '{"id":"x","n":1e999}', // 8 out of range
      '   ', //                  9 blank
      '{"id":"ok3"}', //         10, no newline at the end
    ].join('\n');
    const file = await put(dir, 'rows.ndjson', text);
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--rejects', rejectsFile], { cwd: dir });
    assertExit(run, 3);
    assert.deepEqual(
      [run.summary.rows, run.summary.written, run.summary.rejected, run.summary.notWritten],
      [8, 3, 5, 0],
    );
    const rejects = await readRejects(rejectsFile);
    assert.deepEqual(
      rejects.map((r) => [r.line, r.code]),
      [
        [3, 'JSON_INVALID'],
        [4, 'JSON_SHAPE'],
        [6, 'JSON_SHAPE'],
        [7, 'KEY_MISSING'],
        [8, 'NUMBER_RANGE'],
      ],
    );
    assert.ok(
      rejects.every((r) => r.file === file),
      'every reject names the file',
    );
    assert.deepEqual(
      rejects.map((r) => r.row),
      ['{"id":', '[1,2]', '"scalar"', '{"n":1}', '{"id":"x","n":1e999}'],
    );
    await assertTable(db.endpoint, table, [{ id: S('ok1') }, { id: S('ok2') }, { id: S('ok3') }], 'id');
  });

  it('bad DynamoDB JSON lines are rejected with their line numbers', async () => {
    const dir = await tempDir();
    const table = await idTable('pk');
    const text =
      [
        '{"Item":{"pk":{"S":"ok1"}}}', //                       1
        '{"pk":{"S":"a"}}', //                                   2 no Item wrapper
        '{"Item":{"pk":{"X":"a"}}}', //                          3 unknown tag
        '{"Item":{"pk":{"S":"b"},"n":{"N":"abc"}}}', //          4 not a number
        '{"Item":{"pk":{"S":"c"},"s":{"SS":[]}}}', //            5 empty set
        '{"Item":{"pk":{"S":"d"},"two":{"S":"a","N":"1"}}}', //  6 two tags
        '{"Item":{"pk":{"N":"1"}}}', //                          7 key of the wrong type
        '{"Item":{"pk":{"S":"ok2"},"n":{"N":"-0.5"}}}', //       8
      ].join('\n') + '\n';
    const file = await put(dir, 'export.json', text);
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--format', 'ddb-json', '--rejects', rejectsFile], {
      cwd: dir,
    });
    assertExit(run, 3);
    assert.deepEqual([run.summary.rows, run.summary.written, run.summary.rejected], [8, 2, 6]);
    const rejects = await readRejects(rejectsFile);
    assert.deepEqual(
      rejects.map((r) => [r.line, r.code]),
      [
        [2, 'JSON_SHAPE'],
        [3, 'DDB_JSON_INVALID'],
        [4, 'NUMBER_INVALID'],
        [5, 'SET_EMPTY'],
        [6, 'DDB_JSON_INVALID'],
        [7, 'KEY_TYPE'],
      ],
    );
    assert.match(rejects[2]?.message ?? '', /`n`/);
    await assertTable(db.endpoint, table, [{ pk: S('ok1') }, { pk: S('ok2'), n: N('-0.5') }], 'pk');
  });

  it('exits 2 for an unknown --format', async () => {
    const dir = await tempDir();
    const run = await upload(db.endpoint, ['-', '--table', 't', '--format', 'xml'], { cwd: dir, input: '' });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'OPTION_INVALID');
    assert.match(run.summary.error?.message ?? '', /--format.*xml/);
  });
});
