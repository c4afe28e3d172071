import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynaloadError, isDynaloadError } from '../errors.js';
import { jsonToAttributeValue } from './exact-json.js';
import { parseDynamoNumber } from './number.js';
import type { Item } from './item-check.js';
import { MAX_RECORD_BYTES, type CsvFailure } from './parse.js';


/** One line of a JSON-lines input, already an item in DynamoDB's wire form (numbers exact). */
export interface JsonRecord {
  readonly kind: 'item';
  readonly line: number;
  readonly end: number;
  /** Line breaks up to `end` (a resumed read picks up its line count there). */
  readonly lines: number;
  readonly item: Item;
  /** The line as read, for the rejects file. */
  readonly raw: string;
}

/** A line that is not what the format says: the same shape as a broken CSV line. */
export type JsonFailure = CsvFailure;

const LF = 0x0a;

/**
 * Reads NDJSON (one JSON object per line: `ndjson`) or DynamoDB JSON as DynamoDB's export to S3
 * writes it (`{"Item": {"pk": {"S": "a"}, ...}}` per line: `ddb-json`). Blank lines are skipped; a
 * line that is not what the format says becomes a failure, and reading goes on.
 */
export async function* readJsonLines(input: AsyncIterable<Buffer | string>, format: 'ndjson' | 'ddb-json', start?: { offset: number; lines: number }): AsyncGenerator<JsonRecord | JsonFailure> {
  let pending: Buffer = Buffer.alloc(0);
  let offset = start?.offset ?? 0; // input offset of pending[0]
  let line = start?.lines ?? 0;
  let skipping = false; // inside a line longer than MAX_RECORD_BYTES
  const toItem = format === 'ndjson' ? ndjsonItem : ddbJsonItem;

  const tooLong = (end: number, raw: string): JsonFailure =>
    ({ kind: 'failure', line, end, lines: line, code: 'JSON_LINE_TOO_LONG', message: `Expected a line of at most ${MAX_RECORD_BYTES} bytes, got a longer one; it was skipped`, raw: `${raw.slice(0, 1000)}...` });

  function* take(text: Buffer, end: number): Generator<JsonRecord | JsonFailure> {
    line++;
    if (text.length > MAX_RECORD_BYTES) {
      yield tooLong(end, text.toString('utf8', 0, 1000));
      return;
    }
    const source = text.toString('utf8').replace(/\r$/, '');
    if (source.trim() === '') return;
    try {
      yield { kind: 'item', line, end, lines: line, item: toItem(source), raw: source };
    } catch (error) {
      if (!isDynaloadError(error)) throw error;
      yield { kind: 'failure', line, end, lines: line, code: error.code, message: error.message, raw: source.length > 1000 ? `${source.slice(0, 1000)}...` : source };
    }
  }

  for await (const piece of input) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (let lf = pending.indexOf(LF); lf !== -1; lf = pending.indexOf(LF, start)) {
      if (skipping) {
        skipping = false;
      } else {
        yield* take(pending.subarray(start, lf), offset + lf + 1);
      }
      start = lf + 1;
    }
    offset += start;
    pending = pending.subarray(start);
    if (pending.length > MAX_RECORD_BYTES && !skipping) {
      line++;
      yield tooLong(offset + pending.length, pending.toString('utf8', 0, 1000));
      skipping = true;
    }
    if (skipping) {
      offset += pending.length;
      pending = Buffer.alloc(0);
    }
  }
  if (pending.length > 0 && !skipping) yield* take(pending, offset + pending.length);
}

function ndjsonItem(source: string): Item {
  const value = jsonToAttributeValue(source);
  if (value.M === undefined) throw new DynaloadError('JSON_SHAPE', `Expected a JSON object per line, got ${Object.keys(value)[0] === 'L' ? 'an array' : 'a scalar'}`);
  return value.M;
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html */
function ddbJsonItem(source: string): Item {
  const value = jsonToAttributeValue(source);
  const wrapped = value.M?.Item?.M;
  if (wrapped === undefined) throw new DynaloadError('JSON_SHAPE', 'Expected a line like `{"Item": {"pk": {"S": "a"}}}` (DynamoDB JSON), got something else');
  const item: Item = {};
  for (const [name, typed] of Object.entries(wrapped)) item[name] = typedValue(typed, name);
  return item;
}

/** `{"N": "1.50"}` read as JSON (a map holding a string) back to the AttributeValue it describes. */
function typedValue(typed: AttributeValue, path: string): AttributeValue {
  const entries = Object.entries(typed.M ?? {});
  const [type, inner] = entries[0] ?? [];
  if (entries.length !== 1 || type === undefined || inner === undefined) {
    throw new DynaloadError('DDB_JSON_INVALID', `Attribute \`${path}\`: Expected one DynamoDB type tag such as {"S": ...}, got ${entries.length} keys`);
  }
  const text = (v: AttributeValue): string => {
    if (v.S === undefined) throw new DynaloadError('DDB_JSON_INVALID', `Attribute \`${path}\`: Expected a string inside {"${type}": ...}`);
    return v.S;
  };
  const list = (v: AttributeValue): AttributeValue[] => {
    if (v.L === undefined) throw new DynaloadError('DDB_JSON_INVALID', `Attribute \`${path}\`: Expected an array inside {"${type}": ...}`);
    return v.L;
  };
  const number = (t: string): string => {
    try {
      return parseDynamoNumber(t).text;
    } catch (error) {
      throw new DynaloadError((error as DynaloadError).code, `Attribute \`${path}\`: ${(error as Error).message}`);
    }
  };
  const nonEmpty = <T>(values: T[]): T[] => {
    if (values.length === 0) throw new DynaloadError('SET_EMPTY', `Attribute \`${path}\`: Expected a non-empty set, got an empty one`);
    return values;
  };
  switch (type) {
    case 'S': return { S: text(inner) };
    case 'N': return { N: number(text(inner)) };
    case 'B': return { B: new Uint8Array(Buffer.from(text(inner), 'base64')) };
    case 'BOOL': if (inner.BOOL !== undefined) return { BOOL: inner.BOOL }; break;
    case 'NULL': if (inner.BOOL === true) return { NULL: true }; break;
    case 'SS': return { SS: nonEmpty(list(inner).map(text)) };
    case 'NS': return { NS: nonEmpty(list(inner).map((v) => number(text(v)))) };
    case 'BS': return { BS: nonEmpty(list(inner).map((v) => new Uint8Array(Buffer.from(text(v), 'base64')))) };
    case 'L': return { L: list(inner).map((v, i) => typedValue(v, `${path}[${i}]`)) };
    case 'M': {
      if (inner.M === undefined) break;
      const map: Item = {};
      for (const [k, v] of Object.entries(inner.M)) map[k] = typedValue(v, `${path}.${k}`);
      return { M: map };
    }
  }
  throw new DynaloadError('DDB_JSON_INVALID', `Attribute \`${path}\`: Expected a DynamoDB type tag (S, N, B, BOOL, NULL, SS, NS, BS, L, M) with a value of its kind, got {"${type}": ...}`);
}
