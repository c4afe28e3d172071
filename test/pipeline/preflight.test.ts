import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TableSchema } from '../../src/dynamo/schema.js';
import type { DynaloadError } from '../../src/errors.js';
import { parseMappingFile } from '../../src/pipeline/mapping-file.js';
import { checkDeclaredKeyTypes, columnProblems, type ColumnTarget } from '../../src/pipeline/preflight.js';
import type { TypeSpec } from '../../src/type-spec.js';

const WATCH: TableSchema = {
  table: 'W',
  hash: { name: 'pk', type: 'N' },
  range: { name: 'sk', type: 'S' },
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
  indexKeys: [{ name: 'g', type: 'N', indexes: ['by_g'], role: 'partition' }],
};
const PLAIN: TableSchema = {
  table: 'P',
  hash: { name: 'id', type: 'S' },
  range: undefined,
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
};

const plain = (schema: TableSchema): ColumnTarget => ({ schemas: [schema], mapping: undefined, transform: false });
const mapped = (rules: unknown, schemas: TableSchema[] = [WATCH]): ColumnTarget => ({
  schemas,
  mapping: parseMappingFile(rules, schemas[0]?.table, 'm.json'),
  transform: false,
});

describe('columnProblems', () => {
  const cases: { label: string; columns: string[]; target: ColumnTarget; expected: RegExp[] }[] = [
    { label: 'a plain load with its keys', columns: ['pk', 'sk', 'v'], target: plain(WATCH), expected: [] },
    {
      label: 'a plain load lacking the sort key',
      columns: ['pk', 'v'],
      target: plain(WATCH),
      expected: [/table `W` needs key attribute `sk`, which no column gives/],
    },
    { label: 'lacking both keys', columns: ['a'], target: plain(WATCH), expected: [/key attributes `pk`, `sk`/] },
    {
      label: 'index keys are never required',
      columns: ['id'],
      target: plain({ ...PLAIN, indexKeys: WATCH.indexKeys }),
      expected: [],
    },
    {
      label: 'a column named twice',
      columns: ['id', 'v', 'v', 'w', 'w'],
      target: plain(PLAIN),
      expected: [/named more than once: `v`, `w`/],
    },
    {
      label: 'an empty column name',
      columns: ['id', ''],
      target: plain(PLAIN),
      expected: [/empty column name at position 2/],
    },
    {
      label: 'a mapping renaming and templating the keys',
      columns: ['user', 'a', 'b'],
      target: mapped({ rename: { user: 'pk' }, set: { sk: '${a}#${b}' } }),
      expected: [],
    },
    {
      label: 'a mapping with constant keys',
      columns: ['x'],
      target: mapped({ set: { pk: 1, sk: 'fixed' } }),
      expected: [],
    },
    {
      label: 'a mapping dropping its key column',
      columns: ['pk', 'sk'],
      target: mapped({ drop: ['pk'] }),
      expected: [/needs key attribute `pk`, which no column, rename or set gives/],
    },
    {
      label: 'a mapping keeping only other columns',
      columns: ['pk', 'sk', 'v'],
      target: mapped({ only: ['v', 'sk'] }),
      expected: [/`pk`/],
    },
    {
      label: 'a mapping renaming the key column away',
      columns: ['pk', 'sk'],
      target: mapped({ rename: { pk: 'user' } }),
      expected: [/`pk`/],
    },
    {
      label: 'a template over a missing column',
      columns: ['pk', 'a'],
      target: mapped({ set: { sk: '${a}#${b}', note: '${c}' } }),
      expected: [/uses columns `b` \(used by set\.sk\), `c` \(used by set\.note\), which the file lacks/],
    },
    {
      label: 'a fan-out: each table on its own',
      columns: ['pk', 'sk', 'id'],
      target: {
        schemas: [WATCH, PLAIN],
        mapping: parseMappingFile({ tables: { W: {}, P: { rename: { id: 'x' } } } }, undefined, 'm'),
        transform: false,
      },
      expected: [/table `P` needs key attribute `id`/],
    },
    {
      label: 'a transform: only the names themselves',
      columns: ['a', 'a'],
      target: { schemas: [WATCH], mapping: undefined, transform: true },
      expected: [/more than once: `a`/],
    },
  ];
  for (const c of cases) {
    test(c.label, () => {
      const problems = columnProblems(c.columns, c.target);
      assert.equal(problems.length, c.expected.length, problems.join(' | '));
      c.expected.forEach((re, i) => assert.match(problems[i] ?? '', re));
    });
  }
});

describe('checkDeclaredKeyTypes', () => {
  const config = (types: TypeSpec, rules?: unknown) => ({
    types,
    mapping: rules === undefined ? undefined : parseMappingFile(rules, 'W', 'm.json'),
    transform: undefined,
  });
  const refuses = (c: ReturnType<typeof config>, code: string, message: RegExp): void =>
    assert.throws(
      () => checkDeclaredKeyTypes(c, [WATCH]),
      (e: DynaloadError) => e.code === code && e.exitCode === 2 && message.test(e.message),
    );

  test('agreeing or absent declarations pass', () => {
    assert.doesNotThrow(() => checkDeclaredKeyTypes(config({ g: 'N', v: 'BOOL' }), [WATCH]));
    assert.doesNotThrow(() =>
      checkDeclaredKeyTypes(config({}, { types: { pk: 'N', g: 'N' }, set: { sk: '${a}', v: true, pk: 7 } }), [WATCH]),
    );
  });
  test('--types giving an index key another type', () =>
    refuses(config({ g: 'S' }), 'TYPES_KEY_MISMATCH', /`g` \(key of index by_g of table `W`\) its type N, got S/));
  test("a mapping's types giving a key another type", () =>
    refuses(
      config({}, { types: { sk: 'N' } }),
      'MAP_KEY_TYPE',
      /`sk` \(sort key of table `W`\) the table's type S, got N/,
    ));
  test("a mapping's types giving an index key another type", () =>
    refuses(config({}, { types: { g: 'S' } }), 'MAP_KEY_TYPE', /key of index by_g/));
  test('a constant of another type', () =>
    refuses(config({}, { set: { pk: 'seven' } }), 'MAP_KEY_TYPE', /`set\.pk`.*type N, got `seven`/));
  test('a constant of another JSON type', () =>
    refuses(config({}, { set: { sk: 5 } }), 'MAP_KEY_TYPE', /type S, got a constant of type N/));
});
