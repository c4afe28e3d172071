import { formatShare, type ShareSummary } from './commands/shard-share.js';
import type { DynaloadError } from './errors.js';
import { estimate, formatDryRun } from './estimate.js';
import type { RunWindow, TableCounters, WorkerCounters } from './pipeline/counters.js';

/** A write cap the run held: `--max-wcu` on every table (`*`), or `auto`'s share of a provisioned table's capacity. */
export interface WriteCap {
  readonly table: string;
  readonly wcu: number;
  readonly source: '--max-wcu' | 'auto';
  /** `auto`: the `--capacity-share` of the table's provisioned write capacity. */
  readonly capacityShare?: number;
}

/** The result of a run: what `--json` prints, and what the human summary is made of. */
export interface Summary {
  /** `--dry-run`: nothing was written or sent; `wouldWrite` counts what a real run would write. */
  dryRun: boolean;
  /** `put` for upload, `delete` for delete (then `written` counts deleted keys). */
  kind: 'put' | 'delete';
  rows: number;
  written: number;
  rejected: number;
  /** Rows the mapping or transform turned into no item at all (it returned null). */
  skipped: number;
  /** `rows - written - rejected - skipped`: rows read that are not known to be written (in a dry run, all the others). */
  notWritten: number;
  tables: Record<string, TableCounters>;
  /** Items written, all tables (0 in a dry run). */
  items: number;
  /** A dry run's count of what a real run would write: rows, items, and items per table (null otherwise). */
  wouldWrite: { rows: number; items: number; tables: Record<string, number> } | null;
  /** Write capacity units of the items written (in a dry run: that would be), as DynamoDB bills them (1 per started KB; 1 per delete). */
  writeUnits: number;
  /** What those write units cost on demand, at `pricePerMillionWru` (`--wru-price`). */
  estimatedCostUsd: number;
  pricePerMillionWru: number;
  /**
   * The write cap in force for the whole run (`--max-wcu n`, or what `auto` made of the provisioned
   * tables' capacity), and the seconds the write units take at it; null without a cap.
   */
  maxWcu: number | null;
  secondsAtMaxWcu: number | null;
  /** Every cap in force, with its source. */
  writeCaps: WriteCap[];
  /** Rejected rows by reason code. */
  rejectedByCode: Record<string, number>;
  requests: number;
  /**
   * BatchWriteItem requests in flight at the end (every worker's together, and each one's), the
   * round-trip (the slowest worker's smoothed, the fastest seen), and why the windows stopped
   * growing (`fixed` with `--concurrency n`); null in a dry run.
   */
  window: RunWindow | null;
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
  /** The config file read (`--config` or `.dynaloadrc.json`), or null. */
  configFile: string | null;
  /** The endpoint URL (null: the AWS SDK's for the region) and what set it: `--endpoint`, `AWS_ENDPOINT_URL_DYNAMODB`, `config file`, ... */
  endpoint: { url: string | null; source: string };
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

export function buildSummary(
  counters: WorkerCounters,
  extra: {
    kind: 'put' | 'delete';
    window?: RunWindow | null;
    dryRun: boolean;
    rejectedByCode: Record<string, number>;
    pricePerMillionWru: number;
    maxWcu: number | undefined;
    writeCaps?: readonly WriteCap[];
    durationMs: number;
    configFile: string | null;
    endpoint: Summary['endpoint'];
    rejectsFile: string | null;
    checkpointFile: string | null;
    previous: Summary['previous'];
    stopped: string | null;
    resumeCommand: string | null;
    unreadFiles: readonly string[];
    exitCode: number;
    error: DynaloadError | undefined;
  },
): Summary {
  const { rowsRead, rowsRejected, rowsSkipped } = counters;
  // A dry run acknowledges every batch itself: what it counts would be written, nothing was, nothing was sent.
  const dry = extra.dryRun;
  const rowsWritten = dry ? 0 : counters.rowsWritten;
  const tables = dry
    ? Object.fromEntries(Object.entries(counters.tables).map(([t, c]) => [t, { written: 0, rejected: c.rejected }]))
    : counters.tables;
  const costs = estimate({
    writeUnits: counters.unitsWritten,
    items: counters.itemsWritten,
    rows: rowsRead,
    rejected: rowsRejected,
    itemsPerTable: {},
    pricePerMillionWru: extra.pricePerMillionWru,
    ...(extra.maxWcu ? { maxWcu: extra.maxWcu } : {}),
  });
  return {
    dryRun: extra.dryRun,
    kind: extra.kind,
    rows: rowsRead,
    written: rowsWritten,
    rejected: rowsRejected,
    skipped: rowsSkipped,
    // Derived, never counted: a row is written or rejected only on evidence; everything else is not written.
    notWritten: rowsRead - rowsWritten - rowsRejected - rowsSkipped,
    tables,
    items: dry ? 0 : counters.itemsWritten,
    wouldWrite: dry
      ? {
          rows: counters.rowsWritten,
          items: counters.itemsWritten,
          tables: Object.fromEntries(Object.entries(counters.tables).map(([t, c]) => [t, c.written])),
        }
      : null,
    writeUnits: counters.unitsWritten,
    estimatedCostUsd: costs.estimatedCostUsd,
    pricePerMillionWru: extra.pricePerMillionWru,
    maxWcu: extra.maxWcu ?? null,
    secondsAtMaxWcu: costs.secondsAtMaxWcu ?? null,
    writeCaps: [...(extra.writeCaps ?? [])],
    rejectedByCode: extra.rejectedByCode,
    requests: dry ? 0 : counters.requests,
    window: dry ? null : (extra.window ?? null),
    unprocessedRetries: counters.unprocessedRetries,
    throttledRequests: counters.throttledRequests,
    serverErrors: counters.serverErrors,
    networkErrors: counters.networkErrors,
    durationMs: Math.round(extra.durationMs),
    rowsPerSecond: extra.durationMs > 0 ? Math.round((rowsWritten * 1000) / extra.durationMs) : 0,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    configFile: extra.configFile,
    endpoint: extra.endpoint,
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
    const itemsPerTable = s.wouldWrite?.tables ?? {};
    return (
      share +
      formatDryRun({
        writeUnits: s.writeUnits,
        items: s.wouldWrite?.items ?? 0,
        rows: s.rows,
        rejected: s.rejected,
        itemsPerTable,
        pricePerMillionWru: s.pricePerMillionWru,
        ...(s.maxWcu !== null ? { maxWcu: s.maxWcu, maxWcuSource: formatCaps(s.writeCaps) } : {}),
        rejectedByCode: s.rejectedByCode,
        rejectsFile: s.rejectsFile,
      }) +
      `  peak RSS     ${s.peakRssMb} MiB\n`
    );
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
    ...(s.window
      ? [
          `  in flight    ${s.window.size} requests (${s.window.perWorker.join(' + ')}), round-trip ${s.window.rttMs ?? '?'} ms (fastest ${s.window.minRttMs ?? '?'} ms), ${s.window.reason}`,
        ]
      : []),
  ];
  if (s.writeCaps.length > 0) lines.push(`  write cap    ${formatCaps(s.writeCaps)}`);
  if (s.previous)
    lines.push(
      `  earlier runs ${s.previous.rows} rows (${s.previous.written} written, ${s.previous.rejected} rejected, ${s.previous.skipped} skipped)`,
    );
  if (s.checkpointFile) lines.push(`  checkpoint   ${s.checkpointFile}`);
  lines.push(
    `  endpoint     ${s.endpoint.url ?? 'AWS'} (from ${s.endpoint.source})${s.configFile ? `; config file ${s.configFile}` : ''}`,
  );
  if (s.stopped) lines.push(`  stopped      by ${s.stopped}`);
  if (s.error) lines.push(`  error        ${s.error.code}: ${s.error.message}`);
  if (s.resumeCommand) lines.push(`  to resume    ${s.resumeCommand}`);
  return share + lines.join('\n') + '\n';
}

/** `800 WCU/s on watch_history (auto: 0.8 of its provisioned capacity)`, `2000 WCU/s (--max-wcu)`; joined by `; `. */
export function formatCaps(caps: readonly WriteCap[]): string {
  return caps
    .map((c) =>
      c.source === '--max-wcu'
        ? `${c.wcu} WCU/s (--max-wcu)`
        : `${c.wcu} WCU/s on ${c.table} (auto: ${c.capacityShare ?? ''} of its provisioned capacity)`,
    )
    .join('; ');
}
