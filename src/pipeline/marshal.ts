import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { NumberValue } from '../packages/document-client.js';
import { DynaloadError } from '../errors.js';
import { parseDynamoNumber } from './number.js';

/** DynamoDB nests documents at most 32 levels deep. */
const MAX_DEPTH = 32;

/**
 * Plain JavaScript values to DynamoDB AttributeValues, as the SDK's document client does
 * (`@aws-sdk/lib-dynamodb` marshall with removeUndefinedValues), but strict where silence would
 * change a value: a number past 2^53 is refused (use bigint or NumberValue), as are NaN,
 * Infinity, empty sets, mixed sets, Dates and class instances. Errors say where in the value.
 */
export function marshalItem(value: unknown): Record<string, AttributeValue> {
  if (!isPlainObject(value)) {
    throw new DynaloadError(
      'TRANSFORM_RESULT',
      `Expected an item to be a plain object of attributes, got ${describe(value)}`,
    );
  }
  return marshalMap(value, '', 1);
}

export function marshalValue(value: unknown, path: string, depth: number): AttributeValue | undefined {
  if (depth > MAX_DEPTH) fail(path, `at most ${MAX_DEPTH} levels of nesting`, 'deeper nesting');
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      if (!Number.isFinite(value)) fail(path, 'a finite number', String(value));
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        fail(path, 'an integer within ±2^53 (use a bigint or NumberValue for larger ones)', String(value));
      }
      return { N: checkNumber(String(value), path) };
    case 'bigint':
      return { N: checkNumber(value.toString(), path) };
    case 'boolean':
      return { BOOL: value };
    case 'undefined':
      return undefined;
    case 'object':
      return marshalObject(value, path, depth);
    default:
      return fail(
        path,
        'a string, number, bigint, boolean, null, array, Set, Uint8Array or plain object',
        typeof value,
      );
  }
}

function marshalObject(value: object | null, path: string, depth: number): AttributeValue {
  if (value === null) return { NULL: true };
  if (isNumberValue(value)) return { N: checkNumber(String(value), path) };
  if (value instanceof Uint8Array) return { B: value };
  if (value instanceof ArrayBuffer) return { B: new Uint8Array(value) };
  if (Array.isArray(value)) {
    return {
      L: value.map((element, i) => {
        const marshalled = marshalValue(element, `${path}[${i}]`, depth + 1);
        if (marshalled === undefined)
          fail(`${path}[${i}]`, 'a value (undefined cannot be stored in a list)', 'undefined');
        return marshalled;
      }),
    };
  }
  if (value instanceof Set) return marshalSet(value, path);
  if (value instanceof Map) return { M: marshalMap(Object.fromEntries(value), path, depth + 1) };
  if (isPlainObject(value)) return { M: marshalMap(value, path, depth + 1) };
  const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  return fail(
    path,
    `a plain value${name === 'Date' ? ' (convert Dates yourself, e.g. date.toISOString())' : ''}`,
    `an instance of ${name}`,
  );
}

function marshalMap(value: Record<string, unknown>, path: string, depth: number): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const key of Object.keys(value)) {
    const marshalled = marshalValue(value[key], path === '' ? key : `${path}.${key}`, depth);
    if (marshalled !== undefined) out[key] = marshalled;
  }
  return out;
}

function marshalSet(set: Set<unknown>, path: string): AttributeValue {
  const elements = [...set];
  if (elements.length === 0) fail(path, 'a non-empty Set (DynamoDB stores no empty sets)', 'an empty Set');
  if (elements.every((e) => typeof e === 'string')) return { SS: elements as string[] };
  if (elements.every((e) => typeof e === 'number' || typeof e === 'bigint' || isNumberValue(e))) {
    return { NS: elements.map((e, i) => (marshalValue(e, `${path}[${i}]`, 1) as { N: string }).N) };
  }
  if (elements.every((e) => e instanceof Uint8Array)) return { BS: elements as Uint8Array[] };
  return fail(path, 'a Set of only strings, only numbers or only Uint8Arrays', 'a mixed Set');
}

function checkNumber(text: string, path: string): string {
  try {
    return parseDynamoNumber(text).text;
  } catch (error) {
    throw new DynaloadError(
      (error as DynaloadError).code ?? 'NUMBER_INVALID',
      `Attribute \`${path}\`: ${(error as Error).message}`,
      { context: { attribute: path } },
    );
  }
}

/** NumberValue from any copy of @aws-sdk/lib-dynamodb (a transform may bring its own). */
function isNumberValue(value: unknown): boolean {
  return (
    value instanceof NumberValue ||
    (typeof value === 'object' &&
      value !== null &&
      value.constructor?.name === 'NumberValue' &&
      typeof (value as { value?: unknown }).value === 'string')
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object')
    return `an instance of ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'object'}`;
  return `${typeof value} \`${String(value).slice(0, 40)}\``;
}

function fail(path: string, expected: string, found: string): never {
  throw new DynaloadError('TRANSFORM_VALUE', `Attribute \`${path || '(item)'}\`: Expected ${expected}, got ${found}`, {
    context: { attribute: path },
  });
}

/** The other way, for rows handed to transforms: exact numbers stay exact (NumberValue past 2^53). */
export function unmarshalValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return toNumber(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.B !== undefined) return value.B;
  if (value.L !== undefined) return value.L.map(unmarshalValue);
  if (value.M !== undefined) return unmarshalMap(value.M);
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.NS !== undefined) return new Set(value.NS.map(toNumber));
  if (value.BS !== undefined) return new Set(value.BS);
  return undefined;
}

export function unmarshalMap(map: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(map)) out[key] = unmarshalValue(map[key] as AttributeValue);
  return out;
}

function toNumber(text: string): number | NumberValue {
  const n = Number(text);
  return String(n) === text ? n : new NumberValue(text);
}
