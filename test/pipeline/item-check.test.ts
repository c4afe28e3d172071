import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TableSchema } from '../../src/dynamo/schema.js';
import type { DynaloadError } from '../../src/errors.js';
import {
  checkItem,
  keyOf,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  type Item,
} from '../../src/pipeline/item-check.js';

// Limits from https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html:
// partition key 1..2048 bytes, sort key 1..1024 bytes, item 400 KB (409,600 bytes) counted as
// attribute name bytes + value bytes.
const NS: TableSchema = {
  table: 'T',
  hash: { name: 'user', type: 'N' },
  range: { name: 'sk', type: 'S' },
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
};
const HASH_ONLY: TableSchema = {
  table: 'H',
  hash: { name: 'id', type: 'S' },
  range: undefined,
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
};
const BINARY: TableSchema = {
  table: 'B',
  hash: { name: 'b', type: 'B' },
  range: undefined,
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
};

function rejects(
  schema: TableSchema,
  item: Item,
  code: string,
  context: Record<string, unknown>,
  message?: RegExp,
): void {
  assert.throws(
    () => checkItem(schema, item),
    (error: DynaloadError) => {
      assert.equal(error.code, code);
      for (const [k, v] of Object.entries(context)) assert.equal(error.context[k], v, k);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

describe('checkItem: keys', () => {
  test("the limits are DynamoDB's", () => {
    assert.equal(MAX_PARTITION_KEY_BYTES, 2048);
    assert.equal(MAX_SORT_KEY_BYTES, 1024);
  });

  const cases: {
    label: string;
    schema: TableSchema;
    item: Item;
    code: string;
    context: Record<string, unknown>;
    message?: RegExp;
  }[] = [
    {
      label: 'partition key missing',
      schema: NS,
      item: { sk: { S: 'a' } },
      code: 'KEY_MISSING',
      context: { column: 'user', table: 'T' },
      message: /`user` \(partition key of table `T`\)/,
    },
    {
      label: 'sort key missing',
      schema: NS,
      item: { user: { N: '1' } },
      code: 'KEY_MISSING',
      context: { column: 'sk', table: 'T' },
      message: /`sk` \(sort key of table `T`\)/,
    },
    {
      label: 'partition key of the wrong type',
      schema: NS,
      item: { user: { S: '1' }, sk: { S: 'a' } },
      code: 'KEY_TYPE',
      context: { column: 'user' },
      message: /Expected type N, got S/,
    },
    {
      label: 'sort key of the wrong type',
      schema: NS,
      item: { user: { N: '1' }, sk: { N: '1' } },
      code: 'KEY_TYPE',
      context: { column: 'sk' },
      message: /Expected type S, got N/,
    },
    {
      label: 'a NULL key',
      schema: HASH_ONLY,
      item: { id: { NULL: true } },
      code: 'KEY_TYPE',
      context: { column: 'id' },
      message: /got NULL/,
    },
    {
      label: 'empty string key',
      schema: HASH_ONLY,
      item: { id: { S: '' } },
      code: 'KEY_EMPTY',
      context: { column: 'id' },
    },
    {
      label: 'empty string sort key',
      schema: NS,
      item: { user: { N: '1' }, sk: { S: '' } },
      code: 'KEY_EMPTY',
      context: { column: 'sk' },
    },
    {
      label: 'empty binary key',
      schema: BINARY,
      item: { b: { B: new Uint8Array(0) } },
      code: 'KEY_EMPTY',
      context: { column: 'b' },
    },
    {
      label: 'partition key of 2049 bytes',
      schema: HASH_ONLY,
      item: { id: { S: 'x'.repeat(2049) } },
      code: 'KEY_TOO_LONG',
      context: { column: 'id', bytes: 2049 },
      message: /at most 2048 bytes, got 2049/,
    },
    {
      label: 'partition key of 1025 two-byte characters (2050 bytes)',
      schema: HASH_ONLY,
      item: { id: { S: 'é'.repeat(1025) } },
      code: 'KEY_TOO_LONG',
      context: { bytes: 2050 },
    },
    {
      label: 'binary partition key of 2049 bytes',
      schema: BINARY,
      item: { b: { B: new Uint8Array(2049) } },
      code: 'KEY_TOO_LONG',
      context: { bytes: 2049 },
    },
    {
      label: 'sort key of 1025 bytes',
      schema: NS,
      item: { user: { N: '1' }, sk: { S: 'x'.repeat(1025) } },
      code: 'KEY_TOO_LONG',
      context: { column: 'sk', bytes: 1025 },
      message: /at most 1024 bytes, got 1025/,
    },
    {
      label: 'sort key of 342 three-byte characters (1026 bytes)',
      schema: NS,
      item: { user: { N: '1' }, sk: { S: '€'.repeat(342) } },
      code: 'KEY_TOO_LONG',
      context: { bytes: 1026 },
    },
  ];
  for (const c of cases) test(`rejects: ${c.label}`, () => rejects(c.schema, c.item, c.code, c.context, c.message));

  test('accepts keys at exactly the limits', () => {
    assert.doesNotThrow(() => checkItem(HASH_ONLY, { id: { S: 'x'.repeat(2048) } }));
    assert.doesNotThrow(() => checkItem(HASH_ONLY, { id: { S: 'é'.repeat(1024) } }));
    assert.doesNotThrow(() => checkItem(BINARY, { b: { B: new Uint8Array(2048) } }));
    assert.doesNotThrow(() => checkItem(NS, { user: { N: '1' }, sk: { S: 'x'.repeat(1024) } }));
    assert.doesNotThrow(() => checkItem(NS, { user: { N: '1' }, sk: { S: '€'.repeat(341) } }), '1023 bytes');
  });
});

describe('checkItem: size and kind', () => {
  // {id: "a", d: "x" * n}: 2 + 1 + 1 + n bytes.
  test('an item of exactly 409,600 bytes is accepted; one byte more is ITEM_TOO_LARGE', () => {
    const ok = checkItem(HASH_ONLY, { id: { S: 'a' }, d: { S: 'x'.repeat(409_596) } });
    assert.equal(ok.size, 409_600);
    rejects(
      HASH_ONLY,
      { id: { S: 'a' }, d: { S: 'x'.repeat(409_597) } },
      'ITEM_TOO_LARGE',
      { size: 409_601, table: 'H' },
      /at most 409600 bytes.*got 409601 bytes/,
    );
  });

  test('the result names its table, holds the item, its size and a wire size above it', () => {
    const item: Item = { user: { N: '12' }, sk: { S: 'ab' }, n: { BOOL: true } };
    const mapped = checkItem(NS, item);
    assert.equal(mapped.table, 'T');
    assert.deepEqual(mapped.item, item);
    // user: 4 + (1 digit pair -> 1 + 1); sk: 2 + 2; n: 1 + 1
    assert.equal(mapped.size, 4 + 2 + 2 + 2 + 1 + 1);
    assert.ok(mapped.wire > mapped.size);
  });

  test('a delete keeps only the key attributes (and is not refused for the size of the others)', () => {
    const big = 'x'.repeat(500_000);
    const mapped = checkItem(NS, { user: { N: '7' }, sk: { S: 'a' }, other: { S: big }, more: { N: '1' } }, 'delete');
    assert.deepEqual(mapped.item, { user: { N: '7' }, sk: { S: 'a' } });
    assert.equal(mapped.size, 4 + 2 + 2 + 1);
    const hashOnly = checkItem(HASH_ONLY, { id: { S: 'k' }, x: { S: 'y' } }, 'delete');
    assert.deepEqual(hashOnly.item, { id: { S: 'k' } });
  });

  test('a delete still checks the key', () => {
    assert.throws(() => checkItem(NS, { user: { N: '7' }, other: { S: 'x' } }, 'delete'), { code: 'KEY_MISSING' });
  });
});

describe('keyOf', () => {
  test('N keys equal as DynamoDB compares numbers: 1, 1.0, +1, 1e0, 10E-1', () => {
    const key = (n: string): string => keyOf(NS, { user: { N: n }, sk: { S: 'a' } });
    for (const same of ['1.0', '+1', '1e0', '10E-1', '01', '1.000']) assert.equal(key(same), key('1'), same);
    assert.notEqual(key('2'), key('1'));
    assert.notEqual(key('-1'), key('1'));
    assert.equal(key('-0'), key('0'));
    assert.equal(
      checkItem(NS, { user: { N: '1.0' }, sk: { S: 'a' } }).key,
      checkItem(NS, { user: { N: '1' }, sk: { S: 'a' } }).key,
    );
  });

  test('S keys are compared exactly; the table and the sort key are part of the identity', () => {
    const key = (schema: TableSchema, item: Item): string => keyOf(schema, item);
    assert.notEqual(key(HASH_ONLY, { id: { S: 'a' } }), key(HASH_ONLY, { id: { S: 'A' } }));
    assert.notEqual(key(HASH_ONLY, { id: { S: 'a' } }), key({ ...HASH_ONLY, table: 'H2' }, { id: { S: 'a' } }));
    assert.notEqual(key(NS, { user: { N: '1' }, sk: { S: 'a' } }), key(NS, { user: { N: '1' }, sk: { S: 'b' } }));
    assert.equal(
      key(HASH_ONLY, { id: { S: 'a' }, x: { S: '1' } }),
      key(HASH_ONLY, { id: { S: 'a' }, x: { S: '2' } }),
      'other attributes do not matter',
    );
  });

  test('B keys by their bytes', () => {
    assert.equal(keyOf(BINARY, { b: { B: new Uint8Array([1, 2]) } }), keyOf(BINARY, { b: { B: Buffer.from([1, 2]) } }));
    assert.notEqual(
      keyOf(BINARY, { b: { B: new Uint8Array([1, 2]) } }),
      keyOf(BINARY, { b: { B: new Uint8Array([1, 3]) } }),
    );
  });
});

describe('checkItem: secondary-index keys', () => {
  // g keys two indexes (a GSI's partition key, an LSI's sort key); at only a GSI's partition key.
  const INDEXED: TableSchema = {
    ...HASH_ONLY,
    indexKeys: [
      { name: 'g', type: 'N', indexes: ['by_g', 'by_l'], role: 'sort' },
      { name: 'at', type: 'S', indexes: ['by_at'], role: 'partition' },
    ],
  };
  const cases: { label: string; item: Item; code: string; context: Record<string, unknown>; message?: RegExp }[] = [
    {
      label: 'a GSI key of the wrong type',
      item: { id: { S: 'a' }, g: { S: 'abc' } },
      code: 'INDEX_KEY_TYPE',
      context: { column: 'g', table: 'H', index: 'by_g,by_l' },
      message: /`g` \(sort key of indexes `by_g`, `by_l` of table `H`\): Expected type N or no value, got S/,
    },
    {
      label: 'a NULL index key',
      item: { id: { S: 'a' }, at: { NULL: true } },
      code: 'INDEX_KEY_TYPE',
      context: { column: 'at', index: 'by_at' },
      message: /partition key of index `by_at`/,
    },
    {
      label: 'an empty string index key',
      item: { id: { S: 'a' }, at: { S: '' } },
      code: 'INDEX_KEY_EMPTY',
      context: { column: 'at', index: 'by_at' },
    },
    {
      label: 'an index sort key over 1024 bytes',
      item: { id: { S: 'a' }, g: { N: '1' }, at: { S: 'x'.repeat(2049) } },
      code: 'INDEX_KEY_TOO_LONG',
      context: { column: 'at', bytes: 2049 },
    },
  ];
  for (const c of cases) test(`rejects: ${c.label}`, () => rejects(INDEXED, c.item, c.code, c.context, c.message));

  test('absent index keys are fine; present ones of the right type too; a delete ignores them', () => {
    assert.doesNotThrow(() => checkItem(INDEXED, { id: { S: 'a' } }));
    assert.doesNotThrow(() => checkItem(INDEXED, { id: { S: 'a' }, g: { N: '5' }, at: { S: 'x'.repeat(2048) } }));
    assert.deepEqual(checkItem(INDEXED, { id: { S: 'a' }, g: { S: 'abc' } }, 'delete').item, { id: { S: 'a' } });
  });

  test("the table's own keys are checked first", () => {
    rejects(INDEXED, { g: { S: 'abc' } }, 'KEY_MISSING', { column: 'id' });
  });
});
