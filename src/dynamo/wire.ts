/**
 * BatchWriteItem bodies in DynamoDB's JSON wire form (awsJson1_0), written and read without the
 * SDK's schema-driven serde. Items already hold AttributeValue shapes, so the only translation is
 * binary: B and BS members travel as base64 strings and come back as Uint8Array, like the SDK's.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
 */
import zlib from 'node:zlib';
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';

export type RequestItems = Record<string, WriteRequest[]>;

/** A BatchWriteItem body, and the tables it writes to (they choose the endpoint). */
export interface SerializedBatch {
  readonly tables: string[];
  readonly body: Buffer;
}

/**
 * One WriteRequest (`{"PutRequest":{"Item":...}}`) as JSON text; binary values become base64. An
 * item is serialized once, when it is mapped, and a retry sends the same text again. The replacer
 * costs about 40% more than a plain stringify, so it runs only for items that hold a binary value.
 */
export function serializeWriteRequest(request: WriteRequest): string {
  const item = request.PutRequest?.Item ?? request.DeleteRequest?.Key;
  return item !== undefined && mapHasBinary(item) ? JSON.stringify(request, binaryToBase64) : JSON.stringify(request);
}

/**
 * `{"RequestItems":{"<table>":[<request>,...],...}}` from requests already serialized, in the order
 * given. `wire` (the request's UTF-8 bytes plus one, as MappedItem.wire) lets the texts be written
 * straight into the body: built as one string and then encoded, every body was made two or three
 * times over on the worker's heap, a share of its young collections that grows with every item sent
 * again. Should a `wire` not add up, the body is built as one string instead (never cut short).
 */
export function batchBody(
  requests: Iterable<{ readonly table: string; readonly json: string; readonly wire?: number }>,
): SerializedBatch {
  const byTable = new Map<string, string[]>();
  let bytes = PREFIX.length + SUFFIX.length;
  for (const { table, json, wire } of requests) {
    const list = byTable.get(table);
    if (list === undefined) byTable.set(table, [json]);
    else list.push(json);
    // A UTF-16 unit takes one to three bytes in UTF-8: a `wire` outside that is not trusted.
    bytes +=
      wire !== undefined && wire >= json.length + 1 && wire <= 3 * json.length + 1
        ? wire
        : Buffer.byteLength(json, 'utf8') + 1;
  }
  const names: string[] = [];
  for (const table of byTable.keys()) {
    const name = JSON.stringify(table);
    names.push(name);
    bytes += Buffer.byteLength(name, 'utf8') + 3; // the name, `:[` and `]`
  }
  // Every request was counted with a comma after it; between n requests there are n - 1.
  const counted = byTable.size === 0 ? bytes : bytes - 1;
  const tables = [...byTable.keys()];
  if (!Number.isSafeInteger(counted) || counted > MAX_IN_PLACE_BYTES) return { tables, body: joinedBody(byTable) };
  // Room for one more character past what was counted: a text written with less than that left
  // may have been cut short (a write stops before a character that does not fit, "partially encoded
  // characters will not be written": https://nodejs.org/api/buffer.html#bufwritestring-offset-length-encoding).
  const body = Buffer.allocUnsafe(counted + SPARE);
  let at = body.write(PREFIX, 0, 'latin1');
  let t = 0;
  for (const list of byTable.values()) {
    if (t > 0) body[at++] = COMMA;
    at += body.write(names[t++] as string, at, 'utf8');
    if (body.length - at < SPARE) return { tables, body: joinedBody(byTable) };
    body[at++] = COLON;
    body[at++] = OPEN_BRACKET;
    for (let i = 0; i < list.length; i++) {
      if (i > 0) body[at++] = COMMA;
      at += body.write(list[i] as string, at, 'utf8');
      if (body.length - at < SPARE) return { tables, body: joinedBody(byTable) };
    }
    body[at++] = CLOSE_BRACKET;
  }
  at += body.write(SUFFIX, at, 'latin1');
  return { tables, body: body.subarray(0, at) };
}

const PREFIX = '{"RequestItems":{';
const SUFFIX = '}}';
/** The most bytes one character takes in UTF-8. */
const SPARE = 4;
/** Far above DynamoDB's 16 MB request, far below the 2 GiB past which a Buffer's write misreports. */
const MAX_IN_PLACE_BYTES = 256 * 1024 * 1024;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The same body built as one string: for requests whose `wire` did not add up. */
function joinedBody(byTable: ReadonlyMap<string, string[]>): Buffer {
  let text = PREFIX;
  let first = true;
  for (const [table, list] of byTable) {
    text += `${first ? '' : ','}${JSON.stringify(table)}:[${list.join(',')}]`;
    first = false;
  }
  return Buffer.from(text + SUFFIX, 'utf8');
}

/** `{"RequestItems":...}` as UTF-8 bytes, for requests given as objects. */
export function serializeBatchWrite(items: RequestItems): Buffer {
  const requests: { table: string; json: string }[] = [];
  for (const [table, list] of Object.entries(items))
    for (const request of list) requests.push({ table, json: serializeWriteRequest(request) });
  if (requests.length === 0) return Buffer.from(JSON.stringify({ RequestItems: items }), 'utf8');
  return batchBody(requests).body;
}

function mapHasBinary(map: Record<string, AttributeValue>): boolean {
  for (const key in map) {
    if (valueHasBinary(map[key] as AttributeValue)) return true;
  }
  return false;
}

function valueHasBinary(value: AttributeValue): boolean {
  if (value.B !== undefined || value.BS !== undefined) return true;
  if (value.M !== undefined) return mapHasBinary(value.M);
  if (value.L !== undefined) return value.L.some(valueHasBinary);
  return false;
}

/**
 * JSON.stringify replacer: a Buffer is turned into `{type, data}` by its toJSON before the replacer
 * sees it, so look at the holder's raw value (`this[key]`) instead of `value`.
 */
function binaryToBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  return value;
}

/**
 * The UnprocessedItems of a BatchWriteItem answer, with B/BS decoded (`{}` when nothing was
 * withheld). Throws SyntaxError (the caller shapes it like the SDK does) on a body that is not JSON,
 * including an empty one, and on a JSON answer without an UnprocessedItems object: DynamoDB always
 * sends that member, and an answer without it (a proxy's `{}`) says nothing about which items were
 * written. The SDK reads both as "nothing withheld", which would count a batch nobody stored.
 */
export function parseBatchWriteOutput(body: Buffer): RequestItems {
  if (body.length === 0) throw new SyntaxError('Expected a JSON object holding UnprocessedItems, got an empty body');
  const text = body.toString('utf8');
  const output = JSON.parse(text) as unknown;
  const unprocessed =
    typeof output === 'object' && output !== null
      ? (output as { UnprocessedItems?: unknown }).UnprocessedItems
      : undefined;
  // A withheld request must never go unseen: an answer of another shape is not trusted at all.
  if (typeof unprocessed !== 'object' || unprocessed === null || Array.isArray(unprocessed)) {
    throw new SyntaxError(`Expected a JSON object holding UnprocessedItems, got ${describeAnswer(text)}`);
  }
  for (const [table, requests] of Object.entries(unprocessed)) {
    if (
      !Array.isArray(requests) ||
      requests.some((request) => typeof request !== 'object' || request === null || Array.isArray(request))
    ) {
      throw new SyntaxError(`Expected UnprocessedItems of table ${table} to be a list of write requests`);
    }
  }
  // Only B and BS values differ from their JSON. With neither tag in the text (an attribute named
  // B only costs the slow path), the parsed requests are AttributeValues already: with 20% of the
  // items withheld, decoding every answer cost about 1% of the run's CPU.
  if (!text.includes('"B"') && !text.includes('"BS"')) return unprocessed as RequestItems;
  const result: RequestItems = {};
  for (const [table, requests] of Object.entries(unprocessed as Record<string, unknown[]>)) {
    result[table] = requests.map((request) => decodeWriteRequest(request as WireWriteRequest));
  }
  return result;
}

/** The start of an answer's text, for a message: enough to recognise `{}` or an HTML page. */
function describeAnswer(text: string): string {
  const head = text.length > 80 ? `${text.slice(0, 80)}...` : text;
  return `\`${head}\``;
}

/** One write request as DynamoDB sent it back (JSON text), with B/BS decoded. Throws SyntaxError. */
export function parseWriteRequestText(text: string): WriteRequest {
  return decodeWriteRequest(JSON.parse(text) as WireWriteRequest);
}

interface WireWriteRequest {
  PutRequest?: { Item?: Record<string, unknown> };
  DeleteRequest?: { Key?: Record<string, unknown> };
}

function decodeWriteRequest(request: WireWriteRequest): WriteRequest {
  const out: WriteRequest = {};
  if (request.PutRequest) out.PutRequest = { Item: decodeMap(request.PutRequest.Item ?? {}) };
  if (request.DeleteRequest) out.DeleteRequest = { Key: decodeMap(request.DeleteRequest.Key ?? {}) };
  return out;
}

function decodeMap(map: Record<string, unknown>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(map)) out[name] = decodeValue(value as Record<string, unknown>);
  return out;
}

/** Mirrors the SDK's deserializer: only B, BS, M and L need work; other members are JSON already. */
function decodeValue(value: Record<string, unknown>): AttributeValue {
  if (typeof value.B === 'string') return { B: fromBase64(value.B) };
  if (Array.isArray(value.BS)) return { BS: value.BS.map((b) => fromBase64(b as string)) };
  if (value.M !== undefined && value.M !== null) return { M: decodeMap(value.M as Record<string, unknown>) };
  if (Array.isArray(value.L)) return { L: value.L.map((v) => decodeValue(v as Record<string, unknown>)) };
  return value as unknown as AttributeValue;
}

/** A plain Uint8Array (not a Buffer), as the SDK's fromBase64 returns, so deepStrictEqual matches. */
function fromBase64(text: string): Uint8Array {
  const buffer = Buffer.from(text, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * CRC32 of the response body, as DynamoDB sends it in `x-amz-crc32` so clients can detect a
 * corrupted or truncated answer (SDK v2 checked it: aws-sdk-js lib/services/dynamodb.js).
 * zlib.crc32 is native and unsigned (Node 20.15 and later; engines ask for more, for undici).
 */
export function crc32(data: Uint8Array): number {
  return zlib.crc32(data);
}
