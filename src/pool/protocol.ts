/** Every message between the main thread and a worker, typed in one place. */
import type { Mark } from '../checkpoint/low-water.js';
import type { UploadConfig } from '../config.js';
import type { TableSchema } from '../dynamo/schema.js';
import type { WireError } from '../errors.js';
import type { MemoryBounds } from '../pipeline/memory-budget.js';
import type { WindowReport } from '../pipeline/window.js';
import type { WriterStats } from '../pipeline/write.js';
import type { SharedRateState } from '../rate/limiter.js';

export interface WorkerData {
  readonly workerId: number;
  readonly config: UploadConfig;
  readonly schemas: readonly TableSchema[];
  /** The run's shared write-rate limiter (absent: no limit, no adaptation). */
  readonly rate: SharedRateState | undefined;
  /** This worker's share of `--memory`. */
  readonly bounds: MemoryBounds;
}

export interface TableCounters {
  written: number;
  rejected: number;
}

/** Cumulative counters of one worker; the main thread keeps the latest snapshot of each. */
export interface WorkerCounters extends WriterStats {
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  /** Rows that became no item at all (a mapping or transform returned nothing for every table). */
  rowsSkipped: number;
  /** Write capacity units of the items written (1 per started KB of each put; 1 per delete). */
  unitsWritten: number;
  /** Bytes of input read, as stored (compressed for gzip). */
  bytesRead: number;
  filesRead: number;
  tables: Record<string, TableCounters>;
  /** The worker's in-flight window as it stands (not a counter: combined by `combineWindows`). */
  window?: WindowReport;
}

/** The run's window: requests in flight of every worker together, the slowest round-trip, and the reasons the windows hold. */
export interface RunWindow {
  readonly size: number;
  readonly perWorker: number[];
  readonly rttMs: number | null;
  readonly minRttMs: number | null;
  readonly reason: string;
}

export function combineWindows(workers: readonly WorkerCounters[]): RunWindow | null {
  const windows = workers.flatMap((w) => (w.window === undefined ? [] : [w.window]));
  if (windows.length === 0) return null;
  const rtts = windows.flatMap((w) => (w.rttMs === null ? [] : [w.rttMs]));
  const minRtts = windows.flatMap((w) => (w.minRttMs === null ? [] : [w.minRttMs]));
  return {
    size: windows.reduce((sum, w) => sum + w.size, 0),
    perWorker: windows.map((w) => w.size),
    rttMs: rtts.length === 0 ? null : Math.max(...rtts),
    minRttMs: minRtts.length === 0 ? null : Math.min(...minRtts),
    reason: [...new Set(windows.map((w) => w.reason))].join(','),
  };
}

/** One line of the rejects file. */
export interface RejectRecord {
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly message: string;
  readonly table?: string;
  readonly column?: string;
  /** The row as read: an object by column name, or the raw cells when they could not be named. */
  readonly row: Record<string, string> | string[] | string | null;
  /** Byte offset in the input of what broke the rule (ENCODING_INVALID). */
  readonly offset?: number;
  /** A record past the cap keeps only its first characters in `row`: its whole length in bytes, and SHA-256. */
  readonly length?: number;
  readonly sha256?: string;
}

/** Where one input stands: its low-water mark, and whether every row of it has settled. */
export interface FileProgress {
  readonly path: string;
  readonly mark: Mark;
  readonly complete: boolean;
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

export function emptyCounters(): WorkerCounters {
  return {
    rowsRead: 0,
    rowsWritten: 0,
    rowsRejected: 0,
    rowsSkipped: 0,
    unitsWritten: 0,
    bytesRead: 0,
    filesRead: 0,
    tables: {},
    requests: 0,
    itemsWritten: 0,
    unprocessedRetries: 0,
    throttledRequests: 0,
    serverErrors: 0,
    networkErrors: 0,
    validationSplits: 0,
  };
}

/** Adds `b` into `a` (numbers field by field, tables by name). */
export function addCounters(a: WorkerCounters, b: WorkerCounters): WorkerCounters {
  const sum = { ...a, tables: { ...a.tables } };
  for (const key of Object.keys(b) as (keyof WorkerCounters)[]) {
    if (key !== 'tables' && key !== 'window') sum[key] = (a[key] as number) + (b[key] as number);
  }
  for (const [table, counters] of Object.entries(b.tables)) {
    const prior = sum.tables[table] ?? { written: 0, rejected: 0 };
    sum.tables[table] = { written: prior.written + counters.written, rejected: prior.rejected + counters.rejected };
  }
  return sum;
}
