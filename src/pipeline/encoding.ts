/**
 * Bytes -> UTF-8 text, never replaced: the parsers read UTF-8 and reject a record whose bytes are
 * not UTF-8 (ENCODING_INVALID); `--encoding` transcodes a legacy file to UTF-8 first, exactly.
 */
import { isUtf8 } from 'node:buffer';
import { usageError } from '../errors.js';

export const ENCODINGS = ['utf-8', 'windows-1252', 'utf-16le'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/**
 * `latin1` is read as windows-1252, as MySQL's `latin1` (what `mysqldump` writes) and the WHATWG
 * Encoding Standard both define it: the bytes 0x80-0x9F are `€`, `‚`, ... rather than C1 controls.
 */
const LABELS: Record<string, Encoding> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  latin1: 'windows-1252',
  'iso-8859-1': 'windows-1252',
  'utf-16le': 'utf-16le',
  utf16le: 'utf-16le',
};

export function parseEncoding(text: string | undefined): Encoding {
  if (text === undefined) return 'utf-8';
  const encoding = LABELS[text.toLowerCase()];
  if (encoding !== undefined) return encoding;
  throw usageError(
    'OPTION_INVALID',
    `Expected \`--encoding\` to be one of ${Object.keys(LABELS).join(', ')}, got \`${text}\``,
    { option: '--encoding', value: text },
  );
}

/**
 * The input as UTF-8 bytes. UTF-8 passes through untouched (each parser checks its records);
 * other encodings are transcoded chunk by chunk. A lone UTF-16 surrogate is written as its
 * WTF-8 bytes (ED A0 80 ...), which are not UTF-8, so the record holding it is rejected like any
 * other invalid byte rather than stored as U+FFFD. Offsets past this point are in the UTF-8 text.
 */
export async function* transcode(input: AsyncIterable<Buffer | string>, encoding: Encoding): AsyncGenerator<Buffer> {
  if (encoding === 'utf-8') {
    yield* toBuffers(input);
    return;
  }
  const decode = encoding === 'windows-1252' ? windows1252 : utf16le();
  for await (const piece of input) {
    const out = decode(typeof piece === 'string' ? Buffer.from(piece) : piece, false);
    if (out.length > 0) yield out;
  }
  const rest = decode(Buffer.alloc(0), true);
  if (rest.length > 0) yield rest;
}

/**
 * windows-1252's 0x80-0x9F (WHATWG index); the five bytes it leaves undefined map to U+0081 ...
 * as in latin1. By hand rather than TextDecoder: Node 20's TextDecoder('windows-1252') decodes
 * these bytes as ISO-8859-1 (0x80 as U+0080, not €).
 */
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';
// eslint-disable-next-line no-control-regex -- the C1 range is exactly what windows-1252 redefines
const C1 = /[\u0080-\u009f]/g;

function windows1252(chunk: Buffer): Buffer {
  return Buffer.from(
    chunk.toString('latin1').replace(C1, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80] as string),
    'utf8',
  );
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

function utf16le(): (chunk: Buffer, end: boolean) => Buffer {
  let carry: Buffer = Buffer.alloc(0);
  let atStart = true;
  return (chunk, end) => {
    let data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    if (atStart && (data.length >= 2 || end)) {
      atStart = false;
      if (data[0] === 0xff && data[1] === 0xfe) data = data.subarray(2); // the byte order mark
    }
    if (atStart) {
      carry = Buffer.from(data);
      return Buffer.alloc(0);
    }
    let take = data.length & ~1; // an odd byte waits for its pair
    // A high surrogate at the end waits for its low half in the next chunk.
    const high = data[take - 1];
    if (!end && take >= 2 && high !== undefined && high >= 0xd8 && high <= 0xdb) take -= 2;
    carry = end ? Buffer.alloc(0) : Buffer.from(data.subarray(take));
    const odd = end && take < data.length;
    const text = data.toString('utf16le', 0, take);
    const encoded = LONE_SURROGATE.test(text) ? wtf8(text) : Buffer.from(text, 'utf8');
    // A file that ends inside a code unit: 0xFF is never UTF-8, so the last record is rejected.
    return odd ? Buffer.concat([encoded, Buffer.from([0xff])]) : encoded;
  };
}

function wtf8(text: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (const match of text.matchAll(LONE_SURROGATES)) {
    parts.push(Buffer.from(text.slice(from, match.index), 'utf8'));
    const unit = match[0].charCodeAt(0);
    parts.push(Buffer.from([0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]));
    from = match.index + 1;
  }
  parts.push(Buffer.from(text.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

export async function* toBuffers(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  for await (const piece of input) yield typeof piece === 'string' ? Buffer.from(piece) : piece;
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * Drops a UTF-8 byte order mark at the very start of an input (Excel and PowerShell write one).
 * `skipped` is called with its length before the first chunk, so offsets still count it.
 */
export async function* withoutBom(
  input: AsyncIterable<Buffer>,
  skipped: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  let head: Buffer = Buffer.alloc(0);
  let decided = false;
  for await (const chunk of input) {
    if (decided) {
      yield chunk;
      continue;
    }
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < BOM.length && BOM.every((b, i) => i >= head.length || head[i] === b)) continue; // too short to tell
    decided = true;
    const bom = BOM.every((b, i) => head[i] === b);
    if (bom) skipped(BOM.length);
    if (head.length > (bom ? BOM.length : 0)) yield bom ? head.subarray(BOM.length) : head;
  }
  if (!decided && head.length > 0) yield head;
}

/** Where the first byte that is not UTF-8 is in `bytes`, or -1. */
export function firstInvalidUtf8(bytes: Buffer): number {
  if (isUtf8(bytes)) return -1;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return -1;
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629 table 3.7), or 0. */
function sequenceLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * Bytes as text for a rejects file: UTF-8 as is, every byte that is not UTF-8 as `\xHH`, so what
 * was read stays visible byte for byte (a replacement character would hide it).
 */
export function escapeBytes(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  let from = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += bytes.toString('utf8', from, i) + `\\x${(bytes[i] as number).toString(16).toUpperCase().padStart(2, '0')}`;
    i++;
    from = i;
  }
  return out + bytes.toString('utf8', from, i);
}

/** Where the first invalid byte of `bytes` sits: its 1-based line and column (in characters) from `line`. */
export function locateByte(bytes: Buffer, index: number, line: number): { line: number; column: number } {
  let lineStart = 0;
  for (let i = 0; i < index; i++) {
    const byte = bytes[i];
    if (byte === 0x0a || (byte === 0x0d && bytes[i + 1] !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: [...bytes.toString('utf8', lineStart, index)].length + 1 };
}
