import { createClient } from '../dynamo/client.js';
import { describeTable, type TableSchema } from '../dynamo/schema.js';
import type { TableToCreate, UploadConfig } from '../config.js';
import { usageError, type DynaloadError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkOutputFiles, type OutputFiles } from '../output-files.js';
import { checkDeclaredKeyTypes, preflight } from '../pipeline/preflight.js';
import { shardTag } from '../pipeline/shard-split.js';
import { loadTransform } from '../pipeline/transform-module.js';
import { checkpointPath } from '../checkpoint/prepare.js';
import { defaultRejectsPath } from '../rejects.js';
import { createTable } from './create-table.js';

/** The tables, their output files and key schemas, checked against the inputs before anything is written. */
export interface Target {
  readonly tables: readonly string[];
  readonly outputs: OutputFiles;
  readonly schemas: readonly TableSchema[];
  /** Files whose header cannot give the keys, left unread with `--skip-bad-files`. */
  readonly badFiles: readonly string[];
}

/** Preflight: the tables (created with `--create-table`), their key schemas, and every file's header against them. */
export async function prepareTarget(config: UploadConfig, startedAt: Date, log: Logger): Promise<Target> {
  const tables = await targetTables(config);
  const outputs = await outputFiles(config, tables, startedAt);
  if (config.createTable) await ensureTable(config, config.createTable, tables, log);
  const schemas = await readSchemas(config, tables);
  checkKeyTypes(config, schemas);
  checkDeclaredKeyTypes(config, schemas);
  const say = config.dryRun && !config.quiet ? (line: string) => process.stderr.write(line + '\n') : undefined;
  const badFiles = await preflight(config, schemas, {
    skipBadFiles: config.skipBadFiles,
    log,
    ...(say ? { say } : {}),
  });
  return { tables, outputs, schemas, badFiles };
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

async function readSchemas(config: UploadConfig, tables: readonly string[]): Promise<TableSchema[]> {
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
          if (config.dryRun && config.createTable && (error as DynaloadError).code === 'TABLE_NOT_FOUND')
            return keySpecSchema(table, config.createTable);
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
  create: TableToCreate,
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
  const spec = keySpecSchema(config.table, create);
  const client = createClient({ region: config.region, endpoint: config.endpoint, maxSockets: 2, maxAttempts: 3 });
  try {
    const outcome = await createTable(client, {
      table: spec.table,
      key: spec.hash,
      sortKey: spec.range,
      billing: create.billing,
      wcu: create.wcu,
      rcu: create.rcu,
    });
    log.info({ table: spec.table, outcome }, 'create table');
  } finally {
    client.destroy();
  }
}

function keySpecSchema(table: string, create: TableToCreate): TableSchema {
  if (create.key === undefined)
    throw usageError(
      'OPTION_REQUIRED',
      'Expected `--key name:S|N|B` with `--create-table`: the partition key of the table to create',
      { option: '--key' },
    );
  return {
    table,
    hash: create.key,
    range: create.sortKey,
    billingMode: create.billing,
    // A dry run against the table it would create: its capacity sets the cap (and so the time) as it would.
    writeCapacityUnits: create.billing === 'PROVISIONED' ? create.wcu : undefined,
  };
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
