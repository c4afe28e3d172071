import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanUnprocessed } from '../../src/dynamo/unprocessed-text.js';

// Oracle: JSON.parse of the whole answer. Each text found must parse to the request in its place.
function check(answer: string): void {
  const texts = scanUnprocessed(answer);
  const parsed = JSON.parse(answer) as { UnprocessedItems?: Record<string, unknown[]> | null };
  const expected = parsed.UnprocessedItems ?? undefined;
  if (expected === undefined) {
    assert.equal(texts, undefined);
    return;
  }
  assert.ok(texts instanceof Map, 'scanned');
  assert.deepEqual([...texts.keys()], Object.keys(expected));
  for (const [table, list] of texts)
    assert.deepEqual(
      list.map((text) => JSON.parse(text) as unknown),
      expected[table],
    );
}

const put = (id: string, extra: Record<string, unknown> = {}): unknown => ({
  PutRequest: { Item: { id: { S: id }, ...extra } },
});

describe('scanUnprocessed', () => {
  const answers: [string, string][] = [
    ['nothing withheld', '{}'],
    ['an empty UnprocessedItems', '{"UnprocessedItems":{}}'],
    ['UnprocessedItems null', '{"UnprocessedItems":null}'],
    ['one table', JSON.stringify({ UnprocessedItems: { t: [put('a'), put('b')] } })],
    [
      'two tables and a delete',
      JSON.stringify({
        UnprocessedItems: { t: [put('a')], 'u "x"': [{ DeleteRequest: { Key: { id: { N: '1' } } } }] },
      }),
    ],
    [
      'strings with quotes, backslashes, braces and brackets',
      JSON.stringify({ UnprocessedItems: { t: [put('a"}]\\', { s: { S: '\\"{[' } }), put('\\\\')] } }),
    ],
    [
      'nested maps, lists and sets',
      JSON.stringify({
        UnprocessedItems: {
          t: [put('a', { m: { M: { l: { L: [{ N: '1' }, { SS: ['x', 'y'] }, { NULL: true }, { BOOL: false }] } } } })],
        },
      }),
    ],
    [
      'other members before and after',
      JSON.stringify({
        ConsumedCapacity: [{ TableName: 't', CapacityUnits: 1.5 }],
        UnprocessedItems: { t: [put('a')] },
        ItemCollectionMetrics: {},
      }),
    ],
    [
      'whitespace everywhere',
      ` {\n "UnprocessedItems" : { "t" : [ ${JSON.stringify(put('a'))} ,\t${JSON.stringify(put('b'))} ] } , "x" : 1 }\n`,
    ],
    ['an empty list', '{"UnprocessedItems":{"t":[]}}'],
    ['non-ASCII', JSON.stringify({ UnprocessedItems: { tä: [put('é\u{1f600}\u2028')] } })],
  ];
  for (const [label, answer] of answers) {
    it(`finds each request's text: ${label}`, () => check(answer));
  }

  it('gives each text exactly as it was in the answer (so a request sent back unchanged matches what was sent)', () => {
    const sent = JSON.stringify(put('k', { n: { N: '00123' } }));
    const texts = scanUnprocessed(`{"UnprocessedItems":{"t":[${sent}]}}`);
    assert.deepEqual(texts?.get('t'), [sent]);
  });

  const malformed: [string, string][] = [
    ['not an object', '[]'],
    ['truncated', '{"UnprocessedItems":{"t":[{"PutRequest":'],
    ['an unterminated string', '{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"id":{"S":"a}}}]}}'],
    ['a request that is not an object', '{"UnprocessedItems":{"t":["x"]}}'],
    ['a table that is not a list', '{"UnprocessedItems":{"t":{}}}'],
    ['text after the end', '{"UnprocessedItems":{}} x'],
    ['a missing comma', '{"UnprocessedItems":{"t":[{"a":1} {"b":2}]}}'],
    ['an empty body', ''],
    // JSON.parse reads this name as UnprocessedItems: a scan must not take the answer as "nothing withheld".
    ['an escaped member name', '{"Unprocessed\\u0049tems":{"t":[{"PutRequest":{"Item":{"id":{"S":"a"}}}}]}}'],
    ['another member that is not JSON', '{"UnprocessedItems":{},"ConsumedCapacity":[}}'],
    ['a table name with a bad escape', '{"UnprocessedItems":{"t\\x":[]}}'],
  ];
  for (const [label, answer] of malformed) {
    it(`says null (parse it instead) for ${label}`, () => assert.equal(scanUnprocessed(answer), null));
  }
});
