import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { IndexKeyAttribute, KeyAttribute, TableSchema } from '../dynamo/schema.js';
import { DynaloadError } from '../errors.js';
import { serializeWriteRequest } from '../dynamo/wire.js';
import { itemSize, MAX_ITEM_BYTES } from './item-size.js';
import { isCanonicalInteger, parseDynamoNumber } from './number.js';

export type Item = Record<string, AttributeValue>;
export type WriteKind = 'put' | 'delete';

/** One write bound for one table, with what the batcher needs to know without looking inside. */
export interface MappedItem {
  readonly table: string;
  /** Identity of the item's primary key in its table: equal keys (as DynamoDB compares them) give equal strings. */
  readonly key: string;
  /** The whole item for a put; only the key attributes for a delete. */
  readonly item: Item;
  readonly size: number;
  /** The write as BatchWriteItem sends it (`{"PutRequest":{"Item":...}}`), made once for every retry. */
  readonly json: string;
  /** Bytes it adds to a request body, with its comma. */
  readonly wire: number;
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-attributes */
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

/**
 * Checks an item against its table before it can join a batch (where one bad item would make
 * DynamoDB refuse all 25): key attributes present, of the schema's type, not empty, not too long;
 * secondary-index key attributes, when present, likewise (absent is fine: the item is just not in
 * that index); the item at most 400 KB. Throws a DynaloadError naming the attribute and the rule.
 */
export function checkItem(schema: TableSchema, item: Item, kind: WriteKind = 'put'): MappedItem {
  checkKey(schema, schema.hash, item, MAX_PARTITION_KEY_BYTES);
  if (schema.range) checkKey(schema, schema.range, item, MAX_SORT_KEY_BYTES);
  // A delete sends only the table's keys: the indexes' are not part of it.
  if (kind === 'put') for (const key of schema.indexKeys ?? []) checkIndexKey(schema, key, item);
  const written = kind === 'put' ? item : keyOnly(schema, item);
  const size = itemSize(written);
  if (size > MAX_ITEM_BYTES) {
    throw new DynaloadError(
      'ITEM_TOO_LARGE',
      `Expected an item of at most ${MAX_ITEM_BYTES} bytes (400 KB, DynamoDB's limit), got ${size} bytes`,
      { context: { size, table: schema.table } },
    );
  }
  const json = serializeWriteRequest(
    kind === 'put' ? { PutRequest: { Item: written } } : { DeleteRequest: { Key: written } },
  );
  return {
    table: schema.table,
    key: keyOf(schema, written),
    item: written,
    size,
    json,
    wire: Buffer.byteLength(json, 'utf8') + 1,
  };
}

function checkKey(schema: TableSchema, key: KeyAttribute, item: Item, max: number): void {
  const value = item[key.name];
  if (value === undefined) throw keyError(schema, key, 'KEY_MISSING', 'Expected a value, got none');
  const type = typeOf(value);
  if (type !== key.type) throw keyError(schema, key, 'KEY_TYPE', `Expected type ${key.type}, got ${type}`);
  const bytes = keyBytes(value);
  if (bytes === 0)
    throw keyError(
      schema,
      key,
      'KEY_EMPTY',
      `Expected a non-empty value, got an empty ${type === 'S' ? 'string' : 'binary'}`,
    );
  if (bytes > max)
    throw keyError(schema, key, 'KEY_TOO_LONG', `Expected at most ${max} bytes, got ${bytes} bytes`, bytes);
}

// Built only for a row that breaks a rule: the checks run for every key of every row.
function keyError(schema: TableSchema, key: KeyAttribute, code: string, rule: string, bytes?: number): DynaloadError {
  const where = `Attribute \`${key.name}\` (${key === schema.hash ? 'partition' : 'sort'} key of table \`${schema.table}\`)`;
  const context = { column: key.name, table: schema.table };
  return new DynaloadError(code, `${where}: ${rule}`, {
    context: bytes === undefined ? context : { ...context, bytes },
  });
}

function checkIndexKey(schema: TableSchema, key: IndexKeyAttribute, item: Item): void {
  const value = item[key.name];
  if (value === undefined) return;
  const type = typeOf(value);
  if (type !== key.type)
    throw indexKeyError(schema, key, 'INDEX_KEY_TYPE', `Expected type ${key.type} or no value, got ${type}`);
  const bytes = keyBytes(value);
  if (bytes === 0)
    throw indexKeyError(
      schema,
      key,
      'INDEX_KEY_EMPTY',
      `Expected a non-empty value or none, got an empty ${type === 'S' ? 'string' : 'binary'}`,
    );
  const max = key.role === 'sort' ? MAX_SORT_KEY_BYTES : MAX_PARTITION_KEY_BYTES;
  if (bytes > max)
    throw indexKeyError(schema, key, 'INDEX_KEY_TOO_LONG', `Expected at most ${max} bytes, got ${bytes} bytes`, bytes);
}

function indexKeyError(
  schema: TableSchema,
  key: IndexKeyAttribute,
  code: string,
  rule: string,
  bytes?: number,
): DynaloadError {
  const plural = key.indexes.length > 1 ? 'es' : '';
  const where = `Attribute \`${key.name}\` (${key.role} key of index${plural} ${key.indexes.map((i) => `\`${i}\``).join(', ')} of table \`${schema.table}\`)`;
  const context = { column: key.name, table: schema.table, index: key.indexes.join(',') };
  return new DynaloadError(code, `${where}: ${rule}`, {
    context: bytes === undefined ? context : { ...context, bytes },
  });
}

/** The member set in an AttributeValue: its own members only, as `Object.keys` gave, without the array that made per key per row; `?` when none is. */
function typeOf(value: AttributeValue): string {
  const members = value as unknown as Record<string, unknown>;
  for (const type in members) if (Object.hasOwn(members, type) && members[type] !== undefined) return type;
  return '?';
}

function keyBytes(value: AttributeValue): number {
  return value.S !== undefined ? Buffer.byteLength(value.S) : value.B !== undefined ? value.B.length : 1;
}

function keyOnly(schema: TableSchema, item: Item): Item {
  const key: Item = { [schema.hash.name]: item[schema.hash.name] as AttributeValue };
  if (schema.range) key[schema.range.name] = item[schema.range.name] as AttributeValue;
  return key;
}

/** The key identity of an item of a table (see MappedItem.key); also used to match UnprocessedItems. */
export function keyOf(schema: TableSchema, item: Item): string {
  let key = schema.table + '\u0001' + keyPart(schema.hash, item);
  if (schema.range) key += '\u0001' + keyPart(schema.range, item);
  return key;
}

function keyPart(attribute: KeyAttribute, item: Item): string {
  const value = item[attribute.name];
  if (attribute.type === 'N' && value?.N !== undefined)
    return isCanonicalInteger(value.N) ? value.N : parseDynamoNumber(value.N).canonical;
  if (attribute.type === 'S' && value?.S !== undefined) return value.S;
  if (attribute.type === 'B' && value?.B !== undefined) return Buffer.from(value.B).toString('base64');
  return '';
}
