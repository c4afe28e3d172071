import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MAX_ITEM_BYTES, attributeValueSize, itemSize } from '../../src/pipeline/item-size.js';

type Item = Record<string, AttributeValue>;

// Sizes worked out by hand from
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
// name bytes + value: S utf8, N ceil(digits/2)+1, B raw bytes, BOOL/NULL 1, sets the sum of their
// elements, L/M 3 + per element 1 (+ key bytes for M).
const items: Array<[label: string, item: Item, size: number]> = [
  ['empty item', {}, 0],
  ['ASCII string', { a: { S: 'hello' } }, 1 + 5],
  ['multi-byte name and string', { é: { S: '日本' } }, 2 + 6],
  ['empty string', { s: { S: '' } }, 1 + 0],
  // An emoji is 4 bytes; a lone surrogate is sent as U+FFFD, 3 bytes.
  ['emoji and lone surrogate', { e: { S: '\u{1f600}\ud800' } }, 1 + 4 + 3],
  ['long string', { long: { S: `${'a'.repeat(100)}é` } }, 4 + 102],
  ['3-digit number', { n: { N: '123' } }, 1 + 3],
  ['trailing zeros do not count', { n: { N: '12300' } }, 1 + 3],
  ['leading zeros do not count', { n: { N: '0.00015' } }, 1 + 2],
  ['exponent does not count', { n: { N: '-1.5E+100' } }, 1 + 2],
  ['38 digits', { n: { N: '9'.repeat(38) } }, 1 + 20],
  ['zero counts as one digit', { n: { N: '-0' } }, 1 + 2],
  ['binary', { b: { B: new Uint8Array(10) } }, 1 + 10],
  ['boolean', { t: { BOOL: true } }, 1 + 1],
  ['null', { z: { NULL: true } }, 1 + 1],
  ['empty list', { l: { L: [] } }, 1 + 3],
  ['empty map', { m: { M: {} } }, 1 + 3],
  ['list', { l: { L: [{ S: 'ab' }, { N: '1' }] } }, 1 + 3 + (1 + 2) + (1 + 2)],
  ['map', { m: { M: { k: { S: 'v' }, kk: { BOOL: false } } } }, 1 + 3 + (1 + 1 + 1) + (1 + 2 + 1)],
  ['nested', { doc: { M: { a: { L: [{ M: {} }] } } } }, 3 + 3 + (1 + 1 + (3 + (1 + 3)))],
  ['string set', { ss: { SS: ['a', 'bc'] } }, 2 + 3],
  ['number set', { ns: { NS: ['1', '22', '333'] } }, 2 + (2 + 2 + 3)],
  ['binary set', { bs: { BS: [new Uint8Array(2), new Uint8Array(3)] } }, 2 + 5],
  ['several attributes', { id: { S: 'x1' }, n: { N: '5' } }, 2 + 2 + (1 + 2)],
];

describe('itemSize', () => {
  for (const [label, item, size] of items) {
    test(`${label}: ${size} bytes`, () => assert.equal(itemSize(item), size));
  }

  test('attributeValueSize leaves the name out', () => {
    assert.equal(attributeValueSize({ S: 'abc' }), 3);
    assert.equal(attributeValueSize({ L: [{ NULL: true }] }), 3 + 1 + 1);
  });

  test('an AttributeValue with no known type is an error', () => {
    assert.throws(() => attributeValueSize({} as AttributeValue), {
      code: 'ATTRIBUTE_INVALID',
      message: 'Expected an AttributeValue with one of S, N, B, BOOL, NULL, M, L, SS, NS, BS, got keys ``',
    });
  });

  test('the item limit is 400 KB', () => assert.equal(MAX_ITEM_BYTES, 409_600));
});
