/** Every message between the main thread and a worker, typed in one place. */
import type { FileProgress, Mark } from '../checkpoint/low-water.js';
import type { UploadConfig } from '../config.js';
import type { TableSchema } from '../dynamo/schema.js';
import type { WireError } from '../errors.js';
import type { WorkerCounters } from '../pipeline/counters.js';
import type { MemoryBounds } from '../pipeline/memory-budget.js';
import type { RejectRecord } from '../rejects.js';
import type { SharedRateState } from '../rate/limiter.js';

export interface WorkerData {
  readonly workerId: number;
  readonly config: UploadConfig;
  readonly schemas: readonly TableSchema[];
  /** The run's shared write-rate limiter (absent: no limit, no adaptation). */
  readonly rate: SharedRateState | undefined;
  /** This worker's share of `--memory`. */
  readonly bounds: MemoryBounds;
  /** This worker's share of the run's requests in flight, when the window adapts (`--concurrency auto`). */
  readonly windowCeiling: number;
}

export type ToWorker =
  /** Read this file (from `start` when resuming). */
  | { readonly type: 'file'; readonly path: string; readonly start?: Mark }
  /** Stop reading; write what is queued; then report. */
  | { readonly type: 'stop' }
  /** No more files: write what is queued; then report. */
  | { readonly type: 'end' }
  /** Rejected rows of these many bytes (as counted in their `reject` messages) are in the rejects file. */
  | { readonly type: 'rejects-written'; readonly bytes: number };

export type FromWorker =
  | { readonly type: 'next' }
  | { readonly type: 'stats'; readonly stats: WorkerCounters; readonly files: readonly FileProgress[] }
  /** `bytes`: what the worker counts the row at until the main thread says it is written. */
  | { readonly type: 'reject'; readonly reject: RejectRecord; readonly bytes: number }
  | { readonly type: 'failed'; readonly error: WireError }
  | { readonly type: 'done'; readonly stats: WorkerCounters; readonly files: readonly FileProgress[] };
