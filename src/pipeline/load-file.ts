import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { LowWater } from '../checkpoint/low-water.js';
import { DynaloadError } from '../errors.js';
import { csvOptions, openDecoded } from './csv-input.js';
import type { Encoding } from './encoding.js';
import { detectFormat, type InputFormat } from './formats.js';
import type { WriteKind } from './item-check.js';
import { readJsonLines } from './json-lines.js';
import { parseCsv, parseCsvChunks, type CsvFailure, type CsvRecord } from './parse.js';
import type { Output, Plan, RowPlan } from './plan.js';
import { loadRejects } from './replay.js';
import { RowOrder } from './row-order.js';
import { fieldsBytes, rowRef, type RowRef } from './row.js';
import { s3IsGzip } from './s3/s3-input.js';
import { isS3Url } from './s3/s3-url.js';

export interface LoadOptions {
  readonly kind: WriteKind;
  readonly header: boolean;
  readonly columns: readonly string[] | undefined;
  readonly delimiter: string | undefined;
  readonly escape: string;
  readonly encoding: Encoding;
  readonly strictQuotes: boolean;
  readonly format: InputFormat | undefined;
  /** Rejects files to replay (`--from-rejects`): their rows are loaded again, as first read. */
  readonly replay: readonly string[];
}

export interface LoadContext {
  readonly options: LoadOptions;
  /** This file's low-water mark; a resumed file starts from its mark. */
  readonly tracker: LowWater;
  readonly plan: Plan;
  /** Checked before each record: true once the run stops reading (a stop, or the writer failed). */
  readonly halted: () => boolean;
  readonly rowRead: () => void;
  /** Bytes of the input as stored (compressed for gzip), for the progress line. */
  readonly bytesRead?: (n: number) => void;
  /**
   * Hands a row's outputs on, in input order: items to the writer, errors to the rejects
   * (src/pipeline/shard.ts). Returns a promise only when reading must wait.
   */
  readonly route: (row: RowRef, outputs: Output[]) => Promise<void> | undefined;
  /** Bytes of rows held in input order while async transforms settle (this worker's share of `--memory`); absent: ORDER_MAX_BYTES. */
  readonly orderBytes?: number;
}

/**
 * Streams one input through read -> parse -> plan -> writer. Reading waits whenever the writer is
 * full, so memory stays bounded whatever the file's size.
 */
/** Returns true when the input was read to its end (false when the run stopped reading it). */
export async function loadFile(path: string, context: LoadContext): Promise<boolean> {
  const format = detectFormat(path, context.options.format);
  const start = context.tracker.mark;
  // A resumed file seeks past its mark. A gzip file cannot seek, nor a transcoded one (its marks
  // count UTF-8 bytes, not the file's): it is read from the start and the rows below the mark are
  // parsed but not sent again.
  const seek = start.offset > 0 && context.options.encoding === 'utf-8' && !(await isGzip(path));
  // A rejects file is written in UTF-8 whatever the inputs were.
  const replay = context.options.replay.includes(path);
  const input = await openDecoded(
    path,
    replay ? 'utf-8' : context.options.encoding,
    seek ? start.offset : 0,
    context.bytesRead,
  );
  const from = seek ? { offset: start.offset, lines: start.lines } : undefined;
  const skipBelow = seek ? 0 : start.offset;
  if (replay) await loadRejects(path, input, context, from, skipBelow);
  else if (format === 'csv' || format === 'tsv') await loadCsv(path, input, context, from, skipBelow);
  else await loadJson(path, input, format, context, from, skipBelow);
  return !context.halted();
}

async function isGzip(path: string): Promise<boolean> {
  if (path === '-') return false;
  if (isS3Url(path)) return s3IsGzip(path);
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** The header of a CSV file, for a read that starts past it. */
export async function readHeader(path: string, options: LoadOptions): Promise<string[] | undefined> {
  for await (const record of parseCsv(await openDecoded(path, options.encoding), csvOptions(path, options))) {
    return record.kind === 'record' ? record.fields : undefined;
  }
  return undefined;
}

async function loadCsv(
  file: string,
  input: Readable,
  context: LoadContext,
  from: { offset: number; lines: number } | undefined,
  skipBelow: number,
): Promise<void> {
  const { options, plan } = context;
  let columns = options.header ? undefined : options.columns;
  if (from !== undefined && options.header) {
    // Resumed past the header: read it from the top of the file first.
    const header = await readHeader(file, options);
    columns = options.columns ?? header;
  }
  let mapRow: RowPlan<readonly string[]> | undefined =
    columns === undefined
      ? undefined
      : plan.csv(columns, options.header && !options.columns ? `the header of ${file}` : '`--columns`');
  const chunks = parseCsvChunks(input, { ...csvOptions(file, options), ...(from ? { start: from } : {}) });
  const order = rowOrder(context);
  for await (const records of chunks)
    for (const record of records) {
      if (context.halted()) return;
      if (record.end <= skipBelow && mapRow !== undefined) continue; // done by an earlier run
      if (record.kind === 'failure') {
        if (record.end <= skipBelow) continue;
        context.rowRead();
        const wait = order.push(rowRef(file, record, undefined, record.raw, context.tracker), failure(record));
        if (wait) await wait;
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
        plan.checkColumns(columns, file);
        mapRow = plan.csv(columns, options.columns ? '`--columns`' : `the header of ${file}`);
        continue;
      }
      context.rowRead();
      const wait = mapInOrder(
        rowRef(file, record, columns, record.fields, context.tracker),
        record.fields,
        mapRow,
        order,
        context,
      );
      if (wait) await wait;
    }
  await order.idle();
}

async function loadJson(
  file: string,
  input: Readable,
  format: 'ndjson' | 'ddb-json',
  context: LoadContext,
  from: { offset: number; lines: number } | undefined,
  skipBelow: number,
): Promise<void> {
  const mapItem = context.plan.json(format);
  const order = rowOrder(context);
  for await (const record of readJsonLines(input, format, from)) {
    if (context.halted()) break;
    if (record.end <= skipBelow) continue; // done by an earlier run
    context.rowRead();
    const row = rowRef(file, record, undefined, record.raw, context.tracker);
    const wait =
      record.kind === 'failure'
        ? order.push(row, failure(record))
        : mapInOrder(row, record.item, mapItem, order, context);
    if (wait) await wait;
  }
  await order.idle();
}

/** One CSV line's text (a rejects file keeps a broken line so), read as the file it came from reads. */
export async function parseLine(text: string, origin: string, options: LoadOptions): Promise<CsvRecord | CsvFailure> {
  for await (const record of parseCsv(Readable.from([Buffer.from(text + '\n')]), csvOptions(origin, options)))
    return record;
  return {
    kind: 'failure',
    line: 1,
    end: 0,
    lines: 0,
    code: 'REPLAY_INVALID',
    message: 'Expected the text of a CSV line, got none',
    raw: text,
  };
}

/**
 * Rows held in order while async transforms settle, per file, before reading waits. Enough for
 * every call in flight to settle while one slow call holds the head, and well within a worker's
 * heap: rows are counted at their text's length plus their items' size.
 */
export const ORDER_MAX_ROWS = 8192;
export const ORDER_MAX_BYTES = 32 * 1024 * 1024;

export function rowOrder(context: LoadContext): RowOrder<RowRef, Output[]> {
  return new RowOrder<RowRef, Output[]>({
    route: context.route,
    halted: context.halted,
    bytes: (row, outputs) =>
      outputs === undefined
        ? fieldsBytes(row.fields)
        : outputs.reduce((sum, output) => sum + (output.item?.size ?? 0), 0),
    maxRows: ORDER_MAX_ROWS,
    maxBytes: context.orderBytes ?? ORDER_MAX_BYTES,
  });
}

/**
 * A record that could not be read: rejected for every table, in its place among the rows. Where its
 * bytes broke a rule, or its length and hash, ride in the error's context to the rejects line.
 */
export function failure(record: {
  code: string;
  message: string;
  offset?: number;
  length?: number;
  sha256?: string;
}): Output[] {
  const { offset, length, sha256 } = record;
  const extra = { ...(offset === undefined ? {} : { offset }), ...(length === undefined ? {} : { length, sha256 }) };
  return [{ table: '', error: new DynaloadError(record.code, record.message, { context: extra }) }];
}

/**
 * Maps a row and hands its outputs to the row order. With an async transform, first waits for
 * room under `--transform-concurrency`; a run that halts meanwhile leaves the row open and unmapped.
 */
export function mapInOrder<T>(
  row: RowRef,
  input: T,
  map: RowPlan<T>,
  order: RowOrder<RowRef, Output[]>,
  context: LoadContext,
): Promise<void> | undefined {
  const room = context.plan.room();
  if (room === undefined) return order.push(row, map(input, row));
  return order.whileRunning(room).then(() => (context.halted() ? undefined : order.push(row, map(input, row))));
}
