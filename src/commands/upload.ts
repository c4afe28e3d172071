import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CHECKPOINT_INTERVAL_MS, checkpointPath, prepareCheckpoint } from '../checkpoint/prepare.js';
import {
  parseEndpoint,
  parseInteger,
  resolveUploadConfig,
  type RawUploadOptions,
  type UploadConfig,
} from '../config.js';
import { createClient } from '../dynamo/client.js';
import { describeTable, type TableSchema } from '../dynamo/schema.js';
import { EXIT, usageError, type DynaloadError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { DEFAULT_PRICE_PER_MILLION_WRU } from '../estimate.js';
import { expandInputs } from '../pipeline/inputs.js';
import { inputBytes } from '../pipeline/input-size.js';
import { configureS3 } from '../pipeline/s3/s3-client.js';
import { shardTag } from '../pipeline/shard-split.js';
import { createProgress } from '../progress.js';
import { takeShare } from './shard-share.js';
import { createTable } from './create-table.js';
import { parseKeySpec } from '../table-options.js';
import type { WriteKind } from '../pipeline/item-check.js';
import { parseMappingFile, type MappingFile } from '../pipeline/mapping-file.js';
import { checkDeclaredKeyTypes, preflight } from '../pipeline/preflight.js';
import { loadTransform } from '../pipeline/transform-module.js';
import { checkOutputFiles, type OutputFiles } from '../output-files.js';
import { startPool } from '../pool/pool.js';
import { onStopSignals, resumeCommand } from '../pool/stop-signals.js';
import { startWriteRate } from '../rate/policy.js';
import { defaultRejectsPath, RejectsFile } from '../rejects.js';
import { buildSummary, type Summary } from '../summary.js';

/**
 * `dynaload upload` (and `delete`): validate options, read every target table's key schema, run
 * the pool, and account for every row. Returns the summary; the caller prints it and sets the
 * exit code.
 */
/** Where the options came from: the config file read, and what set the endpoint (for the summary). */
export interface RunOrigin {
  readonly configFile?: string | undefined;
  /** `--endpoint`, `AWS_ENDPOINT_URL_DYNAMODB`, `config file`, `--local`; absent: the AWS SDK's own resolution. */
  readonly endpointSource?: string | undefined;
}

export async function upload(
  args: readonly string[],
  raw: RawUploadOptions,
  kind: WriteKind = 'put',
  origin: RunOrigin = {},
): Promise<Summary> {
  if (raw.local === undefined || raw.local === false) return load(args, raw, kind, origin);
  // --local [dir]: the embedded DynamoDB-compatible server, in memory or persisted in dir.
  // Loaded only here: dynalite and its storage modules cost memory a normal run does not need.
  const { startLocalServer } = await import('../local/server.js');
  const server = await startLocalServer(typeof raw.local === 'string' ? { dir: raw.local } : {});
  // Any credentials do for the embedded server; these never leave this process.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  try {
    return await load(args, { ...raw, endpoint: server.endpoint, region: raw.region ?? 'us-east-1' }, kind, {
      ...origin,
      endpointSource: '--local',
    });
  } finally {
    await server.close();
  }
}

async function load(
  args: readonly string[],
  raw: RawUploadOptions,
  kind: WriteKind,
  origin: RunOrigin,
): Promise<Summary> {
  const startedAt = new Date();
  configureS3({
    endpoint: raw.s3Endpoint === undefined ? undefined : parseEndpoint(raw.s3Endpoint, '--s3-endpoint'),
    region: raw.region,
  });
  const inputs = await expandInputs(raw.fromRejects === undefined ? args : [...args, raw.fromRejects]);
  const mapping = raw.map === undefined ? undefined : await readMapping(raw.map, raw.table);
  const { config, share } = await takeShare(
    resolveUploadConfig(inputs, raw, { kind, ...(mapping ? { mapping } : {}) }),
  );
  if (config.inputs.includes('-') && process.stdin.isTTY) {
    throw usageError(
      'STDIN_TTY',
      'Expected rows on standard input (`-`), but it is a terminal: pipe a file in, e.g. `cat rows.csv | dynaload upload - --table T`',
    );
  }
  const log = createLogger(config.logLevel);
  const endpoint = endpointOf(config, origin);
  log.info({ configFile: origin.configFile ?? null, endpoint }, 'configuration');
  const tables = await targetTables(config);
  const outputs = await outputFiles(config, tables, startedAt);
  if (raw.createTable) await ensureTable(config, raw, tables, log);
  const schemas = await readSchemas(config, tables, raw);
  checkKeyTypes(config, schemas);
  checkDeclaredKeyTypes(config, schemas);
  const say = config.dryRun && !raw.quiet ? (line: string) => process.stderr.write(line + '\n') : undefined;
  const badFiles = await preflight(config, schemas, {
    skipBadFiles: raw.skipBadFiles === true,
    log,
    ...(say ? { say } : {}),
  });

  const checkpoint = await prepareCheckpoint(config, tables, outputs.checkpoint);
  await checkpoint?.store.init();
  const skip = [...(checkpoint?.done ?? []), ...badFiles];
  const run = skip.length > 0 ? { ...config, inputs: config.inputs.filter((i) => !skip.includes(i)) } : config;
  if (checkpoint?.done.length) log.info({ files: checkpoint.done }, 'finished in an earlier run: skipped');

  const rejects = new RejectsFile(outputs.rejects, outputs.rejectsMode);
  const rejectedByCode: Record<string, number> = {};
  const progress = createProgress({
    stream: process.stderr,
    isTTY: process.stderr.isTTY === true,
    noColor: raw.color === false,
    quiet: raw.quiet === true || raw.progress === false,
    // Info level whatever --log-level says: in CI these lines are the progress display.
    log: log.child({ component: 'progress' }, { level: raw.quiet ? 'silent' : 'info' }),
    ...(run.inputs.includes('-') ? {} : { bytesTotal: await totalBytes(run.inputs) }),
  });
  log.info(
    { inputs: run.inputs.length, workers: config.workers, concurrency: config.concurrency, tables: schemas },
    'starting',
  );
  const rate = startWriteRate(config, schemas, log);
  checkpoint?.store.start(CHECKPOINT_INTERVAL_MS);
  const pool = startPool(
    run,
    schemas,
    rate.shared,
    {
      reject: (r, written) => {
        rejectedByCode[r.code] = (rejectedByCode[r.code] ?? 0) + 1;
        rejects.write(r, written);
      },
      progress: (totals, window) => progress.update({ ...totals, window }),
      files: (files) => files.forEach((f) => checkpoint?.store.update(f)),
    },
    log,
    checkpoint?.starts,
  );
  const stopped = onStopSignals(pool, config.stopTimeout, log);
  const result = await pool.done.finally(() => progress.done());
  stopped.dispose();
  rate.stop();
  if (config.inputs.includes('-')) process.stdin.destroy();
  let error = result.error;
  for (const close of [() => rejects.close(), () => checkpoint?.store.stop()]) {
    try {
      await close();
    } catch (closeError) {
      error ??= closeError as DynaloadError;
    }
  }
  const rejected = result.counters.rowsRejected;
  const signal = stopped.signal();
  const exitCode = signal
    ? signal === 'SIGINT'
      ? EXIT.SIGINT
      : EXIT.SIGTERM
    : error
      ? error.exitCode
      : rejected > 0 || badFiles.length > 0
        ? EXIT.REJECTED
        : EXIT.OK;
  const unfinished = signal !== undefined || error !== undefined;
  const summary = buildSummary(result.counters, {
    kind,
    window: config.dryRun ? null : result.window,
    dryRun: config.dryRun,
    rejectedByCode,
    pricePerMillionWru: raw.wruPrice === undefined ? DEFAULT_PRICE_PER_MILLION_WRU : parsePrice(raw.wruPrice),
    maxWcu: rate.caps.maxWcu,
    writeCaps: rate.caps.caps,
    durationMs: Date.now() - startedAt.getTime(),
    configFile: origin.configFile ?? null,
    endpoint,
    rejectsFile: rejects.toStdout
      ? rejects.count > 0
        ? '-'
        : null
      : rejects.count > 0 || (config.resume && rejects.existed)
        ? path.resolve(rejects.path)
        : null,
    checkpointFile: checkpoint ? path.resolve(checkpoint.store.file) : null,
    previous:
      checkpoint && config.resume
        ? {
            rows: checkpoint.previous.rows,
            written: checkpoint.previous.written,
            rejected: checkpoint.previous.rejected,
            skipped: checkpoint.previous.skipped,
          }
        : null,
    stopped: signal ?? null,
    resumeCommand: unfinished && checkpoint ? resumeCommand() : null,
    unreadFiles: [...badFiles, ...result.unread],
    exitCode,
    error,
  });
  return share ? { ...summary, shard: share } : summary;
}

/** The endpoint the run uses and what set it, as far as dynaload knows (the SDK resolves the rest). */
function endpointOf(config: UploadConfig, origin: RunOrigin): { url: string | null; source: string } {
  if (config.endpoint !== undefined) return { url: config.endpoint, source: origin.endpointSource ?? '--endpoint' };
  const generic = process.env.AWS_ENDPOINT_URL;
  if (generic) return { url: generic, source: 'AWS_ENDPOINT_URL' };
  return { url: null, source: 'the AWS SDK (region, profile)' };
}

/** The rejects file and the checkpoint, checked against the inputs before anything is read or written. */
function outputFiles(config: UploadConfig, tables: readonly string[], startedAt: Date): Promise<OutputFiles> {
  return checkOutputFiles({
    inputs: config.inputs,
    rejects:
      config.rejectsPath ??
      defaultRejectsPath(
        tables.join('+') + (config.shard ? `.${shardTag(config.shard)}` : ''),
        startedAt,
        config.dryRun,
      ),
    resume: config.resume,
    force: config.force,
    checkpoint: checkpointPath(config, tables),
  });
}

export async function readMapping(file: string, table: string | undefined): Promise<MappingFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw usageError(
      'MAP_INVALID',
      `Expected \`--map\` to name a readable JSON file, got ${file}: ${error instanceof Error ? error.message : String(error)}`,
      { file },
    );
  }
  return parseMappingFile(json, table?.trim() || undefined, file);
}

/** The tables written: named by the mapping or transform (fan-out), else `--table`. */
export async function targetTables(config: UploadConfig): Promise<string[]> {
  let named: string[] | undefined;
  if (config.mapping) named = Object.keys(config.mapping);
  if (config.transform) named = [...(await loadTransform(config.transform, config.table)).keys()];
  if (named === undefined) return [config.table as string];
  if (config.table !== undefined && !named.includes(config.table)) {
    throw usageError(
      'OPTION_CONFLICT',
      `Expected \`--table ${config.table}\` to be one of the tables the ${config.transform ? 'transform' : 'mapping'} writes (${named.join(', ')})`,
      { option: '--table' },
    );
  }
  return named;
}

async function readSchemas(
  config: UploadConfig,
  tables: readonly string[],
  raw: RawUploadOptions,
): Promise<TableSchema[]> {
  const client = createClient({ region: config.region, endpoint: config.endpoint, maxSockets: 4, maxAttempts: 2 });
  try {
    const where =
      config.endpoint ??
      process.env.AWS_ENDPOINT_URL_DYNAMODB ??
      process.env.AWS_ENDPOINT_URL ??
      `DynamoDB in ${config.region ?? process.env.AWS_REGION ?? 'the default region'}`;
    return await Promise.all(
      tables.map(async (table) => {
        try {
          return await describeTable(client, table, where);
        } catch (error) {
          // A dry run with --create-table checks rows against the table it would create.
          if (config.dryRun && raw.createTable && (error as DynaloadError).code === 'TABLE_NOT_FOUND')
            return keySpecSchema(table, raw);
          throw error;
        }
      }),
    );
  } finally {
    client.destroy();
  }
}

/** `--create-table`: create the table (on demand unless `--billing provisioned`) and wait until ACTIVE. Never without the flag. */
async function ensureTable(
  config: UploadConfig,
  raw: RawUploadOptions,
  tables: readonly string[],
  log: Logger,
): Promise<void> {
  if (tables.length !== 1 || config.table === undefined) {
    throw usageError(
      'OPTION_CONFLICT',
      `Expected one table with \`--create-table\`, got ${tables.length} (${tables.join(', ')}): create fan-out tables beforehand`,
      { option: '--create-table' },
    );
  }
  if (config.dryRun) return;
  const spec = keySpecSchema(config.table, raw);
  const client = createClient({ region: config.region, endpoint: config.endpoint, maxSockets: 2, maxAttempts: 3 });
  try {
    const outcome = await createTable(client, {
      table: spec.table,
      key: spec.hash,
      sortKey: spec.range,
      billing: raw.billing === 'provisioned' ? 'PROVISIONED' : 'PAY_PER_REQUEST',
      wcu: raw.wcu === undefined ? undefined : parseInteger('--wcu', raw.wcu, 0, 1, 1_000_000),
      rcu: raw.rcu === undefined ? undefined : parseInteger('--rcu', raw.rcu, 0, 1, 1_000_000),
    });
    log.info({ table: spec.table, outcome }, 'create table');
  } finally {
    client.destroy();
  }
}

function keySpecSchema(table: string, raw: RawUploadOptions): TableSchema {
  if (raw.key === undefined)
    throw usageError(
      'OPTION_REQUIRED',
      'Expected `--key name:S|N|B` with `--create-table`: the partition key of the table to create',
      { option: '--key' },
    );
  const billing = raw.billing === 'provisioned' ? 'PROVISIONED' : 'PAY_PER_REQUEST';
  // A dry run against the table it would create: its capacity sets the cap (and so the time) as it would.
  const wcu =
    billing === 'PROVISIONED' && raw.wcu !== undefined ? parseInteger('--wcu', raw.wcu, 0, 1, 1_000_000) : undefined;
  return {
    table,
    hash: parseKeySpec(raw.key),
    range: raw.sortKey === undefined ? undefined : parseKeySpec(raw.sortKey, '--sort-key'),
    billingMode: billing,
    writeCapacityUnits: wcu,
  };
}

async function totalBytes(inputs: readonly string[]): Promise<number> {
  const sizes = await Promise.all(inputs.map(inputBytes));
  return sizes.reduce((a, b) => a + b, 0);
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

function checkKeyTypes(config: UploadConfig, schemas: readonly TableSchema[]): void {
  if (config.mapping || config.transform) return;
  const [schema] = schemas as [TableSchema];
  for (const key of [schema.hash, schema.range]) {
    if (key === undefined) continue;
    const declared = Object.hasOwn(config.types, key.name) ? config.types[key.name] : undefined;
    if (declared !== undefined && declared !== key.type) {
      throw usageError(
        'TYPES_KEY_MISMATCH',
        `Expected \`--types\` to give key \`${key.name}\` the table's type ${key.type}, got ${declared}`,
        { column: key.name },
      );
    }
    if (config.columns && !config.columns.includes(key.name)) {
      throw usageError(
        'KEY_MISSING',
        `Expected \`--columns\` to include key \`${key.name}\` of table \`${schema.table}\`, got ${config.columns.join(',')}`,
        { column: key.name },
      );
    }
  }
}
