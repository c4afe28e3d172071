import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import type { UploadConfig } from '../config.js';
import type { TableSchema } from '../dynamo/schema.js';
import type { SharedRateState } from '../rate/limiter.js';
import { DynaloadError, fromWire, type WireError } from '../errors.js';
import type { Logger } from '../log.js';
import type { FileProgress, Mark } from '../checkpoint/low-water.js';
import { memoryBounds } from '../pipeline/memory-budget.js';
import { windowCeiling } from '../pipeline/window.js';
import {
  addCounters,
  combineWindows,
  emptyCounters,
  type RunWindow,
  type WorkerCounters,
} from '../pipeline/counters.js';
import type { RejectRecord } from '../rejects.js';
import type { FromWorker, ToWorker, WorkerData } from './protocol.js';

/**
 * Heap limits per worker (the whole process's peak RSS). The old generation's limit is far above
 * what a worker holds (its share of `--memory`, src/pipeline/memory-budget.ts); how far the heap
 * grows past what it keeps is set for every thread at once by the launcher (bin/dynaload.js). A
 * worker's rows and requests live for a round-trip or more, past a young collection or two, so a
 * young generation much larger than V8's smallest only adds resident memory (V8's default is 32 MB;
 * at 6 the bench tells no CPU apart from 12, and the peak RSS falls; the commit has the figures).
 */
export const WORKER_HEAP_LIMITS = { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: 1024 } as const;

/** How long a worker that reported may take to exit by itself (closing its connections, its log). */
const WORKER_EXIT_GRACE_MS = 2000;

export interface PoolEvents {
  /** `written` is called once the line is handed to the file (its write completed). */
  readonly reject: (reject: RejectRecord, written: () => void) => void;
  /** Called whenever a worker reports; `totals` sums every worker's latest counters. */
  readonly progress?: (totals: WorkerCounters, window: RunWindow | null) => void;
  /** Marks of files that moved, for the checkpoint. */
  readonly files?: (files: readonly FileProgress[]) => void;
}

export interface PoolResult {
  readonly counters: WorkerCounters;
  /** Requests in flight at the end, every worker's window together (null: no worker reported one). */
  readonly window: RunWindow | null;
  /** The first failure; the run stopped reading when it happened. */
  readonly error: DynaloadError | undefined;
  /** Inputs never handed to a worker (the run stopped before them). */
  readonly unread: readonly string[];
}

export interface Pool {
  readonly done: Promise<PoolResult>;
  /** Graceful stop: workers stop reading, write what they have queued, and report. */
  stop(): void;
  /** Forced stop: workers end at once; counters and marks are the last ones they reported. */
  kill(): void;
}

/**
 * Runs the workers: hands out one file at a time to whichever worker asks (a bounded queue of
 * one per worker), collects counters, and stops everyone on the first failure.
 */
export function startPool(
  config: UploadConfig,
  schemas: readonly TableSchema[],
  rate: SharedRateState | undefined,
  events: PoolEvents,
  log: Logger,
  starts: ReadonlyMap<string, Mark> = new Map(),
): Pool {
  const files = [...config.inputs];
  const count = Math.max(1, Math.min(config.workers, files.length));
  const latest: WorkerCounters[] = Array.from({ length: count }, emptyCounters);
  const workers: Worker[] = [];
  let stopping = false;
  let killed = false;
  let error: DynaloadError | undefined;

  const stopAll = (): void => {
    if (stopping) return;
    stopping = true;
    for (const worker of workers) worker.postMessage({ type: 'stop' } satisfies ToWorker);
  };
  const fail = (wire: WireError | DynaloadError): void => {
    error ??= wire instanceof DynaloadError ? wire : fromWire(wire);
    stopAll();
  };
  const totals = (): WorkerCounters => latest.reduce(addCounters, emptyCounters());

  const finished = Array.from({ length: count }, (_, workerId) => {
    // Standard input can only be read by one worker: the first one takes it first.
    const takesStdin = workerId === 0 && files.includes('-');
    if (takesStdin) files.splice(files.indexOf('-'), 1);
    let first = takesStdin ? '-' : undefined;
    const data: WorkerData = {
      workerId,
      config,
      schemas,
      rate,
      bounds: memoryBounds(config.memory, count),
      windowCeiling: windowCeiling(count),
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: data,
      stdin: takesStdin,
      resourceLimits: { ...WORKER_HEAP_LIMITS },
    });
    workers.push(worker);
    if (takesStdin && worker.stdin) {
      pipeline(process.stdin, worker.stdin).catch((cause: unknown) =>
        fail(new DynaloadError('INPUT_FAILED', `Could not read standard input: ${String(cause)}`, { cause })),
      );
    }
    return new Promise<void>((resolve) => {
      let reported = false;
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'next': {
            const path = first ?? (stopping ? undefined : files.shift());
            first = undefined;
            const start = path === undefined ? undefined : starts.get(path);
            worker.postMessage(
              (path === undefined
                ? { type: 'end' }
                : { type: 'file', path, ...(start ? { start } : {}) }) satisfies ToWorker,
            );
            break;
          }
          case 'stats':
            latest[workerId] = message.stats;
            if (message.files.length > 0) events.files?.(message.files);
            events.progress?.(totals(), combineWindows(latest));
            break;
          case 'reject': {
            const { bytes } = message;
            events.reject(message.reject, () => {
              if (!reported) worker.postMessage({ type: 'rejects-written', bytes } satisfies ToWorker);
            });
            break;
          }
          case 'failed':
            log.error({ worker: workerId, code: message.error.code }, message.error.message);
            fail(message.error);
            break;
          case 'done':
            latest[workerId] = message.stats;
            if (message.files.length > 0) events.files?.(message.files);
            reported = true;
            events.progress?.(totals(), combineWindows(latest));
            // A worker has nothing left to do once it reported, but a transform call that never
            // settled (a lookup on a socket that hangs) can keep its thread alive: end it.
            setTimeout(() => void worker.terminate(), WORKER_EXIT_GRACE_MS).unref();
            break;
        }
      });
      worker.on('error', (cause) => {
        const outOfMemory = (cause as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
        const why = outOfMemory
          ? ` (its heap is limited to ${WORKER_HEAP_LIMITS.maxOldGenerationSizeMb} MB; does a --transform keep what it sees?)`
          : '';
        fail(new DynaloadError('WORKER_CRASHED', `Worker ${workerId} crashed: ${cause.message}${why}`, { cause }));
      });
      worker.on('exit', (code) => {
        if (!reported && !killed)
          fail(
            new DynaloadError(
              'WORKER_CRASHED',
              `Worker ${workerId} exited (code ${code}) before reporting its counters`,
            ),
          );
        resolve();
      });
    });
  });

  const done = Promise.all(finished).then((): PoolResult => ({
    counters: totals(),
    window: combineWindows(latest),
    error,
    unread: [...files],
  }));
  const kill = (): void => {
    killed = true;
    stopAll();
    for (const worker of workers) void worker.terminate();
  };
  return { done, stop: stopAll, kill };
}
