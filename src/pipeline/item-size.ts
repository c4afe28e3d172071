/**
 * `itemSize`: DynamoDB's own count of an item's size, computed for every row and checked against the
 * 400 KB item limit, by the documented rules
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * (The bytes an item adds to a request body, for the 16 MB request limit, are those of its JSON:
 * MappedItem.wire.)
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynaloadError } from '../errors.js';
import { countSignificantDigits } from './number.js';

export const MAX_ITEM_BYTES = 400 * 1024;

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

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function unknownType(v: AttributeValue): DynaloadError {
  return new DynaloadError(
    'ATTRIBUTE_INVALID',
    `Expected an AttributeValue with one of S, N, B, BOOL, NULL, M, L, SS, NS, BS, got keys \`${Object.keys(v).join(', ')}\``,
  );
}
