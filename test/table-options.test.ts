// The options of a table dynaload creates: parsed keys, and --billing/--wcu/--rcu declared once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capacityOptions, parseKeySpec } from '../src/table-options.js';

describe('parseKeySpec', () => {
  const good: Array<[string, { name: string; type: string }]> = [
    ['user:N', { name: 'user', type: 'N' }],
    ['sk:S', { name: 'sk', type: 'S' }],
    ['blob:b', { name: 'blob', type: 'B' }],
    [' user : n ', { name: 'user', type: 'N' }],
    ['a:b:S', { name: 'a:b', type: 'S' }],
  ];
  for (const [text, expected] of good) test(`\`${text}\``, () => assert.deepEqual(parseKeySpec(text), expected));

  const bad: Array<[text: string, option: string | undefined]> = [
    ['x', undefined],
    ['user', undefined],
    ['user:', undefined],
    [':N', undefined],
    ['user:BOOL', undefined],
    ['user:SS', '--sort-key'],
    ['', undefined],
  ];
  for (const [text, option] of bad) {
    test(`\`${text}\` is a usage error`, () => {
      assert.throws(() => parseKeySpec(text, option), {
        code: 'OPTION_INVALID',
        exitCode: 2,
        message: `Expected \`${option ?? '--key'}\` like \`name:S|N|B\`, got \`${text}\``,
        context: { option: option ?? '--key', value: text },
      });
    });
  }
});

describe('capacityOptions', () => {
  test('the same three options, worded for the table the command creates', () => {
    const options = capacityOptions({ billing: 'the new table', provisioned: 'a provisioned new table' });
    assert.deepEqual(
      options.map((o) => [o.flags, o.description, o.defaultValue, o.argChoices]),
      [
        ['--billing <mode>', 'billing of the new table', 'on-demand', ['on-demand', 'provisioned']],
        ['--wcu <n>', 'write capacity of a provisioned new table', undefined, undefined],
        ['--rcu <n>', 'read capacity of a provisioned new table (default: --wcu)', undefined, undefined],
      ],
    );
  });
});
