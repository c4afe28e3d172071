import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import {
  batchBody,
  crc32,
  parseBatchWriteOutput,
  serializeBatchWrite,
  serializeWriteRequest,
} from '../../src/dynamo/wire.js';

type Item = Record<string, AttributeValue>;

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

describe('serializeBatchWrite', () => {
  it('writes AttributeValues as DynamoDB JSON, binaries as base64', () => {
    const items: Record<string, WriteRequest[]> = {
      t: [
        {
          PutRequest: {
            Item: {
              id: { S: 'a"b\\c\n\u00e9\u{1F600}' },
              n: { N: '00123' },
              big: { N: '12345678901234567890' },
              b: { B: bytes(0, 255, 1) },
              buf: { B: Buffer.from('hi') },
              bs: { BS: [bytes(1), Buffer.from([2, 3])] },
              ss: { SS: ['x', 'y'] },
              ns: { NS: ['1', '2.50'] },
              m: { M: { inner: { L: [{ B: bytes(9) }, { NULL: true }, { BOOL: false }] } } },
            },
          },
        },
        { DeleteRequest: { Key: { id: { S: 'gone' } } } },
      ],
    };
    const json = JSON.parse(serializeBatchWrite(items).toString('utf8')) as unknown;
    assert.deepEqual(json, {
      RequestItems: {
        t: [
          {
            PutRequest: {
              Item: {
                id: { S: 'a"b\\c\n\u00e9\u{1F600}' },
                n: { N: '00123' },
                big: { N: '12345678901234567890' },
                b: { B: 'AP8B' },
                buf: { B: 'aGk=' },
                bs: { BS: ['AQ==', 'AgM='] },
                ss: { SS: ['x', 'y'] },
                ns: { NS: ['1', '2.50'] },
                m: { M: { inner: { L: [{ B: 'CQ==' }, { NULL: true }, { BOOL: false }] } } },
              },
            },
          },
          { DeleteRequest: { Key: { id: { S: 'gone' } } } },
        ],
      },
    });
  });

  const cases: [string, Record<string, AttributeValue>, string][] = [
    ['no binary at all', { s: { S: 'x' }, n: { N: '1' } }, '{"s":{"S":"x"},"n":{"N":"1"}}'],
    [
      'a binary only deep inside M and L',
      { m: { M: { l: { L: [{ S: 'x' }, { BS: [bytes(255)] }] } } } },
      '{"m":{"M":{"l":{"L":[{"S":"x"},{"BS":["/w=="]}]}}}}',
    ],
  ];
  for (const [label, item, expected] of cases) {
    it(`serializes an item with ${label}`, () => {
      const text = serializeBatchWrite({ t: [{ PutRequest: { Item: item } }] }).toString('utf8');
      assert.equal(text, `{"RequestItems":{"t":[{"PutRequest":{"Item":${expected}}}]}}`);
    });
  }

  it('encodes a Uint8Array view over part of a larger buffer by its own bytes', () => {
    const backing = Buffer.from([7, 7, 1, 2, 7]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 2);
    const text = serializeBatchWrite({ t: [{ PutRequest: { Item: { b: { B: view } } } }] }).toString('utf8');
    assert.match(text, /"B":"AQI="/);
  });
});

describe('batchBody', () => {
  it('groups requests by table in first-seen order, keeping their order, around the JSON given', () => {
    const requests = [
      { table: 'b', json: serializeWriteRequest({ PutRequest: { Item: { id: { S: '1' } } } }) },
      { table: 'a "quoted"', json: serializeWriteRequest({ DeleteRequest: { Key: { id: { N: '2' } } } }) },
      { table: 'b', json: serializeWriteRequest({ PutRequest: { Item: { id: { S: '3' } } } }) },
    ];
    const { tables, body } = batchBody(requests);
    assert.deepEqual(tables, ['b', 'a "quoted"']);
    assert.deepEqual(JSON.parse(body.toString('utf8')), {
      RequestItems: {
        b: [{ PutRequest: { Item: { id: { S: '1' } } } }, { PutRequest: { Item: { id: { S: '3' } } } }],
        'a "quoted"': [{ DeleteRequest: { Key: { id: { N: '2' } } } }],
      },
    });
    // The same bytes as serializing the objects.
    const items = {
      b: [{ PutRequest: { Item: { id: { S: '1' } } } }, { PutRequest: { Item: { id: { S: '3' } } } }],
      'a "quoted"': [{ DeleteRequest: { Key: { id: { N: '2' } } } }],
    };
    assert.equal(body.toString('utf8'), serializeBatchWrite(items).toString('utf8'));
  });

  // The body as one string, encoded at the end: how it was built before texts were written in place.
  const joined = (requests: { table: string; json: string }[]): Buffer => {
    const byTable = new Map<string, string[]>();
    for (const { table, json } of requests) byTable.set(table, [...(byTable.get(table) ?? []), json]);
    const parts = [...byTable].map(([table, list]) => `${JSON.stringify(table)}:[${list.join(',')}]`);
    return Buffer.from(`{"RequestItems":{${parts.join(',')}}}`, 'utf8');
  };
  const exactWire = (json: string): number => Buffer.byteLength(json, 'utf8') + 1;
  // Texts of any units (batchBody takes them as given): accents, emoji, lone surrogates, often
  // ending in a character of several bytes, where a write cut short would stop.
  const unit = fc.oneof(
    fc.constantFrom('a', '"', 'é', '表', '\u{1f600}'),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  const text = fc.array(unit, { maxLength: 30 }).map((units) => units.join(''));
  const requestsArb = fc.array(
    fc.record({ table: fc.oneof(fc.constantFrom('t', 'tåble', 'tab"le', '表', '\u{1f600}'), text), json: text }),
    { maxLength: 25 },
  );

  it("writes the same bytes as the joined string, with each request's bytes told (wire) or not", () => {
    fc.assert(
      fc.property(requestsArb, (requests) => {
        const expected = joined(requests);
        const told = batchBody(requests.map((r) => ({ ...r, wire: exactWire(r.json) })));
        assert.ok(told.body.equals(expected), told.body.toString('utf8'));
        assert.deepEqual(told.tables, [...new Set(requests.map((r) => r.table))]);
        assert.ok(batchBody(requests).body.equals(expected));
      }),
    );
  });

  it('with the bytes told, writes in place: no body built as a string', (t) => {
    const from = t.mock.method(Buffer, 'from');
    const requests = ['a', 'é\u{1f600}', '表"'].map((json) => ({ table: 't', json, wire: exactWire(json) }));
    const { body } = batchBody(requests);
    assert.equal(from.mock.callCount(), 0);
    from.mock.restore();
    assert.ok(body.equals(joined(requests)));
  });

  it('a wire that does not add up (too small, too large, absurd) still gives the whole body, never one cut short', (t) => {
    // Cut where a four-byte character would have three bytes left, and everywhere around it.
    for (const json of ['a\u{1f600}'.repeat(10), '表'.repeat(7), 'x\ud800'.repeat(5)]) {
      for (let off = -12; off <= 12; off++) {
        const requests = [{ table: 't', json, wire: exactWire(json) + off }];
        assert.ok(batchBody(requests).body.equals(joined(requests)), `${JSON.stringify(json)} ${off}`);
      }
    }
    for (const wire of [Number.NaN, Number.POSITIVE_INFINITY, 1.5, -1e9, 2 ** 20, 2 ** 31, 2 ** 40]) {
      const requests = [{ table: 't', json: '{"PutRequest":{}}', wire }];
      assert.ok(batchBody(requests).body.equals(joined(requests)), String(wire));
    }
    // A wire more than three bytes a unit is not believed: no buffer sized from it.
    const alloc = t.mock.method(Buffer, 'allocUnsafe');
    batchBody([{ table: 't', json: '{"PutRequest":{}}', wire: 2 ** 20 }]);
    assert.ok(alloc.mock.calls.every((call) => Number(call.arguments[0]) < 100));
    alloc.mock.restore();
    fc.assert(
      fc.property(
        requestsArb.filter((requests) => requests.length > 0),
        fc.integer({ min: -12, max: 12 }).filter((d) => d !== 0),
        fc.nat(),
        fc.boolean(),
        (requests, off, which, all) => {
          const told = requests.map((r, i) => ({
            ...r,
            wire: exactWire(r.json) + (all || i === which % requests.length ? off : 0),
          }));
          assert.ok(batchBody(told).body.equals(joined(requests)));
        },
      ),
    );
  });
});

// A request's bytes in a body: `{"PutRequest":{"Item":` (22) + item JSON + `}}` (2) = 24 + item JSON.
// Worked out by hand; the batcher checks the 16 MB request limit with them.
const wire: Array<[label: string, item: Item, size: number]> = [
  ['string', { a: { S: 'b' } }, 24 + '{"a":{"S":"b"}}'.length],
  ['number', { n: { N: '-1.5e3' } }, 24 + '{"n":{"N":"-1.5e3"}}'.length],
  [
    'escapes, accents, emoji',
    { a: { S: 'x"\n\u0001é\u{1f600}' } },
    24 + '{"a":{"S":""}}'.length + 1 + 2 + 2 + 6 + 2 + 4,
  ],
  ['binary as base64', { b: { B: new Uint8Array([1, 2, 3, 4]) } }, 24 + '{"b":{"B":"AQIDBA=="}}'.length],
  [
    'booleans and null',
    { t: { BOOL: true }, f: { BOOL: false }, z: { NULL: true } },
    24 + '{"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true}}'.length,
  ],
  ['sets', { s: { SS: ['a', 'b'] }, n: { NS: ['1'] } }, 24 + '{"s":{"SS":["a","b"]},"n":{"NS":["1"]}}'.length],
  [
    'list and map',
    { l: { L: [{ M: { k: { N: '1' } } }, { L: [] }] } },
    24 + '{"l":{"L":[{"M":{"k":{"N":"1"}}},{"L":[]}]}}'.length,
  ],
  ['empty item', {}, 24 + '{}'.length],
];

describe('serializeWriteRequest', () => {
  for (const [label, item, size] of wire) {
    it(`${label}: ${size} bytes`, () =>
      assert.equal(Buffer.byteLength(serializeWriteRequest({ PutRequest: { Item: item } }), 'utf8'), size));
  }

  // An independent oracle: the UTF-8 length of what JSON.stringify (the SDK's serialiser) emits.
  const samples: Item[] = [
    { key: { S: 'quote " backslash \\ tab \t nul \u0000 del \u007f' } },
    { 'naïve "name"': { S: 'ü€\u{10348}' }, lone: { S: 'a\ud800b\udc00' } },
    {
      b0: { B: new Uint8Array(0) },
      b1: { B: new Uint8Array(1) },
      b2: { B: new Uint8Array(2) },
      b5: { B: new Uint8Array(5) },
    },
    { bs: { BS: [new Uint8Array(1), new Uint8Array(7)] }, ns: { NS: ['1', '-2.5e-7'] }, ss: { SS: ['', '\n'] } },
    {
      deep: {
        M: {
          a: { L: [{ M: { 'b\u2028': { S: '\u001f' } } }, { BOOL: false }, { NULL: true }, { L: [] }] },
          c: { M: {} },
        },
      },
    },
  ];
  for (const [index, item] of samples.entries()) {
    it(`matches JSON.stringify of the SDK's shape for sample ${index}`, () => {
      assert.equal(
        serializeWriteRequest({ PutRequest: { Item: item } }),
        JSON.stringify({ PutRequest: { Item: toJson(item) } }),
      );
      assert.equal(
        serializeWriteRequest({ DeleteRequest: { Key: item } }),
        JSON.stringify({ DeleteRequest: { Key: toJson(item) } }),
      );
    });
  }
});

/** The shape the SDK sends: binaries as base64 strings. */
function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toJson(inner)]));
  }
  return value;
}

describe('parseBatchWriteOutput', () => {
  it('decodes UnprocessedItems back to AttributeValues with Uint8Array binaries', () => {
    const body = Buffer.from(
      JSON.stringify({
        UnprocessedItems: {
          t: [
            {
              PutRequest: {
                Item: {
                  id: { S: 'k' },
                  b: { B: 'AP8B' },
                  bs: { BS: ['AQ=='] },
                  m: { M: { l: { L: [{ B: 'CQ==' }, { N: '1' }] } } },
                },
              },
            },
            { DeleteRequest: { Key: { id: { B: 'AQI=' } } } },
          ],
        },
      }),
    );
    assert.deepStrictEqual(parseBatchWriteOutput(body), {
      t: [
        {
          PutRequest: {
            Item: {
              id: { S: 'k' },
              b: { B: bytes(0, 255, 1) },
              bs: { BS: [bytes(1)] },
              m: { M: { l: { L: [{ B: bytes(9) }, { N: '1' }] } } },
            },
          },
        },
        { DeleteRequest: { Key: { id: { B: bytes(1, 2) } } } },
      ],
    });
  });

  it('decodes a binary that is the only one in the answer, even with escaped text around it', () => {
    const requests = [
      { PutRequest: { Item: { id: { S: 'say \\"B\\"' }, n: { N: '1' } } } },
      { PutRequest: { Item: { id: { S: 'x' }, only: { BS: ['AQ=='] } } } },
    ];
    const parsed = parseBatchWriteOutput(Buffer.from(JSON.stringify({ UnprocessedItems: { t: requests } })));
    assert.deepStrictEqual(parsed?.t?.[1]?.PutRequest?.Item?.only, { BS: [bytes(1)] });
  });

  it('gives the parsed requests as they are when the answer holds no binary value', () => {
    const requests = [
      {
        PutRequest: {
          Item: { id: { S: 'B' }, n: { N: '00123' }, m: { M: { l: { L: [{ SS: ['BS'] }, { NULL: true }] } } } },
        },
      },
      { DeleteRequest: { Key: { id: { S: 'k' } } } },
    ];
    assert.deepStrictEqual(parseBatchWriteOutput(Buffer.from(JSON.stringify({ UnprocessedItems: { t: requests } }))), {
      t: requests,
    });
  });

  it('returns {} for an empty UnprocessedItems', () => {
    assert.deepStrictEqual(parseBatchWriteOutput(Buffer.from('{"UnprocessedItems":{}}')), {});
  });

  for (const [label, body] of [
    ['a table of null', '{"UnprocessedItems":{"t":null}}'],
    ['a table that is an object', '{"UnprocessedItems":{"t":{"PutRequest":{}}}}'],
    ['a request that is a string', '{"UnprocessedItems":{"t":["x"]}}'],
    ['UnprocessedItems as a list', '{"UnprocessedItems":[]}'],
    // DynamoDB always sends UnprocessedItems: an answer without it says nothing about what was written.
    ['no UnprocessedItems', '{}'],
    ['UnprocessedItems of null', '{"UnprocessedItems":null}'],
    ['another member only', '{"ConsumedCapacity":[]}'],
    ['a JSON value that is not an object', '[]'],
    // The SDK reads an empty body as {}: 25 items counted as written on an answer that said nothing.
    ['an empty body', ''],
  ] as const) {
    it(`throws SyntaxError for ${label}: withheld requests it cannot read are never taken as written`, () => {
      assert.throws(() => parseBatchWriteOutput(Buffer.from(body)), { name: 'SyntaxError' });
    });
  }

  it('throws SyntaxError on a body that is not JSON', () => {
    assert.throws(() => parseBatchWriteOutput(Buffer.from('<html>')), { name: 'SyntaxError' });
  });
});

describe('crc32', () => {
  it('matches the standard check value', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.from('{}')), 2745614147);
  });
});
