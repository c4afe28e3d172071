import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  countSignificantDigits,
  isCanonicalInteger,
  numberSize,
  parseDynamoNumber,
} from '../../src/pipeline/number.js';

// Expected values are worked out by hand from DynamoDB's rules: significant digits exclude leading
// and trailing zeros; canonical is plain decimal notation without redundant zeros or sign.
const NINES_38 = '9'.repeat(38);

const valid: Array<[text: string, canonical: string, digits: number]> = [
  ['12345', '12345', 5],
  ['12345678901234567890', '12345678901234567890', 19],
  ['00123', '123', 3],
  ['1', '1', 1],
  ['1.0', '1', 1],
  ['01', '1', 1],
  ['+1', '1', 1],
  ['1e0', '1', 1],
  ['10E-1', '1', 1],
  ['1e+5', '100000', 1],
  ['1E0000000000000000000000005', '100000', 1],
  ['0', '0', 1],
  ['-0', '0', 1],
  ['0.000', '0', 1],
  ['+0e10', '0', 1],
  ['-0.0e-999999999999999999999', '0', 1],
  ['0e999999999999999999999999', '0', 1],
  ['-12.340e1', '-123.4', 4],
  ['-0012.5000', '-12.5', 3],
  ['.5', '0.5', 1],
  ['5.', '5', 1],
  ['1.5e-3', '0.0015', 2],
  ['12300', '12300', 3],
  ['-7', '-7', 1],
  [NINES_38, NINES_38, 38],
  [`1${'0'.repeat(36)}1`, `1${'0'.repeat(36)}1`, 38],
  [`${'1'.repeat(38)}000`, `${'1'.repeat(38)}000`, 38],
  [`0.000${'7'.repeat(38)}`, `0.000${'7'.repeat(38)}`, 38],
  ['1e-130', `0.${'0'.repeat(129)}1`, 1],
  ['-1e-130', `-0.${'0'.repeat(129)}1`, 1],
  ['0.1e-129', `0.${'0'.repeat(129)}1`, 1],
  ['100e-132', `0.${'0'.repeat(129)}1`, 1],
  ['1e125', `1${'0'.repeat(125)}`, 1],
  [`9.${'9'.repeat(37)}e125`, `${NINES_38}${'0'.repeat(88)}`, 38],
  [`-9.${'9'.repeat(37)}E+125`, `-${NINES_38}${'0'.repeat(88)}`, 38],
];

const RANGE =
  'Expected a number whose magnitude is 0 or between 1E-130 and 9.9999999999999999999999999999999999999E+125, got';
const NOT_A_NUMBER = 'Expected a decimal number such as `-12.5` or `1e3`, got';

const invalid: Array<[text: string, code: string, message: string]> = [
  ['', 'NUMBER_INVALID', `${NOT_A_NUMBER} an empty string`],
  [' 1', 'NUMBER_INVALID', `${NOT_A_NUMBER} \` 1\``],
  ['1 ', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`1 \``],
  ['0x10', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`0x10\``],
  ['Infinity', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`Infinity\``],
  ['-Infinity', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`-Infinity\``],
  ['NaN', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`NaN\``],
  ['-', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`-\``],
  ['+', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`+\``],
  ['.', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`.\``],
  ['e5', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`e5\``],
  ['1e', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`1e\``],
  ['1e+', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`1e+\``],
  ['1.2.3', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`1.2.3\``],
  ['--1', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`--1\``],
  ['1,5', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`1,5\``],
  ['1_000', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`1_000\``],
  ['\uff11', 'NUMBER_INVALID', `${NOT_A_NUMBER} \`\uff11\``],
  ['x'.repeat(100), 'NUMBER_INVALID', `${NOT_A_NUMBER} \`${'x'.repeat(45)}...\``],
  [
    '1'.repeat(39),
    'NUMBER_PRECISION',
    `Expected a number with at most 38 significant digits, got \`${'1'.repeat(39)}\` (39 digits)`,
  ],
  [
    `1${'0'.repeat(37)}1`,
    'NUMBER_PRECISION',
    `Expected a number with at most 38 significant digits, got \`1${'0'.repeat(37)}1\` (39 digits)`,
  ],
  [
    '1234567890123456789012345678901234567890.5',
    'NUMBER_PRECISION',
    'Expected a number with at most 38 significant digits, got `1234567890123456789012345678901234567890.5` (41 digits)',
  ],
  [
    `9.${'9'.repeat(38)}e125`,
    'NUMBER_PRECISION',
    `Expected a number with at most 38 significant digits, got \`9.${'9'.repeat(38)}e125\` (39 digits)`,
  ],
  ['1e-131', 'NUMBER_RANGE', `${RANGE} \`1e-131\``],
  ['0.01e-129', 'NUMBER_RANGE', `${RANGE} \`0.01e-129\``],
  ['1e126', 'NUMBER_RANGE', `${RANGE} \`1e126\``],
  ['10e125', 'NUMBER_RANGE', `${RANGE} \`10e125\``],
  ['-1e126', 'NUMBER_RANGE', `${RANGE} \`-1e126\``],
  ['1e999999999999', 'NUMBER_RANGE', `${RANGE} \`1e999999999999\``],
  ['1e99999999999999999999999999', 'NUMBER_RANGE', `${RANGE} \`1e99999999999999999999999999\``],
  ['-5e-99999999999999999999999999', 'NUMBER_RANGE', `${RANGE} \`-5e-99999999999999999999999999\``],
];

describe('parseDynamoNumber', () => {
  for (const [text, canonical, digits] of valid) {
    test(`accepts ${text.slice(0, 30)} as ${canonical.slice(0, 30)}`, () => {
      assert.deepEqual(parseDynamoNumber(text), { text, canonical, digits });
    });
  }

  for (const [text, code, message] of invalid) {
    test(`rejects ${JSON.stringify(text.slice(0, 30))} with ${code}`, () => {
      assert.throws(() => parseDynamoNumber(text), { name: 'DynaloadError', code, message });
    });
  }

  test('numbers DynamoDB treats as one key share a canonical form', () => {
    const groups = [
      ['1', '1.0', '01', '+1', '1e0', '10E-1', '0.1e1', '100e-2'],
      ['0', '-0', '0.000', '+0e10', '.0'],
      ['-2.5', '-25e-1', '-0002.50'],
    ];
    for (const group of groups) {
      assert.deepEqual(new Set(group.map((text) => parseDynamoNumber(text).canonical)).size, 1, group.join(' '));
    }
    assert.notEqual(parseDynamoNumber('1').canonical, parseDynamoNumber('-1').canonical);
    assert.notEqual(parseDynamoNumber('1').canonical, parseDynamoNumber('1.01').canonical);
  });

  test('megabyte-long texts are decided without floating point', () => {
    assert.throws(() => parseDynamoNumber(`1${'0'.repeat(1_000_000)}`), { code: 'NUMBER_RANGE' });
    assert.throws(() => parseDynamoNumber(`0.${'0'.repeat(1_000_000)}1`), { code: 'NUMBER_RANGE' });
    assert.throws(() => parseDynamoNumber('1'.repeat(1_000_000)), {
      code: 'NUMBER_PRECISION',
      message: /\(1000000 digits\)$/,
    });
    // A long run of zeros moved back into range by the exponent.
    assert.equal(parseDynamoNumber(`1${'0'.repeat(1_000_000)}e-1000000`).canonical, '1');
    assert.equal(parseDynamoNumber(`0.${'0'.repeat(999_999)}1e1000000`).canonical, '1');
  });

  test('context names the value, cut short when long', () => {
    assert.throws(() => parseDynamoNumber('7'.repeat(60)), { context: { value: `${'7'.repeat(45)}...`, digits: 60 } });
  });
});

describe('countSignificantDigits', () => {
  for (const [text, , digits] of valid) {
    test(`${text.slice(0, 30)} has ${digits}`, () => assert.equal(countSignificantDigits(text), digits));
  }
});

describe('numberSize', () => {
  // ceil(digits / 2) + 1
  const sizes: Array<[text: string, size: number]> = [
    ['0', 2],
    ['7', 2],
    ['12', 2],
    ['123', 3],
    ['12300', 3],
    ['0.00015', 2],
    ['1234', 3],
    [NINES_38, 20],
    ['12345678901234567890', 11],
  ];
  for (const [text, size] of sizes) {
    test(`${text} takes ${size} bytes`, () => assert.equal(numberSize(parseDynamoNumber(text)), size));
  }
});

describe('isCanonicalInteger', () => {
  // Told without parsing: it must never say yes where parseDynamoNumber would refuse the text or
  // write it another way, or a cell would be sent, or a key compared, unchecked.
  const integerish = fc.string({ unit: fc.constantFrom('-', '+', '0', '1', '9', '.', 'e', ' '), maxLength: 42 });
  test('yes only for a valid number that is its own canonical form', () => {
    fc.assert(
      fc.property(fc.oneof(integerish, fc.string(), fc.string({ unit: 'binary' })), (text) => {
        if (!isCanonicalInteger(text)) return;
        const parsed = parseDynamoNumber(text);
        assert.equal(parsed.canonical, text);
        assert.equal(parsed.text, text);
      }),
      { numRuns: 20_000 },
    );
  });

  test('yes for every integer of up to 38 digits as String() writes it', () => {
    const max = 10n ** 38n - 1n;
    fc.assert(fc.property(fc.bigInt(-max, max), (n) => assert.equal(isCanonicalInteger(String(n)), true)));
  });

  const refused = [
    '',
    '-',
    '-0',
    '00',
    '007',
    '+5',
    '1.0',
    '1e3',
    ' 1',
    '1 ',
    '\u22125',
    '\u0663',
    '9'.repeat(39),
    '-' + '9'.repeat(39),
  ];
  for (const text of refused) {
    test(`no for \`${text.slice(0, 12)}\`${text.length > 12 ? '...' : ''}`, () =>
      assert.equal(isCanonicalInteger(text), false));
  }
});
