import { formatDuration } from './progress.js';

/**
 * `--dry-run`: what a load would cost before paying for it. The rows are read, mapped and
 * checked as in a real run, but nothing is written; these functions turn the counts into write
 * units, an on-demand price and a duration at `--max-wcu`.
 */

/**
 * USD per million on-demand write request units in us-east-1 (standard table class).
 * AWS halved on-demand throughput prices on 1 November 2024, from 1.25 to 0.625.
 * Looked up on 2026-11-26: the stored copy of https://aws.amazon.com/dynamodb/pricing/on-demand/
 * did not show the figure; https://airbyte.com/data-engineering-resources/dynamodb-pricing (July
 * 2025) gives "$0.625 per million write request units" for US East after the cut. Check the AWS page
 * before relying on it. Other regions, the Standard-IA table class and global tables cost
 * differently: pass the price of yours.
 */
export const DEFAULT_PRICE_PER_MILLION_WRU = 0.625;

export interface EstimateInput {
  /** Write units of the items that would be written: 1 per started KB of each put, 1 per delete. */
  readonly writeUnits: number;
  readonly items: number;
  readonly rows: number;
  readonly rejected: number;
  readonly itemsPerTable: Readonly<Record<string, number>>;
  /** `--max-wcu` as a number (absent, or `auto`: no duration). */
  readonly maxWcu?: number | undefined;
  readonly pricePerMillionWru: number;
}

export interface Estimate {
  readonly writeUnits: number;
  /** On-demand cost, rounded to a millionth of a dollar. */
  readonly estimatedCostUsd: number;
  /** Seconds the writes take at exactly `maxWcu` units per second (no throttling, no retries). */
  readonly secondsAtMaxWcu?: number;
}

export function estimate(input: EstimateInput): Estimate {
  const estimatedCostUsd = Math.round(input.writeUnits * input.pricePerMillionWru) / 1e6;
  return {
    writeUnits: input.writeUnits,
    estimatedCostUsd,
    ...(input.maxWcu !== undefined && input.maxWcu > 0
      ? { secondsAtMaxWcu: Math.ceil(input.writeUnits / input.maxWcu) }
      : {}),
  };
}

export interface DryRunReport extends EstimateInput {
  /** Rejected rows by reason code (`NUMBER_INVALID`: 2, ...). */
  readonly rejectedByCode?: Readonly<Record<string, number>>;
  readonly rejectsFile?: string | null;
  /** Where `maxWcu` comes from, as the summary says it (`800 WCU/s on T (auto: ...)`). */
  readonly maxWcuSource?: string;
}

/** The human report of `--dry-run`, for stdout (with `--json`, use `estimate`'s fields instead). */
export function formatDryRun(report: DryRunReport): string {
  const result = estimate(report);
  const n = (value: number) => value.toLocaleString('en-US');
  const tables = Object.entries(report.itemsPerTable)
    .map(([table, items]) => `${table} ${n(items)}`)
    .join(', ');
  const reasons = Object.entries(report.rejectedByCode ?? {})
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([code, count]) => `${code} ${n(count)}`)
    .join(', ');
  const lines = [
    'Dry run: every row read, mapped and checked; nothing written.',
    `  rows         ${n(report.rows)}`,
    `  items        ${n(report.items)}${tables ? ` (${tables})` : ''}`,
    `  rejected     ${n(report.rejected)} rows${reasons ? `: ${reasons}` : ''}${report.rejectsFile ? ` -> ${report.rejectsFile}` : ''}`,
    `  write units  ${n(result.writeUnits)} (1 per started KB of each item)`,
    `  cost         ${formatUsd(result.estimatedCostUsd)} on demand, at USD ${report.pricePerMillionWru} per million write request units`,
  ];
  if (result.secondsAtMaxWcu !== undefined)
    lines.push(
      `  time         ${formatDuration(result.secondsAtMaxWcu)} at ${n(report.maxWcu as number)} WCU/s${report.maxWcuSource ? ` (the cap in force: ${report.maxWcuSource})` : ''}`,
    );
  return lines.join('\n') + '\n';
}

/** `USD 12.35`, `USD 0.07`, and below a cent `under USD 0.01`. */
export function formatUsd(usd: number): string {
  if (usd === 0) return 'USD 0.00';
  if (usd < 0.01) return 'under USD 0.01';
  return `USD ${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
