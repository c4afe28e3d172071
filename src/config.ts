import os from 'node:os';
import type { KeyAttribute } from './dynamo/schema.js';
import { usageError } from './errors.js';
import { EMPTY_POLICIES, type EmptyPolicy } from './pipeline/empty-policy.js';
import { DEFAULT_PRICE_PER_MILLION_WRU } from './estimate.js';
import { parseEncoding, type Encoding } from './pipeline/encoding.js';
import { parseFormat, type InputFormat } from './pipeline/formats.js';
import type { ShardSpec } from './pipeline/shard-split.js';
import { parseShard } from './shard-option.js';
import { parseKeySpec } from './table-options.js';
import type { WriteKind } from './pipeline/item-check.js';
import type { MappingFile } from './pipeline/mapping-file.js';
import { parseTypeSpec, type TypeSpec } from './type-spec.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Everything a run needs, validated once at the boundary and frozen. Plain data: it is sent to workers. */
export interface UploadConfig {
  /** `upload` puts items; `delete` deletes the keys it reads. */
  readonly kind: WriteKind;
  readonly inputs: readonly string[];
  /** `--table`; absent when a fan-out mapping or transform names the tables. */
  readonly table: string | undefined;
  /** `--transform`: path of the transform module (loaded by each worker). */
  readonly transform: string | undefined;
  /** SHA-256 of the transform as the main thread loaded it, set for the workers: each refuses other bytes. */
  readonly transformSha256?: string;
  /** `--map`: the mapping file, read and validated once. */
  readonly mapping: MappingFile | undefined;
  readonly infer: boolean;
  readonly format: InputFormat | undefined;
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  readonly workers: number;
  /** `--concurrency`: requests in flight per worker, fixed; `auto`: they follow the round-trip time (src/pipeline/window.ts). */
  readonly concurrency: number | 'auto';
  readonly types: TypeSpec;
  readonly header: boolean;
  readonly columns: readonly string[] | undefined;
  /** `--delimiter`; absent: `,` (or a tab for `.tsv` files). */
  readonly delimiter: string | undefined;
  /** Escapes a quote inside a quoted field: `"` (RFC 4180, `""`) or `\` (mysqldump's `\"`). */
  readonly escape: string;
  /** `--encoding`: what the input bytes are; anything but UTF-8 is transcoded before parsing. */
  readonly encoding: Encoding;
  /** `--strict-quotes`: a quote inside an unquoted field rejects the record instead of being data. */
  readonly strictQuotes: boolean;
  readonly empty: EmptyPolicy;
  readonly rejectsPath: string | undefined;
  /** `--force`: an existing `--rejects` file is replaced (without it, a run refuses to start). */
  readonly force: boolean;
  readonly json: boolean;
  readonly logLevel: LogLevel;
  readonly maxRetries: number;
  /** `--max-wcu`: a cap on write units per second for the whole run, or `auto` (a share of provisioned capacity). */
  readonly maxWcu: number | 'auto' | undefined;
  /** `--capacity-share`: the fraction of a provisioned table's write capacity `auto` targets. */
  readonly capacityShare: number;
  /** Back off when DynamoDB throttles, and probe upward again (`--no-adaptive` turns it off). */
  readonly adaptive: boolean;
  /** `--checkpoint <file>`; false with `--no-checkpoint`; undefined: the default place. */
  readonly checkpoint: string | false | undefined;
  /** `--from-rejects <file>`: rejects files whose rows are loaded again (they are inputs too). */
  readonly replay: readonly string[];
  /** `--dry-run`: read, map and check every row; write nothing. */
  readonly dryRun: boolean;
  /** `--resume`: continue from the checkpoint. */
  readonly resume: boolean;
  /** `--stop-timeout`: seconds a graceful stop may take to drain before workers are ended. */
  readonly stopTimeout: number;
  /** `--transform-concurrency`: async transform calls in flight per worker. */
  readonly transformConcurrency: number;
  /** `--transform-timeout`: seconds a transform call may take before its row is rejected. */
  readonly transformTimeout: number;
  /** `--memory`: MiB of rows and items all workers together may hold (src/pipeline/memory-budget.ts). */
  readonly memory: number;
  /** `--s3-endpoint` (or AWS_ENDPOINT_URL_S3): an S3-compatible endpoint for s3:// inputs. */
  readonly s3Endpoint: string | undefined;
  /** `--shard i/n` or `auto`: this copy's share of the inputs and of the write rate. */
  readonly shard: ShardSpec | undefined;
  /** `--create-table` and the table it creates; undefined without the flag. */
  readonly createTable: TableToCreate | undefined;
  /** `--skip-bad-files`: a file whose header cannot give the keys is left unread, not a stop. */
  readonly skipBadFiles: boolean;
  /** `--quiet`: nothing but errors (and the `--json` summary). */
  readonly quiet: boolean;
  /** False with `--no-progress`. */
  readonly progress: boolean;
  /** False with `--no-color`. */
  readonly color: boolean;
  /** `--wru-price`: US dollars per million write request units, for the cost estimate. */
  readonly pricePerMillionWru: number;
}

/** `--key`, `--sort-key`, `--billing`, `--wcu`, `--rcu` of `--create-table`. */
export interface TableToCreate {
  /** Required when the table is created; a dry run against a table that exists does without. */
  readonly key: KeyAttribute | undefined;
  readonly sortKey: KeyAttribute | undefined;
  readonly billing: 'PAY_PER_REQUEST' | 'PROVISIONED';
  readonly wcu: number | undefined;
  readonly rcu: number | undefined;
}

/** Defaults in one place; README and `--help` quote them. */
export const DEFAULTS = Object.freeze({
  workers: Math.max(1, os.availableParallelism()),
  // Measured on the 2-core bench machine with the lean transport, median of 3
  // runs, 1M rows: 4 in flight 100k items/s, 8 111k, 16 121k, 32 115k; with 20% withheld 80k,
  // 85k, 96k, 92k. `auto` starts there and widens with the round-trip time to a remote endpoint.
  concurrency: 'auto' as const,
  delimiter: ',',
  escape: '"',
  empty: 'drop' as EmptyPolicy,
  logLevel: 'warn' as LogLevel,
  // With the backoff's steps (src/pipeline/backoff.ts), an item may go on failing for about 23 s.
  maxRetries: 34,
  capacityShare: 0.8,
  stopTimeout: 30,
  // A lookup of 20 ms per row at 64 in flight is about 3,000 rows/s per worker: past what one
  // worker writes with a transform, without opening more connections than a service expects.
  transformConcurrency: 64,
  transformTimeout: 30,
  // Rows and items held by all workers together, MiB; Node's own footprint comes on top. Wide
  // items (380 KB) load as fast with it as with four times more.
  memory: 128,
});

/** The options as commander hands them over: strings, booleans, or absent. */
export interface RawUploadOptions {
  table?: string;
  transform?: string;
  map?: string;
  infer?: boolean;
  format?: string;
  endpoint?: string;
  region?: string;
  workers?: string | number;
  concurrency?: string | number;
  types?: string;
  header?: boolean;
  columns?: string;
  delimiter?: string;
  escape?: string;
  encoding?: string;
  strictQuotes?: boolean;
  empty?: string;
  rejects?: string;
  force?: boolean;
  json?: boolean;
  logLevel?: string;
  maxRetries?: string | number;
  maxWcu?: string;
  capacityShare?: string | number;
  adaptive?: boolean;
  checkpoint?: string | boolean;
  resume?: boolean;
  fromRejects?: string;
  dryRun?: boolean;
  skipBadFiles?: boolean;
  local?: string | boolean;
  createTable?: boolean;
  key?: string;
  sortKey?: string;
  billing?: string;
  wcu?: string | number;
  rcu?: string | number;
  wruPrice?: string;
  quiet?: boolean;
  progress?: boolean;
  color?: boolean;
  config?: string;
  stopTimeout?: string | number;
  transformConcurrency?: string | number;
  transformTimeout?: string | number;
  memory?: string | number;
  s3Endpoint?: string;
  shard?: string;
  shardsTotal?: string | number;
}

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** What the command loaded before resolving: the mapping file's content. */
export interface LoadedOptions {
  readonly kind?: WriteKind;
  readonly mapping?: MappingFile;
}

export function resolveUploadConfig(
  inputs: readonly string[],
  raw: RawUploadOptions,
  loaded: LoadedOptions = {},
): UploadConfig {
  const table = raw.table?.trim() || undefined;
  if (raw.transform !== undefined && raw.map !== undefined) {
    throw usageError(
      'OPTION_CONFLICT',
      'Expected either `--transform` or `--map`, got both: a mapping file and a transform module cannot be combined',
      { option: '--map' },
    );
  }
  if (table === undefined && raw.transform === undefined && loaded.mapping === undefined) {
    throw usageError('OPTION_REQUIRED', 'Expected `--table <name>`: the DynamoDB table to write to', {
      option: '--table',
    });
  }
  if (inputs.length === 0) {
    throw usageError('INPUT_REQUIRED', 'Expected at least one input file, glob or `-` for standard input, got none');
  }
  const header = raw.header ?? true;
  const columns = raw.columns === undefined ? undefined : parseColumns(raw.columns);
  if (!header && columns === undefined) {
    throw usageError(
      'OPTION_REQUIRED',
      'Expected `--columns a,b,c` with `--no-header`: without a header line the columns need names',
      { option: '--columns' },
    );
  }
  return Object.freeze({
    kind: loaded.kind ?? 'put',
    inputs: Object.freeze([...inputs]),
    table,
    transform: raw.transform,
    mapping: loaded.mapping,
    infer: raw.infer ?? false,
    format: parseFormat(raw.format),
    endpoint: raw.endpoint === undefined ? undefined : parseEndpoint(raw.endpoint),
    region: raw.region,
    workers: parseInteger('--workers', raw.workers, DEFAULTS.workers, 1, 64),
    concurrency: parseConcurrency(raw.concurrency),
    types: raw.types === undefined ? Object.freeze({}) : parseTypeSpec(raw.types),
    header,
    columns,
    delimiter: raw.delimiter === undefined ? undefined : parseDelimiter(raw.delimiter),
    escape: parseEscape(raw.escape ?? DEFAULTS.escape),
    encoding: parseEncoding(raw.encoding),
    strictQuotes: raw.strictQuotes ?? false,
    empty: parseChoice('--empty', raw.empty, DEFAULTS.empty, EMPTY_POLICIES),
    rejectsPath: raw.rejects,
    force: raw.force ?? false,
    json: raw.json ?? false,
    logLevel: quietLevel(parseChoice('--log-level', raw.logLevel, DEFAULTS.logLevel, LOG_LEVELS), raw.quiet === true),
    maxRetries: parseInteger('--max-retries', raw.maxRetries, DEFAULTS.maxRetries, 0, 100),
    maxWcu:
      raw.maxWcu === undefined || raw.maxWcu === 'auto'
        ? raw.maxWcu
        : parseInteger('--max-wcu', raw.maxWcu, 0, 1, 10_000_000),
    capacityShare: parseFraction('--capacity-share', raw.capacityShare, DEFAULTS.capacityShare),
    adaptive: raw.adaptive ?? true,
    checkpoint: raw.checkpoint === false ? false : typeof raw.checkpoint === 'string' ? raw.checkpoint : undefined,
    replay: Object.freeze(raw.fromRejects === undefined ? [] : [raw.fromRejects]),
    resume: raw.resume ?? false,
    dryRun: raw.dryRun ?? false,
    stopTimeout: parseInteger('--stop-timeout', raw.stopTimeout, DEFAULTS.stopTimeout, 1, 3600),
    transformConcurrency: parseInteger(
      '--transform-concurrency',
      raw.transformConcurrency,
      DEFAULTS.transformConcurrency,
      1,
      1024,
    ),
    transformTimeout: parseInteger('--transform-timeout', raw.transformTimeout, DEFAULTS.transformTimeout, 1, 86_400),
    memory: parseInteger('--memory', raw.memory, DEFAULTS.memory, 16, 65_536),
    s3Endpoint: raw.s3Endpoint === undefined ? undefined : parseEndpoint(raw.s3Endpoint, '--s3-endpoint'),
    shard: parseShard(raw.shard, raw.shardsTotal),
    createTable: raw.createTable ? tableToCreate(raw) : undefined,
    skipBadFiles: raw.skipBadFiles ?? false,
    quiet: raw.quiet ?? false,
    progress: raw.progress ?? true,
    color: raw.color ?? true,
    pricePerMillionWru: raw.wruPrice === undefined ? DEFAULT_PRICE_PER_MILLION_WRU : parsePrice(raw.wruPrice),
  });
}

function tableToCreate(raw: RawUploadOptions): TableToCreate {
  return Object.freeze({
    key: raw.key === undefined ? undefined : parseKeySpec(raw.key),
    sortKey: raw.sortKey === undefined ? undefined : parseKeySpec(raw.sortKey, '--sort-key'),
    billing: raw.billing === 'provisioned' ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    wcu: raw.wcu === undefined ? undefined : parseCapacity('--wcu', raw.wcu),
    rcu: raw.rcu === undefined ? undefined : parseCapacity('--rcu', raw.rcu),
  });
}

/** `--wcu`, `--rcu`: capacity units of a table dynaload creates. */
export function parseCapacity(option: '--wcu' | '--rcu', value: string | number): number {
  return parseInteger(option, value, 0, 1, 1_000_000);
}

export function parsePrice(text: string): number {
  const price = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(price))
    throw usageError(
      'OPTION_INVALID',
      `Expected \`--wru-price\` to be US dollars per million write request units, such as 0.625, got \`${text}\``,
      { option: '--wru-price' },
    );
  return price;
}

/** `--quiet` prints nothing but errors: it raises a lower log level to `error` (and leaves `fatal` or `silent`). */
function quietLevel(level: LogLevel, quiet: boolean): LogLevel {
  return quiet && LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf('error') ? 'error' : level;
}

function parseConcurrency(value: string | number | undefined): number | 'auto' {
  if (value === undefined || value === 'auto') return DEFAULTS.concurrency;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 50)
    throw usageError(
      'OPTION_INVALID',
      `Expected \`--concurrency\` to be \`auto\` or an integer from 1 to 50, got \`${value}\``,
      { option: '--concurrency', value },
    );
  return n;
}

export function parseInteger(
  option: string,
  value: string | number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(
      'OPTION_INVALID',
      `Expected \`${option}\` to be an integer from ${min} to ${max}, got \`${value}\``,
      { option, value },
    );
  }
  return n;
}

function parseFraction(option: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n =
    typeof value === 'number' ? value : /^\s*(?:0|1|0?\.\d+|1\.0*)\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(n > 0 && n <= 1)) {
    throw usageError(
      'OPTION_INVALID',
      `Expected \`${option}\` to be a fraction above 0 and at most 1, such as 0.8, got \`${value}\``,
      { option, value: String(value) },
    );
  }
  return n;
}

function parseChoice<T extends string>(
  option: string,
  value: string | undefined,
  fallback: T,
  choices: readonly T[],
): T {
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw usageError('OPTION_INVALID', `Expected \`${option}\` to be one of ${choices.join(', ')}, got \`${value}\``, {
    option,
    value,
  });
}

function parseColumns(text: string): readonly string[] {
  const names = text.split(',').map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '' || seen.has(name)) {
      throw usageError(
        'OPTION_INVALID',
        `Expected \`--columns\` to be distinct non-empty names separated by commas, got \`${text}\``,
        { option: '--columns', value: text },
      );
    }
    seen.add(name);
  }
  return Object.freeze(names);
}

function parseDelimiter(text: string): string {
  const value = text === '\\t' || text === 'tab' ? '\t' : text;
  if (value.length !== 1 || value === '"' || value === '\n' || value === '\r') {
    throw usageError(
      'OPTION_INVALID',
      `Expected \`--delimiter\` to be one character other than a quote or newline (\`\\t\` for tab), got \`${text}\``,
      { option: '--delimiter', value: text },
    );
  }
  return value;
}

function parseEscape(text: string): string {
  if (text.length !== 1 || text === '\n' || text === '\r') {
    throw usageError(
      'OPTION_INVALID',
      `Expected \`--escape\` to be one character, such as \`"\` or \`\\\`, got \`${text}\``,
      { option: '--escape', value: text },
    );
  }
  return text;
}

export function parseEndpoint(text: string, option = '--endpoint'): string {
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return text;
  } catch {
    // fall through to the usage error
  }
  throw usageError(
    'OPTION_INVALID',
    `Expected \`${option}\` to be an http(s) URL such as http://127.0.0.1:8000, got \`${text}\``,
    { option, value: text },
  );
}
