import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { LowWater, Outcome } from '../checkpoint/low-water.js';
import { DynaloadError } from '../errors.js';
import type { RejectRecord } from '../rejects.js';
import { csvOptions, openDecoded } from './csv-input.js';
import type { Encoding } from './encoding.js';
import { detectFormat, type InputFormat } from './formats.js';
import type { WriteKind } from './item-check.js';
import { readJsonLines } from './json-lines.js';
import { parseCsv, parseCsvChunks, type CsvFailure, type CsvRecord } from './parse.js';
import type { Output, Plan, RowPlan } from './plan.js';
import { loadRejects } from './replay.js';
import { RowOrder } from './row-order.js';
import { s3IsGzip } from './s3/s3-input.js';
import { isS3Url } from './s3/s3-url.js';
import type { BatchWriter, WriteEntry } from './write.js';

/** A row read from a file, alive while any of its items is unresolved. */
export interface RowRef {
  readonly file: string;
  readonly line: number;
  /** The row's number in its file's low-water mark, which holds where the row ends. */
  readonly seq: number;
  /** Set once the row is written, rejected or skipped; then the file's low-water mark may move. */
  outcome: Outcome | undefined;
  readonly tracker: LowWater;
  /** Column names and cells as read; named only when the row is rejected (rare), not for every row. */
  readonly columns: readonly string[] | undefined;
  /** Dropped (null) once the row settles: the mark may keep a settled row for a while. */
  fields: readonly string[] | string | Record<string, unknown> | null;
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
  readonly writer: BatchWriter<RowEntry>;
  /** Checked before each record: true once the run is stopping. */
  readonly stopping: () => boolean;
  readonly rowRead: () => void;
  /** Bytes of the input as stored (compressed for gzip), for the progress line. */
  readonly bytesRead?: (n: number) => void;
  /** A row whose outputs are all empty: the mapping or transform chose to write nothing for it. */
  readonly rowSkipped: () => void;
  /** Rejects a row (for one table, or for all when `table` is absent); the first rejection counts the row. */
  readonly reject: (row: RowRef, code: string, message: string, extra?: RejectExtra) => void;
  /** This worker's share of `--memory` (src/pipeline/memory-budget.ts); absent: MAX_OPEN_ROWS and ORDER_MAX_BYTES. */
  readonly bounds?: { readonly openRows: number; readonly orderBytes: number };
  /** True while the rejected rows on their way to the rejects file pass their bound in bytes. */
  readonly rejectsFull?: () => boolean;
}

/** What a rejects line carries besides the row: the table and column, or where the bytes broke a rule. */
export interface RejectExtra {
  readonly table?: string;
  readonly column?: string;
  readonly offset?: number;
  readonly length?: number;
  readonly sha256?: string;
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
  return !context.stopping() && context.writer.failure === undefined;
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

/** Settles a row: once every row before it has settled too, the file's mark moves past it. */
export function settle(row: RowRef, outcome: Outcome): void {
  if (row.outcome !== undefined) return;
  row.outcome = outcome;
  row.fields = null;
  row.tracker.settle(row.seq, outcome);
}

/**
 * Rows read but not yet below the mark, per file, before reading waits, when no budget is given.
 * One row retried for long (or a key written over and over) holds the mark back while later rows
 * settle; without this bound the rows kept for the mark would grow with the file. The mark keeps
 * 17 bytes a row; settled rows are not kept. At 50,000 an item withheld 7 times in a row stalled
 * reading often enough to cost 10% of the throughput with 20% withheld.
 */
export const MAX_OPEN_ROWS = 1_000_000;

function halted(context: LoadContext): boolean {
  return context.stopping() || context.writer.failure !== undefined;
}

/** The rows held for the mark, or the rejected rows not yet in the rejects file, are at their bound. */
function held(context: LoadContext): boolean {
  return context.tracker.open > (context.bounds?.openRows ?? MAX_OPEN_ROWS) || context.rejectsFull?.() === true;
}

async function waitForRoom(context: LoadContext): Promise<void> {
  while (held(context) && !halted(context)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
      if (halted(context)) return;
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
    if (halted(context)) break;
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

export function rowRef(
  file: string,
  at: { line: number; end: number; lines: number },
  columns: readonly string[] | undefined,
  fields: RowRef['fields'],
  tracker: LowWater,
): RowRef {
  return {
    file,
    line: at.line,
    seq: tracker.add(at.end, at.lines),
    outcome: undefined,
    tracker,
    columns,
    fields,
    pending: 0,
    rejected: false,
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
    route: (row, outputs) => route(row, outputs, context),
    halted: () => halted(context),
    bytes: (row, outputs) =>
      outputs === undefined
        ? fieldsBytes(row.fields)
        : outputs.reduce((sum, output) => sum + (output.item?.size ?? 0), 0),
    maxRows: ORDER_MAX_ROWS,
    maxBytes: context.bounds?.orderBytes ?? ORDER_MAX_BYTES,
  });
}

/** The size of a row's text as held (characters), for the bounds in bytes. */
export function fieldsBytes(fields: RowRef['fields']): number {
  if (fields === null) return 0;
  if (typeof fields === 'string') return fields.length;
  if (Array.isArray(fields)) return fields.reduce((sum: number, cell: string) => sum + cell.length, 0);
  return 1024; // an NDJSON row is held as its line (a string); this is a guess for any other shape
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
  return order.whileRunning(room).then(() => (halted(context) ? undefined : order.push(row, map(input, row))));
}

/**
 * Sends a row's items to the writer and its rejections to the rejects file, in input order.
 * Returns a promise only when routing must wait (a full writer, the mark too far behind): most
 * rows go through without one.
 */
function route(row: RowRef, outputs: Output[], context: LoadContext): Promise<void> | undefined {
  // After the wait, a run that is stopping (or failed) leaves the row unrouted: it stays open, below
  // no mark, so a resume reads it again. Routing anyway would wait again, at once, for ever.
  if (held(context))
    return waitForRoom(context).then(() => (halted(context) ? undefined : route(row, outputs, context)));
  let items = 0;
  for (const output of outputs) {
    if (output.error) {
      const { column, offset, length, sha256 } = output.error.context;
      context.reject(row, output.error.code, output.error.message, {
        ...(output.table ? { table: output.table } : {}),
        ...(typeof column === 'string' ? { column } : {}),
        ...(typeof offset === 'number' ? { offset } : {}),
        ...(typeof length === 'number' ? { length, sha256: sha256 as string } : {}),
      });
    } else {
      items++;
    }
  }
  if (items === 0) {
    if (!row.rejected) context.rowSkipped();
    settle(row, row.rejected ? 'rejected' : 'skipped');
    return;
  }
  row.pending = items;
  return add(outputs, 0, row, context);
}

/** Queues the items of `outputs` from `from` on, waiting whenever the writer is full. */
function add(outputs: Output[], from: number, row: RowRef, context: LoadContext): Promise<void> | undefined {
  for (let i = from; i < outputs.length; i++) {
    const { item } = outputs[i] as Output;
    if (!item) continue;
    // DynamoDB bills a put 1 write unit per started KB; a delete is billed by the size of the item
    // it removes, which is not known here: count 1.
    const units = context.options.kind === 'put' ? Math.max(1, Math.ceil(item.size / 1024)) : 1;
    const entry: RowEntry = {
      key: item.key,
      wire: item.wire,
      json: item.json,
      attempts: 0,
      notBefore: 0,
      table: item.table,
      row,
      units,
    };
    const wait = context.writer.add(entry);
    if (wait) return wait.then(() => add(outputs, i + 1, row, context));
  }
  return undefined;
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
