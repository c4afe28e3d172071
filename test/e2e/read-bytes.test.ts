import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import { assertExit, assertTable, readRejects, S, upload, useDynalite, type Item } from './helpers.js';

// What the read path does with bytes as real files hold them: legacy encodings, byte order marks,
// stray quotes, TSV without quoting, broken base64, and records far past the cap.

const db = useDynalite();

async function put(dir: string, name: string, content: string | Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const ids = (...values: string[]): Item[] => values.map((id) => ({ id: S(id) }));

describe('encodings (end to end)', () => {
  it('a Latin-1 byte in CSV and in NDJSON rejects its row as ENCODING_INVALID (never stored as U+FFFD); the other rows are written', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const csv = await put(dir, 'dump.csv', latin1('id,v\nok1,plain\nbad1,caf\xE9\nok2,x\n'));
    const ndjson = await put(
      dir,
      'dump.ndjson',
      Buffer.concat([Buffer.from('{"id":"ok3"}\n{"id":"bad2","v":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]),
    );
    const rejects = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [csv, ndjson, '--table', table, '--rejects', rejects, '--workers', '1'], {
      cwd: dir,
    });
    assertExit(run, 3);
    assert.deepEqual(
      [run.summary.rows, run.summary.written, run.summary.rejected, run.summary.notWritten],
      [5, 3, 2, 0],
    );
    await assertTable(
      db.endpoint,
      table,
      [{ id: S('ok1'), v: S('plain') }, { id: S('ok2'), v: S('x') }, { id: S('ok3') }],
      'id',
    );
    const lines = await readRejects(rejects);
    const byFile = new Map(lines.map((l) => [path.basename(l.file), l as typeof l & { offset?: number }]));
    const fromCsv = byFile.get('dump.csv');
    assert.equal(fromCsv?.code, 'ENCODING_INVALID');
    assert.equal(fromCsv?.line, 3);
    assert.equal(fromCsv?.offset, 'id,v\nok1,plain\nbad1,caf'.length);
    assert.equal(fromCsv?.row, 'bad1,caf\\xE9');
    assert.match(fromCsv?.message ?? '', /0xE9 at line 3, column 9 \(byte offset 23\).*--encoding/);
    const fromJson = byFile.get('dump.ndjson');
    assert.equal(fromJson?.code, 'ENCODING_INVALID');
    assert.equal(fromJson?.line, 2);
    assert.equal(fromJson?.row, '{"id":"bad2","v":"caf\\xE9"}');
  });

  it('--encoding latin1 reads a mysqldump latin1 file exactly (0x80 is €, as MySQL and windows-1252 have it)', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const csv = await put(
      dir,
      'dump.csv',
      Buffer.concat([latin1('id,v\nr1,caf\xE9\nr2,'), Buffer.from([0x80, 0x20, 0x35]), latin1('\n')]),
    );
    const run = await upload(db.endpoint, [csv, '--table', table, '--encoding', 'latin1'], { cwd: dir });
    assertExit(run, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('r1'), v: S('café') },
        { id: S('r2'), v: S('€ 5') },
      ],
      'id',
    );
  });

  it('--encoding utf-16le reads a UTF-16 file with its BOM (as Excel and PowerShell write them), NDJSON too', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const utf16 = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const csv = await put(dir, 'sheet.csv', utf16('id,v\r\nu1,日本 😀\r\n'));
    const ndjson = await put(dir, 'rows.ndjson', utf16('{"id":"u2","v":"é"}\n'));
    const run = await upload(db.endpoint, [csv, ndjson, '--table', table, '--encoding', 'utf-16le'], { cwd: dir });
    assertExit(run, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('u1'), v: S('日本 😀') },
        { id: S('u2'), v: S('é') },
      ],
      'id',
    );
  });

  it('a UTF-8 byte order mark is skipped in CSV, NDJSON and DynamoDB JSON: every first line is read', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const BOM = '\uFEFF';
    const csv = await put(dir, 'a.csv', `${BOM}id,v\nc1,x\n`);
    const ndjson = await put(dir, 'b.ndjson', `${BOM}{"id":"n1"}\n{"id":"n2"}\n`);
    const ddb = await put(dir, 'c.ddb', `${BOM}{"Item":{"id":{"S":"d1"}}}\n`);
    const first = await upload(db.endpoint, [csv, ndjson, '--table', table], { cwd: dir });
    assertExit(first, 0);
    const second = await upload(db.endpoint, [ddb, '--table', table, '--format', 'ddb-json'], { cwd: dir });
    assertExit(second, 0);
    await assertTable(db.endpoint, table, [{ id: S('c1'), v: S('x') }, ...ids('d1', 'n1', 'n2')], 'id');
  });
});

describe('quotes (end to end)', () => {
  it('a quote inside an unquoted field is data by default; --strict-quotes rejects the row', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const csv = await put(dir, 'places.csv', `id,lat,note\np1,37°36'37.8"N,"a, b"\np2,12" ruler,ok\n`);
    const lenient = await upload(db.endpoint, [csv, '--table', table], { cwd: dir });
    assertExit(lenient, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('p1'), lat: S(`37°36'37.8"N`), note: S('a, b') },
        { id: S('p2'), lat: S('12" ruler'), note: S('ok') },
      ],
      'id',
    );

    const strictTable = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const rejects = path.join(dir, 'strict.ndjson');
    const strict = await upload(db.endpoint, [csv, '--table', strictTable, '--strict-quotes', '--rejects', rejects], {
      cwd: dir,
    });
    assertExit(strict, 3);
    assert.deepEqual([strict.summary.written, strict.summary.rejected], [0, 2]);
    assert.deepEqual(
      (await readRejects(rejects)).map((r) => [r.line, r.code]),
      [
        [2, 'CSV_INVALID'],
        [3, 'CSV_INVALID'],
      ],
    );
  });

  it('a .tsv file reads unquoted, as mysqldump --tab writes it: quotes are data', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const tsv = await put(dir, 'dump.tsv', 'id\tsize\tname\nt1\t5"\t"quoted"\nt2\t"open\tx\n');
    const run = await upload(db.endpoint, [tsv, '--table', table], { cwd: dir });
    assertExit(run, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('t1'), size: S('5"'), name: S('"quoted"') },
        { id: S('t2'), size: S('"open'), name: S('x') },
      ],
      'id',
    );
  });
});

describe('DynamoDB JSON binary values (end to end)', () => {
  it('invalid base64 in B and BS is rejected (BINARY_INVALID), not decoded into other bytes', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = await put(
      dir,
      'export.json',
      [
        '{"Item":{"id":{"S":"good"},"b":{"B":"AQI="}}}',
        '{"Item":{"id":{"S":"bang"},"b":{"B":"QUJD!!"}}}',
        '{"Item":{"id":{"S":"url"},"bs":{"BS":["AA==","-_8="]}}}',
      ].join('\n') + '\n',
    );
    const rejects = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--format', 'ddb-json', '--rejects', rejects], {
      cwd: dir,
    });
    assertExit(run, 3);
    assert.deepEqual([run.summary.written, run.summary.rejected], [1, 2]);
    await assertTable(db.endpoint, table, [{ id: S('good'), b: { B: new Uint8Array([1, 2]) } }], 'id');
    assert.deepEqual(
      (await readRejects(rejects)).map((r) => [r.line, r.code]),
      [
        [2, 'BINARY_INVALID'],
        [3, 'BINARY_INVALID'],
      ],
    );
  });
});

describe('records past the cap (end to end)', () => {
  const big = 'x'.repeat(32 * 1024 * 1024);
  const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

  for (const [name, format, content, longLine] of [
    ['CSV', 'csv', `id,v\na,1\nb,${big}\nc,3\n`, `b,${big}`],
    ['NDJSON', 'ndjson', `{"id":"a"}\n{"id":"${big}"}\n{"id":"c"}\n`, `{"id":"${big}"}`],
    [
      'a 32 KB gzip file expanding to one 32 MiB line',
      'csv.gz',
      gzipSync(`id,v\na,1\nb,${big}\nc,3\n`, { level: 9 }),
      `b,${big}`,
    ],
  ] as const) {
    it(`${name}: one 32 MiB line is RECORD_TOO_LONG with its first 1,000 characters, length and SHA-256; the rows around it are written`, async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
      const file = await put(dir, `long.${format}`, content);
      const rejects = path.join(dir, 'rejects.ndjson');
      // Bounded generously: linear reading takes well under a second here; the quadratic one took minutes.
      const run = await upload(db.endpoint, [file, '--table', table, '--rejects', rejects], {
        cwd: dir,
        timeoutMs: 60_000,
      });
      assertExit(run, 3);
      assert.deepEqual([run.summary.rows, run.summary.written, run.summary.rejected], [3, 2, 1]);
      const [reject] = (await readRejects(rejects)) as (Awaited<ReturnType<typeof readRejects>>[number] & {
        length?: number;
        sha256?: string;
      })[];
      assert.equal(reject?.code, 'RECORD_TOO_LONG');
      assert.equal(reject?.line, format === 'ndjson' ? 2 : 3);
      assert.equal(reject?.row, longLine.slice(0, 1000));
      assert.equal(reject?.length, longLine.length);
      assert.equal(reject?.sha256, sha256(longLine));
      await assertTable(
        db.endpoint,
        table,
        format === 'ndjson'
          ? ids('a', 'c')
          : [
              { id: S('a'), v: S('1') },
              { id: S('c'), v: S('3') },
            ],
        'id',
      );
    });
  }
});

describe('replaying what the read path rejected (end to end)', () => {
  it('--from-rejects refuses a row cut to its first characters and one still holding \\xHH escapes; a row fixed by hand loads', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const csv = await put(
      dir,
      'dump.csv',
      Buffer.concat([latin1('id,v\nr1,caf\xE9\nr2,x\n'), Buffer.from(`r3,${'y'.repeat(5 * 1024 * 1024)}\n`)]),
    );
    const rejects = path.join(dir, 'rejects.ndjson');
    const first = await upload(db.endpoint, [csv, '--table', table, '--rejects', rejects], { cwd: dir });
    assertExit(first, 3);
    assert.deepEqual(
      (await readRejects(rejects)).map((r) => r.code),
      ['ENCODING_INVALID', 'RECORD_TOO_LONG'],
    );

    const again = path.join(dir, 'again.ndjson');
    const replay = await upload(db.endpoint, ['--from-rejects', rejects, '--table', table, '--rejects', again], {
      cwd: dir,
    });
    assertExit(replay, 3);
    assert.deepEqual([replay.summary.rows, replay.summary.written, replay.summary.rejected], [2, 0, 2]);
    assert.deepEqual(
      (await readRejects(again)).map((r) => r.code),
      ['REPLAY_ENCODING', 'REPLAY_TRUNCATED'],
    );

    const fixed = path.join(dir, 'fixed.ndjson');
    await writeFile(fixed, (await readFile(rejects, 'utf8')).split('\n')[0]?.replace('\\\\xE9', 'é') + '\n');
    const third = await upload(db.endpoint, ['--from-rejects', fixed, '--table', table], { cwd: dir });
    assertExit(third, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('r1'), v: S('café') },
        { id: S('r2'), v: S('x') },
      ],
      'id',
    );
  });
});
