import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { jsonToAttributeValue, jsonToSet } from '../../src/pipeline/exact-json.js';

const valid: Array<[text: string, expected: AttributeValue]> = [
  ['123', { N: '123' }],
  ['12345678901234567890', { N: '12345678901234567890' }],
  ['-0', { N: '-0' }],
  ['1.50', { N: '1.50' }],
  ['1E+2', { N: '1E+2' }],
  ['"a"', { S: 'a' }],
  ['""', { S: '' }],
  ['"a\\n\\t\\"\\\\\\/\\b\\f\\r\\u00e9\\ud83d\\ude00"', { S: 'a\n\t"\\/\b\f\ré\u{1f600}' }],
  ['"日本"', { S: '日本' }],
  ['true', { BOOL: true }],
  ['false', { BOOL: false }],
  ['null', { NULL: true }],
  ['[]', { L: [] }],
  ['{}', { M: {} }],
  [' \t\r\n[ 1 , "x" ] \n', { L: [{ N: '1' }, { S: 'x' }] }],
  [
    '{"a":[1,{"b":null}],"c":{"d":"e","f":[[true]]}}',
    {
      M: {
        a: { L: [{ N: '1' }, { M: { b: { NULL: true } } }] },
        c: { M: { d: { S: 'e' }, f: { L: [{ L: [{ BOOL: true }] }] } } },
      },
    },
  ],
  [
    '{"n":123456789012345678901234567890,"m":[-0.000000000000000000001e-100]}',
    { M: { n: { N: '123456789012345678901234567890' }, m: { L: [{ N: '-0.000000000000000000001e-100' }] } } },
  ],
  ['{"a":1,"a":2}', { M: { a: { N: '2' } } }],
  [`${'['.repeat(32)}${']'.repeat(32)}`, nestedLists(32)],
];

const VALUE = 'Expected a JSON value at position';
const NUMBER = 'Expected a JSON number such as `0`, `-1.5` or `2e10` at position';

const invalid: Array<[text: string, code: string, message: string]> = [
  ['', 'JSON_INVALID', `${VALUE} 0, got end of input`],
  ['   ', 'JSON_INVALID', `${VALUE} 3, got end of input`],
  ['[1,]', 'JSON_INVALID', `${VALUE} 3, got \`]\``],
  ['[1 2]', 'JSON_INVALID', 'Expected `,` or `]` at position 3, got `2`'],
  ['[1', 'JSON_INVALID', 'Expected `,` or `]` at position 2, got end of input'],
  ['{"a" 1}', 'JSON_INVALID', 'Expected `:` at position 5, got `1`'],
  ['{a:1}', 'JSON_INVALID', 'Expected a `"` starting a key at position 1, got `a`'],
  ['{"a":1,}', 'JSON_INVALID', 'Expected a `"` starting a key at position 7, got `}`'],
  ['{"a":1 "b":2}', 'JSON_INVALID', 'Expected `,` or `}` at position 7, got `"`'],
  ["{'a':1}", 'JSON_INVALID', 'Expected a `"` starting a key at position 1, got `\'`'],
  ['"abc', 'JSON_INVALID', 'Expected a closing `"` at position 4, got end of input'],
  ['"a\tb"', 'JSON_INVALID', 'Expected a printable character or an escape such as \\n at position 2, got `\\t`'],
  ['"\\x"', 'JSON_INVALID', 'Expected an escape such as \\n, \\" or \\u00e9 at position 2, got `x`'],
  ['"\\u12g4"', 'JSON_INVALID', 'Expected four hex digits after `\\u` at position 3, got `12g4`'],
  ['01', 'JSON_INVALID', `${NUMBER} 0, got \`01\``],
  ['[1.]', 'JSON_INVALID', `${NUMBER} 1, got \`1.\``],
  ['1e', 'JSON_INVALID', `${NUMBER} 0, got \`1e\``],
  ['-', 'JSON_INVALID', `${NUMBER} 0, got \`-\``],
  ['-x', 'JSON_INVALID', `${NUMBER} 0, got \`-x\``],
  ['+1', 'JSON_INVALID', `${VALUE} 0, got \`+\``],
  ['.5', 'JSON_INVALID', `${VALUE} 0, got \`.\``],
  ['NaN', 'JSON_INVALID', `${VALUE} 0, got \`N\``],
  ['Infinity', 'JSON_INVALID', `${VALUE} 0, got \`I\``],
  ['tru', 'JSON_INVALID', `${VALUE} 0, got \`t\``],
  ['0x10', 'JSON_INVALID', 'Expected end of input at position 1, got `x`'],
  ['[1] x', 'JSON_INVALID', 'Expected end of input at position 4, got `x`'],
  ['"a" "b"', 'JSON_INVALID', 'Expected end of input at position 4, got `"`'],
  [
    '[1, 1e126]',
    'NUMBER_RANGE',
    'Expected a number whose magnitude is 0 or between 1E-130 and 9.9999999999999999999999999999999999999E+125, got `1e126` at position 4',
  ],
  [
    '{"n": 1e-131}',
    'NUMBER_RANGE',
    'Expected a number whose magnitude is 0 or between 1E-130 and 9.9999999999999999999999999999999999999E+125, got `1e-131` at position 6',
  ],
  [
    '{"n": 1234567890123456789012345678901234567890}',
    'NUMBER_PRECISION',
    'Expected a number with at most 38 significant digits, got `1234567890123456789012345678901234567890` (39 digits) at position 6',
  ],
  [
    `${'['.repeat(33)}${']'.repeat(33)}`,
    'JSON_DEPTH',
    'Expected at most 32 nested arrays or objects, got more at position 32',
  ],
  [
    `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`,
    'JSON_DEPTH',
    'Expected at most 32 nested arrays or objects, got more at position 160',
  ],
];

describe('jsonToAttributeValue', () => {
  for (const [text, expected] of valid) {
    test(`maps ${text.slice(0, 40)}`, () => assert.deepEqual(jsonToAttributeValue(text), expected));
  }

  for (const [text, code, message] of invalid) {
    test(`rejects ${JSON.stringify(text.slice(0, 40))} with ${code}`, () => {
      assert.throws(() => jsonToAttributeValue(text), { name: 'DynaloadError', code, message });
    });
  }

  test('error context carries the position', () => {
    assert.throws(() => jsonToAttributeValue('[1,]'), {
      context: { position: 3, expected: 'a JSON value', found: '`]`' },
    });
    assert.throws(() => jsonToAttributeValue('[1e126]'), { context: { position: 1, value: '1e126' } });
  });

  test('a key named __proto__ stays an own attribute', () => {
    const value = jsonToAttributeValue('{"__proto__":{"x":1}}');
    assert.ok(value.M);
    assert.deepEqual(Object.keys(value.M), ['__proto__']);
    assert.equal(Object.getPrototypeOf(value.M), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(value.M, '__proto__')?.value, { M: { x: { N: '1' } } });
  });

  test('deep nesting fails cleanly instead of overflowing the stack', () => {
    assert.throws(() => jsonToAttributeValue('['.repeat(100_000)), { code: 'JSON_DEPTH' });
  });
});

const sets: Array<[kind: 'SS' | 'NS' | 'BS', text: string, expected: AttributeValue]> = [
  ['SS', '["a","b"]', { SS: ['a', 'b'] }],
  ['SS', '[""]', { SS: [''] }],
  ['NS', '[1, "2.50", 12345678901234567890]', { NS: ['1', '2.50', '12345678901234567890'] }],
  ['NS', '["-0"]', { NS: ['-0'] }],
  ['BS', '["AQID", "/w==", "QQ"]', { BS: [new Uint8Array([1, 2, 3]), new Uint8Array([255]), new Uint8Array([65])] }],
  ['BS', '[""]', { BS: [new Uint8Array([])] }],
];

const setErrors: Array<[kind: 'SS' | 'NS' | 'BS', text: string, code: string, message: string]> = [
  ['SS', '[]', 'SET_EMPTY', 'Expected at least one element in a string set, got `[]` (DynamoDB has no empty sets)'],
  ['BS', ' [ ] ', 'SET_EMPTY', 'Expected at least one element in a binary set, got `[]` (DynamoDB has no empty sets)'],
  [
    'SS',
    '["a","b","a"]',
    'SET_DUPLICATE',
    'Expected distinct elements in a string set, got the string `a` at index 2, equal to the element at index 0',
  ],
  [
    'NS',
    '[1, 1.0]',
    'SET_DUPLICATE',
    'Expected distinct elements in a number set, got the number `1.0` at index 1, equal to the element at index 0',
  ],
  [
    'NS',
    '["-0", 0]',
    'SET_DUPLICATE',
    'Expected distinct elements in a number set, got the number `0` at index 1, equal to the element at index 0',
  ],
  [
    'NS',
    '[100, "1e2"]',
    'SET_DUPLICATE',
    'Expected distinct elements in a number set, got the string `1e2` at index 1, equal to the element at index 0',
  ],
  [
    'BS',
    '["QQ==","QQ"]',
    'SET_DUPLICATE',
    'Expected distinct elements in a binary set, got the string `QQ` at index 1, equal to the element at index 0',
  ],
  ['SS', '["a", 1]', 'SET_ELEMENT', 'Expected a string at index 1 of a string set, got the number `1`'],
  ['SS', '[null]', 'SET_ELEMENT', 'Expected a string at index 0 of a string set, got `null`'],
  ['NS', '[true]', 'SET_ELEMENT', 'Expected a number or a string holding one at index 0 of a number set, got `true`'],
  ['NS', '[[1]]', 'SET_ELEMENT', 'Expected a number or a string holding one at index 0 of a number set, got an array'],
  [
    'BS',
    '["not base64!"]',
    'SET_ELEMENT',
    'Expected a base64 string at index 0 of a binary set, got the string `not base64!`',
  ],
  ['BS', '["QQ="]', 'SET_ELEMENT', 'Expected a base64 string at index 0 of a binary set, got the string `QQ=`'],
  ['BS', '[{}]', 'SET_ELEMENT', 'Expected a base64 string at index 0 of a binary set, got an object'],
  ['NS', '["abc"]', 'NUMBER_INVALID', 'Expected a decimal number such as `-12.5` or `1e3`, got `abc` at index 0'],
  ['NS', '[1, " 2"]', 'NUMBER_INVALID', 'Expected a decimal number such as `-12.5` or `1e3`, got ` 2` at index 1'],
  [
    'NS',
    '["1e126"]',
    'NUMBER_RANGE',
    'Expected a number whose magnitude is 0 or between 1E-130 and 9.9999999999999999999999999999999999999E+125, got `1e126` at index 0',
  ],
  [
    'NS',
    '[1e126]',
    'NUMBER_RANGE',
    'Expected a number whose magnitude is 0 or between 1E-130 and 9.9999999999999999999999999999999999999E+125, got `1e126` at position 1',
  ],
  ['SS', '"a"', 'SET_INVALID', 'Expected a JSON array for a string set, got the string `a`'],
  ['NS', '{}', 'SET_INVALID', 'Expected a JSON array for a number set, got an object'],
  ['BS', '7', 'SET_INVALID', 'Expected a JSON array for a binary set, got the number `7`'],
  ['SS', 'a,b', 'JSON_INVALID', 'Expected a JSON value at position 0, got `a`'],
  ['SS', '["a"', 'JSON_INVALID', 'Expected `,` or `]` at position 4, got end of input'],
];

describe('jsonToSet', () => {
  for (const [kind, text, expected] of sets) {
    test(`${kind} ${text}`, () => assert.deepEqual(jsonToSet(kind, text), expected));
  }

  for (const [kind, text, code, message] of setErrors) {
    test(`${kind} ${text} fails with ${code}`, () => {
      assert.throws(() => jsonToSet(kind, text), { name: 'DynaloadError', code, message });
    });
  }

  test('error context carries the index', () => {
    assert.throws(() => jsonToSet('SS', '["a","a"]'), { context: { kind: 'SS', index: 1, previous: 0 } });
    assert.throws(() => jsonToSet('NS', '[1,"x"]'), { context: { index: 1, value: 'x' } });
  });
});

function nestedLists(depth: number): AttributeValue {
  let value: AttributeValue = { L: [] };
  for (let i = 1; i < depth; i++) value = { L: [value] };
  return value;
}
