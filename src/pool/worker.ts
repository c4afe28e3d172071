/**
 * Worker entry: one DynamoDB client and one writer per worker, files one at a time as the main
 * thread hands them out. Reports counters (not rows) and the rare rejected row.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createClient } from '../dynamo/client.js';
import { createLeanSend } from '../dynamo/lean-writer.js';
import { batchBody } from '../dynamo/wire.js';
import type { TableSchema } from '../dynamo/schema.js';
import { DynaloadError, isDynaloadError, toWire } from '../errors.js';
import { createLogger } from '../log.js';
import { DEFAULT_BACKOFF } from '../pipeline/backoff.js';
import { keyOf } from '../pipeline/item-check.js';
import { LowWater, type FileProgress } from '../checkpoint/low-water.js';
import {
  fieldsBytes,
  loadFile,
  rowForReject,
  settle,
  type LoadOptions,
  type RejectExtra,
  type RowEntry,
  type RowRef,
} from '../pipeline/load-file.js';
import { mixedColumnMessage } from '../pipeline/infer.js';
import { Plan } from '../pipeline/plan.js';
import { TransformCalls } from '../pipeline/transform-calls.js';
import { loadTransform } from '../pipeline/transform-module.js';
import { BatchWriter } from '../pipeline/write.js';
import { InFlightWindow, WINDOW_CEILING } from '../pipeline/window.js';
import { configureS3, destroyS3Client } from '../pipeline/s3/s3-client.js';
import { RateLimiter } from './rate-limit.js';
import { emptyCounters, type WorkerCounters } from '../pipeline/counters.js';
import type { FromWorker, ToWorker, WorkerData } from './protocol.js';

const STATS_INTERVAL_MS = 250;

if (parentPort === null) throw new Error('dynaload worker must run in a worker thread');
const port = parentPort;
const data = workerData as WorkerData;
const { config } = data;
const log = createLogger(config.logLevel).child({ worker: data.workerId });
const schemas = new Map<string, TableSchema>(data.schemas.map((s) => [s.table, s]));
const loadOptions: LoadOptions = {
  kind: config.kind,
  header: config.header,
  columns: config.columns,
  delimiter: config.delimiter,
  escape: config.escape,
  encoding: config.encoding,
  strictQuotes: config.strictQuotes,
  format: config.format,
  replay: config.replay,
};
const counters: WorkerCounters = emptyCounters();
configureS3({ endpoint: config.s3Endpoint, region: config.region });
const post = (message: FromWorker): void => port.postMessage(message);

// The window's most requests in flight: the lean path's pool may open as many connections (undici
// opens them only as requests need them, so they follow the window and idle ones close).
const window = new InFlightWindow(config.concurrency === 'auto' ? {} : { fixed: config.concurrency });
const maxInFlight = config.concurrency === 'auto' ? WINDOW_CEILING : config.concurrency;
const client = createClient({
  region: config.region,
  endpoint: config.endpoint,
  maxSockets: maxInFlight,
  maxAttempts: 1,
});
// BatchWriteItem goes through the lean path (signed with the SDK's own signer and credentials,
// about a quarter of the SDK's CPU per request); the SDK client keeps everything else.
const lean = await createLeanSend(client, { maxSockets: maxInFlight });

function table(name: string): { written: number; rejected: number } {
  return (counters.tables[name] ??= { written: 0, rejected: 0 });
}

/** Bytes of rejected rows posted to the main thread and not yet in the rejects file. */
let rejectBytes = 0;

function reject(row: RowRef, code: string, message: string, extra: RejectExtra = {}): void {
  if (extra.table !== undefined) table(extra.table).rejected++;
  if (row.rejected) return;
  row.rejected = true;
  counters.rowsRejected++;
  const bytes = fieldsBytes(row.fields) + message.length;
  rejectBytes += bytes;
  post({
    type: 'reject',
    reject: { file: row.file, line: row.line, code, message, ...extra, row: rowForReject(row) },
    bytes,
  });
}

/** True while the rejected rows on their way to the rejects file pass their bound: reading waits. */
const rejectsFull = (): boolean => rejectBytes > data.bounds.rejectBytes;

const writer = new BatchWriter<RowEntry>({
  // --dry-run: every request is acknowledged here, so rows are read, mapped and checked, never sent.
  send: config.dryRun ? () => Promise.resolve(undefined) : (batch) => lean.sendSerialized(batchBody(batch)),
  keyOf: (name, request) => {
    const tableSchema = schemas.get(name);
    const item = request.PutRequest?.Item ?? request.DeleteRequest?.Key;
    return tableSchema && item ? keyOf(tableSchema, item) : '';
  },
  concurrency: maxInFlight,
  window,
  highWaterBytes: data.bounds.writerBytes,
  maxRetries: config.maxRetries,
  backoff: DEFAULT_BACKOFF,
  ...(data.rate ? { limiter: new RateLimiter(data.rate) } : {}),
  written: (entry) => {
    table(entry.table).written++;
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

let stopping = false;
let failureSent = false;
const inbox: ToWorker[] = [];
let wake: (() => void) | undefined;

/** Files read by this worker whose rows have not all settled (or whose last mark is unreported). */
const files = new Map<string, { tracker: LowWater; readDone: boolean }>();

/** Marks that moved since the last report; a file settled completely is reported once, then dropped. */
function fileProgress(): FileProgress[] {
  const out: FileProgress[] = [];
  for (const [path, file] of files) {
    const complete = file.readDone && file.tracker.open === 0;
    if (!file.tracker.changed && !complete) continue;
    file.tracker.changed = false;
    out.push({ path, mark: { ...file.tracker.mark }, complete });
    if (complete) files.delete(path);
  }
  return out;
}

function snapshot(): WorkerCounters {
  return { ...counters, ...writer.stats, tables: { ...counters.tables }, window: window.report() };
}

function reportFailure(error: unknown): void {
  if (failureSent) return;
  failureSent = true;
  stopping = true;
  post({ type: 'failed', error: toWire(error) });
}

async function nextMessage(): Promise<ToWorker> {
  while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return inbox.shift() as ToWorker;
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'rejects-written') {
    rejectBytes -= message.bytes;
    return;
  }
  if (message.type === 'stop') {
    stopping = true;
    writer.stop();
  }
  inbox.push(message);
  wake?.();
});

async function run(): Promise<void> {
  const timer = setInterval(() => post({ type: 'stats', stats: snapshot(), files: fileProgress() }), STATS_INTERVAL_MS);
  try {
    // The transform module is loaded once per worker (its functions run here, next to the rows).
    const transform = config.transform === undefined ? undefined : await loadTransform(config.transform, config.table);
    const plan = new Plan({
      kind: config.kind,
      schemas,
      table: config.table,
      types: config.types,
      empty: config.empty,
      infer: config.infer,
      ...(config.mapping ? { mapping: config.mapping } : {}),
      ...(transform
        ? { transform, calls: new TransformCalls(config.transformConcurrency, config.transformTimeout * 1000) }
        : {}),
    });
    for (;;) {
      if (stopping || writer.failure) break;
      post({ type: 'next' });
      const message = await nextMessage();
      if (message.type !== 'file') break;
      log.debug({ file: message.path, start: message.start }, 'reading');
      const file = { tracker: new LowWater(message.start), readDone: false };
      files.set(message.path, file);
      try {
        file.readDone = await loadFile(message.path, {
          options: loadOptions,
          plan,
          writer,
          tracker: file.tracker,
          stopping: () => stopping,
          rowRead: () => counters.rowsRead++,
          bytesRead: (n) => (counters.bytesRead += n),
          rowSkipped: () => counters.rowsSkipped++,
          reject,
          bounds: data.bounds,
          rejectsFull,
        });
      } catch (error) {
        if (writer.failure) break;
        // A usage error found while opening a file (a mapping naming a column it lacks) stays one.
        if (isDynaloadError(error) && error.exitCode === 2) {
          reportFailure(error);
          break;
        }
        reportFailure(
          new DynaloadError(
            'INPUT_FAILED',
            `Could not read ${message.path}: ${error instanceof Error ? error.message : String(error)}`,
            { context: { file: message.path }, cause: error },
          ),
        );
        break;
      }
      counters.filesRead++;
    }
    await writer.drain();
    if (writer.failure) reportFailure(writer.failure);
    for (const mixed of plan.mixedColumns()) log.warn({ column: mixed.column }, mixedColumnMessage(mixed));
  } catch (error) {
    reportFailure(error);
  } finally {
    clearInterval(timer);
    post({ type: 'done', stats: snapshot(), files: fileProgress() });
    lean.destroy();
    client.destroy();
    destroyS3Client();
    port.close();
  }
}

void run();
