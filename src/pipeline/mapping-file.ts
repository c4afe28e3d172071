import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynaloadError, usageError } from '../errors.js';
import { ATTRIBUTE_TYPES, type AttributeType } from '../type-spec.js';
import { EMPTY_POLICIES, type EmptyPolicy } from './empty-policy.js';
import { inferCell, type InferTally } from './infer.js';
import type { Item } from './item-check.js';
import { marshalValue } from './marshal.js';
import { convertCell } from './transform.js';

/**
 * `--map mapping.json`: the common reshaping without code. Either one table's rules at the top
 * level (for `--table`), or `{"tables": {"<name>": rules, ...}}` to fan out. Rules, applied in this
 * order to the input columns:
 *   only   ["a", "b"]            keep just these columns
 *   drop   ["c"]                 leave these columns out
 *   rename {"user": "pk"}        column -> attribute name
 *   set    {"sk": "${series}#${episode}", "kind": "watch", "v": 2}
 *                                computed attributes: a string is a template over the input
 *                                columns (`$$` for a literal `$`); other JSON values are constants
 *   types  {"pk": "N"}           type of an attribute, by its final name (see --types)
 *   empty  "drop"|"string"|"null"  empty cells (default: --empty)
 */
export interface TableRules {
  readonly only?: readonly string[];
  readonly drop?: readonly string[];
  readonly rename?: Readonly<Record<string, string>>;
  readonly set?: Readonly<Record<string, unknown>>;
  readonly types?: Readonly<Record<string, AttributeType>>;
  readonly empty?: EmptyPolicy;
}

export type MappingFile = Readonly<Record<string, TableRules>>;

/** A row as the mapping sees it: CSV cells (strings) or NDJSON values (already typed). */
export type MappingRow = Readonly<Record<string, string | AttributeValue | undefined>>;

const RULE_KEYS = new Set(['only', 'drop', 'rename', 'set', 'types', 'empty']);

/** Validates a parsed mapping file once, at the boundary: every mistake is a usage error (exit 2). */
export function parseMappingFile(json: unknown, defaultTable: string | undefined, source: string): MappingFile {
  const fail = (what: string): never => {
    throw usageError('MAP_INVALID', `${source}: ${what}`, { file: source });
  };
  if (!isObject(json)) return fail(`Expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  let tables: Record<string, unknown>;
  if ('tables' in json) {
    if (!isObject(json.tables) || Object.keys(json.tables).length === 0)
      return fail('Expected `tables` to be an object naming at least one table');
    tables = json.tables;
  } else {
    if (defaultTable === undefined) return fail('Expected `--table` for a mapping without `tables`');
    tables = { [defaultTable]: json };
  }
  const out: Record<string, TableRules> = {};
  for (const [table, rules] of Object.entries(tables)) {
    const at = (key: string): string => `tables.${table}.${key}`;
    if (!isObject(rules)) return fail(`Expected \`tables.${table}\` to be an object of rules, got ${typeof rules}`);
    for (const key of Object.keys(rules))
      if (!RULE_KEYS.has(key)) fail(`Expected rules among ${[...RULE_KEYS].join(', ')}, got \`${at(key)}\``);
    const strings = (key: string): string[] | undefined => {
      const v = rules[key];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
        return fail(`Expected \`${at(key)}\` to be an array of column names`);
      return v as string[];
    };
    const record = (
      key: string,
      check: (v: unknown) => boolean,
      expected: string,
    ): Record<string, never> | undefined => {
      const v = rules[key];
      if (v === undefined) return undefined;
      if (!isObject(v) || !Object.values(v).every(check))
        return fail(`Expected \`${at(key)}\` to be an object of ${expected}`);
      return v as Record<string, never>;
    };
    const types = record(
      'types',
      (v) => typeof v === 'string' && (ATTRIBUTE_TYPES as readonly string[]).includes(v.toUpperCase()),
      `types (${ATTRIBUTE_TYPES.join(', ')})`,
    );
    const set = record('set', () => true, 'values');
    for (const [name, value] of Object.entries(set ?? {})) {
      if (typeof value === 'string') compileTemplate(value, (why) => fail(`\`${at(`set.${name}`)}\`: ${why}`));
      else {
        try {
          marshalValue(value, name, 1);
        } catch (error) {
          fail(`\`${at(`set.${name}`)}\`: ${(error as Error).message}`);
        }
      }
    }
    const empty = rules.empty;
    if (empty !== undefined && !EMPTY_POLICIES.includes(empty as EmptyPolicy))
      fail(`Expected \`${at('empty')}\` to be drop, string or null, got \`${String(empty)}\``);
    out[table] = Object.freeze({
      ...(strings('only') ? { only: strings('only') } : {}),
      ...(strings('drop') ? { drop: strings('drop') } : {}),
      ...(record('rename', (v) => typeof v === 'string' && v !== '', 'attribute names')
        ? { rename: rules.rename as Record<string, string> }
        : {}),
      ...(set ? { set } : {}),
      ...(types
        ? {
            types: Object.fromEntries(
              Object.entries(types).map(([k, v]) => [k, (v as string).toUpperCase() as AttributeType]),
            ),
          }
        : {}),
      ...(empty !== undefined ? { empty: empty as EmptyPolicy } : {}),
    });
  }
  return Object.freeze(out);
}

type Part = string | { column: string };

/** `"${series}#${episode}"` -> parts; `$$` is a literal `$`. */
export function compileTemplate(text: string, fail: (why: string) => never): Part[] {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') {
      literal += '$';
      i++;
    } else if (text[i] === '$' && text[i + 1] === '{') {
      const close = text.indexOf('}', i);
      const column = close === -1 ? '' : text.slice(i + 2, close);
      if (column === '') fail(`Expected \`\${column}\` with a column name, got \`${text.slice(i)}\``);
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push({ column });
      i = close;
    } else {
      literal += text[i];
    }
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

/**
 * Compiles one table's rules for the columns of one file into a function from a row to an item.
 * It throws a DynaloadError (rejecting the row for this table) when a template needs an empty cell.
 */
export function compileRules(
  rules: TableRules,
  columns: readonly string[],
  options: {
    empty: EmptyPolicy;
    infer: boolean;
    source: string;
    keys?: Readonly<Record<string, AttributeType>>;
    tally?: InferTally;
  },
): (row: MappingRow) => Item {
  const empty = rules.empty ?? options.empty;
  const copied = columns.filter(
    (c) => (rules.only === undefined || rules.only.includes(c)) && !(rules.drop ?? []).includes(c),
  );
  const typeOf = (name: string): AttributeType | undefined =>
    rules.types && Object.hasOwn(rules.types, name)
      ? rules.types[name]
      : options.keys && Object.hasOwn(options.keys, name)
        ? options.keys[name]
        : undefined;
  const inferred = new Map<string, (cell: string) => AttributeValue>();
  const inferFor = (name: string): ((cell: string) => AttributeValue) => {
    let infer = inferred.get(name);
    if (infer === undefined) inferred.set(name, (infer = options.tally?.infer(name) ?? inferCell));
    return infer;
  };
  const convert = (name: string, cell: string): AttributeValue => {
    const type = typeOf(name);
    return type === undefined ? (options.infer ? inferFor(name)(cell) : { S: cell }) : convertCell(type, cell);
  };
  const computed = Object.entries(rules.set ?? {}).map(([name, value]) => {
    if (typeof value !== 'string') return { name, constant: marshalValue(value, name, 1) as AttributeValue };
    const parts = compileTemplate(value, (why) => {
      throw usageError('MAP_INVALID', why);
    });
    for (const part of parts) {
      if (typeof part !== 'string' && !columns.includes(part.column)) {
        throw usageError(
          'MAP_COLUMN_MISSING',
          `${options.source}: Expected column \`${part.column}\` (used by set.${name}) among ${columns.join(',')}`,
        );
      }
    }
    return { name, parts };
  });
  return (row) => {
    const item: Item = {};
    for (const column of copied) {
      const cell = row[column];
      const name = rules.rename?.[column] ?? column;
      if (cell === undefined) continue;
      if (typeof cell !== 'string') {
        item[name] = cell;
        continue;
      }
      if (cell === '') {
        if (empty === 'string') item[name] = { S: '' };
        else if (empty === 'null') item[name] = { NULL: true };
        continue;
      }
      item[name] = withColumn(name, () => convert(name, cell));
    }
    for (const attribute of computed) {
      if ('constant' in attribute) {
        item[attribute.name] = attribute.constant as AttributeValue;
        continue;
      }
      let text = '';
      for (const part of attribute.parts) {
        if (typeof part === 'string') {
          text += part;
          continue;
        }
        const cell = row[part.column];
        const value =
          typeof cell === 'string'
            ? cell
            : (cell?.S ?? cell?.N ?? (cell?.BOOL === undefined ? undefined : String(cell.BOOL)));
        if (value === undefined || value === '') {
          throw new DynaloadError(
            'TEMPLATE_EMPTY',
            `Attribute \`${attribute.name}\`: Expected column \`${part.column}\` to have a value for the template, got ${value === undefined ? 'a value that is not text' : 'an empty cell'}`,
            { context: { column: part.column } },
          );
        }
        text += value;
      }
      item[attribute.name] = withColumn(attribute.name, () => convert(attribute.name, text));
    }
    return item;
  };
}

function withColumn(name: string, convert: () => AttributeValue): AttributeValue {
  try {
    return convert();
  } catch (error) {
    const e = error as DynaloadError;
    throw new DynaloadError(e.code ?? 'VALUE_INVALID', `Attribute \`${name}\`: ${e.message}`, {
      context: { ...(e.context ?? {}), column: name },
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
