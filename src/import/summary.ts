import type { DynaloadError } from '../errors.js';
import { formatUsd } from '../estimate.js';

/** One table's import: what was staged, and what DynamoDB said of it. */
export interface ImportTableSummary {
  objects: number;
  /** Distinct keys staged: the items the table holds after a complete import. */
  items: number;
  /** Items replaced by a later row with the same key, not staged (as a later put would overwrite them). */
  replaced: number;
  bytes: number;
  gzipBytes: number;
  clientToken: string;
  stage: string;
  indexFile: string;
  importArn: string | null;
  status: string | null;
  processed: number | null;
  imported: number | null;
  errors: number | null;
  failureCode: string | null;
  failureMessage: string | null;
}

/** The result of `dynaload import`: what `--json` prints, and what the human summary is made of. */
export interface ImportSummary {
  command: 'import';
  dryRun: boolean;
  rows: number;
  /** Rows whose every item the imports report imported (in a dry run: would be staged). */
  written: number;
  rejected: number;
  skipped: number;
  notWritten: number;
  rejectedByCode: Record<string, number>;
  tables: Record<string, ImportTableSummary>;
  /** Uncompressed bytes staged, all tables: what ImportTable bills. */
  stagedBytes: number;
  importPricePerGb: number;
  importCostUsd: number;
  /** The same items written with BatchWriteItem on demand, for comparison. */
  writeUnits: number;
  pricePerMillionWru: number;
  batchWriteCostUsd: number;
  durationMs: number;
  rejectsFile: string | null;
  exitCode: number;
  error: { code: string; message: string } | null;
}

const GB = 1024 ** 3;

export function importCost(bytes: number, pricePerGb: number): number {
  return Math.round((bytes / GB) * pricePerGb * 1e6) / 1e6;
}

export function batchWriteCost(units: number, pricePerMillion: number): number {
  return Math.round(units * pricePerMillion) / 1e6;
}

export function errorField(error: DynaloadError | undefined): ImportSummary['error'] {
  return error ? { code: error.code, message: error.message } : null;
}

export function formatImportSummary(s: ImportSummary): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const reasons = Object.entries(s.rejectedByCode)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([code, count]) => `${code} ${n(count)}`)
    .join(', ');
  const lines = [
    s.dryRun
      ? 'Dry run: every row read, mapped, checked and staged locally; nothing uploaded or imported.'
      : `${s.error ? 'FAILED' : 'Done'}: ${n(s.rows)} rows read in ${(s.durationMs / 1000).toFixed(1)} s`,
    `  ${s.dryRun ? 'to import   ' : 'imported    '} ${n(s.written)} rows`,
    `  rejected     ${n(s.rejected)} rows${reasons ? `: ${reasons}` : ''}${s.rejectsFile ? ` -> ${s.rejectsFile}` : ''}`,
    ...(s.skipped ? [`  skipped      ${n(s.skipped)} rows (the mapping or transform returned no item)`] : []),
    ...(s.dryRun ? [] : [`  not written  ${n(s.notWritten)} rows`]),
  ];
  for (const [table, t] of Object.entries(s.tables)) {
    lines.push(
      `  table ${table}: ${n(t.items)} items staged in ${t.objects} objects (${mib(t.bytes)}, ${mib(t.gzipBytes)} gzip) at ${t.stage}${t.replaced ? `; ${n(t.replaced)} replaced by a later row with the same key` : ''}`,
    );
    if (t.status !== null)
      lines.push(
        `    import ${t.status}: ${n(t.processed ?? 0)} processed, ${n(t.imported ?? 0)} imported, ${n(t.errors ?? 0)} errors${t.failureCode ? ` (${t.failureCode}: ${t.failureMessage ?? ''})` : ''} ${t.importArn ?? ''}`,
      );
  }
  lines.push(
    `  cost         ImportTable ${formatUsd(importCost(s.stagedBytes, s.importPricePerGb))} (${mib(s.stagedBytes)} at USD ${s.importPricePerGb} per GB)` +
      ` vs BatchWriteItem ${formatUsd(s.batchWriteCostUsd)} (${n(s.writeUnits)} write units at USD ${s.pricePerMillionWru} per million, on demand)`,
  );
  if (s.error) lines.push(`  error        ${s.error.code}: ${s.error.message}`);
  return lines.join('\n') + '\n';
}
