import type { Readable } from 'node:stream';
import { DynaloadError } from '../errors.js';
import type { RejectRecord } from '../pool/protocol.js';
import { defaultDelimiter, detectFormat, type InputFormat } from './formats.js';
import type { WriteKind } from './item-check.js';
import { readJsonLines } from './json-lines.js';
import { parseCsv } from './parse.js';
import type { Output, Plan, RowPlan } from './plan.js';
import { openInput } from './read.js';
import type { BatchWriter, WriteEntry } from './write.js';

/** A row read from a file, alive while any of its items is unresolved. */
export interface RowRef {
  readonly file: string;
  readonly line: number;
  /** Column names and cells as read; named only when the row is rejected (rare), not for every row. */
  readonly columns: readonly string[] | undefined;
  readonly fields: readonly string[] | string | Record<string, unknown> | null;
  pending: number;
  rejected: boolean;
}

export interface RowEntry extends WriteEntry {
  readonly row: RowRef;
}

export interface LoadOptions {
  readonly kind: WriteKind;
  readonly header: boolean;
  readonly columns: readonly string[] | undefined;
  readonly delimiter: string | undefined;
  readonly escape: string;
  readonly format: InputFormat | undefined;
}

export interface LoadContext {
  readonly options: LoadOptions;
  readonly plan: Plan;
  readonly writer: BatchWriter<RowEntry>;
  /** Checked before each record: true once the run is stopping. */
  readonly stopping: () => boolean;
  readonly rowRead: () => void;
  /** A row whose outputs are all empty: the mapping or transform chose to write nothing for it. */
  readonly rowSkipped: () => void;
  /** Rejects a row (for one table, or for all when `table` is absent); the first rejection counts the row. */
  readonly reject: (row: RowRef, code: string, message: string, extra?: { table?: string; column?: string }) => void;
}

/**
 * Streams one input through read -> parse -> plan -> writer. Reading waits whenever the writer is
 * full, so memory stays bounded whatever the file's size.
 */
export async function loadFile(path: string, context: LoadContext): Promise<void> {
  const input = await openInput(path);
  const format = detectFormat(path, context.options.format);
  if (format === 'csv') await loadCsv(path, input, context);
  else await loadJson(path, input, format, context);
}

async function loadCsv(file: string, input: Readable, context: LoadContext): Promise<void> {
  const { options, plan } = context;
  let columns = options.header ? undefined : options.columns;
  let mapRow: RowPlan<readonly string[]> | undefined = columns === undefined ? undefined : plan.csv(columns, '`--columns`');
  const records = parseCsv(input, { delimiter: defaultDelimiter(file, options.delimiter), escape: options.escape });
  for await (const record of records) {
    if (context.stopping() || context.writer.failure) break;
    if (record.kind === 'failure') {
      context.rowRead();
      context.reject(rowRef(file, record.line, undefined, record.raw), record.code, record.message);
      if (mapRow === undefined) {
        // The header line itself is broken: no row of this file can be named.
        const message = `Expected a readable header line at line ${record.line} of ${file}, got a broken record; no row of this file can be mapped`;
        mapRow = () => [{ table: '', error: new DynaloadError('HEADER_INVALID', message) }];
      }
      continue;
    }
    if (mapRow === undefined) {
      // The header line: names come from it, or from --columns when both are given.
      columns = options.columns ?? record.fields;
      mapRow = plan.csv(columns, options.columns ? '`--columns`' : `the header of ${file}`);
      continue;
    }
    context.rowRead();
    const row = rowRef(file, record.line, columns, record.fields);
    await route(row, mapRow(record.fields, row), context);
  }
}

async function loadJson(file: string, input: Readable, format: 'ndjson' | 'ddb-json', context: LoadContext): Promise<void> {
  const mapItem = context.plan.json();
  for await (const record of readJsonLines(input, format)) {
    if (context.stopping() || context.writer.failure) break;
    context.rowRead();
    if (record.kind === 'failure') {
      context.reject(rowRef(file, record.line, undefined, record.raw), record.code, record.message);
      continue;
    }
    const row = rowRef(file, record.line, undefined, record.raw);
    await route(row, mapItem(record.item, row), context);
  }
}

function rowRef(file: string, line: number, columns: readonly string[] | undefined, fields: RowRef['fields']): RowRef {
  return { file, line, columns, fields, pending: 0, rejected: false };
}

/** Sends a row's items to the writer and its rejections to the rejects file. */
async function route(row: RowRef, pending: Output[] | Promise<Output[]>, context: LoadContext): Promise<void> {
  const outputs = Array.isArray(pending) ? pending : await pending;
  let items = 0;
  for (const output of outputs) {
    if (output.error) {
      const column = output.error.context.column;
      context.reject(row, output.error.code, output.error.message, { ...(output.table ? { table: output.table } : {}), ...(typeof column === 'string' ? { column } : {}) });
    } else {
      items++;
    }
  }
  if (items === 0) {
    if (!row.rejected) context.rowSkipped();
    return;
  }
  row.pending = items;
  for (const output of outputs) {
    if (!output.item) continue;
    const { item } = output;
    const request = context.options.kind === 'put' ? { PutRequest: { Item: item.item } } : { DeleteRequest: { Key: item.item } };
    // DynamoDB bills a put 1 write unit per started KB; a delete is billed by the size of the item
    // it removes, which is not known here: count 1.
    const units = context.options.kind === 'put' ? Math.max(1, Math.ceil(item.size / 1024)) : 1;
    const entry: RowEntry = { key: item.key, wire: item.wire, attempts: 0, notBefore: 0, table: item.table, request, row, units };
    const wait = context.writer.add(entry);
    if (wait) await wait;
  }
}

/** The row as the rejects file shows it: cells by column name, or the raw cells when they cannot be named. */
export function rowForReject(row: RowRef): RejectRecord['row'] {
  const { columns, fields } = row;
  if (fields === null || typeof fields === 'string') return fields;
  if (!Array.isArray(fields)) return fields as Record<string, string>;
  if (columns === undefined || columns.length !== fields.length) return [...fields];
  const named: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) named[columns[i] as string] = fields[i] as string;
  return named;
}
