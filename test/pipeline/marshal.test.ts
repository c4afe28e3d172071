import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import type { DynaloadError } from '../../src/errors.js';
import { marshalItem, unmarshalMap, unmarshalValue } from '../../src/pipeline/marshal.js';

// README "Transform modules": JavaScript values become DynamoDB types as the
// document client makes them, strict where silence would change a value.

/** A NumberValue from another copy of @aws-sdk/lib-dynamodb: same name and shape, another class. */
class ForeignNumberValue {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}
Object.defineProperty(ForeignNumberValue, 'name', { value: 'NumberValue' });

const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { d: nested(depth - 1) });

const accepted: [label: string, value: unknown, expected: AttributeValue | undefined][] = [
  ['a string', 'héllo', { S: 'héllo' }],
  ['an empty string', '', { S: '' }],
  ['an integer', 42, { N: '42' }],
  ['a negative decimal', -12.5, { N: '-12.5' }],
  ['the largest safe integer', 2 ** 53 - 1, { N: '9007199254740991' }],
  ['a small double', 1e-7, { N: '1e-7' }],
  ['a bigint past 2^53', 12345678901234567890123n, { N: '12345678901234567890123' }],
  ['a negative bigint', -9007199254740993n, { N: '-9007199254740993' }],
  ['a NumberValue', new NumberValue('1234567890.0987654321'), { N: '1234567890.0987654321' }],
  [
    'a NumberValue from another copy of the SDK',
    new ForeignNumberValue('98765432109876543210'),
    { N: '98765432109876543210' },
  ],
  ['true', true, { BOOL: true }],
  ['false', false, { BOOL: false }],
  ['null', null, { NULL: true }],
  ['undefined (left out)', undefined, undefined],
  ['a Uint8Array', new Uint8Array([1, 2]), { B: new Uint8Array([1, 2]) }],
  ['a Buffer', Buffer.from([3]), { B: Buffer.from([3]) }],
  ['an ArrayBuffer', new Uint8Array([4, 5]).buffer, { B: new Uint8Array([4, 5]) }],
  ['an array', [1, 'a', null, [true]], { L: [{ N: '1' }, { S: 'a' }, { NULL: true }, { L: [{ BOOL: true }] }] }],
  ['an empty array', [], { L: [] }],
  ['a plain object', { a: 1, b: { c: 'd' }, u: undefined }, { M: { a: { N: '1' }, b: { M: { c: { S: 'd' } } } } }],
  ['an empty object', {}, { M: {} }],
  ['a Map', new Map<string, unknown>([['k', 1]]), { M: { k: { N: '1' } } }],
  ['a Set of strings', new Set(['a', 'b']), { SS: ['a', 'b'] }],
  ['a Set of numbers, bigints and NumberValues', new Set([1, 2n, new NumberValue('3.5')]), { NS: ['1', '2', '3.5'] }],
  [
    'a Set of Uint8Arrays',
    new Set([new Uint8Array([1]), new Uint8Array([2])]),
    { BS: [new Uint8Array([1]), new Uint8Array([2])] },
  ],
  ['31 levels of maps under the item (32 in all)', nested(31), nested31()],
];

function nested31(): AttributeValue {
  let value: AttributeValue = { S: 'leaf' };
  for (let i = 0; i < 31; i++) value = { M: { d: value } };
  return value;
}

const refused: [label: string, value: unknown, code: string, message: RegExp][] = [
  ['NaN', Number.NaN, 'TRANSFORM_VALUE', /^Attribute `v`: Expected a finite number, got NaN$/],
  ['Infinity', Number.POSITIVE_INFINITY, 'TRANSFORM_VALUE', /`v`.*Infinity/],
  ['2^53 as a number (already rounded)', 2 ** 53, 'TRANSFORM_VALUE', /`v`.*bigint or NumberValue.*9007199254740992/],
  ['1e21 as a number', 1e21, 'TRANSFORM_VALUE', /`v`.*1e\+21/],
  ['a bigint of 39 digits', 10n ** 38n + 1n, 'NUMBER_PRECISION', /^Attribute `v`: .*38 significant digits/],
  ['a NumberValue out of range', new ForeignNumberValue('1e126'), 'NUMBER_RANGE', /`v`/],
  ['an empty Set', new Set(), 'TRANSFORM_VALUE', /`v`.*empty Set/],
  ['a mixed Set', new Set(['a', 1]), 'TRANSFORM_VALUE', /`v`.*mixed Set/],
  ['a Set of booleans', new Set([true]), 'TRANSFORM_VALUE', /`v`/],
  ['a Date', new Date(0), 'TRANSFORM_VALUE', /`v`.*toISOString.*Date/],
  [
    'a class instance',
    new (class Point {
      x = 1;
    })(),
    'TRANSFORM_VALUE',
    /`v`.*instance of Point/,
  ],
  ['a function', () => 1, 'TRANSFORM_VALUE', /`v`.*function/],
  ['a symbol', Symbol('s'), 'TRANSFORM_VALUE', /`v`.*symbol/],
  ['undefined inside a list', [1, undefined], 'TRANSFORM_VALUE', /`v\[1\]`.*undefined/],
  ['a bad value deep inside', { a: [{ b: Number.NaN }] }, 'TRANSFORM_VALUE', /`v\.a\[0\]\.b`/],
  ['33 levels of maps', nested(32), 'TRANSFORM_VALUE', /32 levels/],
];

function refuses(value: unknown, code: string, message: RegExp): void {
  assert.throws(
    () => marshalItem(value),
    (error: DynaloadError) => {
      assert.equal(error.code, code);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('marshalItem', () => {
  for (const [label, value, expected] of accepted) {
    test(`accepts ${label}`, () => {
      assert.deepEqual(
        marshalItem({ id: 'k', v: value }),
        expected === undefined ? { id: { S: 'k' } } : { id: { S: 'k' }, v: expected },
      );
    });
  }
  for (const [label, value, code, message] of refused) {
    test(`refuses ${label} with ${code}`, () => refuses({ id: 'k', v: value }, code, message));
  }

  test('the error context names the attribute', () => {
    assert.throws(
      () => marshalItem({ a: { b: Number.NaN } }),
      (error: DynaloadError) => error.context.attribute === 'a.b',
    );
  });

  const results: [string, unknown, RegExp][] = [
    ['a string', 'x', /string `x`/],
    ['a number', 1, /number `1`/],
    ['null', null, /null/],
    ['an array', [{}], /an array/],
    ['a Date', new Date(0), /Date/],
    ['a Map', new Map(), /Map/],
  ];
  for (const [label, value, message] of results) {
    test(`refuses ${label} as the item itself with TRANSFORM_RESULT`, () =>
      refuses(value, 'TRANSFORM_RESULT', message));
  }

  test('accepts an object without a prototype', () => {
    const item = Object.assign(Object.create(null) as Record<string, unknown>, { id: 'k' });
    assert.deepEqual(marshalItem(item), { id: { S: 'k' } });
  });
});

describe('unmarshalValue (rows handed to transforms)', () => {
  test('numbers a double holds exactly become numbers; others NumberValue with the exact text', () => {
    assert.equal(unmarshalValue({ N: '1.5' }), 1.5);
    assert.equal(unmarshalValue({ N: '-7' }), -7);
    for (const text of ['12345678901234567890', '1.50', '1e3', '0.10000000000000000001']) {
      const value = unmarshalValue({ N: text });
      assert.ok(value instanceof NumberValue, text);
      assert.equal(String(value), text);
    }
  });

  test('every type back to its JavaScript value', () => {
    const row = unmarshalMap({
      s: { S: 'a' },
      b: { BOOL: false },
      z: { NULL: true },
      bin: { B: new Uint8Array([1]) },
      l: { L: [{ N: '1' }, { S: 'x' }] },
      m: { M: { k: { S: 'v' } } },
      ss: { SS: ['a'] },
      ns: { NS: ['2'] },
      bs: { BS: [new Uint8Array([2])] },
    });
    assert.deepEqual(row, {
      s: 'a',
      b: false,
      z: null,
      bin: new Uint8Array([1]),
      l: [1, 'x'],
      m: { k: 'v' },
      ss: new Set(['a']),
      ns: new Set([2]),
      bs: new Set([new Uint8Array([2])]),
    });
  });

  test('an item survives unmarshal then marshal unchanged (exact numbers included)', () => {
    const item = {
      id: { S: 'k' },
      big: { N: '12345678901234567890' },
      d: { N: '0.5' },
      l: { L: [{ N: '99999999999999999999' }] },
    };
    assert.deepEqual(marshalItem(unmarshalMap(item)), item);
  });
});
