import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { KeyAttribute, TableSchema } from '../dynamo/schema.js';
import { DynaloadError, isDynaloadError } from '../errors.js';
import type { EmptyPolicy } from './empty-policy.js';
import type { AttributeType, TypeSpec } from '../type-spec.js';
import { jsonToAttributeValue, jsonToSet } from './exact-json.js';
import { inferCell, type InferTally } from './infer.js';
import { checkItem, type Item, type MappedItem, type WriteKind } from './item-check.js';
import { isCanonicalInteger, parseDynamoNumber } from './number.js';

export { keyOf, type Item, type MappedItem } from './item-check.js';

export interface MapperOptions {
  readonly schema: TableSchema;
  /** Column names of this file, in order. */
  readonly columns: readonly string[];
  readonly types: TypeSpec;
  readonly empty: EmptyPolicy;
  /** Columns without a declared type: `S`, or inferred (`--infer`). */
  readonly infer?: boolean;
  /** Counts the types `--infer` chose per column, to warn about a column given several. */
  readonly tally?: InferTally;
  /** A delete needs only the key columns: the others are not converted (nor rejected). */
  readonly kind?: WriteKind;
  /** Where the column names came from, for messages: "the header of a.csv" or "--columns". */
  readonly columnsSource: string;
}

type Convert = (cell: string) => AttributeValue;

interface Column {
  readonly name: string;
  readonly isKey: boolean;
  readonly convert: Convert;
}

/**
 * Builds the pure function that turns the cells of one CSV record into one item for one table
 * (`--types`, `--empty`, `--infer`). It throws a DynaloadError (code and context naming the column)
 * for a row that must be rejected; `checkItem` then checks the item against the table.
 */
export function createRowMapper(options: MapperOptions): (fields: readonly string[]) => MappedItem {
  const { schema } = options;
  const keys = [schema.hash, ...(schema.range ? [schema.range] : [])];
  const columns: Column[] = options.columns.map((name) => {
    const key = keys.find((k) => k.name === name);
    const declared = Object.hasOwn(options.types, name) ? options.types[name] : undefined;
    // Index keys take the table's type too: a column of digits keying a numeric index is N.
    const type = key?.type ?? schema.indexKeys?.find((k) => k.name === name)?.type ?? declared;
    return {
      name,
      isKey: key !== undefined,
      convert:
        type === undefined
          ? options.infer
            ? (options.tally?.infer(name) ?? inferCell)
            : converter('S')
          : converter(type),
    };
  });
  const missing = keys.filter((k) => !options.columns.includes(k.name));
  const kind = options.kind ?? 'put';
  const expected = columns.length;

  return (fields) => {
    if (missing.length > 0) {
      const k = missing[0] as KeyAttribute;
      throw new DynaloadError(
        'KEY_MISSING',
        `Expected a column \`${k.name}\` (key of table \`${schema.table}\`) in ${options.columnsSource}, got columns ${options.columns.join(',')}`,
        { context: { column: k.name } },
      );
    }
    if (fields.length !== expected) {
      throw new DynaloadError(
        'COLUMN_COUNT',
        `Expected ${expected} columns (${options.columns.join(',')}), got ${fields.length}`,
        { context: { expected, found: fields.length } },
      );
    }
    const item: Item = {};
    for (let i = 0; i < expected; i++) {
      const column = columns[i] as Column;
      const cell = fields[i] as string;
      if (!column.isKey && kind === 'delete') continue;
      if (cell === '') {
        if (column.isKey) {
          throw new DynaloadError(
            'KEY_EMPTY',
            `Expected a value for key column \`${column.name}\` of table \`${schema.table}\`, got an empty cell`,
            { context: { column: column.name } },
          );
        }
        if (options.empty === 'drop') continue;
        item[column.name] = options.empty === 'null' ? { NULL: true } : { S: '' };
        continue;
      }
      try {
        item[column.name] = column.convert(cell);
      } catch (error) {
        throw inColumn(error, column.name, column.isKey ? ` (key of table \`${schema.table}\`)` : '');
      }
    }
    return checkItem(schema, item, kind);
  };
}

const CONVERTERS = new Map<AttributeType, Convert>();

/** One cell as a value of a `--types` type (throws a DynaloadError when it cannot be one). */
export function convertCell(type: AttributeType, cell: string): AttributeValue {
  let convert = CONVERTERS.get(type);
  if (convert === undefined) CONVERTERS.set(type, (convert = converter(type)));
  return convert(cell);
}

const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false };
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function converter(type: AttributeType): Convert {
  switch (type) {
    case 'S':
      return (cell) => ({ S: cell });
    case 'N':
      // Keep the text as written: DynamoDB normalises it itself, and the text is exact.
      return (cell) => ({ N: isCanonicalInteger(cell) ? cell : parseDynamoNumber(cell).text });
    case 'B':
      return (cell) => {
        if (!BASE64.test(cell))
          throw new DynaloadError('BINARY_INVALID', `Expected base64 for a B value, got \`${preview(cell)}\``);
        return { B: new Uint8Array(Buffer.from(cell, 'base64')) };
      };
    case 'BOOL':
      return (cell) => {
        const value = BOOLEANS[cell.toLowerCase()];
        if (value === undefined)
          throw new DynaloadError(
            'BOOL_INVALID',
            `Expected true, false, 1 or 0 for a BOOL value, got \`${preview(cell)}\``,
          );
        return { BOOL: value };
      };
    case 'NULL':
      return () => ({ NULL: true });
    case 'JSON':
      return jsonToAttributeValue;
    case 'L':
    case 'M':
      return (cell) => {
        const value = jsonToAttributeValue(cell);
        if ((type === 'L' && value.L === undefined) || (type === 'M' && value.M === undefined)) {
          throw new DynaloadError(
            'JSON_SHAPE',
            `Expected a JSON ${type === 'L' ? 'array' : 'object'} for an ${type} value, got \`${preview(cell)}\``,
          );
        }
        return value;
      };
    case 'SS':
    case 'NS':
    case 'BS':
      return (cell) => jsonToSet(type, cell);
  }
}

function inColumn(error: unknown, column: string, role: string): DynaloadError {
  if (!isDynaloadError(error))
    return new DynaloadError('VALUE_INVALID', `Column \`${column}\`${role}: ${String(error)}`, {
      context: { column },
      cause: error,
    });
  return new DynaloadError(error.code, `Column \`${column}\`${role}: ${error.message}`, {
    context: { ...error.context, column },
    cause: error,
  });
}

function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
