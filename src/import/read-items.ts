import type { TableSchema } from '../dynamo/schema.js';
import type { UploadConfig } from '../config.js';
import { TransformCalls } from '../pipeline/transform-calls.js';
import { Plan } from '../pipeline/plan.js';
import { loadTransform } from '../pipeline/transform-module.js';
import type { WorkerCounters } from '../pipeline/counters.js';
import { ShardLoader } from '../pipeline/shard.js';
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
 * Reads, maps and checks every row exactly as `upload` and its dry run do (the same shard loader
 * and Plan), in this thread, with a "send" that hands each item to `hooks.item` instead of
 * DynamoDB. Returns the counters `upload` keeps.
 */
export async function readItems(
  config: UploadConfig,
  schemas: readonly TableSchema[],
  hooks: ReadHooks,
): Promise<WorkerCounters> {
  const tableSchemas = new Map(schemas.map((s) => [s.table, s]));
  const shard = new ShardLoader(
    // One request at a time, never resent: "sending" stages each item, in input order.
    { ...config, kind: 'put', schemas: tableSchemas, concurrency: 1, maxRetries: 0, lingerMs: 0 },
    async (batch) => {
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
    { reject: (reject) => hooks.reject(reject), progress: (counters) => hooks.progress?.(counters) },
  );
  const transform = config.transform === undefined ? undefined : await loadTransform(config.transform, config.table);
  const plan = new Plan({
    kind: 'put',
    schemas: tableSchemas,
    table: config.table,
    types: config.types,
    empty: config.empty,
    infer: config.infer,
    ...(config.mapping ? { mapping: config.mapping } : {}),
    ...(transform
      ? { transform, calls: new TransformCalls(config.transformConcurrency, config.transformTimeout * 1000) }
      : {}),
  });
  // Every file's mark is dropped at the report after it settles, so the reports run with or without a progress hook.
  const stopReports = shard.reportEvery(250);
  try {
    for (const path of config.inputs) {
      await shard.loadFile(path, plan);
      if (shard.failure) break;
    }
    await shard.drain();
    if (shard.failure) throw shard.failure;
  } finally {
    stopReports();
  }
  return shard.snapshot();
}
