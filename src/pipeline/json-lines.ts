import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynaloadError, isDynaloadError } from '../errors.js';
import { BASE64, jsonToAttributeValue } from './exact-json.js';
import { parseDynamoNumber, preview } from './number.js';
import type { Item } from './item-check.js';
import { toBuffers, withoutBom } from './encoding.js';
import { LongLine, MAX_RECORD_BYTES } from './long-line.js';
import { encodingFailure, type CsvFailure } from './parse.js';

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
 * line that is not what the format says becomes a failure, and reading goes on. A line past the
 * record cap is not held: it streams through a LongLine up to its line break.
 */
export async function* readJsonLines(
  input: AsyncIterable<Buffer | string>,
  format: 'ndjson' | 'ddb-json',
  start?: { offset: number; lines: number },
): AsyncGenerator<JsonRecord | JsonFailure> {
  /** The current line's bytes so far, unless it is past the cap (then `long` takes them). */
  const parts: Buffer[] = [];
  let partBytes = 0;
  let long: LongLine | undefined;
  let offset = start?.offset ?? 0; // input offset of the current line's first byte
  let line = start?.lines ?? 0;
  const toItem = format === 'ndjson' ? ndjsonItem : ddbJsonItem;

  function take(text: Buffer, textStart: number, end: number): JsonRecord | JsonFailure | undefined {
    line++;
    const at = { line, end, lines: line };
    if (long === undefined && text.length > MAX_RECORD_BYTES) long = new LongLine();
    if (long !== undefined) {
      long.add(text);
      const kept = long.kept();
      long = undefined;
      return {
        kind: 'failure',
        ...at,
        ...kept,
        code: 'RECORD_TOO_LONG',
        message: `Expected a line of at most ${MAX_RECORD_BYTES} bytes, got one of ${kept.length} bytes; it was skipped`,
      };
    }
    const broken = encodingFailure(text, textStart, line, end, line);
    if (broken !== undefined) return broken;
    const source = text.toString('utf8').replace(/\r$/, '');
    if (source.trim() === '') return undefined;
    try {
      return { kind: 'item', ...at, item: toItem(source), raw: source };
    } catch (error) {
      if (!isDynaloadError(error)) throw error;
      return { kind: 'failure', ...at, code: error.code, message: error.message, raw: source };
    }
  }

  const bytes =
    start === undefined || start.offset === 0 ? withoutBom(toBuffers(input), (n) => (offset = n)) : toBuffers(input);
  for await (const chunk of bytes) {
    let from = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, from)) {
      const piece = chunk.subarray(from, lf);
      const text = parts.length === 0 ? piece : Buffer.concat([...parts.splice(0), piece]);
      const end = offset + partBytes + piece.length + 1;
      partBytes = 0;
      const record = take(text, offset, end);
      offset = end;
      if (record !== undefined) yield record;
      from = lf + 1;
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      if (long !== undefined) {
        long.add(rest);
        offset += rest.length;
      } else if (partBytes + rest.length > MAX_RECORD_BYTES) {
        long = new LongLine();
        for (const part of parts.splice(0)) long.add(part);
        long.add(rest);
        offset += partBytes + rest.length;
        partBytes = 0;
      } else {
        parts.push(rest);
        partBytes += rest.length;
      }
    }
  }
  if (partBytes > 0 || long !== undefined) {
    const text = Buffer.concat(parts.splice(0));
    const record = take(text, offset, offset + partBytes);
    if (record !== undefined) yield record;
  }
}

function ndjsonItem(source: string): Item {
  const value = jsonToAttributeValue(source);
  if (value.M === undefined)
    throw new DynaloadError(
      'JSON_SHAPE',
      `Expected a JSON object per line, got ${Object.keys(value)[0] === 'L' ? 'an array' : 'a scalar'}`,
    );
  return value.M;
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html */
function ddbJsonItem(source: string): Item {
  const value = jsonToAttributeValue(source);
  const wrapped = value.M?.Item?.M;
  if (wrapped === undefined)
    throw new DynaloadError(
      'JSON_SHAPE',
      'Expected a line like `{"Item": {"pk": {"S": "a"}}}` (DynamoDB JSON), got something else',
    );
  const item: Item = {};
  for (const [name, typed] of Object.entries(wrapped)) item[name] = typedValue(typed, name);
  return item;
}

/** `{"N": "1.50"}` read as JSON (a map holding a string) back to the AttributeValue it describes. */
function typedValue(typed: AttributeValue, path: string): AttributeValue {
  const entries = Object.entries(typed.M ?? {});
  const [type, inner] = entries[0] ?? [];
  if (entries.length !== 1 || type === undefined || inner === undefined) {
    throw new DynaloadError(
      'DDB_JSON_INVALID',
      `Attribute \`${path}\`: Expected one DynamoDB type tag such as {"S": ...}, got ${entries.length} keys`,
    );
  }
  const text = (v: AttributeValue): string => {
    if (v.S === undefined)
      throw new DynaloadError('DDB_JSON_INVALID', `Attribute \`${path}\`: Expected a string inside {"${type}": ...}`);
    return v.S;
  };
  const list = (v: AttributeValue): AttributeValue[] => {
    if (v.L === undefined)
      throw new DynaloadError('DDB_JSON_INVALID', `Attribute \`${path}\`: Expected an array inside {"${type}": ...}`);
    return v.L;
  };
  const number = (t: string): string => {
    try {
      return parseDynamoNumber(t).text;
    } catch (error) {
      throw new DynaloadError((error as DynaloadError).code, `Attribute \`${path}\`: ${(error as Error).message}`);
    }
  };
  // Buffer.from(text, 'base64') skips what is not base64: `QUJD!!` would be stored as other bytes.
  const binary = (t: string): Uint8Array => {
    if (!BASE64.test(t))
      throw new DynaloadError(
        'BINARY_INVALID',
        `Attribute \`${path}\`: Expected standard base64 inside {"${type}": ...}, got \`${preview(t)}\``,
      );
    return new Uint8Array(Buffer.from(t, 'base64'));
  };
  const nonEmpty = <T>(values: T[]): T[] => {
    if (values.length === 0)
      throw new DynaloadError('SET_EMPTY', `Attribute \`${path}\`: Expected a non-empty set, got an empty one`);
    return values;
  };
  switch (type) {
    case 'S':
      return { S: text(inner) };
    case 'N':
      return { N: number(text(inner)) };
    case 'B':
      return { B: binary(text(inner)) };
    case 'BOOL':
      if (inner.BOOL !== undefined) return { BOOL: inner.BOOL };
      break;
    case 'NULL':
      if (inner.BOOL === true) return { NULL: true };
      break;
    case 'SS':
      return { SS: nonEmpty(list(inner).map(text)) };
    case 'NS':
      return { NS: nonEmpty(list(inner).map((v) => number(text(v)))) };
    case 'BS':
      return { BS: nonEmpty(list(inner).map((v) => binary(text(v)))) };
    case 'L':
      return { L: list(inner).map((v, i) => typedValue(v, `${path}[${i}]`)) };
    case 'M': {
      if (inner.M === undefined) break;
      const map: Item = {};
      for (const [k, v] of Object.entries(inner.M)) map[k] = typedValue(v, `${path}.${k}`);
      return { M: map };
    }
  }
  throw new DynaloadError(
    'DDB_JSON_INVALID',
    `Attribute \`${path}\`: Expected a DynamoDB type tag (S, N, B, BOOL, NULL, SS, NS, BS, L, M) with a value of its kind, got {"${type}": ...}`,
  );
}
