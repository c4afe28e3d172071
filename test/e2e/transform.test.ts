import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import {
  assertExit,
  assertTable,
  N,
  readRejects,
  S,
  upload,
  useDynalite,
  type Item,
  type Summary,
  type UploadRun,
} from './helpers.js';

// Transform modules. Expected items follow the document client's mapping of
// JavaScript values (README "Transform modules"); every rejection is asserted by code and message.

const db = useDynalite();
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'transforms');

type FullSummary = Summary & { skipped: number };

async function idTable(): Promise<string> {
  return createTable(db.endpoint, { hash: ['id', 'S'] });
}

/** Writes `name` in `dir` with `text`; returns its path. */
async function put(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

function counts(run: UploadRun): Pick<FullSummary, 'rows' | 'written' | 'rejected' | 'skipped' | 'notWritten'> {
  const s = run.summary as FullSummary;
  return { rows: s.rows, written: s.written, rejected: s.rejected, skipped: s.skipped, notWritten: s.notWritten };
}

describe('transform modules (end to end)', () => {
  it('an .mjs function: every JavaScript type becomes its DynamoDB type; ctx has file, line and table', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const csv = await put(dir, 'in.csv', 'id,n,flag,tags\na,1.5,y,x|y\nb,-7,n,z\n');
    const transform = await put(
      dir,
      'map.mjs',
      `import path from 'node:path';
export default (row, ctx) => ({
  id: row.id,
  n: Number(row.n),
  flag: row.flag === 'y',
  tags: new Set(row.tags.split('|')),
  bytes: new Uint8Array([1, 2, 3]),
  nested: { list: [1, 'a', null, false], map: new Map([['k', 'v']]) },
  missing: undefined,
  nothing: null,
  file: path.basename(ctx.file),
  line: ctx.line,
  table: ctx.table,
});
`,
    );
    const run = await upload(db.endpoint, [csv, '--table', table, '--transform', transform], { cwd: dir });
    assertExit(run, 0);
    assert.deepEqual(counts(run), { rows: 2, written: 2, rejected: 0, skipped: 0, notWritten: 0 });
    assert.deepEqual(run.summary.tables, { [table]: { written: 2, rejected: 0 } });
    const nested = { M: { list: { L: [N(1), S('a'), { NULL: true }, { BOOL: false }] }, map: { M: { k: S('v') } } } };
    const common = {
      bytes: { B: new Uint8Array([1, 2, 3]) },
      nested,
      nothing: { NULL: true },
      file: S('in.csv'),
      table: S(table),
    };
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('a'), n: N('1.5'), flag: { BOOL: true }, tags: { SS: ['x', 'y'] }, line: N(2), ...common },
        { id: S('b'), n: N('-7'), flag: { BOOL: false }, tags: { SS: ['z'] }, line: N(3), ...common },
      ],
      'id',
    );
  });

  it('a .cjs module (module.exports = function)', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const csv = await put(dir, 'in.csv', 'id,v\na,1\nb,2\n');
    const transform = await put(
      dir,
      'map.cjs',
      "module.exports = function (row) { return { id: row.id, kind: 'cjs', v: Number(row.v) * 10 }; };\n",
    );
    const run = await upload(db.endpoint, [csv, '--table', table, '--transform', transform], { cwd: dir });
    assertExit(run, 0);
    assert.deepEqual(counts(run), { rows: 2, written: 2, rejected: 0, skipped: 0, notWritten: 0 });
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('a'), kind: S('cjs'), v: N(10) },
        { id: S('b'), kind: S('cjs'), v: N(20) },
      ],
      'id',
    );
  });

  it("a .ts module typed with the package's exported types (compiled on the fly)", async () => {
    const dir = await tempDir();
    const table = await idTable();
    const csv = await put(dir, 'in.csv', 'id,n\na,9007199254740993\nb,21\n');
    const run = await upload(db.endpoint, [csv, '--table', table, '--transform', path.join(FIXTURES, 'typed.ts')], {
      cwd: dir,
    });
    assertExit(run, 0);
    assert.deepEqual(counts(run), { rows: 2, written: 2, rejected: 0, skipped: 0, notWritten: 0 });
    await assertTable(
      db.endpoint,
      table,
      [
        // 9007199254740993 * 2 as a bigint: exact past 2^53.
        { id: S('a'), kind: S('typed'), twice: N('18014398509481986'), line: N(2), table: S(table) },
        { id: S('b'), kind: S('typed'), twice: N(42), line: N(3), table: S(table) },
      ],
      'id',
    );
  });

  it('async functions, arrays of items, and null / undefined / [] counted as skipped', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const csv = await put(dir, 'in.csv', 'id,what\na,one\nb,two\nc,null\nd,undefined\ne,empty\nf,one\n');
    const transform = await put(
      dir,
      'map.mjs',
      `import { setTimeout } from 'node:timers/promises';
export default async (row) => {
  await setTimeout(row.id === 'a' ? 20 : 1);
  switch (row.what) {
    case 'one': return { id: row.id };
    case 'two': return [{ id: row.id + '-1', part: 1 }, { id: row.id + '-2', part: 2 }];
    case 'null': return null;
    case 'undefined': return undefined;
    default: return [];
  }
};
`,
    );
    const run = await upload(db.endpoint, [csv, '--table', table, '--transform', transform], { cwd: dir });
    assertExit(run, 0);
    assert.deepEqual(counts(run), { rows: 6, written: 3, rejected: 0, skipped: 3, notWritten: 0 });
    assert.deepEqual(run.summary.tables, { [table]: { written: 4, rejected: 0 } });
    await assertTable(
      db.endpoint,
      table,
      [{ id: S('a') }, { id: S('b-1'), part: N(1) }, { id: S('b-2'), part: N(2) }, { id: S('f') }],
      'id',
    );
  });

  it('a function that throws (or rejects) on some rows rejects exactly those rows for its table; the rest is written', async () => {
    const dir = await tempDir();
    const good = await idTable();
    const flaky = await idTable();
    const csv = await put(dir, 'in.csv', 'id,series\nr1,7\nr2,\nr3,9\nr4,async-fail\nr5,11\n');
    const transform = await put(
      dir,
      'map.mjs',
      `export default {
  ${JSON.stringify(good)}: (row) => ({ id: row.id }),
  ${JSON.stringify(flaky)}: (row) => {
    if (row.series === '') throw new Error('no series for ' + row.id);
    if (row.series === 'async-fail') return Promise.reject(new TypeError('lookup failed for ' + row.id));
    return { id: row.id, series: Number(row.series) };
  },
};
`,
    );
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [csv, '--transform', transform, '--rejects', rejectsFile], { cwd: dir });
    assertExit(run, 3);
    assert.deepEqual(counts(run), { rows: 5, written: 3, rejected: 2, skipped: 0, notWritten: 0 });
    assert.deepEqual(run.summary.tables, { [good]: { written: 5, rejected: 0 }, [flaky]: { written: 3, rejected: 2 } });
    const rejects = await readRejects(rejectsFile);
    assert.deepEqual(
      rejects.map((r) => [r.line, r.code, r.table, r.row]),
      [
        [3, 'TRANSFORM_FAILED', flaky, { id: 'r2', series: '' }],
        [5, 'TRANSFORM_FAILED', flaky, { id: 'r4', series: 'async-fail' }],
      ],
    );
    assert.match(rejects[0]?.message ?? '', new RegExp(`\`${flaky}\`.*no series for r2`));
    assert.match(rejects[1]?.message ?? '', new RegExp(`\`${flaky}\`.*lookup failed for r4`));
    // The other table still got every row.
    await assertTable(
      db.endpoint,
      good,
      ['r1', 'r2', 'r3', 'r4', 'r5'].map((id) => ({ id: S(id) })),
      'id',
    );
    await assertTable(
      db.endpoint,
      flaky,
      [
        { id: S('r1'), series: N(7) },
        { id: S('r3'), series: N(9) },
        { id: S('r5'), series: N(11) },
      ],
      'id',
    );
  });

  it('results of the wrong shape reject the row with TRANSFORM_RESULT or TRANSFORM_VALUE', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const cases: { id: string; expr: string; code: string; message: RegExp }[] = [
      { id: 'string', expr: "'not an item'", code: 'TRANSFORM_RESULT', message: /plain object.*string `not an item`/ },
      { id: 'number', expr: '42', code: 'TRANSFORM_RESULT', message: /plain object.*number `42`/ },
      {
        id: 'in-array',
        expr: "[{ id: 'in-array-ok' }, 'x']",
        code: 'TRANSFORM_RESULT',
        message: /plain object.*string `x`/,
      },
      { id: 'date', expr: '{ id: row.id, when: new Date(0) }', code: 'TRANSFORM_VALUE', message: /`when`.*Date/ },
      { id: 'nan', expr: '{ id: row.id, n: NaN }', code: 'TRANSFORM_VALUE', message: /`n`.*NaN/ },
      { id: 'infinity', expr: '{ id: row.id, n: -Infinity }', code: 'TRANSFORM_VALUE', message: /`n`.*-Infinity/ },
      {
        id: 'past-2-53',
        expr: '{ id: row.id, n: 2 ** 53 + 2 }',
        code: 'TRANSFORM_VALUE',
        message: /`n`.*9007199254740994/,
      },
      { id: 'empty-set', expr: '{ id: row.id, s: new Set() }', code: 'TRANSFORM_VALUE', message: /`s`.*empty Set/ },
      {
        id: 'mixed-set',
        expr: "{ id: row.id, s: new Set(['a', 1]) }",
        code: 'TRANSFORM_VALUE',
        message: /`s`.*mixed Set/,
      },
      {
        id: 'nested',
        expr: '{ id: row.id, m: { deep: [1, NaN] } }',
        code: 'TRANSFORM_VALUE',
        message: /`m\.deep\[1\]`.*NaN/,
      },
      { id: 'function', expr: '{ id: row.id, f: () => 1 }', code: 'TRANSFORM_VALUE', message: /`f`.*function/ },
    ];
    const csv = await put(dir, 'in.csv', ['id', 'ok', ...cases.map((c) => c.id)].join('\n') + '\n');
    const transform = await put(
      dir,
      'map.mjs',
      `export default (row) => {
  switch (row.id) {
${cases.map((c) => `    case ${JSON.stringify(c.id)}: return ${c.expr};`).join('\n')}
    default: return { id: row.id, n: 2 ** 53 - 1 };
  }
};
`,
    );
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [csv, '--table', table, '--transform', transform, '--rejects', rejectsFile], {
      cwd: dir,
    });
    assertExit(run, 3);
    assert.deepEqual(counts(run), {
      rows: cases.length + 1,
      written: 1,
      rejected: cases.length,
      skipped: 0,
      notWritten: 0,
    });
    // in-array: its good item is written, its bad one rejects the row.
    assert.deepEqual(run.summary.tables, { [table]: { written: 2, rejected: cases.length } });
    const rejects = await readRejects(rejectsFile);
    assert.equal(rejects.length, cases.length);
    cases.forEach((c, i) => {
      const reject = rejects[i];
      assert.ok(reject, c.id);
      assert.equal(reject.line, i + 3, c.id);
      assert.equal(reject.code, c.code, c.id);
      assert.equal(reject.table, table, c.id);
      assert.match(reject.message, c.message, c.id);
    });
    await assertTable(db.endpoint, table, [{ id: S('ok'), n: N('9007199254740991') }, { id: S('in-array-ok') }], 'id');
  });

  it('bigint and NumberValue (from @aws-sdk/lib-dynamodb) stay exact', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const csv = await put(dir, 'in.csv', 'id,n\na,98765432109876543210.123\n');
    const run = await upload(db.endpoint, [csv, '--table', table, '--transform', path.join(FIXTURES, 'exact.mjs')], {
      cwd: dir,
    });
    assertExit(run, 0);
    const stored = await assertOne(table);
    assert.deepEqual(stored.big, N('123456789012345678901234567890'));
    assert.deepEqual(stored.negative, N('-98765432109876543210'));
    assert.deepEqual(stored.decimal, N('1234567890.1234567890123456789'));
    assert.deepEqual(stored.fromCell, N('98765432109876543210.123'));
    assert.deepEqual(new Set(stored.set?.NS), new Set(['7', '12345678901234567890.5']));
  });

  it('NDJSON rows reach the transform with exact numbers (NumberValue past 2^53)', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const input = await put(dir, 'in.ndjson', '{"id":"a","n":12345678901234567890123,"small":5,"tags":["x"]}\n');
    const transform = await put(
      dir,
      'map.mjs',
      'export default (row) => ({ id: row.id, n: row.n, small: row.small, kind: typeof row.small, tags: row.tags });\n',
    );
    const run = await upload(db.endpoint, [input, '--table', table, '--transform', transform], { cwd: dir });
    assertExit(run, 0);
    await assertTable(
      db.endpoint,
      table,
      [{ id: S('a'), n: N('12345678901234567890123'), small: N(5), kind: S('number'), tags: { L: [S('x')] } }],
      'id',
    );
  });

  const usage: { label: string; module?: string; name?: string; extra?: string[]; code: string; message: RegExp }[] = [
    {
      label: 'no default export',
      module: 'export const toItem = (row) => row;\n',
      code: 'TRANSFORM_SHAPE',
      message: /default export.*no default export/,
    },
    {
      label: 'a default export that is a number',
      module: 'export default 42;\n',
      code: 'TRANSFORM_SHAPE',
      message: /default export.*number/,
    },
    {
      label: 'an object with a value that is not a function',
      module: 'export default { t1: (row) => row, t2: "nope" };\n',
      code: 'TRANSFORM_SHAPE',
      message: /`t2`/,
    },
    {
      label: 'a module that does not parse',
      module: 'export default (row) => {\n',
      code: 'TRANSFORM_LOAD',
      message: /map\.mjs/,
    },
    { label: 'a module that does not exist', name: 'missing.mjs', code: 'TRANSFORM_LOAD', message: /missing\.mjs/ },
    {
      label: 'a single function without --table',
      module: 'export default (row) => ({ id: row.id });\n',
      extra: [],
      code: 'OPTION_REQUIRED',
      message: /--table/,
    },
  ];
  for (const u of usage) {
    it(`exits 2 for a transform module with ${u.label}`, async () => {
      const dir = await tempDir();
      const table = await idTable();
      const csv = await put(dir, 'in.csv', 'id\na\n');
      const transform =
        u.module === undefined ? path.join(dir, u.name ?? 'x.mjs') : await put(dir, 'map.mjs', u.module);
      const run = await upload(db.endpoint, [csv, '--transform', transform, ...(u.extra ?? ['--table', table])], {
        cwd: dir,
      });
      assertExit(run, 2);
      assert.equal(run.summary.error?.code, u.code);
      assert.match(run.summary.error?.message ?? '', u.message);
      assert.match(run.stderr, new RegExp(u.code));
      assert.equal((await scanTable(table)).length, 0);
    });
  }

  it('exits 2 when --transform and --map are both given', async () => {
    const dir = await tempDir();
    const table = await idTable();
    const csv = await put(dir, 'in.csv', 'id\na\n');
    const transform = await put(dir, 'map.mjs', 'export default (row) => ({ id: row.id });\n');
    const mapping = await put(dir, 'mapping.json', '{"types": {"id": "S"}}\n');
    const run = await upload(db.endpoint, [csv, '--table', table, '--transform', transform, '--map', mapping], {
      cwd: dir,
    });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'OPTION_CONFLICT');
    assert.match(run.summary.error?.message ?? '', /--transform.*--map/);
    assert.equal((await scanTable(table)).length, 0);
  });
});

function scanTable(table: string): Promise<Item[]> {
  return scanAll(db.endpoint, table);
}

async function assertOne(table: string): Promise<Item> {
  const items = await scanTable(table);
  assert.equal(items.length, 1);
  return items[0] as Item;
}
