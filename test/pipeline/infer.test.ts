import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InferTally, inferCell, isCanonicalNumber, mixedColumnMessage } from '../../src/pipeline/infer.js';

// A cell becomes N only when DynamoDB gives the same text back, BOOL only for
// exactly `true`/`false`; everything else stays S, so inference never changes a value.
const cases: [cell: string, expected: AttributeValue, why: string][] = [
  ['00123', { S: '00123' }, 'leading zeros would be lost'],
  ['1e5', { S: '1e5' }, 'read back as 100000'],
  ['+7', { S: '+7' }, 'read back as 7'],
  ['1.50', { S: '1.50' }, 'read back as 1.5'],
  ['1.0', { S: '1.0' }, 'read back as 1'],
  ['-0', { S: '-0' }, 'read back as 0'],
  ['.5', { S: '.5' }, 'read back as 0.5'],
  ['5.', { S: '5.' }, 'read back as 5'],
  [
    '12345678901234567890123456789012345678901',
    { S: '12345678901234567890123456789012345678901' },
    '41 digits: past 38 significant digits',
  ],
  ['123456789012345678901234567890123456789', { S: '123456789012345678901234567890123456789' }, '39 digits'],
  [' 1', { S: ' 1' }, 'spaces are text'],
  ['1 ', { S: '1 ' }, 'spaces are text'],
  ['0x10', { S: '0x10' }, 'hex'],
  ['Infinity', { S: 'Infinity' }, 'not a DynamoDB number'],
  ['NaN', { S: 'NaN' }, 'not a DynamoDB number'],
  ['', { S: '' }, 'empty'],
  ['0', { N: '0' }, 'zero'],
  ['-12.5', { N: '-12.5' }, 'canonical decimal'],
  ['0.001', { N: '0.001' }, 'canonical decimal below 1'],
  ['12345678901234567890', { N: '12345678901234567890' }, 'past 2^53, exact as text'],
  ['12345678901234567890123456789012345678', { N: '12345678901234567890123456789012345678' }, '38 digits'],
  ['-9007199254740993', { N: '-9007199254740993' }, 'negative past 2^53'],
  ['true', { BOOL: true }, 'boolean'],
  ['false', { BOOL: false }, 'boolean'],
  ['TRUE', { S: 'TRUE' }, 'only lower case is a boolean'],
  ['False', { S: 'False' }, 'only lower case is a boolean'],
  ['yes', { S: 'yes' }, 'not a boolean'],
  ['1', { N: '1' }, '1 is a number, not a boolean'],
];

describe('inferCell', () => {
  for (const [cell, expected, why] of cases) {
    test(`${JSON.stringify(cell)} -> ${JSON.stringify(expected)} (${why})`, () => {
      assert.deepEqual(inferCell(cell), expected);
    });
  }
});

describe('isCanonicalNumber', () => {
  test("numbers outside DynamoDB's range (1E-130 to below 1E+126) are not numbers", () => {
    assert.equal(isCanonicalNumber(`0.${'0'.repeat(130)}1`), false, '1E-131');
    assert.equal(isCanonicalNumber(`1${'0'.repeat(126)}`), false, '1E+126');
  });
});

describe('InferTally', () => {
  test('counts the type chosen per column, with the first example of each; only mixed columns are listed', () => {
    const tally = new InferTally();
    const zip = tally.infer('zip');
    const n = tally.infer('n');
    for (const cell of ['00123', '42', '7', 'true']) zip(cell);
    assert.deepEqual(n('5'), { N: '5' });
    assert.deepEqual(tally.mixed(), [
      {
        column: 'zip',
        types: [
          { type: 'N', count: 2, example: '42' },
          { type: 'S', count: 1, example: '00123' },
          { type: 'BOOL', count: 1, example: 'true' },
        ],
      },
    ]);
  });

  test('the warning names the column, the types with counts and examples, and the option that gives one type', () => {
    const message = mixedColumnMessage({
      column: 'zip',
      types: [
        { type: 'N', count: 2, example: '42' },
        { type: 'S', count: 1, example: '00123' },
      ],
    });
    assert.equal(
      message,
      '--infer decides per cell: column `zip` was written as N in 2 (e.g. `42`), S in 1 (e.g. `00123`); for one type in every item, give it one (`--types zip:S`, or `types` in a mapping file)',
    );
  });
});
