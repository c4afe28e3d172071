import { formatShare, type ShareSummary } from './commands/shard-share.js';
import type { DynaloadError } from './errors.js';
import { estimate, formatDryRun } from './estimate.js';
import type { TableCounters, WorkerCounters } from './pool/protocol.js';

/** The result of a run: what `--json` prints, and what the human summary is made of. */
export interface Summary {
  /** `--dry-run`: nothing was written; `written` counts rows that would be. */
  dryRun: boolean;
  /** `put` for upload, `delete` for delete (then `written` counts deleted keys). */
  kind: 'put' | 'delete';
  rows: number;
  written: number;
  rejected: number;
  /** Rows the mapping or transform turned into no item at all (it returned null). */
  skipped: number;
  notWritten: number;
  tables: Record<string, TableCounters>;
  /** Items written (or, in a dry run, that would be), all tables. */
  items: number;
  /** Write capacity units of the items written, as DynamoDB bills them (1 per started KB; 1 per delete). */
  writeUnits: number;
  /** What those write units cost on demand, at `pricePerMillionWru` (`--wru-price`). */
  estimatedCostUsd: number;
  pricePerMillionWru: number;
  /** `--max-wcu` when numeric, and the seconds the write units take at it (null without a numeric cap). */
  maxWcu: number | null;
  secondsAtMaxWcu: number | null;
  /** Rejected rows by reason code. */
  rejectedByCode: Record<string, number>;
  requests: number;
  unprocessedRetries: number;
  throttledRequests: number;
  serverErrors: number;
  networkErrors: number;
  durationMs: number;
  rowsPerSecond: number;
  /** Peak resident set of the whole process (main thread and workers), in MiB. */
  peakRssMb: number;
  /** CPU time of the whole process (all threads), user + system, in ms. */
  cpuMs: number;
  rejectsFile: string | null;
  /** The checkpoint this run kept (null: none). */
  checkpointFile: string | null;
  /** Rows settled by earlier runs of a resumed load (below the marks this run started from). */
  previous: { rows: number; written: number; rejected: number; skipped: number } | null;
  /** SIGINT or SIGTERM when the run was stopped by a signal. */
  stopped: string | null;
  /** How to continue a run that did not finish. */
  resumeCommand: string | null;
  unreadFiles: string[];
  exitCode: number;
  error: { code: string; message: string } | null;
  /** `--shard i/n`: this copy's inputs and bytes, of the whole load's (absent without --shard). */
  shard?: ShareSummary;
}

export function buildSummary(counters: WorkerCounters, extra: { kind: 'put' | 'delete'; dryRun: boolean; rejectedByCode: Record<string, number>; pricePerMillionWru: number; maxWcu: number | undefined; durationMs: number; rejectsFile: string | null; checkpointFile: string | null; previous: Summary['previous']; stopped: string | null; resumeCommand: string | null; unreadFiles: readonly string[]; exitCode: number; error: DynaloadError | undefined }): Summary {
  const { rowsRead, rowsWritten, rowsRejected, rowsSkipped } = counters;
  const costs = estimate({ writeUnits: counters.unitsWritten, items: counters.itemsWritten, rows: rowsRead, rejected: rowsRejected, itemsPerTable: {}, pricePerMillionWru: extra.pricePerMillionWru, ...(extra.maxWcu ? { maxWcu: extra.maxWcu } : {}) });
  return {
    dryRun: extra.dryRun,
    kind: extra.kind,
    rows: rowsRead,
    written: rowsWritten,
    rejected: rowsRejected,
    skipped: rowsSkipped,
    // Derived, never counted: a row is written or rejected only on evidence; everything else is not written.
    notWritten: rowsRead - rowsWritten - rowsRejected - rowsSkipped,
    tables: counters.tables,
    items: counters.itemsWritten,
    writeUnits: counters.unitsWritten,
    estimatedCostUsd: costs.estimatedCostUsd,
    pricePerMillionWru: extra.pricePerMillionWru,
    maxWcu: extra.maxWcu ?? null,
    secondsAtMaxWcu: costs.secondsAtMaxWcu ?? null,
    rejectedByCode: extra.rejectedByCode,
    requests: counters.requests,
    unprocessedRetries: counters.unprocessedRetries,
    throttledRequests: counters.throttledRequests,
    serverErrors: counters.serverErrors,
    networkErrors: counters.networkErrors,
    durationMs: Math.round(extra.durationMs),
    rowsPerSecond: extra.durationMs > 0 ? Math.round((rowsWritten * 1000) / extra.durationMs) : 0,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    rejectsFile: extra.rejectsFile,
    checkpointFile: extra.checkpointFile,
    previous: extra.previous,
    stopped: extra.stopped,
    resumeCommand: extra.resumeCommand,
    unreadFiles: [...extra.unreadFiles],
    exitCode: extra.exitCode,
    error: extra.error ? { code: extra.error.code, message: extra.error.message } : null,
  };
}

export function formatSummary(s: Summary): string {
  const share = s.shard ? formatShare(s.shard, s.dryRun) : '';
  if (s.dryRun) {
    const itemsPerTable = Object.fromEntries(Object.entries(s.tables).map(([t, c]) => [t, c.written]));
    return share + formatDryRun({ writeUnits: s.writeUnits, items: s.items, rows: s.rows, rejected: s.rejected, itemsPerTable, pricePerMillionWru: s.pricePerMillionWru, ...(s.maxWcu !== null ? { maxWcu: s.maxWcu } : {}), rejectedByCode: s.rejectedByCode, rejectsFile: s.rejectsFile });
  }
  const seconds = (s.durationMs / 1000).toFixed(1);
  const tables = Object.entries(s.tables)
    .map(([name, t]) => `${name} ${t.written}${t.rejected ? ` (+${t.rejected} rejected)` : ''}`)
    .join(', ');
  const lines = [
    `${s.stopped ? 'STOPPED' : s.error ? 'FAILED' : 'Done'}: ${s.rows} rows read in ${seconds} s (${s.rowsPerSecond} rows/s written, peak RSS ${s.peakRssMb} MiB)`,
    `  ${s.kind === 'delete' ? 'deleted' : 'written'}      ${s.written} rows${tables ? ` (items: ${tables})` : ''}`,
    `  rejected     ${s.rejected} rows${s.rejectsFile ? ` -> ${s.rejectsFile}` : ''}`,
    ...(s.skipped ? [`  skipped      ${s.skipped} rows (the mapping or transform returned no item)`] : []),
    `  not written  ${s.notWritten} rows${s.unreadFiles.length ? `, and ${s.unreadFiles.length} files not read: ${s.unreadFiles.join(' ')}` : ''}`,
    `  retries      ${s.unprocessedRetries} unprocessed items resent, ${s.throttledRequests} throttled requests, ${s.serverErrors} server errors, ${s.networkErrors} network errors (${s.requests} requests)`,
  ];
  if (s.previous) lines.push(`  earlier runs ${s.previous.rows} rows (${s.previous.written} written, ${s.previous.rejected} rejected, ${s.previous.skipped} skipped)`);
  if (s.checkpointFile) lines.push(`  checkpoint   ${s.checkpointFile}`);
  if (s.stopped) lines.push(`  stopped      by ${s.stopped}`);
  if (s.error) lines.push(`  error        ${s.error.code}: ${s.error.message}`);
  if (s.resumeCommand) lines.push(`  to resume    ${s.resumeCommand}`);
  return share + lines.join('\n') + '\n';
}
