import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EmptyPolicy } from '../../src/pipeline/empty-policy.js';
import type { TableSchema } from '../../src/dynamo/schema.js';
import { createRowMapper, keyOf, type Item, type MappedItem } from '../../src/pipeline/transform.js';
import type { TypeSpec } from '../../src/type-spec.js';

// Expected values follow DynamoDB's rules (types, 38 digits, 1E-130..9.99E+125, 400 KB items by
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
// and rejections by code, with the column named.
const SCHEMA: TableSchema = {
  table: 'T',
  hash: { name: 'id', type: 'N' },
  range: { name: 'sk', type: 'S' },
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
};
const SOURCE = 'the header of a.csv';

function map(
  columns: string[],
  fields: string[],
  types: TypeSpec = {},
  empty: EmptyPolicy = 'drop',
  schema = SCHEMA,
): MappedItem {
  return createRowMapper({ schema, columns, types, empty, columnsSource: SOURCE })(fields);
}

const RANGE =
  'Expected a number whose magnitude is 0 or between 1E-130 and 9.9999999999999999999999999999999999999E+125, got';
const NOT_A_NUMBER = 'Expected a decimal number such as `-12.5` or `1e3`, got';
const KEY = ' (key of table `T`)';

interface Rejection {
  label: string;
  columns: string[];
  fields: string[];
  types?: TypeSpec;
  code: string;
  message: string;
  context?: Record<string, unknown>;
}

const C = ['id', 'sk', 'x'];
const rejections: Rejection[] = [
  {
    label: 'range key column missing',
    columns: ['id', 'x'],
    fields: ['1', 'a'],
    code: 'KEY_MISSING',
    message: 'Expected a column `sk` (key of table `T`) in the header of a.csv, got columns id,x',
    context: { column: 'sk' },
  },
  {
    label: 'hash key column missing',
    columns: ['sk'],
    fields: ['a'],
    code: 'KEY_MISSING',
    message: 'Expected a column `id` (key of table `T`) in the header of a.csv, got columns sk',
    context: { column: 'id' },
  },
  {
    label: 'too few cells',
    columns: C,
    fields: ['1', 'a'],
    code: 'COLUMN_COUNT',
    message: 'Expected 3 columns (id,sk,x), got 2',
    context: { expected: 3, found: 2 },
  },
  {
    label: 'too many cells',
    columns: C,
    fields: ['1', 'a', 'b', 'c'],
    code: 'COLUMN_COUNT',
    message: 'Expected 3 columns (id,sk,x), got 4',
    context: { expected: 3, found: 4 },
  },
  {
    label: 'empty hash key',
    columns: C,
    fields: ['', 'a', 'b'],
    code: 'KEY_EMPTY',
    message: 'Expected a value for key column `id` of table `T`, got an empty cell',
    context: { column: 'id' },
  },
  {
    label: 'empty range key',
    columns: C,
    fields: ['1', '', 'b'],
    code: 'KEY_EMPTY',
    message: 'Expected a value for key column `sk` of table `T`, got an empty cell',
    context: { column: 'sk' },
  },
  {
    label: 'N key not a number',
    columns: C,
    fields: ['x1', 'a', 'b'],
    code: 'NUMBER_INVALID',
    message: `Column \`id\`${KEY}: ${NOT_A_NUMBER} \`x1\``,
    context: { column: 'id', value: 'x1' },
  },
  {
    label: 'N column not a number',
    columns: C,
    fields: ['1', 'a', '12abc'],
    types: { x: 'N' },
    code: 'NUMBER_INVALID',
    message: `Column \`x\`: ${NOT_A_NUMBER} \`12abc\``,
    context: { column: 'x', value: '12abc' },
  },
  {
    label: '39 significant digits',
    columns: C,
    fields: ['1', 'a', '1'.repeat(39)],
    types: { x: 'N' },
    code: 'NUMBER_PRECISION',
    message: `Column \`x\`: Expected a number with at most 38 significant digits, got \`${'1'.repeat(39)}\` (39 digits)`,
    context: { column: 'x', digits: 39 },
  },
  {
    label: '39 digits in a key',
    columns: C,
    fields: ['9'.repeat(39), 'a', 'b'],
    code: 'NUMBER_PRECISION',
    message: `Column \`id\`${KEY}: Expected a number with at most 38 significant digits, got \`${'9'.repeat(39)}\` (39 digits)`,
    context: { column: 'id' },
  },
  {
    label: 'too large',
    columns: C,
    fields: ['1', 'a', '1e126'],
    types: { x: 'N' },
    code: 'NUMBER_RANGE',
    message: `Column \`x\`: ${RANGE} \`1e126\``,
    context: { column: 'x' },
  },
  {
    label: 'too small',
    columns: C,
    fields: ['1', 'a', '-1e-131'],
    types: { x: 'N' },
    code: 'NUMBER_RANGE',
    message: `Column \`x\`: ${RANGE} \`-1e-131\``,
    context: { column: 'x' },
  },
  {
    label: 'BOOL not a boolean',
    columns: C,
    fields: ['1', 'a', 'yes'],
    types: { x: 'BOOL' },
    code: 'BOOL_INVALID',
    message: 'Column `x`: Expected true, false, 1 or 0 for a BOOL value, got `yes`',
    context: { column: 'x' },
  },
  {
    label: 'B not base64',
    columns: C,
    fields: ['1', 'a', 'no base64!'],
    types: { x: 'B' },
    code: 'BINARY_INVALID',
    message: 'Column `x`: Expected base64 for a B value, got `no base64!`',
    context: { column: 'x' },
  },
  {
    label: 'JSON with an unquoted key',
    columns: C,
    fields: ['1', 'a', '{a:1}'],
    types: { x: 'JSON' },
    code: 'JSON_INVALID',
    message: 'Column `x`: Expected a `"` starting a key at position 1, got `a`',
    context: { column: 'x', position: 1 },
  },
  {
    label: 'JSON with a trailing comma',
    columns: C,
    fields: ['1', 'a', '[1,]'],
    types: { x: 'L' },
    code: 'JSON_INVALID',
    message: 'Column `x`: Expected a JSON value at position 3, got `]`',
    context: { column: 'x', position: 3 },
  },
  {
    label: 'L given an object',
    columns: C,
    fields: ['1', 'a', '{}'],
    types: { x: 'L' },
    code: 'JSON_SHAPE',
    message: 'Column `x`: Expected a JSON array for an L value, got `{}`',
    context: { column: 'x' },
  },
  {
    label: 'M given an array',
    columns: C,
    fields: ['1', 'a', '[1]'],
    types: { x: 'M' },
    code: 'JSON_SHAPE',
    message: 'Column `x`: Expected a JSON object for an M value, got `[1]`',
    context: { column: 'x' },
  },
  {
    label: 'empty string set',
    columns: C,
    fields: ['1', 'a', '[]'],
    types: { x: 'SS' },
    code: 'SET_EMPTY',
    message: 'Column `x`: Expected at least one element in a string set, got `[]` (DynamoDB has no empty sets)',
    context: { column: 'x' },
  },
  {
    label: 'empty number set',
    columns: C,
    fields: ['1', 'a', '[ ]'],
    types: { x: 'NS' },
    code: 'SET_EMPTY',
    message: 'Column `x`: Expected at least one element in a number set, got `[]` (DynamoDB has no empty sets)',
    context: { column: 'x' },
  },
  // id "1" is 2+2 bytes, sk "a" 2+1, x 1 + n: 8 + n bytes in all; 400 KB is 409600.
  {
    label: 'item one byte over 400 KB',
    columns: C,
    fields: ['1', 'a', 'z'.repeat(409_593)],
    code: 'ITEM_TOO_LARGE',
    message: "Expected an item of at most 409600 bytes (400 KB, DynamoDB's limit), got 409601 bytes",
    context: { size: 409_601 },
  },
];

describe('createRowMapper rejections', () => {
  for (const r of rejections) {
    test(`${r.code}: ${r.label}`, () => {
      assert.throws(
        () => map(r.columns, r.fields, r.types ?? {}),
        (error: unknown) => {
          const e = error as { code: string; message: string; context: Record<string, unknown>; exitCode: number };
          assert.equal(e.code, r.code);
          assert.equal(e.message, r.message);
          for (const [name, value] of Object.entries(r.context ?? {}))
            assert.equal(e.context[name], value, `context.${name}`);
          return true;
        },
      );
    });
  }

  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys
  test('a partition key over 2048 bytes or a sort key over 1024 bytes is rejected before batching', () => {
    const sKeys: TableSchema = { ...SCHEMA, hash: { name: 'id', type: 'S' } };
    assert.doesNotThrow(() => map(['id', 'sk'], ['h'.repeat(2048), 'r'.repeat(1024)], {}, 'drop', sKeys));
    const inColumn =
      (column: string) =>
      (error: unknown): boolean =>
        (error as { context: { column?: string } }).context.column === column;
    assert.throws(() => map(['id', 'sk'], ['h'.repeat(2049), 'r'], {}, 'drop', sKeys), inColumn('id'));
    assert.throws(() => map(['id', 'sk'], ['h', 'é'.repeat(513)], {}, 'drop', sKeys), inColumn('sk'));
  });

  test('an item of exactly 400 KB is accepted', () => {
    assert.equal(map(C, ['1', 'a', 'z'.repeat(409_592)]).size, 409_600);
  });
});

describe('createRowMapper types', () => {
  test('every type maps to its DynamoDB AttributeValue; numbers keep their exact text', () => {
    const columns = [
      'id',
      'sk',
      's',
      'zeros',
      'big',
      'dec',
      'b',
      't',
      'f',
      'one',
      'zero',
      'nul',
      'j',
      'js',
      'jn',
      'l',
      'm',
      'ss',
      'ns',
    ];
    const types: TypeSpec = {
      big: 'N',
      dec: 'N',
      zeros: 'N',
      b: 'B',
      t: 'BOOL',
      f: 'BOOL',
      one: 'BOOL',
      zero: 'BOOL',
      nul: 'NULL',
      j: 'JSON',
      js: 'JSON',
      jn: 'JSON',
      l: 'L',
      m: 'M',
      ss: 'SS',
      ns: 'NS',
    };
    const fields = [
      '00123',
      '00123',
      '00123',
      '00123',
      '12345678901234567890',
      '-1.50e3',
      'aGk=',
      'true',
      'FALSE',
      '1',
      '0',
      'null',
      '{"a":[1,"x",true,null],"n":12345678901234567890}',
      '"text"',
      '42',
      '[1,"a",[]]',
      '{"k":{"n":1.0}}',
      '["a","b"]',
      '[1,"2.50"]',
    ];
    const expected: Item = {
      id: { N: '00123' },
      sk: { S: '00123' },
      s: { S: '00123' },
      zeros: { N: '00123' },
      big: { N: '12345678901234567890' },
      dec: { N: '-1.50e3' },
      b: { B: new Uint8Array([0x68, 0x69]) },
      t: { BOOL: true },
      f: { BOOL: false },
      one: { BOOL: true },
      zero: { BOOL: false },
      nul: { NULL: true },
      j: {
        M: { a: { L: [{ N: '1' }, { S: 'x' }, { BOOL: true }, { NULL: true }] }, n: { N: '12345678901234567890' } },
      },
      js: { S: 'text' },
      jn: { N: '42' },
      l: { L: [{ N: '1' }, { S: 'a' }, { L: [] }] },
      m: { M: { k: { M: { n: { N: '1.0' } } } } },
      ss: { SS: ['a', 'b'] },
      ns: { NS: ['1', '2.50'] },
    };
    const mapped = map(columns, fields, types);
    assert.deepEqual(mapped.item, expected);
    assert.equal(mapped.table, 'T');
  });

  test('key types come from the table schema, whatever --types says', () => {
    const mapped = map(['id', 'sk'], ['7', '42'], { id: 'S', sk: 'N' });
    assert.deepEqual(mapped.item, { id: { N: '7' }, sk: { S: '42' } });
    const binary: TableSchema = { ...SCHEMA, hash: { name: 'id', type: 'B' }, range: undefined };
    assert.deepEqual(map(['id'], ['AAE='], { id: 'N' }, 'drop', binary).item, { id: { B: new Uint8Array([0, 1]) } });
  });

  test('columns named like Object.prototype members are plain S columns', () => {
    const mapped = map(['id', 'sk', 'constructor', 'toString'], ['1', 'a', 'x', 'y']);
    assert.deepEqual(mapped.item, { id: { N: '1' }, sk: { S: 'a' }, constructor: { S: 'x' }, toString: { S: 'y' } });
  });

  const policies: Array<[EmptyPolicy, Item]> = [
    ['drop', { id: { N: '1' }, sk: { S: 'a' } }],
    ['string', { id: { N: '1' }, sk: { S: 'a' }, x: { S: '' }, n: { S: '' } }],
    ['null', { id: { N: '1' }, sk: { S: 'a' }, x: { NULL: true }, n: { NULL: true } }],
  ];
  for (const [policy, item] of policies) {
    test(`empty non-key cells with --empty ${policy}`, () => {
      assert.deepEqual(map(['id', 'sk', 'x', 'n'], ['1', 'a', '', ''], { n: 'N' }, policy).item, item);
    });
  }

  test("size is DynamoDB's item size and wire is the bytes of one PutRequest with its comma", () => {
    const mapped = map(['id', 'sk', 'x'], ['12', 'ab', 'é"']);
    assert.equal(mapped.size, 2 + 2 + (2 + 2) + (1 + 3));
    assert.equal(mapped.wire, Buffer.byteLength(JSON.stringify({ PutRequest: { Item: mapped.item } })) + 1);
  });
});

describe('keyOf', () => {
  const hashOnly: TableSchema = { ...SCHEMA, range: undefined };
  const equalNumbers = ['1', '1.0', '+1', '1e0', '10E-1', '01'];
  test(`N keys ${equalNumbers.join(', ')} are the same key`, () => {
    const keys = equalNumbers.map((n) => keyOf(hashOnly, { id: { N: n } }));
    assert.equal(new Set(keys).size, 1);
    assert.equal(map(['id'], ['1'], {}, 'drop', hashOnly).key, map(['id'], ['1.0'], {}, 'drop', hashOnly).key);
  });

  const distinct: Array<[label: string, a: [TableSchema, Item], b: [TableSchema, Item]]> = [
    [
      'other table',
      [SCHEMA, { id: { N: '1' }, sk: { S: 'a' } }],
      [
        { ...SCHEMA, table: 'U' },
        { id: { N: '1' }, sk: { S: 'a' } },
      ],
    ],
    ['other number', [hashOnly, { id: { N: '1' } }], [hashOnly, { id: { N: '10' } }]],
    ['other range', [SCHEMA, { id: { N: '1' }, sk: { S: 'a' } }], [SCHEMA, { id: { N: '1' }, sk: { S: 'A' } }]],
    [
      'string keys are compared as written',
      [
        { ...SCHEMA, hash: { name: 'id', type: 'S' } },
        { id: { S: '1' }, sk: { S: 'a' } },
      ],
      [
        { ...SCHEMA, hash: { name: 'id', type: 'S' } },
        { id: { S: '1.0' }, sk: { S: 'a' } },
      ],
    ],
  ];
  for (const [label, a, b] of distinct) {
    test(`distinct keys: ${label}`, () => {
      assert.notEqual(keyOf(...a), keyOf(...b));
    });
  }
});
