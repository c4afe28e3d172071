/**
 * Turns the runs into the bench's table: one row per (endpoint, client), dynaload's figures also as
 * ratios to the baseline on the same endpoint. Plain text (aligned) or Markdown.
 */
import { worstWindow, type WindowDeviation } from './capacity.js';
import type { ClientName, Scenario } from './options.js';
import type { ClientReport, EndpointStats } from './protocol.js';

export interface RunResult {
  readonly scenario: Scenario;
  readonly client: ClientName;
  readonly report: ClientReport | undefined;
  readonly stats: EndpointStats | undefined;
  /** Why the row has no figures: 'timeout', 'failed', or 'n/a: ...' (the CLI refused an option). */
  readonly problem: string | undefined;
  /** The write rate the client was asked to hold (numeric `--max-wcu`), else the endpoint's capacity. */
  readonly target: number | undefined;
  /** With `--repeat`: items/s of every run of this pair, in the order they ran (this one is the median). */
  readonly runs?: readonly (number | undefined)[];
}

/**
 * The run to show for a pair run several times: the one with the median items/s (the lower of the
 * two middle ones for an even count), so every figure in its row comes from one real run. A run
 * that failed is shown instead, never hidden behind the others.
 */
export function medianRun(runs: readonly RunResult[]): RunResult {
  const rate = (r: RunResult): number | undefined => (r.problem === undefined ? r.report?.rowsPerSecond : undefined);
  const all = runs.map(rate);
  const failed = runs.find((r) => rate(r) === undefined);
  if (failed !== undefined) return { ...failed, runs: all };
  const sorted = [...runs].sort((a, b) => (rate(a) as number) - (rate(b) as number));
  return { ...(sorted[Math.floor((sorted.length - 1) / 2)] as RunResult), runs: all };
}

/** Point 3 compares dynaload's runs on these two endpoints. */
const POINT_3 = new Set(['null', 'withhold20']);

/**
 * A round's order: the table's (each scenario's baseline, then dynaload), except that dynaload's
 * runs on the fault-free and the 20%-withheld endpoints go back to back, whatever the order of the
 * scenarios and clients given: the second of them moves to just after the first. Point 3 compares them.
 */
export function runOrder<P extends { scenario: Scenario; client: ClientName }>(pairs: readonly P[]): P[] {
  const order = [...pairs];
  const isPoint3 = (pair: P): boolean => pair.client === 'dynaload' && POINT_3.has(pair.scenario.key);
  const first = order.findIndex(isPoint3);
  const second = order.findIndex((pair, i) => i > first && isPoint3(pair));
  if (first >= 0 && second > first + 1) order.splice(first + 1, 0, ...order.splice(second, 1));
  return order;
}

/** `value / base` for each round where both ran (with --repeat, `runs` are in round order). */
export function roundRatios(
  values: readonly (number | undefined)[] | undefined,
  bases: readonly (number | undefined)[] | undefined,
): number[] {
  const ratios: number[] = [];
  (values ?? []).forEach((value, i) => {
    const ratio = divide(value, bases?.[i]);
    if (ratio !== undefined) ratios.push(ratio);
  });
  return ratios;
}

/** The median (the mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The figures of one run, derived once; undefined where they do not apply. */
export interface Metrics {
  readonly result: RunResult;
  readonly written: number;
  readonly itemsPerSecond: number | undefined;
  /** Item data written per second (wide scenarios: items/s x the item's size), MB of 10^6 bytes. */
  readonly megabytesPerSecond: number | undefined;
  readonly cpuPerMillion: number | undefined;
  readonly peakRssMb: number | undefined;
  /** dynaload / baseline on the same endpoint. */
  readonly speedRatio: number | undefined;
  readonly cpuRatio: number | undefined;
  /** Write units admitted per second, first to last BatchWriteItem (metered endpoints only). */
  readonly unitsPerSecond: number | undefined;
  readonly capacityShare: number | undefined;
  /** Items sent and withheld / items admitted. */
  readonly wasted: number | undefined;
  readonly window: WindowDeviation | undefined;
}

export function computeMetrics(results: readonly RunResult[], warmup: number, windowSeconds: number): Metrics[] {
  const own = results.map((r) => {
    const rep = r.report;
    const ok = r.problem === undefined && rep !== undefined;
    const written = ok ? (rep.written ?? 0) : 0;
    const s = r.stats;
    const metered = ok && s !== undefined && s.unitsAdmitted > 0;
    const unitsPerSecond = metered && s.activeMs > 0 ? (s.unitsAdmitted * 1000) / s.activeMs : undefined;
    return {
      result: r,
      written,
      itemsPerSecond: ok ? rep.rowsPerSecond : undefined,
      megabytesPerSecond:
        ok && r.scenario.itemBytes !== undefined && rep.rowsPerSecond !== undefined
          ? (rep.rowsPerSecond * r.scenario.itemBytes) / 1e6
          : undefined,
      cpuPerMillion: ok && rep.cpuMs !== undefined && written > 0 ? rep.cpuMs / 1000 / (written / 1e6) : undefined,
      peakRssMb: ok ? rep.peakRssMb : undefined,
      unitsPerSecond,
      capacityShare:
        unitsPerSecond !== undefined && r.scenario.capacity !== undefined
          ? unitsPerSecond / r.scenario.capacity
          : undefined,
      wasted: ok && s?.kind === 'null' && s.itemsAdmitted > 0 ? s.itemsWithheld / s.itemsAdmitted : undefined,
      window:
        metered && r.target !== undefined ? worstWindow(s.unitsPerSecond, r.target, windowSeconds, warmup) : undefined,
    };
  });
  return own.map((m) => {
    const base =
      m.result.client === 'baseline'
        ? undefined
        : own.find((b) => b.result.scenario.key === m.result.scenario.key && b.result.client === 'baseline');
    return {
      ...m,
      speedRatio: divide(m.itemsPerSecond, base?.itemsPerSecond),
      cpuRatio: divide(m.cpuPerMillion, base?.cpuPerMillion),
    };
  });
}

export function header(windowSeconds: number): string[] {
  return [
    'endpoint',
    'client',
    'items',
    'items/s',
    'MB/s',
    'x base',
    'CPU s/M items',
    'x base',
    'peak RSS MiB',
    'requests',
    'items retried',
    'units/s',
    '% of cap',
    'wasted %',
    `worst ${windowSeconds}-s dev`,
    'exit',
  ];
}

export function tableRows(metrics: readonly Metrics[], columns: number): string[][] {
  return metrics.map((m) => {
    const r = m.result;
    const lead = [r.scenario.label, r.client];
    if (r.problem !== undefined || r.report === undefined) {
      return [
        ...lead,
        ...Array.from({ length: columns - 3 }, () => (r.problem?.startsWith('n/a') ? 'n/a' : '-')),
        r.problem ?? 'failed',
      ];
    }
    const metered = m.unitsPerSecond !== undefined;
    return [
      ...lead,
      String(m.written),
      fixed(m.itemsPerSecond, 0),
      m.megabytesPerSecond === undefined ? '' : fixed(m.megabytesPerSecond, 1),
      times(m.speedRatio),
      fixed(m.cpuPerMillion, 1),
      times(m.cpuRatio),
      fixed(m.peakRssMb, 0),
      fixed(r.report.requests, 0),
      fixed(r.report.unprocessedRetries, 0),
      metered ? fixed(m.unitsPerSecond, 0) : '',
      m.capacityShare === undefined ? '' : fixed(m.capacityShare * 100, 1),
      m.wasted === undefined ? '' : fixed(m.wasted * 100, 1),
      m.window
        ? `${m.window.worst >= 0 ? '+' : ''}${(m.window.worst * 100).toFixed(1)}%`
        : metered && r.target !== undefined
          ? 'n/a'
          : '',
      String(r.report.exitCode ?? '?'),
    ];
  });
}

export function formatTable(head: readonly string[], rows: readonly (readonly string[])[], markdown: boolean): string {
  if (markdown) {
    const line = (r: readonly string[]): string => `| ${r.join(' | ')} |`;
    return (
      [line(head), `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n') +
      '\n'
    );
  }
  const table = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

export function divide(value: number | undefined, base: number | undefined): number | undefined {
  return value === undefined || base === undefined || base === 0 ? undefined : value / base;
}

export function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

/**
 * `ratio` to two decimals; with `line` (a goal's), with as many more as it takes to keep the figure
 * on the side of the line it is on: a median of 0.7997 against 0.8 read "0.80x ... NOT met".
 */
export function times(ratio: number | undefined, line?: number): string {
  if (ratio === undefined) return '';
  let digits = 2;
  while (
    line !== undefined &&
    digits < 6 &&
    Math.sign(Number(ratio.toFixed(digits)) - line) !== Math.sign(ratio - line)
  )
    digits++;
  return `${ratio.toFixed(digits)}x`;
}
