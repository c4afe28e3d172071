import { LowWater } from '../checkpoint/low-water.js';
import type { TableSchema } from '../dynamo/schema.js';
import type { UploadConfig } from '../config.js';
import { DEFAULT_BACKOFF } from '../pipeline/backoff.js';
import { loadFile, rowForReject, settle, type LoadOptions, type RowEntry, type RowRef } from '../pipeline/load-file.js';
import { TransformCalls } from '../pipeline/transform-calls.js';
import { Plan } from '../pipeline/plan.js';
import { loadTransform } from '../pipeline/transform-module.js';
import { BatchWriter } from '../pipeline/write.js';
import { emptyCounters, type WorkerCounters } from '../pipeline/counters.js';
import type { RejectRecord } from '../rejects.js';

/** One checked item, ready to stage: its table, key identity, `{"Item":...}` text and origin. */
export interface CheckedItem {
  readonly table: string;
  readonly key: string;
  readonly line: string;
  readonly units: number;
  readonly file: string;
  readonly fileLine: number;
}

export interface ReadHooks {
  /** Called for each item in input order; the reader waits on the promise it returns. */
  readonly item: (item: CheckedItem) => Promise<void> | void;
  readonly reject: (reject: RejectRecord) => void;
  readonly progress?: (counters: WorkerCounters) => void;
}

const PUT_PREFIX = '{"PutRequest":';

/**
 * Reads, maps and checks every row exactly as `upload` and its dry run do (the same loadFile, Plan
 * and BatchWriter), in this thread, with a writer whose "send" hands each acknowledged item to
 * `hooks.item` instead of DynamoDB. Returns the counters `upload` keeps.
 */
export async function readItems(
  config: UploadConfig,
  schemas: readonly TableSchema[],
  hooks: ReadHooks,
): Promise<WorkerCounters> {
  const counters = emptyCounters();
  const table = (name: string): { written: number; rejected: number } =>
    (counters.tables[name] ??= { written: 0, rejected: 0 });
  const reject = (
    row: RowRef,
    code: string,
    message: string,
    extra: { table?: string; column?: string } = {},
  ): void => {
    if (extra.table !== undefined) table(extra.table).rejected++;
    if (row.rejected) return;
    row.rejected = true;
    counters.rowsRejected++;
    hooks.reject({ file: row.file, line: row.line, code, message, ...extra, row: rowForReject(row) });
  };
  const writer = new BatchWriter<RowEntry>({
    send: async (batch) => {
      for (const entry of batch) {
        // The write request's text, made once when the row was mapped: `{"PutRequest":{"Item":...}}`.
        const line = entry.json.startsWith(PUT_PREFIX) ? entry.json.slice(PUT_PREFIX.length, -1) : entry.json;
        await hooks.item({
          table: entry.table,
          key: entry.key,
          line,
          units: entry.units,
          file: entry.row.file,
          fileLine: entry.row.line,
        });
      }
      return undefined;
    },
    keyOf: () => '',
    concurrency: 1,
    maxRetries: 0,
    backoff: DEFAULT_BACKOFF,
    lingerMs: 0,
    written: (entry) => {
      table(entry.table).written++;
      counters.itemsWritten++;
      counters.unitsWritten += entry.units;
      const { row } = entry;
      if (--row.pending > 0) return;
      if (!row.rejected) counters.rowsWritten++;
      settle(row, row.rejected ? 'rejected' : 'written');
    },
    rejected: (entry, error) => {
      reject(entry.row, error.code, error.message, { table: entry.table });
      if (--entry.row.pending === 0) settle(entry.row, 'rejected');
    },
  });
  const transform = config.transform === undefined ? undefined : await loadTransform(config.transform, config.table);
  const plan = new Plan({
    kind: 'put',
    schemas: new Map(schemas.map((s) => [s.table, s])),
    table: config.table,
    types: config.types,
    empty: config.empty,
    infer: config.infer,
    ...(config.mapping ? { mapping: config.mapping } : {}),
    ...(transform
      ? { transform, calls: new TransformCalls(config.transformConcurrency, config.transformTimeout * 1000) }
      : {}),
  });
  const options: LoadOptions = {
    kind: 'put',
    header: config.header,
    columns: config.columns,
    delimiter: config.delimiter,
    escape: config.escape,
    encoding: config.encoding,
    strictQuotes: config.strictQuotes,
    format: config.format,
    replay: config.replay,
  };
  const timer = hooks.progress ? setInterval(() => hooks.progress?.({ ...counters }), 250) : undefined;
  try {
    for (const path of config.inputs) {
      await loadFile(path, {
        options,
        plan,
        writer,
        tracker: new LowWater(),
        stopping: () => false,
        rowRead: () => counters.rowsRead++,
        bytesRead: (n) => (counters.bytesRead += n),
        rowSkipped: () => counters.rowsSkipped++,
        reject,
      });
      counters.filesRead++;
      if (writer.failure) break;
    }
    await writer.drain();
    if (writer.failure) throw writer.failure;
  } finally {
    if (timer) clearInterval(timer);
  }
  return counters;
}
