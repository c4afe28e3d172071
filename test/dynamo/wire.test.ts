import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import { crc32, parseBatchWriteOutput, serializeBatchWrite } from '../../src/dynamo/wire.js';

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
    ['a binary only deep inside M and L', { m: { M: { l: { L: [{ S: 'x' }, { BS: [bytes(255)] }] } } } }, '{"m":{"M":{"l":{"L":[{"S":"x"},{"BS":["/w=="]}]}}}}'],
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

describe('parseBatchWriteOutput', () => {
  it('decodes UnprocessedItems back to AttributeValues with Uint8Array binaries', () => {
    const body = Buffer.from(
      JSON.stringify({
        UnprocessedItems: {
          t: [
            { PutRequest: { Item: { id: { S: 'k' }, b: { B: 'AP8B' }, bs: { BS: ['AQ=='] }, m: { M: { l: { L: [{ B: 'CQ==' }, { N: '1' }] } } } } } },
            { DeleteRequest: { Key: { id: { B: 'AQI=' } } } },
          ],
        },
      }),
    );
    assert.deepStrictEqual(parseBatchWriteOutput(body), {
      t: [
        { PutRequest: { Item: { id: { S: 'k' }, b: { B: bytes(0, 255, 1) }, bs: { BS: [bytes(1)] }, m: { M: { l: { L: [{ B: bytes(9) }, { N: '1' }] } } } } } },
        { DeleteRequest: { Key: { id: { B: bytes(1, 2) } } } },
      ],
    });
  });

  for (const [label, body, expected] of [
    ['an empty body', '', undefined],
    ['no UnprocessedItems', '{}', undefined],
    ['an empty UnprocessedItems', '{"UnprocessedItems":{}}', {}],
  ] as const) {
    it(`returns ${JSON.stringify(expected)} for ${label}`, () => {
      assert.deepStrictEqual(parseBatchWriteOutput(Buffer.from(body)), expected);
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
