import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { assertExit, assertTable, N, readRejects, S, upload, useDynalite, type Summary } from './helpers.js';

// `--map mapping.json`. Expected items derived from the rules in README
// ("Mapping files"): only, drop, rename, set (templates and constants), types, empty.

const db = useDynalite();

type FullSummary = Summary & { skipped: number };

async function put(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function watchTable(): Promise<string> {
  return createTable(db.endpoint, { hash: ['pk', 'N'], range: ['sk', 'S'] });
}

describe('mapping files (end to end)', () => {
  it('drop, rename, types, a composite-key template, `$$`, and constants of every JSON type', async () => {
    const dir = await tempDir();
    const table = await watchTable();
    const csv = await put(
      dir,
      'in.csv',
      [
        'user,series,episode,title,secret,score,flag,note,tags',
        '1,77,3,Pilot,pw1,9.5,true,hello,"[""x"",""y""]"',
        '2,77,4,Next,pw2,,false,,"[""z""]"',
      ].join('\n') + '\n',
    );
    const mapping = await put(
      dir,
      'mapping.json',
      JSON.stringify({
        drop: ['secret'],
        rename: { user: 'pk', title: 'name' },
        set: {
          sk: '${series}#${episode}',
          price: '$$5 for ${title}',
          kind: 'watch',
          v: 2,
          ratio: -1.25,
          yes: true,
          no: false,
          none: null,
          list: [1, 'a', true, null, [2]],
          obj: { a: 1, b: { c: 'd' } },
        },
        types: { pk: 'N', episode: 'N', score: 'n', flag: 'BOOL', tags: 'SS' },
      }),
    );
    const run = await upload(db.endpoint, [csv, '--table', table, '--map', mapping], { cwd: dir });
    assertExit(run, 0);
    assert.equal(run.summary.rows, 2);
    assert.equal(run.summary.written, 2);
    assert.deepEqual(run.summary.tables, { [table]: { written: 2, rejected: 0 } });
    const constants = {
      kind: S('watch'),
      v: N(2),
      ratio: N('-1.25'),
      yes: { BOOL: true },
      no: { BOOL: false },
      none: { NULL: true },
      list: { L: [N(1), S('a'), { BOOL: true }, { NULL: true }, { L: [N(2)] }] },
      obj: { M: { a: N(1), b: { M: { c: S('d') } } } },
    };
    await assertTable(
      db.endpoint,
      table,
      [
        {
          pk: N(1),
          sk: S('77#3'),
          series: S('77'),
          episode: N(3),
          name: S('Pilot'),
          score: N('9.5'),
          flag: { BOOL: true },
          note: S('hello'),
          tags: { SS: ['x', 'y'] },
          price: S('$5 for Pilot'),
          ...constants,
        },
        // score and note are empty: dropped (the default --empty).
        {
          pk: N(2),
          sk: S('77#4'),
          series: S('77'),
          episode: N(4),
          name: S('Next'),
          flag: { BOOL: false },
          tags: { SS: ['z'] },
          price: S('$5 for Next'),
          ...constants,
        },
      ],
      'pk',
      'sk',
    );
  });

  it('only: keeps just the listed columns (templates may still use the others)', async () => {
    const dir = await tempDir();
    const table = await watchTable();
    const csv = await put(dir, 'in.csv', 'user,series,episode,title\n1,77,3,Pilot\n');
    const mapping = await put(
      dir,
      'mapping.json',
      JSON.stringify({
        only: ['user', 'series'],
        rename: { user: 'pk' },
        set: { sk: 'e${episode}' },
        types: { pk: 'N' },
      }),
    );
    const run = await upload(db.endpoint, [csv, '--table', table, '--map', mapping], { cwd: dir });
    assertExit(run, 0);
    await assertTable(db.endpoint, table, [{ pk: N(1), series: S('77'), sk: S('e3') }], 'pk', 'sk');
  });

  it("key attributes take the table's key type without a `types` entry (as with --types)", async () => {
    const dir = await tempDir();
    const table = await watchTable();
    const csv = await put(dir, 'in.csv', 'user,series\n00042,77\n');
    const mapping = await put(dir, 'mapping.json', JSON.stringify({ rename: { user: 'pk', series: 'sk' } }));
    const run = await upload(
      db.endpoint,
      [csv, '--table', table, '--map', mapping, '--rejects', path.join(dir, 'rejects.ndjson')],
      { cwd: dir },
    );
    assertExit(run, 0);
    // pk is N in the table: "00042" is the number 42.
    await assertTable(db.endpoint, table, [{ pk: N(42), sk: S('77') }], 'pk', 'sk');
  });

  it('empty cells: drop, string, null per table, and the --empty default for a table without `empty`', async () => {
    const dir = await tempDir();
    const tables = { drop: '', string: '', null: '', fallback: '' };
    for (const k of Object.keys(tables) as (keyof typeof tables)[])
      tables[k] = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const csv = await put(dir, 'in.csv', 'id,a,b\nx,,1\n');
    const mapping = await put(
      dir,
      'mapping.json',
      JSON.stringify({
        tables: {
          [tables.drop]: { empty: 'drop' },
          [tables.string]: { empty: 'string' },
          [tables.null]: { empty: 'null' },
          [tables.fallback]: {},
        },
      }),
    );
    const run = await upload(db.endpoint, [csv, '--map', mapping, '--empty', 'null'], { cwd: dir });
    assertExit(run, 0);
    assert.deepEqual(
      run.summary.tables,
      Object.fromEntries(Object.values(tables).map((t) => [t, { written: 1, rejected: 0 }])),
    );
    await assertTable(db.endpoint, tables.drop, [{ id: S('x'), b: S('1') }], 'id');
    await assertTable(db.endpoint, tables.string, [{ id: S('x'), a: S(''), b: S('1') }], 'id');
    await assertTable(db.endpoint, tables.null, [{ id: S('x'), a: { NULL: true }, b: S('1') }], 'id');
    await assertTable(db.endpoint, tables.fallback, [{ id: S('x'), a: { NULL: true }, b: S('1') }], 'id');
  });

  it('a template over an empty cell rejects the row for that table only (TEMPLATE_EMPTY)', async () => {
    const dir = await tempDir();
    const keyed = await watchTable();
    const plain = await createTable(db.endpoint, { hash: ['user', 'S'] });
    const csv = await put(dir, 'in.csv', 'user,series,episode\n1,77,3\n2,77,\n3,,5\n');
    const mapping = await put(
      dir,
      'mapping.json',
      JSON.stringify({
        tables: {
          [keyed]: { rename: { user: 'pk' }, set: { sk: '${series}#${episode}' }, types: { pk: 'N' }, only: ['user'] },
          [plain]: {},
        },
      }),
    );
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [csv, '--map', mapping, '--rejects', rejectsFile], { cwd: dir });
    assertExit(run, 3);
    const s = run.summary as FullSummary;
    assert.deepEqual([s.rows, s.written, s.rejected, s.skipped, s.notWritten], [3, 1, 2, 0, 0]);
    assert.deepEqual(s.tables, { [keyed]: { written: 1, rejected: 2 }, [plain]: { written: 3, rejected: 0 } });
    const rejects = await readRejects(rejectsFile);
    assert.deepEqual(
      rejects.map((r) => [r.line, r.code, r.table, r.column]),
      [
        [3, 'TEMPLATE_EMPTY', keyed, 'episode'],
        [4, 'TEMPLATE_EMPTY', keyed, 'series'],
      ],
    );
    assert.match(rejects[0]?.message ?? '', /`sk`.*`episode`.*empty/);
    await assertTable(db.endpoint, keyed, [{ pk: N(1), sk: S('77#3') }], 'pk', 'sk');
    await assertTable(
      db.endpoint,
      plain,
      [
        { user: S('1'), series: S('77'), episode: S('3') },
        { user: S('2'), series: S('77') },
        { user: S('3'), episode: S('5') },
      ],
      'user',
    );
  });

  it('a mapping over NDJSON: typed values are kept, templates use their text', async () => {
    const dir = await tempDir();
    const table = await watchTable();
    const input = await put(
      dir,
      'in.ndjson',
      '{"user":12345678901234567890,"series":77,"episode":"3","extra":[1,{"a":true}],"gone":"x"}\n',
    );
    const mapping = await put(
      dir,
      'mapping.json',
      JSON.stringify({ rename: { user: 'pk' }, drop: ['gone'], set: { sk: '${series}#${episode}' } }),
    );
    const run = await upload(db.endpoint, [input, '--table', table, '--map', mapping], { cwd: dir });
    assertExit(run, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        {
          pk: N('12345678901234567890'),
          sk: S('77#3'),
          series: N(77),
          episode: S('3'),
          extra: { L: [N(1), { M: { a: { BOOL: true } } }] },
        },
      ],
      'pk',
      'sk',
    );
  });

  it('a template naming a column the file does not have is a usage error before writing (exit 2, HEADER_MISMATCH)', async () => {
    const dir = await tempDir();
    const table = await watchTable();
    const csv = await put(dir, 'in.csv', 'user,series\n1,77\n');
    const mapping = await put(
      dir,
      'mapping.json',
      JSON.stringify({ rename: { user: 'pk' }, set: { sk: '${series}#${episode}' }, types: { pk: 'N' } }),
    );
    const run = await upload(db.endpoint, [csv, '--table', table, '--map', mapping], { cwd: dir });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'HEADER_MISMATCH');
    assert.match(run.summary.error?.message ?? '', /in\.csv: .*`episode` \(used by set\.sk\)/);
    assert.equal((await scanAll(db.endpoint, table)).length, 0);
  });

  const invalid: { label: string; text: string; table?: boolean; message: RegExp }[] = [
    { label: 'not JSON', text: '{"drop": [', message: /JSON/ },
    { label: 'an array', text: '[]', message: /Expected a JSON object, got an array/ },
    { label: 'an unknown rule', text: '{"rname": {"a": "b"}}', message: /rname/ },
    { label: '`only` not an array', text: '{"only": "user"}', message: /`[^`]*only` to be an array of column names/ },
    { label: '`drop` with a number', text: '{"drop": [1]}', message: /`[^`]*drop` to be an array of column names/ },
    { label: '`rename` to an empty name', text: '{"rename": {"user": ""}}', message: /rename/ },
    { label: 'an unknown type', text: '{"types": {"a": "X"}}', message: /types/ },
    { label: 'a bad empty policy', text: '{"empty": "maybe"}', message: /empty.*maybe/ },
    { label: 'a broken template', text: '{"set": {"sk": "${"}}', message: /set\.sk/ },
    { label: 'a template with an empty column name', text: '{"set": {"sk": "a${}b"}}', message: /set\.sk/ },
    {
      label: 'a constant past 2^53 (JSON.parse would round it)',
      text: '{"set": {"big": 12345678901234567890}}',
      message: /set\.big/,
    },
    { label: 'an empty `tables` object', text: '{"tables": {}}', message: /tables/ },
    { label: 'a table whose rules are not an object', text: '{"tables": {"t1": "drop"}}', message: /tables\.t1/ },
    { label: 'single-table rules without --table', text: '{"drop": ["x"]}', table: false, message: /--table/ },
  ];
  for (const c of invalid) {
    it(`exits 2 with MAP_INVALID for a mapping file with ${c.label}`, async () => {
      const dir = await tempDir();
      const csv = await put(dir, 'in.csv', 'user,series\n1,77\n');
      const mapping = await put(dir, 'mapping.json', c.text);
      const run = await upload(
        db.endpoint,
        [csv, '--map', mapping, ...(c.table === false ? [] : ['--table', 'never_described'])],
        { cwd: dir },
      );
      assertExit(run, 2);
      assert.equal(run.summary.error?.code, 'MAP_INVALID');
      assert.match(run.summary.error?.message ?? '', c.message);
      assert.match(run.summary.error?.message ?? '', /mapping\.json/, 'the message names the file');
    });
  }

  it('exits 2 with MAP_INVALID for a mapping file that does not exist', async () => {
    const dir = await tempDir();
    const csv = await put(dir, 'in.csv', 'user\n1\n');
    const run = await upload(db.endpoint, [csv, '--map', path.join(dir, 'nope.json'), '--table', 't'], { cwd: dir });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'MAP_INVALID');
    assert.match(run.summary.error?.message ?? '', /nope\.json/);
  });
});
