import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { LowWater, Outcome } from '../checkpoint/low-water.js';
import { DynaloadError } from '../errors.js';
import type { RejectRecord } from '../pool/protocol.js';
import { defaultDelimiter, detectFormat, type InputFormat } from './formats.js';
import type { WriteKind } from './item-check.js';
import { readJsonLines } from './json-lines.js';
import { parseCsv, parseCsvChunks } from './parse.js';
import type { Output, Plan, RowPlan } from './plan.js';
import { openInput } from './read.js';
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
  readonly reject: (row: RowRef, code: string, message: string, extra?: { table?: string; column?: string }) => void;
}

/**
 * Streams one input through read -> parse -> plan -> writer. Reading waits whenever the writer is
 * full, so memory stays bounded whatever the file's size.
 */
/** Returns true when the input was read to its end (false when the run stopped reading it). */
export async function loadFile(path: string, context: LoadContext): Promise<boolean> {
  const format = detectFormat(path, context.options.format);
  const start = context.tracker.mark;
  // A resumed file seeks past its mark. A gzip file cannot seek: it is read from the start and
  // the rows below the mark are parsed but not sent again.
  const seek = start.offset > 0 && !(await isGzip(path));
  const input = await openInput(path, seek ? start.offset : 0, context.bytesRead);
  const from = seek ? { offset: start.offset, lines: start.lines } : undefined;
  const skipBelow = seek ? 0 : start.offset;
  if (context.options.replay.includes(path)) await loadRejects(path, input, context, from, skipBelow);
  else if (format === 'csv') await loadCsv(path, input, context, from, skipBelow);
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
async function readHeader(path: string, options: LoadOptions): Promise<string[] | undefined> {
  for await (const record of parseCsv(await openInput(path), { delimiter: defaultDelimiter(path, options.delimiter), escape: options.escape })) {
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
 * Rows read but not yet below the mark, per file, before reading waits. One row retried for long
 * (or a key written over and over) holds the mark back while later rows settle; without this bound
 * the rows kept for the mark would grow with the file. The mark keeps 17 bytes a row (17 MiB at
 * most); settled rows are not kept. At 50,000 an item withheld 7 times in a row stalled reading
 * often enough to cost 10% of the throughput with 20% withheld (issue 4, point 3).
 */
export const MAX_OPEN_ROWS = 1_000_000;

function halted(context: LoadContext): boolean {
  return context.stopping() || context.writer.failure !== undefined;
}

async function waitForMark(context: LoadContext): Promise<void> {
  while (context.tracker.open > MAX_OPEN_ROWS && !halted(context)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function loadCsv(file: string, input: Readable, context: LoadContext, from: { offset: number; lines: number } | undefined, skipBelow: number): Promise<void> {
  const { options, plan } = context;
  let columns = options.header ? undefined : options.columns;
  if (from !== undefined && options.header) {
    // Resumed past the header: read it from the top of the file first.
    const header = await readHeader(file, options);
    columns = options.columns ?? header;
  }
  let mapRow: RowPlan<readonly string[]> | undefined = columns === undefined ? undefined : plan.csv(columns, options.header && !options.columns ? `the header of ${file}` : '`--columns`');
  const chunks = parseCsvChunks(input, { delimiter: defaultDelimiter(file, options.delimiter), escape: options.escape, ...(from ? { start: from } : {}) });
  for await (const records of chunks) for (const record of records) {
    if (context.stopping() || context.writer.failure) return;
    if (record.end <= skipBelow && mapRow !== undefined) continue; // done by an earlier run
    if (record.kind === 'failure') {
      if (record.end <= skipBelow) continue;
      context.rowRead();
      const row = rowRef(file, record, undefined, record.raw, context.tracker);
      context.reject(row, record.code, record.message);
      settle(row, 'rejected');
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
    const row = rowRef(file, record, columns, record.fields, context.tracker);
    const wait = route(row, mapRow(record.fields, row), context);
    if (wait) await wait;
  }
}

async function loadJson(file: string, input: Readable, format: 'ndjson' | 'ddb-json', context: LoadContext, from: { offset: number; lines: number } | undefined, skipBelow: number): Promise<void> {
  const mapItem = context.plan.json();
  for await (const record of readJsonLines(input, format, from)) {
    if (context.stopping() || context.writer.failure) break;
    if (record.end <= skipBelow) continue; // done by an earlier run
    context.rowRead();
    if (record.kind === 'failure') {
      const failed = rowRef(file, record, undefined, record.raw, context.tracker);
      context.reject(failed, record.code, record.message);
      settle(failed, 'rejected');
      continue;
    }
    const row = rowRef(file, record, undefined, record.raw, context.tracker);
    const wait = route(row, mapItem(record.item, row), context);
    if (wait) await wait;
  }
}

/**
 * `--from-rejects`: each line of a rejects file is loaded again as the row it was. A row kept by
 * name maps through the same plan as CSV cells; raw cells and broken lines (fixed by hand, say)
 * are named by the header of the file they came from, or by --columns. New rejections keep the
 * row's original file and line.
 */
async function loadRejects(file: string, input: Readable, context: LoadContext, from: { offset: number; lines: number } | undefined, skipBelow: number): Promise<void> {
  const plans = new Map<string, RowPlan<readonly string[]>>();
  const headers = new Map<string, Promise<string[] | undefined>>();
  const planFor = (columns: readonly string[], source: string): RowPlan<readonly string[]> => {
    const key = columns.join('\u0001');
    let plan = plans.get(key);
    if (plan === undefined) plans.set(key, (plan = context.plan.csv(columns, source)));
    return plan;
  };
  for await (const record of readJsonLines(input, 'ndjson', from)) {
    if (context.stopping() || context.writer.failure) break;
    if (record.end <= skipBelow) continue;
    context.rowRead();
    const fail = (code: string, message: string): void => {
      const row = rowRef(file, record, undefined, record.raw, context.tracker);
      context.reject(row, code, message);
      settle(row, 'rejected');
    };
    if (record.kind === 'failure') {
      fail(record.code, record.message);
      continue;
    }
    const origin = record.item.file?.S ?? file;
    const line = Number(record.item.line?.N ?? record.line);
    const kept = record.item.row;
    let columns: readonly string[] | undefined;
    let fields: string[];
    if (kept?.M !== undefined) {
      columns = Object.keys(kept.M);
      fields = Object.values(kept.M).map((v) => v.S ?? '');
    } else {
      const named = context.options.columns ?? (await (headers.get(origin) ?? headers.set(origin, readHeader(origin, context.options).catch(() => undefined)).get(origin)));
      columns = named;
      if (kept?.L !== undefined) fields = kept.L.map((v) => v.S ?? '');
      else if (kept?.S !== undefined) fields = (await parseLine(kept.S, origin, context.options)) ?? [];
      else {
        fail('REPLAY_INVALID', `Expected a rejects line with a \`row\` (object, array or text), got none`);
        continue;
      }
    }
    if (columns === undefined) {
      fail('REPLAY_UNNAMED', `Expected column names for the row from ${origin} line ${line}: its file has no readable header; give --columns`);
      continue;
    }
    const row = rowRef(origin, { line, end: record.end, lines: record.lines }, columns, fields, context.tracker);
    const wait = route(row, planFor(columns, `the rejects file ${file}`)(fields, row), context);
    if (wait) await wait;
  }
}

async function parseLine(text: string, origin: string, options: LoadOptions): Promise<string[] | undefined> {
  for await (const record of parseCsv(Readable.from([Buffer.from(text + '\n')]), { delimiter: defaultDelimiter(origin, options.delimiter), escape: options.escape })) {
    return record.kind === 'record' ? record.fields : undefined;
  }
  return undefined;
}

function rowRef(file: string, at: { line: number; end: number; lines: number }, columns: readonly string[] | undefined, fields: RowRef['fields'], tracker: LowWater): RowRef {
  return { file, line: at.line, seq: tracker.add(at.end, at.lines), outcome: undefined, tracker, columns, fields, pending: 0, rejected: false };
}

/**
 * Sends a row's items to the writer and its rejections to the rejects file. Returns a promise only
 * when the reader must wait (an async transform, a full writer, the mark too far behind): most rows
 * go through without one.
 */
function route(row: RowRef, pending: Output[] | Promise<Output[]>, context: LoadContext): Promise<void> | undefined {
  // After the wait, a run that is stopping (or failed) leaves the row unrouted: it stays open, below
  // no mark, so a resume reads it again. Routing anyway would wait again, at once, for ever.
  if (context.tracker.open > MAX_OPEN_ROWS) return waitForMark(context).then(() => (halted(context) ? undefined : route(row, pending, context)));
  if (!Array.isArray(pending)) return pending.then((outputs) => route(row, outputs, context));
  const outputs = pending;
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
    const entry: RowEntry = { key: item.key, wire: item.wire, json: item.json, attempts: 0, notBefore: 0, table: item.table, row, units };
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
