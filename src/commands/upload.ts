import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveUploadConfig, type RawUploadOptions, type UploadConfig } from '../config.js';
import { createClient } from '../dynamo/client.js';
import { describeTable, type TableSchema } from '../dynamo/schema.js';
import { EXIT, usageError, type DynaloadError } from '../errors.js';
import { createLogger } from '../log.js';
import { expandInputs } from '../pipeline/inputs.js';
import type { WriteKind } from '../pipeline/item-check.js';
import { parseMappingFile, type MappingFile } from '../pipeline/mapping-file.js';
import { loadTransform } from '../pipeline/transform-module.js';
import { startPool } from '../pool/pool.js';
import { RateController, type BucketPolicy } from '../pool/rate-control.js';
import { createRateState, RateLimiter, type BucketSpec, type SharedRateState } from '../pool/rate-limit.js';
import { defaultRejectsPath, RejectsFile } from '../rejects.js';
import { buildSummary, type Summary } from '../summary.js';

/**
 * `dynaload upload` (and `delete`): validate options, read every target table's key schema, run
 * the pool, and account for every row. Returns the summary; the caller prints it and sets the
 * exit code.
 */
export async function upload(args: readonly string[], raw: RawUploadOptions, kind: WriteKind = 'put'): Promise<Summary> {
  const startedAt = new Date();
  const inputs = await expandInputs(args);
  const mapping = raw.map === undefined ? undefined : await readMapping(raw.map, raw.table);
  const config = resolveUploadConfig(inputs, raw, { kind, ...(mapping ? { mapping } : {}) });
  if (config.inputs.includes('-') && process.stdin.isTTY) {
    throw usageError('STDIN_TTY', 'Expected rows on standard input (`-`), but it is a terminal: pipe a file in, e.g. `cat rows.csv | dynaload upload - --table T`');
  }
  const log = createLogger(config.logLevel);
  const tables = await targetTables(config);
  const schemas = await readSchemas(config, tables);
  checkKeyTypes(config, schemas);

  const rejects = new RejectsFile(config.rejectsPath ?? defaultRejectsPath(tables.join('+'), startedAt));
  log.info({ inputs: config.inputs.length, workers: config.workers, concurrency: config.concurrency, tables: schemas }, 'starting');
  const limits = rateLimits(config, schemas);
  for (const [i, policy] of limits.policies.entries()) log.info({ bucket: limits.state.buckets[i]?.table, cap: policy.cap ?? null, adaptive: policy.adaptive }, 'write rate');
  const controller = limits.policies.length === 0 ? undefined : new RateController(new RateLimiter(limits.state), limits.policies, (bucket, rate) => log.info({ bucket: limits.state.buckets[bucket]?.table, rate: Math.round(rate) }, 'write rate changed'));
  controller?.start();
  const pool = startPool(config, schemas, controller ? limits.state : undefined, { reject: (r) => rejects.write(r) }, log);
  const result = await pool.done;
  controller?.stop();
  if (config.inputs.includes('-')) process.stdin.destroy();
  let error = result.error;
  try {
    await rejects.close();
  } catch (closeError) {
    error ??= closeError as DynaloadError;
  }
  const rejected = result.counters.rowsRejected;
  const exitCode = error ? error.exitCode : rejected > 0 ? EXIT.REJECTED : EXIT.OK;
  return buildSummary(result.counters, {
    kind,
    durationMs: Date.now() - startedAt.getTime(),
    rejectsFile: rejects.count > 0 ? path.resolve(rejects.path) : null,
    unreadFiles: result.unread,
    exitCode,
    error,
  });
}

async function readMapping(file: string, table: string | undefined): Promise<MappingFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw usageError('MAP_INVALID', `Expected \`--map\` to name a readable JSON file, got ${file}: ${error instanceof Error ? error.message : String(error)}`, { file });
  }
  return parseMappingFile(json, table?.trim() || undefined, file);
}

/** The tables written: named by the mapping or transform (fan-out), else `--table`. */
async function targetTables(config: UploadConfig): Promise<string[]> {
  let named: string[] | undefined;
  if (config.mapping) named = Object.keys(config.mapping);
  if (config.transform) named = [...(await loadTransform(config.transform, config.table)).keys()];
  if (named === undefined) return [config.table as string];
  if (config.table !== undefined && !named.includes(config.table)) {
    throw usageError('OPTION_CONFLICT', `Expected \`--table ${config.table}\` to be one of the tables the ${config.transform ? 'transform' : 'mapping'} writes (${named.join(', ')})`, { option: '--table' });
  }
  return named;
}

async function readSchemas(config: UploadConfig, tables: readonly string[]): Promise<TableSchema[]> {
  const client = createClient({ region: config.region, endpoint: config.endpoint, maxSockets: 4, maxAttempts: 2 });
  try {
    const where = config.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL ?? `DynamoDB in ${config.region ?? process.env.AWS_REGION ?? 'the default region'}`;
    return await Promise.all(tables.map((table) => describeTable(client, table, where)));
  } finally {
    client.destroy();
  }
}

/**
 * The run's write-rate buckets: one for every table (`*`: `--max-wcu n`, adaptive), and with
 * `--max-wcu auto` (the default when a table is provisioned) one per provisioned table at
 * `--capacity-share` of its write capacity.
 */
export function rateLimits(config: UploadConfig, schemas: readonly TableSchema[]): { state: SharedRateState; policies: BucketPolicy[] } {
  const buckets: BucketSpec[] = [];
  const policies: BucketPolicy[] = [];
  const explicit = typeof config.maxWcu === 'number' ? config.maxWcu : undefined;
  if (explicit !== undefined || config.adaptive) {
    buckets.push({ table: '*' });
    policies.push({ cap: explicit, adaptive: config.adaptive });
  }
  const provisioned = schemas.filter((s) => s.billingMode === 'PROVISIONED' && s.writeCapacityUnits !== undefined);
  if (config.maxWcu === 'auto' || (config.maxWcu === undefined && provisioned.length > 0)) {
    for (const schema of provisioned) {
      buckets.push({ table: schema.table });
      policies.push({ cap: Math.max(1, Math.floor((schema.writeCapacityUnits as number) * config.capacityShare)), adaptive: config.adaptive });
    }
  }
  return { state: createRateState(buckets), policies };
}

function checkKeyTypes(config: UploadConfig, schemas: readonly TableSchema[]): void {
  if (config.mapping || config.transform) return;
  const [schema] = schemas as [TableSchema];
  for (const key of [schema.hash, schema.range]) {
    if (key === undefined) continue;
    const declared = Object.hasOwn(config.types, key.name) ? config.types[key.name] : undefined;
    if (declared !== undefined && declared !== key.type) {
      throw usageError('TYPES_KEY_MISMATCH', `Expected \`--types\` to give key \`${key.name}\` the table's type ${key.type}, got ${declared}`, { column: key.name });
    }
    if (config.columns && !config.columns.includes(key.name)) {
      throw usageError('KEY_MISSING', `Expected \`--columns\` to include key \`${key.name}\` of table \`${schema.table}\`, got ${config.columns.join(',')}`, { column: key.name });
    }
  }
}
