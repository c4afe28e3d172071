/**
 * Two sizes of one item, both computed for every row so both stay cheap:
 * - `itemSize`: DynamoDB's own count, checked against the 400 KB item limit, by the documented rules
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * - `wireSize`: the bytes the item adds to a BatchWriteItem JSON body, checked against the 16 MB
 *   request limit https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
 *   (base64 and escaping make this larger than `itemSize`: 25 items of 400 KB can exceed 16 MB).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynaloadError } from '../errors.js';
import { countSignificantDigits } from './number.js';

export const MAX_ITEM_BYTES = 400 * 1024;

/** `{"PutRequest":{"Item":` + `}}` + the `,` that separates it from the next request. */
const PUT_REQUEST_OVERHEAD = 25;

/** Size of one value by DynamoDB's rules, not counting the attribute name. */
export function attributeValueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return nSize(v.N);
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M !== undefined) {
    // 3 bytes for the map, then per entry 1 byte + name + value.
    let size = 3;
    for (const key in v.M) size += 1 + utf8(key) + attributeValueSize(v.M[key] as AttributeValue);
    return size;
  }
  if (v.L !== undefined) {
    let size = 3;
    for (const element of v.L) size += 1 + attributeValueSize(element);
    return size;
  }
  if (v.SS !== undefined) return sum(v.SS, utf8);
  if (v.NS !== undefined) return sum(v.NS, nSize);
  if (v.BS !== undefined) return sum(v.BS, (b) => b.byteLength);
  throw unknownType(v);
}

/** DynamoDB's size of an item: per attribute, its name's UTF-8 bytes + its value's size. */
export function itemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const name in item) size += utf8(name) + attributeValueSize(item[name] as AttributeValue);
  return size;
}

/**
 * Bytes this item adds to a BatchWriteItem body: `{"PutRequest":{"Item":{...}}},` as the SDK
 * serialises it (JSON.stringify, no whitespace, B as base64). Strings are counted with their JSON
 * escapes, so the result equals the UTF-8 length of that text and is never below it; the only
 * slack is the trailing `,` counted for every item. The envelope `{"RequestItems":{"<table>":[...]}}`
 * is not included: add it once per request.
 */
export function wireSize(item: Record<string, AttributeValue>): number {
  return PUT_REQUEST_OVERHEAD + mapWireSize(item);
}

/** `{"k":v,"k":v}` */
function mapWireSize(map: Record<string, AttributeValue>): number {
  let size = 2;
  let count = 0;
  for (const key in map) {
    size += jsonString(key) + 1 + valueWireSize(map[key] as AttributeValue);
    count++;
  }
  return size + Math.max(0, count - 1);
}

/** `{"T":...}`: 5 bytes for `{"T":` + the payload + `}`, tag length aside. */
function valueWireSize(v: AttributeValue): number {
  if (v.S !== undefined) return 6 + jsonString(v.S);
  if (v.N !== undefined) return 8 + v.N.length; // valid N text is ASCII with nothing to escape
  if (v.B !== undefined) return 6 + base64Length(v.B);
  if (v.BOOL !== undefined) return v.BOOL ? 13 : 14; // {"BOOL":true}
  if (v.NULL !== undefined) return 13; // {"NULL":true}
  if (v.M !== undefined) return 6 + mapWireSize(v.M);
  if (v.L !== undefined) return 8 + list(v.L, valueWireSize); // {"L":[...]}
  if (v.SS !== undefined) return 9 + list(v.SS, jsonString); // {"SS":[...]}
  if (v.NS !== undefined) return 9 + list(v.NS, (n) => n.length + 2);
  if (v.BS !== undefined) return 9 + list(v.BS, base64Length);
  throw unknownType(v);
}

/** Elements plus the commas between them. */
function list<T>(items: T[], size: (item: T) => number): number {
  return sum(items, size) + Math.max(0, items.length - 1);
}

function sum<T>(items: T[], size: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += size(item);
  return total;
}

/** UTF-8 length; short strings (most names and cells) are cheaper to count here than in C++. */
function utf8(text: string): number {
  if (text.length > 64) return Buffer.byteLength(text, 'utf8');
  let size = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    // 2 bytes below U+0800, else 3; a surrogate pair is 4 bytes over 2 units, a lone one 3 (U+FFFD).
    if (c < 0x800) size += 1;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      size += 2;
      i++;
    } else size += 2;
  }
  return size;
}

function nSize(text: string): number {
  return Math.ceil(countSignificantDigits(text) / 2) + 1;
}

function base64Length(bytes: Uint8Array): number {
  return 4 * Math.ceil(bytes.byteLength / 3) + 2; // with quotes
}

/** Characters JSON.stringify escapes, plus surrogates (a lone one becomes `\udxxx`). */
// eslint-disable-next-line no-control-regex -- JSON is defined in terms of control characters
const NEEDS_SCAN = /["\\\u0000-\u001f\ud800-\udfff]/;
const SHORT_ESCAPES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]); // \b \t \n \f \r

/** UTF-8 length of JSON.stringify(text), quotes included. */
function jsonString(text: string): number {
  if (!NEEDS_SCAN.test(text)) return utf8(text) + 2;
  let size = 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) size += 2;
    else if (c < 0x20) size += SHORT_ESCAPES.has(c) ? 2 : 6;
    else if (c < 0x80) size += 1;
    else if (c < 0x800) size += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      size += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) size += 6;
    else size += 3;
  }
  return size;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function unknownType(v: AttributeValue): DynaloadError {
  return new DynaloadError('ATTRIBUTE_INVALID', `Expected an AttributeValue with one of S, N, B, BOOL, NULL, M, L, SS, NS, BS, got keys \`${Object.keys(v).join(', ')}\``);
}
