import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readJsonLines, type JsonFailure, type JsonRecord } from '../../src/pipeline/json-lines.js';
import { createHash } from 'node:crypto';
import { MAX_RECORD_BYTES } from '../../src/pipeline/parse.js';

// NDJSON (a JSON object per line) and DynamoDB JSON as the S3 export writes it
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html).

type Out = JsonRecord | JsonFailure;

async function read(chunks: (string | Buffer)[], format: 'ndjson' | 'ddb-json' = 'ndjson'): Promise<Out[]> {
  const out: Out[] = [];
  async function* source(): AsyncGenerator<string | Buffer> {
    yield* chunks;
  }
  for await (const record of readJsonLines(source(), format)) out.push(record);
  return out;
}

/** Every split of `text` into two chunks, at each byte. */
function splits(text: string): Buffer[][] {
  const bytes = Buffer.from(text);
  return Array.from({ length: bytes.length + 1 }, (_, i) => [bytes.subarray(0, i), bytes.subarray(i)]);
}

const summary = (records: Out[]): unknown[] =>
  records.map((r) => (r.kind === 'item' ? [r.line, r.item] : [r.line, r.code]));

describe('readJsonLines: lines', () => {
  const TEXT = '{"id":"é€😀","n":12345678901234567890}\r\n\n{"id":"b"}\n';
  const EXPECTED = [
    [1, { id: { S: 'é€😀' }, n: { N: '12345678901234567890' } }],
    [3, { id: { S: 'b' } }],
  ];

  test('a line split across chunks at every byte (inside multi-byte characters too) reads the same', async () => {
    for (const chunks of splits(TEXT))
      assert.deepEqual(summary(await read(chunks)), EXPECTED, `split at ${chunks[0]?.length}`);
  });

  test('one byte per chunk', async () => {
    const bytes = Buffer.from(TEXT);
    assert.deepEqual(summary(await read([...bytes].map((b) => Buffer.from([b])))), EXPECTED);
  });

  test('CRLF: the CR is not part of the line; blank and whitespace-only lines count but give nothing', async () => {
    const records = await read(['{"a":1}\r\n', '\r\n', '   \n', '\t\n', '{"a":2}\r\n']);
    assert.deepEqual(summary(records), [
      [1, { a: { N: '1' } }],
      [5, { a: { N: '2' } }],
    ]);
    assert.deepEqual(
      records.map((r) => r.raw),
      ['{"a":1}', '{"a":2}'],
    );
  });

  test('the last line needs no newline; `end` is the byte offset after each line', async () => {
    const records = await read(['{"a":1}\n{"b":"é"}']);
    assert.deepEqual(
      records.map((r) => [r.line, r.end]),
      [
        [1, 8],
        [2, 18],
      ],
    );
  });

  test('an empty input gives nothing', async () => {
    assert.deepEqual(await read([]), []);
    assert.deepEqual(await read(['\n\n']), []);
  });

  /** Items as 'item' (a 4 MB item in an assertion message helps no one), failures by code. */
  const kinds = (records: Out[]): unknown[] => records.map((r) => [r.line, r.kind === 'item' ? 'item' : r.code]);
  const chunked = (text: string, size: number): Buffer[] => {
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    return chunks;
  };
  /** `{"a":"xxx"}` of exactly `bytes` bytes. */
  const lineOf = (bytes: number): string => `{"a":"${'x'.repeat(bytes - 8)}"}`;

  test(`a line far over ${MAX_RECORD_BYTES} bytes is one RECORD_TOO_LONG failure; the lines after it keep their numbers`, async () => {
    const records = await read(chunked(`{"id":1}\n${lineOf(MAX_RECORD_BYTES + 1024 * 1024)}\n{"id":3}\n`, 64 * 1024));
    assert.deepEqual(kinds(records), [
      [1, 'item'],
      [2, 'RECORD_TOO_LONG'],
      [3, 'item'],
    ]);
    const failure = records[1] as JsonFailure;
    const long = lineOf(MAX_RECORD_BYTES + 1024 * 1024);
    assert.equal(failure.raw, long.slice(0, 1000), 'the rejects file gets the first 1000 characters, not 4 MB');
    assert.equal(failure.length, long.length);
    assert.equal(failure.sha256, createHash('sha256').update(long).digest('hex'));
    assert.equal(failure.end, 9 + long.length + 1, 'the failure ends at its line break, where a resume may start');
  });

  test('a line of exactly the limit is read, in any chunking', async () => {
    for (const size of [64 * 1024, 1_000_003, MAX_RECORD_BYTES * 2]) {
      assert.deepEqual(
        kinds(await read(chunked(`${lineOf(MAX_RECORD_BYTES)}\n{"id":2}\n`, size))),
        [
          [1, 'item'],
          [2, 'item'],
        ],
        `chunks of ${size}`,
      );
    }
  });

  test('a line one byte over the limit is RECORD_TOO_LONG, in any chunking', async () => {
    for (const size of [64 * 1024, 1_000_003, MAX_RECORD_BYTES * 2]) {
      assert.deepEqual(
        kinds(await read(chunked(`${lineOf(MAX_RECORD_BYTES + 1)}\n{"id":2}\n`, size))),
        [
          [1, 'RECORD_TOO_LONG'],
          [2, 'item'],
        ],
        `chunks of ${size}`,
      );
    }
  });
});

describe('readJsonLines: ndjson', () => {
  test('numbers keep their exact text; every JSON type', async () => {
    const [record] = await read([
      '{"big":123456789012345678901234567890,"d":-0.000001,"e":1E+3,"s":"00123","t":true,"f":false,"z":null,"l":[1,[2]],"m":{"k":{"j":"v"}}}\n',
    ]);
    assert.deepEqual(record?.kind === 'item' && record.item, {
      big: { N: '123456789012345678901234567890' },
      d: { N: '-0.000001' },
      e: { N: '1E+3' },
      s: { S: '00123' },
      t: { BOOL: true },
      f: { BOOL: false },
      z: { NULL: true },
      l: { L: [{ N: '1' }, { L: [{ N: '2' }] }] },
      m: { M: { k: { M: { j: { S: 'v' } } } } },
    });
  });

  test('lines that are not JSON objects fail with their line and code; reading goes on', async () => {
    const records = await read([
      '{"a":\n[1]\n"s"\n42\nnull\n{"a":1} x\n{"n":1e999}\n{"n":123456789012345678901234567890123456789}\n{"ok":1}\n',
    ]);
    assert.deepEqual(summary(records), [
      [1, 'JSON_INVALID'],
      [2, 'JSON_SHAPE'],
      [3, 'JSON_SHAPE'],
      [4, 'JSON_SHAPE'],
      [5, 'JSON_SHAPE'],
      [6, 'JSON_INVALID'],
      [7, 'NUMBER_RANGE'],
      [8, 'NUMBER_PRECISION'],
      [9, { ok: { N: '1' } }],
    ]);
    assert.match((records[1] as JsonFailure).message, /an array/);
    assert.equal(records[0]?.raw, '{"a":');
  });
});

describe('readJsonLines: ddb-json type tags', () => {
  const line = (item: string): string => `{"Item":${item}}\n`;

  test('every type tag', async () => {
    const [record] = await read(
      [
        line(
          JSON.stringify({
            s: { S: 'a' },
            n: { N: '1.50' },
            b: { B: 'AQI=' },
            t: { BOOL: true },
            z: { NULL: true },
            ss: { SS: ['x', 'y'] },
            ns: { NS: ['1', '12345678901234567890123'] },
            bs: { BS: ['AA==', '/w=='] },
            l: { L: [{ N: '1' }, { S: 'x' }, { L: [] }] },
            m: { M: { inner: { M: { k: { BOOL: false } } } } },
          }),
        ),
      ],
      'ddb-json',
    );
    assert.deepEqual(record?.kind === 'item' && record.item, {
      s: { S: 'a' },
      n: { N: '1.50' },
      b: { B: new Uint8Array([1, 2]) },
      t: { BOOL: true },
      z: { NULL: true },
      ss: { SS: ['x', 'y'] },
      ns: { NS: ['1', '12345678901234567890123'] },
      bs: { BS: [new Uint8Array([0]), new Uint8Array([255])] },
      l: { L: [{ N: '1' }, { S: 'x' }, { L: [] }] },
      m: { M: { inner: { M: { k: { BOOL: false } } } } },
    });
  });

  const bad: [label: string, text: string, code: string, message?: RegExp][] = [
    ['no Item wrapper', '{"pk":{"S":"a"}}\n', 'JSON_SHAPE'],
    ['Item not an object', '{"Item":[1]}\n', 'JSON_SHAPE'],
    ['an unknown tag', line('{"a":{"X":"1"}}'), 'DDB_JSON_INVALID', /`a`/],
    ['two tags', line('{"a":{"S":"1","N":"1"}}'), 'DDB_JSON_INVALID', /`a`.*2 keys/],
    ['no tag', line('{"a":{}}'), 'DDB_JSON_INVALID', /`a`/],
    ['an untagged value', line('{"a":"x"}'), 'DDB_JSON_INVALID', /`a`/],
    ['N as a JSON number', line('{"a":{"N":1}}'), 'DDB_JSON_INVALID', /`a`/],
    ['N not a number', line('{"a":{"N":"x1"}}'), 'NUMBER_INVALID', /`a`/],
    ['N of 39 digits', line('{"a":{"N":"123456789012345678901234567890123456789"}}'), 'NUMBER_PRECISION', /`a`/],
    ['BOOL as a string', line('{"a":{"BOOL":"true"}}'), 'DDB_JSON_INVALID', /`a`/],
    ['NULL false', line('{"a":{"NULL":false}}'), 'DDB_JSON_INVALID', /`a`/],
    ['an empty SS', line('{"a":{"SS":[]}}'), 'SET_EMPTY', /`a`/],
    ['an empty NS', line('{"a":{"NS":[]}}'), 'SET_EMPTY', /`a`/],
    ['SS of numbers', line('{"a":{"SS":[1]}}'), 'DDB_JSON_INVALID', /`a`/],
    ['L not an array', line('{"a":{"L":{}}}'), 'DDB_JSON_INVALID', /`a`/],
    ['B with a character outside base64', line('{"a":{"B":"QUJD!!"}}'), 'BINARY_INVALID', /`a`.*base64.*QUJD!!/],
    ['B with base64url characters', line('{"a":{"B":"-_8="}}'), 'BINARY_INVALID', /`a`/],
    ['B with misplaced padding', line('{"a":{"B":"QQ==QQ=="}}'), 'BINARY_INVALID', /`a`/],
    ['BS with one bad element', line('{"a":{"BS":["AA==","A A="]}}'), 'BINARY_INVALID', /`a`/],
    [
      'a bad value deep inside',
      line('{"a":{"M":{"b":{"L":[{"S":"x"},{"Q":"y"}]}}}}'),
      'DDB_JSON_INVALID',
      /`a\.b\[1\]`/,
    ],
  ];
  for (const [label, text, code, message] of bad) {
    test(`fails: ${label} (${code})`, async () => {
      const records = await read([text, line('{"ok":{"S":"y"}}')], 'ddb-json');
      assert.deepEqual(summary(records), [
        [1, code],
        [2, { ok: { S: 'y' } }],
      ]);
      if (message) assert.match((records[0] as JsonFailure).message, message);
    });
  }
});

describe('readJsonLines: bytes', () => {
  for (const format of ['ndjson', 'ddb-json'] as const) {
    const good = format === 'ndjson' ? '{"id":"x"}' : '{"Item":{"id":{"S":"x"}}}';
    test(`${format}: a UTF-8 byte order mark is skipped, and offsets still count it`, async () => {
      const records = await read([Buffer.from([0xef]), Buffer.from([0xbb, 0xbf]), `${good}\n`], format);
      assert.deepEqual(
        records.map((r) => [r.line, r.kind, r.end]),
        [[1, 'item', 3 + good.length + 1]],
      );
    });

    test(`${format}: a line that is not UTF-8 is ENCODING_INVALID with its offset and the bytes escaped; the next line reads`, async () => {
      const at = good.indexOf('"x"') + 4; // just past `"caf`
      const [head, tail] = [`${good.slice(0, at - 4)}"caf`, `"${good.slice(at - 1)}`];
      const records = await read(
        [`${good}\n`, Buffer.concat([Buffer.from(head), Buffer.from([0xe9]), Buffer.from(tail)]), '\n', `${good}\n`],
        format,
      );
      assert.deepEqual(
        records.map((r) => [r.line, r.kind === 'item' ? 'item' : r.code]),
        [
          [1, 'item'],
          [2, 'ENCODING_INVALID'],
          [3, 'item'],
        ],
      );
      const failure = records[1] as JsonFailure;
      assert.equal(failure.offset, good.length + 1 + at);
      assert.equal(failure.raw, `${head}\\xE9${tail}`);
      assert.match(
        failure.message,
        new RegExp(`0xE9 at line 2, column ${at + 1} \\(byte offset ${good.length + 1 + at}\\)`),
      );
    });
  }
});
