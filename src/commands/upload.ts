import path from 'node:path';
import { resolveUploadConfig, type RawUploadOptions, type UploadConfig } from '../config.js';
import { createClient } from '../dynamo/client.js';
import { describeTable, type TableSchema } from '../dynamo/schema.js';
import { EXIT, usageError, type DynaloadError } from '../errors.js';
import { createLogger } from '../log.js';
import { expandInputs } from '../pipeline/inputs.js';
import { startPool } from '../pool/pool.js';
import { defaultRejectsPath, RejectsFile } from '../rejects.js';
import { buildSummary, type Summary } from '../summary.js';

/**
 * `dynaload upload`: validate options, read the table's key schema, run the pool, and account for
 * every row. Returns the summary; the caller prints it and sets the exit code.
 */
export async function upload(args: readonly string[], raw: RawUploadOptions): Promise<Summary> {
  const startedAt = new Date();
  const inputs = await expandInputs(args.length === 0 ? [] : args);
  const config = resolveUploadConfig(inputs, raw);
  if (config.inputs.includes('-') && process.stdin.isTTY) {
    throw usageError('STDIN_TTY', 'Expected rows on standard input (`-`), but it is a terminal: pipe a file in, e.g. `cat rows.csv | dynaload upload - --table T`');
  }
  const log = createLogger(config.logLevel);
  const schema = await readSchema(config);
  checkKeyTypes(config, schema);

  const rejects = new RejectsFile(config.rejectsPath ?? defaultRejectsPath(config.table, startedAt));
  log.info({ inputs: config.inputs.length, workers: config.workers, concurrency: config.concurrency, table: schema }, 'starting');
  const pool = startPool(config, [schema], { reject: (r) => rejects.write(r) }, log);
  const result = await pool.done;
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
    durationMs: Date.now() - startedAt.getTime(),
    rejectsFile: rejects.count > 0 ? path.resolve(rejects.path) : null,
    unreadFiles: result.unread,
    exitCode,
    error,
  });
}

async function readSchema(config: UploadConfig): Promise<TableSchema> {
  const client = createClient({ region: config.region, endpoint: config.endpoint, maxSockets: 2, maxAttempts: 2 });
  try {
    const where = config.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL ?? `DynamoDB in ${config.region ?? process.env.AWS_REGION ?? 'the default region'}`;
    return await describeTable(client, config.table, where);
  } finally {
    client.destroy();
  }
}

function checkKeyTypes(config: UploadConfig, schema: TableSchema): void {
  for (const key of [schema.hash, schema.range]) {
    if (key === undefined) continue;
    const declared = config.types[key.name];
    if (declared !== undefined && declared !== key.type) {
      throw usageError('TYPES_KEY_MISMATCH', `Expected \`--types\` to give key \`${key.name}\` the table's type ${key.type}, got ${declared}`, { column: key.name });
    }
  }
  if (config.columns) {
    for (const key of [schema.hash, schema.range]) {
      if (key && !config.columns.includes(key.name)) {
        throw usageError('KEY_MISSING', `Expected \`--columns\` to include key \`${key.name}\` of table \`${schema.table}\`, got ${config.columns.join(',')}`, { column: key.name });
      }
    }
  }
}

