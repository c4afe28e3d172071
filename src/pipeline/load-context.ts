/**
 * What every reader of an input shares (a CSV or JSON file, a rejects file replayed): the read
 * options, the context a file is read in, rows put back in input order, a record that could not be
 * read as a row that is rejected, and the header of a CSV file read again.
 */
import { Readable } from 'node:stream';
import type { LowWater } from '../checkpoint/low-water.js';
import { DynaloadError } from '../errors.js';
import { csvOptions, openDecoded } from './csv-input.js';
import type { Encoding } from './encoding.js';
import type { InputFormat } from './formats.js';
import type { WriteKind } from './item-check.js';
import { parseCsv, type CsvFailure, type CsvRecord } from './parse.js';
import type { Output, Plan, RowPlan } from './plan.js';
import { RowOrder } from './row-order.js';
import { fieldsBytes, type RowRef } from './row.js';

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

/** The header of a CSV file, for a read that starts past it. */
export async function readHeader(path: string, options: LoadOptions): Promise<string[] | undefined> {
  for await (const record of parseCsv(await openDecoded(path, options.encoding), csvOptions(path, options))) {
    return record.kind === 'record' ? record.fields : undefined;
  }
  return undefined;
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
