import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  escapeBytes,
  firstInvalidUtf8,
  parseEncoding,
  transcode,
  withoutBom,
  type Encoding,
} from '../../src/pipeline/encoding.js';

async function transcodeAll(chunks: Buffer[], encoding: Encoding): Promise<Buffer> {
  async function* source(): AsyncGenerator<Buffer> {
    yield* chunks;
  }
  const out: Buffer[] = [];
  for await (const chunk of transcode(source(), encoding)) out.push(chunk);
  return Buffer.concat(out);
}

/** `bytes` cut into one-byte chunks, and into two at every place. */
function chunkings(bytes: Buffer): Buffer[][] {
  return [
    [bytes],
    Array.from(bytes, (b) => Buffer.from([b])),
    ...Array.from({ length: bytes.length - 1 }, (_, i) => [bytes.subarray(0, i + 1), bytes.subarray(i + 1)]),
  ];
}

describe('parseEncoding', () => {
  test('names and their aliases, in any case', () => {
    assert.equal(parseEncoding(undefined), 'utf-8');
    assert.equal(parseEncoding('UTF8'), 'utf-8');
    assert.equal(parseEncoding('latin1'), 'windows-1252');
    assert.equal(parseEncoding('ISO-8859-1'), 'windows-1252');
    assert.equal(parseEncoding('cp1252'), 'windows-1252');
    assert.equal(parseEncoding('utf-16le'), 'utf-16le');
  });

  test('anything else is a usage error naming the option and the value', () => {
    assert.throws(() => parseEncoding('ebcdic'), {
      code: 'OPTION_INVALID',
      exitCode: 2,
      message: /^Expected `--encoding` to be one of utf-8, .*latin1.*, got `ebcdic`$/,
    });
  });
});

describe('transcode', () => {
  test('windows-1252: every byte as the WHATWG decoder reads it, in any chunking', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    // https://encoding.spec.whatwg.org/index-windows-1252.txt, pointers 0-31 (bytes 0x80-0x9F); the rest is latin1.
    const high = [
      8364, 129, 8218, 402, 8222, 8230, 8224, 8225, 710, 8240, 352, 8249, 338, 141, 381, 143, 144, 8216, 8217, 8220,
      8221, 8226, 8211, 8212, 732, 8482, 353, 8250, 339, 157, 382, 376,
    ];
    const expected = Buffer.from(
      String.fromCodePoint(
        ...Array.from({ length: 256 }, (_, i) => (i >= 0x80 && i < 0xa0 ? (high[i - 0x80] as number) : i)),
      ),
      'utf8',
    );
    assert.deepEqual(await transcodeAll([all], 'windows-1252'), expected);
    assert.deepEqual(
      await transcodeAll(
        Array.from(all, (b) => Buffer.from([b])),
        'windows-1252',
      ),
      expected,
    );
    assert.equal(
      (await transcodeAll([Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80])], 'windows-1252')).toString(),
      'café €',
    );
  });

  test('utf-16le: BOM dropped, surrogate pairs and odd chunk cuts read exactly', async () => {
    const text = 'id,v\né😀€\n';
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    for (const chunks of chunkings(bytes))
      assert.equal((await transcodeAll(chunks, 'utf-16le')).toString(), text, chunks.map((c) => c.length).join('+'));
  });

  test('utf-16le: a lone surrogate becomes bytes that are not UTF-8 (never U+FFFD), so its record is rejected', async () => {
    const bytes = Buffer.concat([
      Buffer.from('a', 'utf16le'),
      Buffer.from([0x00, 0xd8]),
      Buffer.from('b\n', 'utf16le'),
    ]);
    for (const chunks of chunkings(bytes)) {
      const out = await transcodeAll(chunks, 'utf-16le');
      assert.deepEqual([...out], [0x61, 0xed, 0xa0, 0x80, 0x62, 0x0a]);
      assert.equal(firstInvalidUtf8(out), 1);
    }
  });

  test('utf-16le: an odd last byte is kept as a byte that is not UTF-8', async () => {
    const out = await transcodeAll([Buffer.from([0x61, 0x00, 0x62])], 'utf-16le');
    assert.equal(firstInvalidUtf8(out), 1);
  });

  test('utf-8 passes through untouched, invalid bytes included (the parsers judge them)', async () => {
    const bytes = Buffer.from([0x61, 0xe9, 0x62]);
    assert.deepEqual(await transcodeAll([bytes], 'utf-8'), bytes);
  });
});

describe('bytes that are not UTF-8', () => {
  const cases: [label: string, bytes: number[], first: number, escaped: string][] = [
    ['valid text', [0x63, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80], -1, 'cé😀'],
    ['a latin1 é', [0x63, 0x61, 0x66, 0xe9], 3, 'caf\\xE9'],
    ['a truncated sequence before ASCII', [0xe2, 0x82, 0x41], 0, '\\xE2\\x82A'],
    ['an overlong encoding of /', [0xc0, 0xaf], 0, '\\xC0\\xAF'],
    ['a UTF-16 surrogate written as UTF-8', [0x41, 0xed, 0xa0, 0x80], 1, 'A\\xED\\xA0\\x80'],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0, '\\xF4\\x90\\x80\\x80'],
    ['a lone continuation byte', [0x80, 0x41], 0, '\\x80A'],
  ];
  for (const [label, bytes, first, escaped] of cases) {
    test(label, () => {
      assert.equal(firstInvalidUtf8(Buffer.from(bytes)), first);
      assert.equal(escapeBytes(Buffer.from(bytes)), escaped);
    });
  }
});

describe('withoutBom', () => {
  async function strip(chunks: Buffer[]): Promise<[string, number]> {
    let skipped = 0;
    async function* source(): AsyncGenerator<Buffer> {
      yield* chunks;
    }
    const out: Buffer[] = [];
    for await (const chunk of withoutBom(source(), (n) => (skipped = n))) out.push(chunk);
    return [Buffer.concat(out).toString('latin1'), skipped];
  }

  test('drops a BOM split across chunks; keeps one later on; keeps short inputs that only start like one', async () => {
    assert.deepEqual(await strip([Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf, 0x61])]), ['a', 3]);
    assert.deepEqual(await strip([Buffer.from('a\uFEFF')]), [Buffer.from('a\uFEFF').toString('latin1'), 0]);
    assert.deepEqual(await strip([Buffer.from([0xef, 0xbb])]), ['\xef\xbb', 0]);
    assert.deepEqual(await strip([Buffer.from([0xef, 0x61])]), ['\xefa', 0]);
    assert.deepEqual(await strip([]), ['', 0]);
  });
});
