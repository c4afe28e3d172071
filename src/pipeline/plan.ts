import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { keyTypes, type TableSchema } from '../dynamo/schema.js';
import { DynaloadError, isDynaloadError } from '../errors.js';
import type { KeyType, TypeSpec } from '../type-spec.js';
import type { EmptyPolicy } from './empty-policy.js';
import { checkItem, type Item, type MappedItem, type WriteKind } from './item-check.js';
import { compileRules, type MappingFile, type MappingRow } from './mapping-file.js';
import { marshalItem, unmarshalMap } from './marshal.js';
import { checkArrivingHeader } from './preflight.js';
import type { TransformCalls } from './transform-calls.js';
import type { LoadedTransform, TransformResult } from './transform-module.js';
import { convertCell, createRowMapper } from './transform.js';
import { InferTally, type MixedColumn } from './infer.js';

/** What one row gives one table: an item to write, or the reason the row is rejected for it. */
export type Output =
  | { readonly table: string; readonly item: MappedItem; readonly error?: undefined }
  | { readonly table: string; readonly item?: undefined; readonly error: DynaloadError };

export interface RowContext {
  readonly file: string;
  readonly line: number;
}

/** Maps one row to its outputs; synchronous unless a transform is async. */
export type RowPlan<R> = (row: R, ctx: RowContext) => Output[] | Promise<Output[]>;

export interface PlanOptions {
  readonly kind: WriteKind;
  /** Every target table, described before the run. */
  readonly schemas: ReadonlyMap<string, TableSchema>;
  /** `--table`: the target when neither a mapping nor a transform names tables. */
  readonly table: string | undefined;
  readonly types: TypeSpec;
  readonly empty: EmptyPolicy;
  readonly infer: boolean;
  readonly mapping?: MappingFile;
  readonly transform?: LoadedTransform;
  /** Bounds and times the async calls of `transform` (`--transform-concurrency`, `--transform-timeout`). */
  readonly calls?: TransformCalls;
}

/**
 * How rows become items, whatever the input format: `--types` columns for one table (the default),
 * a mapping file, or a transform module, possibly fanning out to several tables. Every item is
 * checked against its own table before it can join a batch.
 */
export class Plan {
  private readonly tally = new InferTally();

  constructor(private readonly options: PlanOptions) {}

  /** Columns `--infer` wrote with more than one type, so far. */
  mixedColumns(): MixedColumn[] {
    return this.tally.mixed();
  }

  /** The plan for the records of one CSV file, once its column names are known. */
  csv(columns: readonly string[], source: string): RowPlan<readonly string[]> {
    const { mapping, transform, kind } = this.options;
    if (transform)
      return (fields, ctx) =>
        this.transformRow(
          transform,
          named(columns, fields),
          ctx,
          fields.length === columns.length ? undefined : columnCount(columns, fields),
        );
    if (mapping) {
      const compiled = [...Object.entries(mapping)].map(([table, rules]) => ({
        table,
        map: compileRules(rules, columns, {
          empty: this.options.empty,
          infer: this.options.infer,
          source,
          keys: this.keyTypes(table),
          tally: this.tally,
        }),
      }));
      return (fields) => {
        if (fields.length !== columns.length)
          return compiled.map(({ table }) => ({ table, error: columnCount(columns, fields) }));
        const row = named(columns, fields);
        return compiled.map(({ table, map }) => this.attempt(table, () => map(row)));
      };
    }
    const table = this.options.table as string;
    const mapper = createRowMapper({
      schema: this.schema(table),
      columns,
      types: this.options.types,
      empty: this.options.empty,
      infer: this.options.infer,
      tally: this.tally,
      kind,
      columnsSource: source,
    });
    return (fields) => {
      try {
        return [{ table, item: mapper(fields) }];
      } catch (error) {
        return [{ table, error: asError(error) }];
      }
    };
  }

  /** Stops the run (a usage error) when a file's column names, as they arrive, cannot give what the plan needs. */
  checkColumns(columns: readonly string[], file: string): void {
    const { schemas, mapping, transform } = this.options;
    checkArrivingHeader(columns, file, { schemas: [...schemas.values()], mapping, transform: transform !== undefined });
  }

  /**
   * The plan for items read from NDJSON or DynamoDB JSON lines (values already typed and exact).
   * NDJSON carries JSON's types, not DynamoDB's: its key attributes (the table's and its indexes')
   * take the table's type: a string of a number as N, a number as S by its text as written. A
   * DynamoDB JSON value names its type: one of the wrong type is rejected, never converted.
   */
  json(format: 'ndjson' | 'ddb-json' = 'ndjson'): RowPlan<Item> {
    const { mapping, transform } = this.options;
    if (transform) return (item, ctx) => this.transformRow(transform, unmarshalMap(item), ctx, undefined);
    const typed =
      format === 'ddb-json'
        ? (_table: string, item: Item) => item
        : (table: string, item: Item) => toKeyTypes(item, this.keyTypes(table));
    if (mapping) {
      return (item) => {
        const columns = Object.keys(item);
        return Object.entries(mapping).map(([table, rules]) =>
          this.attempt(table, () =>
            typed(
              table,
              compileRules(rules, columns, {
                empty: this.options.empty,
                infer: this.options.infer,
                source: 'the mapping',
                keys: this.keyTypes(table),
                tally: this.tally,
              })(item as MappingRow),
            ),
          ),
        );
      };
    }
    const table = this.options.table as string;
    return (item) => [this.attempt(table, () => typed(table, item))];
  }

  /** Key attribute name -> type, the table's and its indexes': a key without a declared type takes the table's. */
  private keyTypes(table: string): Readonly<Record<string, KeyType>> {
    return keyTypes(this.schema(table));
  }

  private schema(table: string): TableSchema {
    const schema = this.options.schemas.get(table);
    if (schema === undefined) throw new DynaloadError('EINTERNAL', `No schema was read for table \`${table}\``);
    return schema;
  }

  /** Builds and checks one table's item; any failure becomes that table's rejection of the row. */
  private attempt(table: string, build: () => Item): Output {
    try {
      return { table, item: checkItem(this.schema(table), build(), this.options.kind) };
    } catch (error) {
      return { table, error: asError(error) };
    }
  }

  /**
   * Resolves once this row's transform calls fit under `--transform-concurrency`; undefined when
   * they fit now (always, while no async call is in flight: a synchronous transform never waits).
   */
  room(): Promise<void> | undefined {
    const { transform, calls } = this.options;
    return transform && calls ? calls.room(transform.size) : undefined;
  }

  private transformRow(
    transform: LoadedTransform,
    row: Readonly<Record<string, unknown>>,
    ctx: RowContext,
    countError: DynaloadError | undefined,
  ): Output[] | Promise<Output[]> {
    if (countError) return [...transform.keys()].map((table) => ({ table, error: countError }));
    const results: CallResult[] = [];
    let async = false;
    for (const [table, fn] of transform) {
      try {
        const value = fn(row, { file: ctx.file, line: ctx.line, table });
        if (isThenable(value)) {
          async = true;
          results.push({ table, pending: this.track(value) });
        } else {
          results.push({ table, settled: { value } });
        }
      } catch (failure) {
        results.push({ table, settled: { failure: failure ?? new Error('threw without a reason') } });
      }
    }
    if (!async) return results.flatMap((r) => this.callOutputs(r.table, r.settled as Settled));
    return Promise.all(
      results.map(async (r) => this.callOutputs(r.table, r.settled ?? (await (r.pending as Promise<Settled>)))),
    ).then((lists) => lists.flat());
  }

  private track(value: PromiseLike<unknown>): Promise<Settled> {
    const { calls } = this.options;
    if (calls) return calls.track(value);
    return Promise.resolve(value).then(
      (v) => ({ value: v }),
      (failure: unknown) => ({ failure: failure ?? new Error('rejected without a reason') }),
    );
  }

  /** One call's outcome as the items (or the rejection) it gives its table. */
  private callOutputs(table: string, settled: Settled): Output[] {
    if ('timeout' in settled) {
      const seconds = (this.options.calls?.timeoutMs ?? 0) / 1000;
      return [
        {
          table,
          error: new DynaloadError(
            'TRANSFORM_TIMEOUT',
            `Expected the transform for table \`${table}\` to settle within ${seconds} s (\`--transform-timeout\`), got no result`,
          ),
        },
      ];
    }
    if ('failure' in settled) {
      const { failure } = settled;
      const message = failure instanceof Error ? failure.message : String(failure);
      return [
        {
          table,
          error: new DynaloadError('TRANSFORM_FAILED', `The transform for table \`${table}\` threw: ${message}`, {
            cause: failure,
          }),
        },
      ];
    }
    return this.transformItems(table, settled.value as TransformResult);
  }

  private transformItems(table: string, result: TransformResult): Output[] {
    if (result === null || result === undefined) return [];
    const list = Array.isArray(result) ? result : [result];
    return list.map((value) => this.attempt(table, () => marshalItem(value)));
  }
}

/** NDJSON's key values as the table's types (see Plan.json); the item is changed in place. */
function toKeyTypes(item: Item, keys: Readonly<Record<string, KeyType>>): Item {
  for (const name in keys) {
    const type = keys[name] as KeyType;
    const value = item[name];
    // A string that cannot be one (`"abc"` for an N key) stays as read: the key check rejects it for its type.
    if (value?.S !== undefined && type !== 'S') item[name] = convertOr(type, value.S, value);
    else if (value?.N !== undefined && type === 'S') item[name] = { S: value.N };
  }
  return item;
}

function convertOr(type: KeyType, text: string, value: AttributeValue): AttributeValue {
  try {
    return convertCell(type, text);
  } catch {
    return value;
  }
}

type Settled = { value: unknown } | { failure: unknown } | { timeout: true };
type CallResult = { readonly table: string; readonly settled?: Settled; readonly pending?: Promise<Settled> };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function named(columns: readonly string[], fields: readonly string[]): Record<string, string> {
  const row: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) row[columns[i] as string] = fields[i] ?? '';
  return row;
}

function columnCount(columns: readonly string[], fields: readonly string[]): DynaloadError {
  return new DynaloadError(
    'COLUMN_COUNT',
    `Expected ${columns.length} columns (${columns.join(',')}), got ${fields.length}`,
    { context: { expected: columns.length, found: fields.length } },
  );
}

function asError(error: unknown): DynaloadError {
  if (isDynaloadError(error)) return error;
  return new DynaloadError('EINTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}
