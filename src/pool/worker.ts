/**
 * Worker entry: one DynamoDB client and one shard loader (src/pipeline/shard.ts) per worker, files
 * one at a time as the main thread hands them out. Only carries messages: the loader counts, marks
 * and rejects; this posts its counters (not rows) and the rare rejected row.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createClient } from '../dynamo/client.js';
import { createLeanSend } from '../dynamo/lean-writer.js';
import { batchBody } from '../dynamo/wire.js';
import type { TableSchema } from '../dynamo/schema.js';
import { DynaloadError, isDynaloadError, toWire } from '../errors.js';
import { createLogger } from '../log.js';
import { mixedColumnMessage } from '../pipeline/infer.js';
import { Plan } from '../pipeline/plan.js';
import { ShardLoader } from '../pipeline/shard.js';
import { TransformCalls } from '../pipeline/transform-calls.js';
import { loadTransform } from '../pipeline/transform-module.js';
import { InFlightWindow } from '../pipeline/window.js';
import { configureS3, destroyS3Client } from '../pipeline/s3/s3-settings.js';
import { RateLimiter } from '../rate/limiter.js';
import type { FromWorker, ToWorker, WorkerData } from './protocol.js';

const STATS_INTERVAL_MS = 250;

if (parentPort === null) throw new Error('dynaload worker must run in a worker thread');
const port = parentPort;
const data = workerData as WorkerData;
const { config } = data;
const log = createLogger(config.logLevel).child({ worker: data.workerId });
const schemas = new Map<string, TableSchema>(data.schemas.map((s) => [s.table, s]));
configureS3({ endpoint: config.s3Endpoint, region: config.region });
const post = (message: FromWorker): void => port.postMessage(message);

// The window's most requests in flight: the lean path's pool may open as many connections (undici
// opens them only as requests need them, so they follow the window and idle ones close).
const window = new InFlightWindow(
  config.concurrency === 'auto' ? { ceiling: data.windowCeiling } : { fixed: config.concurrency },
);
const maxInFlight = config.concurrency === 'auto' ? data.windowCeiling : config.concurrency;
const client = createClient({
  region: config.region,
  endpoint: config.endpoint,
  maxSockets: maxInFlight,
  maxAttempts: 1,
});
// BatchWriteItem goes through the lean path (signed with the SDK's own signer and credentials,
// about a quarter of the SDK's CPU per request); the SDK client keeps everything else.
const lean = await createLeanSend(client, { maxSockets: maxInFlight });

const shard = new ShardLoader(
  {
    ...config,
    schemas,
    concurrency: maxInFlight,
    window,
    bounds: data.bounds,
    ...(data.rate ? { limiter: new RateLimiter(data.rate) } : {}),
  },
  // --dry-run: every request is acknowledged here, so rows are read, mapped and checked, never sent.
  config.dryRun ? () => Promise.resolve(undefined) : (batch) => lean.sendSerialized(batchBody(batch)),
  {
    reject: (reject, bytes) => post({ type: 'reject', reject, bytes }),
    progress: (stats, files) => post({ type: 'stats', stats, files }),
  },
);

let failureSent = false;
const inbox: ToWorker[] = [];
let wake: (() => void) | undefined;

function reportFailure(error: unknown): void {
  if (failureSent) return;
  failureSent = true;
  shard.stopReading();
  post({ type: 'failed', error: toWire(error) });
}

async function nextMessage(): Promise<ToWorker> {
  while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return inbox.shift() as ToWorker;
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'rejects-written') {
    shard.rejectsWritten(message.bytes);
    return;
  }
  if (message.type === 'stop') shard.stop();
  inbox.push(message);
  wake?.();
});

async function run(): Promise<void> {
  const stopReports = shard.reportEvery(STATS_INTERVAL_MS);
  try {
    // The transform module is loaded once per worker (its functions run here, next to the rows).
    const transform =
      config.transform === undefined
        ? undefined
        : await loadTransform(config.transform, config.table, config.transformSha256);
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
      if (shard.halted) break;
      post({ type: 'next' });
      const message = await nextMessage();
      if (message.type !== 'file') break;
      log.debug({ file: message.path, start: message.start }, 'reading');
      try {
        await shard.loadFile(message.path, plan, message.start);
      } catch (error) {
        if (shard.failure) break;
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
    }
    await shard.drain();
    if (shard.failure) reportFailure(shard.failure);
    for (const mixed of plan.mixedColumns()) log.warn({ column: mixed.column }, mixedColumnMessage(mixed));
  } catch (error) {
    reportFailure(error);
  } finally {
    stopReports();
    post({ type: 'done', stats: shard.snapshot(), files: shard.fileProgress() });
    lean.destroy();
    client.destroy();
    destroyS3Client();
    port.close();
  }
}

void run();
