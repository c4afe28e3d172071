/**
 * A shard loader (src/pipeline/shard.ts) over a fake `send`, and what its tests would otherwise
 * build again and again: a table `T` keyed by `id`, the read options of a CSV file with a header,
 * a plan, a file in a temporary folder. No DynamoDB: the fake decides what is written, withheld
 * or refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { FileProgress } from '../../src/checkpoint/low-water.js';
import type { TableSchema } from '../../src/dynamo/schema.js';
import type { WorkerCounters } from '../../src/pipeline/counters.js';
import type { LoadOptions } from '../../src/pipeline/load-context.js';
import { Plan, type PlanOptions } from '../../src/pipeline/plan.js';
import type { RowEntry } from '../../src/pipeline/row.js';
import { ShardLoader, type ShardConfig } from '../../src/pipeline/shard.js';
import type { SendBatch } from '../../src/pipeline/write.js';
import type { RejectRecord } from '../../src/rejects.js';

export function tableSchema(table = 'T'): TableSchema {
  return {
    table,
    hash: { name: 'id', type: 'S' },
    range: undefined,
    billingMode: 'PAY_PER_REQUEST',
    writeCapacityUnits: undefined,
  };
}

/** A CSV file with a header line, read as UTF-8, for puts. */
export const CSV_OPTIONS: LoadOptions = Object.freeze({
  kind: 'put',
  header: true,
  columns: undefined,
  delimiter: undefined,
  escape: '"',
  encoding: 'utf-8',
  strictQuotes: false,
  format: undefined,
  replay: [],
});

/** The plan of `--table T` (cells as strings, empty cells dropped), or `T` and `over`. */
export function tablePlan(over: Partial<PlanOptions> = {}): Plan {
  return new Plan({
    kind: 'put',
    schemas: new Map([['T', tableSchema()]]),
    table: 'T',
    types: {},
    empty: 'drop',
    infer: false,
    ...over,
  });
}

export interface TestShard {
  readonly shard: ShardLoader;
  /** What `events.reject` received, with the bytes it counted each at. */
  readonly rejects: RejectRecord[];
  readonly rejectBytes: number[];
  /** What `events.progress` received (at every `reportEvery` tick). */
  readonly reports: { counters: WorkerCounters; files: readonly FileProgress[] }[];
}

/** A shard loader for table `T` over `send`: short lingers, four requests in flight, retries enough for any test. */
export function testShard(send: SendBatch<RowEntry>, config: Partial<ShardConfig> = {}): TestShard {
  const rejects: RejectRecord[] = [];
  const rejectBytes: number[] = [];
  const reports: TestShard['reports'] = [];
  const shard = new ShardLoader(
    {
      ...CSV_OPTIONS,
      schemas: new Map([['T', tableSchema()]]),
      maxRetries: 1000,
      concurrency: 4,
      lingerMs: 1,
      ...config,
    },
    send,
    {
      reject: (reject, bytes) => {
        rejects.push(reject);
        rejectBytes.push(bytes);
      },
      progress: (counters, files) => reports.push({ counters, files }),
    },
  );
  return { shard, rejects, rejectBytes, reports };
}

/** The `id` of the item an entry writes. */
export function idOf(entry: RowEntry): string {
  return (JSON.parse(entry.json) as { PutRequest: { Item: { id: { S: string } } } }).PutRequest.Item.id.S;
}

/** A send that acknowledges every item at once, pushing each entry it was given to `sent`. */
export function acknowledge(sent: RowEntry[] = []): SendBatch<RowEntry> {
  return (batch) => {
    sent.push(...batch);
    return Promise.resolve(undefined);
  };
}

/** Writes `content` to `name` in a temporary folder removed after the test; returns its path. */
export async function tempFile(t: TestContext, name: string, content: string | Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dynaload-shard-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

/** `rows` CSV lines `k0,0` ... under the header `id,v`. */
export function csvRows(rows: number): string {
  return 'id,v\n' + Array.from({ length: rows }, (_, i) => `k${i},${i}\n`).join('');
}

/** Waits until `condition()` holds, looking every few ms (a count reached, not a time passed). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The one file's progress once it settled completely (what the checkpoint would record). */
export function completed(progress: readonly FileProgress[]): FileProgress {
  if (progress.length !== 1 || !progress[0]?.complete)
    throw new Error(`Expected one complete file, got ${JSON.stringify(progress)}`);
  return progress[0];
}
