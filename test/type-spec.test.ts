import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ATTRIBUTE_TYPES, parseTypeSpec } from '../src/type-spec.js';

// The type spec: `user:N,series:N,moddt:S`, types S, N, BOOL, NULL, and JSON for L/M/SS/NS.
const ENTRY =
  'Expected `--types` entries like `column:TYPE` with TYPE one of S, N, B, BOOL, NULL, JSON, L, M, SS, NS, BS, got';

describe('parseTypeSpec', () => {
  const good: Array<[text: string, expected: Record<string, string>]> = [
    ['user:N,series:N,moddt:S', { user: 'N', series: 'N', moddt: 'S' }],
    ['', {}],
    ['a:n', { a: 'N' }],
    ['a:bool,b:null,c:json', { a: 'BOOL', b: 'NULL', c: 'JSON' }],
    ['l:L,m:M,ss:SS,ns:NS,bs:BS,b:B', { l: 'L', m: 'M', ss: 'SS', ns: 'NS', bs: 'BS', b: 'B' }],
    [' a : N , b:S ', { a: 'N', b: 'S' }],
    ['a:N,', { a: 'N' }],
    [',a:N,,b:S', { a: 'N', b: 'S' }],
    ['my col:S', { 'my col': 'S' }],
    ['ns:a:N', { 'ns:a': 'N' }], // the last colon separates the type
  ];
  for (const [text, expected] of good) {
    test(`parses ${JSON.stringify(text)}`, () => {
      const spec = parseTypeSpec(text);
      assert.deepEqual({ ...spec }, expected);
      assert.deepEqual(Object.keys(spec), Object.keys(expected));
      assert.ok(Object.isFrozen(spec));
    });
  }

  test('a column named `__proto__` keeps its type', () => {
    const spec = parseTypeSpec('__proto__:N');
    assert.ok(Object.hasOwn(spec, '__proto__'));
    assert.equal(spec['__proto__'], 'N');
  });

  test('every listed type is accepted', () => {
    for (const type of ATTRIBUTE_TYPES) assert.equal(parseTypeSpec(`c:${type}`).c, type);
  });

  const bad: Array<[text: string, message: string, value: string]> = [
    ['user', `${ENTRY} \`user\``, 'user'],
    ['user:', `${ENTRY} \`user:\``, 'user:'],
    [':N', `${ENTRY} \`:N\``, ':N'],
    ['  :N', `${ENTRY} \`:N\``, ':N'],
    ['user:INT', `${ENTRY} \`user:INT\``, 'user:INT'],
    ['a:N,b:STRING', `${ENTRY} \`b:STRING\``, 'b:STRING'],
    ['a:N,b', `${ENTRY} \`b\``, 'b'],
    ['a:N,a:S', 'Expected each column once in `--types`, got `a` twice', 'a'],
    ['a:N, a :N', 'Expected each column once in `--types`, got `a` twice', 'a'],
  ];
  for (const [text, message, value] of bad) {
    test(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseTypeSpec(text),
        (error: unknown) => {
          const e = error as { code: string; message: string; exitCode: number; context: Record<string, unknown> };
          assert.deepEqual([e.code, e.message, e.exitCode], ['TYPES_INVALID', message, 2]);
          assert.deepEqual(e.context, { option: '--types', value });
          return true;
        },
      );
    });
  }
});
