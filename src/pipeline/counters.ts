/**
 * What a worker counts as it loads (rows read, written, rejected, skipped; the writer's requests
 * and retries; each table's items), and how the main thread adds every worker's counts together.
 */
import type { WindowReport } from './window.js';
import { emptyWriterStats, type WriterStats } from './write.js';

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
    ...emptyWriterStats(),
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
