import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { UploadConfig } from '../config.js';
import type { TableSchema } from '../dynamo/schema.js';
import { DynaloadError, isDynaloadError } from '../errors.js';
import type { RejectRecord } from '../pool/protocol.js';
import { parseCsv } from './parse.js';
import { createRowMapper, type MappedItem } from './transform.js';
import type { BatchWriter, WriteEntry } from './write.js';

/** A row read from a file, alive while any of its items is unresolved. */
export interface RowRef {
  readonly file: string;
  readonly line: number;
  /** Column names and cells as read; named only when the row is rejected (rare), not for every row. */
  readonly columns: readonly string[] | undefined;
  readonly fields: readonly string[] | string | null;
  pending: number;
  rejected: boolean;
}

export interface RowEntry extends WriteEntry {
  readonly row: RowRef;
}

export interface LoadContext {
  readonly config: UploadConfig;
  readonly schema: TableSchema;
  readonly writer: BatchWriter<RowEntry>;
  /** Checked before each record: true once the run is stopping. */
  readonly stopping: () => boolean;
  readonly rowRead: () => void;
  /** Rejects a whole row (first rejection of a row counts it as rejected). */
  readonly reject: (row: RowRef, code: string, message: string, extra?: { table?: string; column?: string }) => void;
}

export function openInput(path: string): Readable {
  return path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 256 * 1024 });
}

/**
 * Streams one input through parse -> map -> writer. Reading waits whenever the writer is full, so
 * memory stays bounded whatever the file's size.
 */
export async function loadFile(path: string, context: LoadContext): Promise<void> {
  const { config, writer } = context;
  const file = path;
  let columns = config.header ? undefined : config.columns;
  let mapper = columns === undefined ? undefined : mapperFor(columns, '`--columns`');

  function mapperFor(names: readonly string[], source: string): (fields: readonly string[]) => MappedItem {
    return createRowMapper({ schema: context.schema, columns: names, types: config.types, empty: config.empty, columnsSource: source });
  }

  for await (const record of parseCsv(openInput(path), { delimiter: config.delimiter, escape: config.escape })) {
    if (context.stopping() || writer.failure) break;
    if (record.kind === 'failure') {
      context.rowRead();
      context.reject({ file, line: record.line, columns: undefined, fields: record.raw, pending: 0, rejected: false }, record.code, record.message);
      if (mapper === undefined && config.header) {
        // The header line itself is broken: no row of this file can be named.
        mapper = unnamed(`Expected a readable header line at line ${record.line} of ${file}, got a broken record; no row of this file can be mapped`);
      }
      continue;
    }
    if (mapper === undefined) {
      // The header line: names come from it, or from --columns when both are given.
      columns = config.columns ?? record.fields;
      mapper = mapperFor(columns, config.columns ? '`--columns`' : `the header of ${file}`);
      continue;
    }
    context.rowRead();
    const row: RowRef = { file, line: record.line, columns, fields: record.fields, pending: 1, rejected: false };
    let mapped: MappedItem;
    try {
      mapped = mapper(record.fields);
    } catch (error) {
      if (!isDynaloadError(error)) throw error;
      const column = error.context.column;
      context.reject(row, error.code, error.message, typeof column === 'string' ? { column, table: context.schema.table } : { table: context.schema.table });
      continue;
    }
    const entry: RowEntry = { key: mapped.key, wire: mapped.wire, attempts: 0, notBefore: 0, table: mapped.table, request: { PutRequest: { Item: mapped.item } }, row };
    const wait = writer.add(entry);
    if (wait) await wait;
  }
}

function unnamed(message: string): (fields: readonly string[]) => MappedItem {
  return () => {
    throw new DynaloadError('HEADER_INVALID', message);
  };
}

/** The row as the rejects file shows it: cells by column name, or the raw cells when they cannot be named. */
export function rowForReject(row: RowRef): RejectRecord['row'] {
  const { columns, fields } = row;
  if (fields === null || typeof fields === 'string') return fields;
  if (columns === undefined || columns.length !== fields.length) return [...fields];
  const named: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) named[columns[i] as string] = fields[i] as string;
  return named;
}
