/**
 * `npm run bench` options, validated once and frozen, and the scenarios they select.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { EndpointSpec } from './protocol.js';

export const USAGE = `Usage: npm run bench -- [options] [-- <extra dynaload upload args>]

  --rows <n>              rows to load per run (default 1000000; --quick 20000)
  --shards <n>            CSV shards the rows are split into (default 8)
  --workers <n>           passed to dynaload as --workers
  --concurrency <n>       passed to dynaload as --concurrency
  --scenarios <a,b>       endpoints: ${'dynalite,null,withhold20,capacity,s3,hidden,transform,transform20,'}
                          ${'delay20,delay50,delay100,delay20w20,delay50w20,delay100w20,capacity50,wide,wide20'} (default dynalite,null,withhold20,capacity,s3; --quick: null,withhold20,capacity,s3);
                          s3: the null endpoint, the same rows read from a local S3 server (dynaload only);
                          hidden: the capacity endpoint described as on demand;
                          transform, transform20: dynaload alone on the null endpoint through a synchronous
                          transform, and one that awaits 20 ms per row;
                          delayN: the null endpoint answering N ms late (a table far away), w20: with 20% withheld;
                          capacity50: the capacity endpoint answering 50 ms late
                          wide: --wide-rows items of about 380 KB in 4 shards; wide20: items of 100 KB, 20% withheld
  --clients <a,b>         baseline,dynaload (default both)
  --capacity <n>          write units per second of the capacity-limited endpoint (default 5000)
  --capacity-seconds <n>  the capacity and hidden scenarios load capacity x this many rows (default 60; --quick 10)
  --busy <n>              run n busy-looping processes during every client run (default 0): a busy machine,
                          whose answers arrive late
  --wide-rows <n>         rows for the wide scenarios (default 2000)
  --dynalite-rows <n>     rows for the dynalite scenario, which is slow (default min(rows, 200000))
  --transform-rows <n>    rows for the transform scenarios (default min(rows, 100000))
  --baseline-withheld-rows <n>
                          rows for the baseline on the 20%-withheld endpoint, where its backoff makes it
                          slow (default min(rows, 10000); --quick skips that run unless --clients is given)
  --max-wcu <n|auto>      passed to dynaload as --max-wcu; every null endpoint then meters write units
  --warmup <s>            seconds skipped before the rate windows (default 10; --quick 2)
  --timeout <s>           per client run (default 900; --quick 45)
  --repeat <n>            run n rounds of every (endpoint, client) pair and show each pair's run
                          with the median items/s (default 1); the notes list every run's items/s,
                          and point 3 is judged on the runs paired by round
  --quick                 a smoke run in under a minute (5-second rate windows instead of 10)
  --markdown              print the table as Markdown (for README)
  --help
`;

export type ClientName = 'baseline' | 'dynaload';

export interface Scenario {
  readonly key: string;
  readonly label: string;
  readonly spec: EndpointSpec;
  readonly rows: number;
  /**
   * Rows for the baseline, when it runs here: fewer on the 20%-withheld endpoint, where its 50 ms
   * backoff after nearly every batch holds it to about 130 items/s (items/s is a rate, so it compares).
   */
  readonly baselineRows: number | undefined;
  /** Write capacity the table is created with (PROVISIONED); on-demand when undefined. */
  readonly provisioned: number | undefined;
  /** Write units per second the endpoint admits, whether the table says so or not (hidden: on demand). */
  readonly capacity: number | undefined;
  /** Arguments dynaload gets in this scenario only (before the ones given to the bench, which win). */
  readonly dynaloadArgs: readonly string[];
  /** Wide items: each row carries a text column of this many bytes (undefined: the usual narrow rows). */
  readonly itemBytes?: number;
  /** Shards for this scenario's rows, when not `--shards`. */
  readonly shards?: number;
}

export interface BenchOptions {
  readonly rows: number;
  readonly shards: number;
  readonly scenarios: readonly Scenario[];
  readonly clients: readonly ClientName[];
  readonly capacity: number;
  /** Busy-looping processes run beside every client run. */
  readonly busy: number;
  /** The `--max-wcu` value as given, passed through to the CLI. */
  readonly maxWcu: string | undefined;
  readonly warmup: number;
  /** Length of the rate windows, seconds (10, as the goal states it; 5 in --quick). */
  readonly windowSeconds: number;
  readonly timeoutMs: number;
  /** Runs per (endpoint, client); the table shows the median one. */
  readonly repeat: number;
  readonly quick: boolean;
  readonly markdown: boolean;
  readonly help: boolean;
  /** Arguments for `dynaload upload`: --workers, --concurrency, --max-wcu and everything after `--`. */
  readonly cliArgs: readonly string[];
}

export const SCENARIO_KEYS = [
  'dynalite',
  'null',
  'withhold20',
  'capacity',
  's3',
  'hidden',
  'transform',
  'transform20',
  'delay20',
  'delay50',
  'delay100',
  'delay20w20',
  'delay50w20',
  'delay100w20',
  'capacity50',
  'wide',
  'wide20',
] as const;
/** Run unless --scenarios names them: the hidden-capacity runs are long, and judged run by run. */
const DEFAULT_SCENARIOS = ['dynalite', 'null', 'withhold20', 'capacity', 's3'];

const transformModule = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      rows: { type: 'string' },
      shards: { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      scenarios: { type: 'string' },
      clients: { type: 'string' },
      capacity: { type: 'string' },
      'capacity-seconds': { type: 'string' },
      'dynalite-rows': { type: 'string' },
      'transform-rows': { type: 'string' },
      'wide-rows': { type: 'string' },
      'baseline-withheld-rows': { type: 'string' },
      'max-wcu': { type: 'string' },
      busy: { type: 'string' },
      warmup: { type: 'string' },
      timeout: { type: 'string' },
      repeat: { type: 'string' },
      quick: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const rows = integer('--rows', values.rows, quick ? 20_000 : 1_000_000, 1, 100_000_000);
  const capacity = integer('--capacity', values.capacity, 5_000, 1, 10_000_000);
  const capacitySeconds = integer('--capacity-seconds', values['capacity-seconds'], quick ? 10 : 60, 1, 3_600);
  const dynaliteRows = integer('--dynalite-rows', values['dynalite-rows'], Math.min(rows, 200_000), 1, 100_000_000);
  const transformRows = integer('--transform-rows', values['transform-rows'], Math.min(rows, 100_000), 1, 100_000_000);
  const wideRows = integer('--wide-rows', values['wide-rows'], 2_000, 1, 1_000_000);
  const maxWcu = values['max-wcu'];
  if (maxWcu !== undefined && maxWcu !== 'auto' && !/^\d+$/.test(maxWcu))
    throw new Error(`Expected \`--max-wcu\` to be a positive integer or \`auto\`, got \`${maxWcu}\``);
  const meter = maxWcu !== undefined;

  const shareGiven = positionals.some((arg) => arg === '--capacity-share' || arg.startsWith('--capacity-share='));
  const all: Record<(typeof SCENARIO_KEYS)[number], Scenario> = {
    dynalite: {
      key: 'dynalite',
      label: 'dynalite',
      spec: { kind: 'dynalite' },
      rows: dynaliteRows,
      baselineRows: dynaliteRows,
      provisioned: undefined,
      capacity: undefined,
      dynaloadArgs: [],
    },
    null: {
      key: 'null',
      label: 'null',
      spec: { kind: 'null', meter },
      rows,
      baselineRows: rows,
      provisioned: undefined,
      capacity: undefined,
      dynaloadArgs: [],
    },
    // The rows of `null`, as objects of a local S3 server (bench/s3-source.ts): the baseline reads files only.
    s3: {
      key: 's3',
      label: 'null, rows from S3 (s3rver)',
      spec: { kind: 'null', meter },
      rows,
      baselineRows: undefined,
      provisioned: undefined,
      capacity: undefined,
      dynaloadArgs: [],
    },
    withhold20: {
      key: 'withhold20',
      label: 'null, 20% withheld',
      spec: { kind: 'null', withhold: 0.2, seed: 20, meter },
      rows,
      baselineRows:
        quick && values.clients === undefined
          ? undefined
          : integer(
              '--baseline-withheld-rows',
              values['baseline-withheld-rows'],
              Math.min(rows, 10_000),
              1,
              100_000_000,
            ),
      provisioned: undefined,
      capacity: undefined,
      dynaloadArgs: [],
    },
    // Point 5 measures how close the adaptive rate gets to a table's capacity. By default dynaload
    // aims at 80% of a provisioned table's capacity (--capacity-share 0.8, room for the
    // application): that would measure the policy, not the adaptation. `-- --capacity-share 0.8` shows it.
    capacity: {
      key: 'capacity',
      label: `null, ${capacity} WCU/s${shareGiven ? '' : ' (dynaload --capacity-share 1)'}`,
      spec: { kind: 'null', capacity, burstSeconds: 1 },
      rows: capacity * capacitySeconds,
      baselineRows: capacity * capacitySeconds,
      provisioned: capacity,
      capacity,
      dynaloadArgs: shareGiven ? [] : ['--capacity-share', '1'],
    },
    // The same endpoint, but the table says it is on demand: dynaload cannot read the capacity (a
    // partition's limit, a new table's warm throughput, an account quota) and must find it by
    // what is withheld. dynaload runs with its defaults.
    hidden: {
      key: 'hidden',
      label: `null, ${capacity} WCU/s hidden (on demand)`,
      spec: { kind: 'null', capacity, burstSeconds: 1 },
      rows: capacity * capacitySeconds,
      baselineRows: undefined,
      provisioned: undefined,
      capacity,
      dynaloadArgs: [],
    },
    // A transform per row, as users enrich rows: computed at once, or after a 20 ms lookup (async
    // calls overlap up to --transform-concurrency per worker). dynaload only: the baseline has none.
    transform: {
      key: 'transform',
      label: 'null, sync transform',
      spec: { kind: 'null', meter },
      rows: transformRows,
      baselineRows: undefined,
      provisioned: undefined,
      capacity: undefined,
      dynaloadArgs: ['--transform', transformModule('transform-sync.mjs')],
    },
    transform20: {
      key: 'transform20',
      label: 'null, transform awaiting 20 ms',
      spec: { kind: 'null', meter },
      rows: transformRows,
      baselineRows: undefined,
      provisioned: undefined,
      capacity: undefined,
      dynaloadArgs: ['--transform', transformModule('transform-async20.mjs')],
    },
    ...delayScenarios(rows, meter),
    capacity50: {
      key: 'capacity50',
      label: `null, ${capacity} WCU/s, 50 ms away${shareGiven ? '' : ' (dynaload --capacity-share 1)'}`,
      spec: { kind: 'null', capacity, burstSeconds: 1, delayMs: 50 },
      rows: capacity * capacitySeconds,
      baselineRows: capacity * capacitySeconds,
      provisioned: capacity,
      capacity,
      dynaloadArgs: shareGiven ? [] : ['--capacity-share', '1'],
    },
    // Documents near DynamoDB's 400 KB item limit, as a table of JSON blobs or images holds: what
    // the process keeps must be bounded in bytes, not rows. dynaload only.
    wide: {
      key: 'wide',
      label: 'null, 380 KB items',
      spec: { kind: 'null', meter },
      rows: wideRows,
      baselineRows: undefined,
      provisioned: undefined,
      capacity: undefined,
      dynaloadArgs: [],
      itemBytes: 380_000,
      shards: 4,
    },
    wide20: {
      key: 'wide20',
      label: 'null, 100 KB items, 20% withheld',
      spec: { kind: 'null', withhold: 0.2, seed: 20, meter },
      rows: wideRows,
      baselineRows: undefined,
      provisioned: undefined,
      capacity: undefined,
      dynaloadArgs: [],
      itemBytes: 100_000,
      shards: 4,
    },
  };
  const scenarioKeys = list(
    '--scenarios',
    values.scenarios ?? (quick ? 'null,withhold20,capacity,s3' : DEFAULT_SCENARIOS.join(',')),
    SCENARIO_KEYS,
  );
  const clients = list('--clients', values.clients ?? 'baseline,dynaload', ['baseline', 'dynaload'] as const);

  const cliArgs: string[] = [];
  if (values.workers !== undefined) cliArgs.push('--workers', values.workers);
  if (values.concurrency !== undefined) cliArgs.push('--concurrency', values.concurrency);
  if (maxWcu !== undefined) cliArgs.push('--max-wcu', maxWcu);
  cliArgs.push(...positionals);

  return Object.freeze({
    rows,
    shards: integer('--shards', values.shards, 8, 1, 1_000),
    scenarios: scenarioKeys.map((key) => all[key]),
    clients,
    capacity,
    busy: integer('--busy', values.busy, 0, 0, 16),
    maxWcu,
    warmup: integer('--warmup', values.warmup, quick ? 2 : 10, 0, 3_600),
    windowSeconds: quick ? 5 : 10,
    timeoutMs: integer('--timeout', values.timeout, quick ? 45 : 900, 1, 86_400) * 1000,
    repeat: integer('--repeat', values.repeat, 1, 1, 20),
    quick,
    markdown: values.markdown,
    help: values.help,
    cliArgs: Object.freeze(cliArgs),
  });
}

type DelayKey = 'delay20' | 'delay50' | 'delay100' | 'delay20w20' | 'delay50w20' | 'delay100w20';

/** The null endpoint answering 20, 50 or 100 ms late (a table in another region), with and without 20% withheld. */
function delayScenarios(rows: number, meter: boolean): Record<DelayKey, Scenario> {
  const out: Partial<Record<DelayKey, Scenario>> = {};
  for (const delayMs of [20, 50, 100]) {
    for (const withheld of [false, true]) {
      const key = `delay${delayMs}${withheld ? 'w20' : ''}` as DelayKey;
      const spec = withheld
        ? { kind: 'null' as const, delayMs, withhold: 0.2, seed: 20, meter }
        : { kind: 'null' as const, delayMs, meter };
      out[key] = {
        key,
        label: `null, ${delayMs} ms away${withheld ? ', 20% withheld' : ''}`,
        spec,
        rows,
        baselineRows: Math.min(rows, withheld ? 2_000 : 5_000),
        provisioned: undefined,
        capacity: undefined,
        dynaloadArgs: [],
      };
    }
  }
  return out as Record<DelayKey, Scenario>;
}

function integer(option: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new Error(`Expected \`${option}\` to be an integer from ${min} to ${max}, got \`${value}\``);
  return n;
}

function list<T extends string>(option: string, value: string, known: readonly T[]): T[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!(known as readonly string[]).includes(name))
      throw new Error(`Expected \`${option}\` to be a comma list of ${known.join(', ')}, got \`${name}\``);
  }
  if (names.length === 0) throw new Error(`Expected \`${option}\` to name at least one of ${known.join(', ')}`);
  return names as T[];
}
