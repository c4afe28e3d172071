import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImportTableDescription, TableCreationParameters } from '@aws-sdk/client-dynamodb';
import { parseEndpoint, parsePrice, resolveUploadConfig, type RawUploadOptions, type UploadConfig } from '../config.js';
import { createClient } from '../dynamo/client.js';
import { DynaloadError, EXIT, usageError } from '../errors.js';
import { DEFAULT_PRICE_PER_MILLION_WRU } from '../estimate.js';
import { importErrorRejects, logsHint } from '../import/failed-items.js';
import { FINAL_STATUSES, followImport, startImport } from '../import/import-table.js';
import { readItems } from '../import/read-items.js';
import { Spill } from '../import/spill.js';
import { buildObjects, uploadObjects, type StagedTable, type StageLocation } from '../import/stage.js';
import {
  batchWriteCost,
  errorField,
  importCost,
  type ImportSummary,
  type ImportTableSummary,
} from '../import/summary.js';
import { schemaOf, tableParameters, type TableFlags } from '../import/table-spec.js';
import { createLogger, type Logger } from '../log.js';
import { expandInputs } from '../pipeline/inputs.js';
import { configureS3 } from '../pipeline/s3/s3-settings.js';
import { isS3Url, s3Url } from '../pipeline/s3/s3-url.js';
import { createProgress } from '../progress.js';
import { defaultRejectsPath, RejectsFile } from '../rejects.js';
import { readMapping } from './run-options.js';
import { targetTables } from './target.js';
import { mainThreadWorks } from '../main-thread-heap.js';

/** The options of `dynaload import`: upload's reading and mapping options, and the import's own. */
export interface RawImportOptions extends RawUploadOptions, TableFlags {
  stage?: string;
  importPrice?: string;
  objectMb?: string;
  pollSeconds?: string;
  logsEndpoint?: string;
}

/**
 * ImportTable in us-east-1, USD per GB of uncompressed source data (https://aws.amazon.com/dynamodb/pricing/,
 * "Import from S3"). Check the page for your region before relying on it.
 */
export const DEFAULT_IMPORT_PRICE_PER_GB = 0.15;
/** Staged objects of about this many MiB (uncompressed): one object is shuffled in memory at a time. */
export const DEFAULT_OBJECT_MB = 64;
export const DEFAULT_POLL_SECONDS = 10;
/** Reads of the import's log before the refused items it does not name are reported unaccounted. */
const LOG_READS = 6;

/**
 * `dynaload import`: rows read, mapped and checked as `upload` does; the items staged as gzip
 * DynamoDB JSON under `--stage`; one ImportTable per table, followed to its end; items DynamoDB
 * could not import mapped back to their input lines. Returns the summary; the CLI prints it.
 */
export async function importTables(args: readonly string[], raw: RawImportOptions): Promise<ImportSummary> {
  mainThreadWorks();
  const startedAt = new Date();
  configureS3({
    endpoint: raw.s3Endpoint === undefined ? undefined : parseEndpoint(raw.s3Endpoint, '--s3-endpoint'),
    region: raw.region,
  });
  const stage = parseStage(raw.stage, raw.dryRun === true);
  const importPrice = parseImportPrice(raw.importPrice);
  const objectBytes = parsePositive('--object-mb', raw.objectMb, DEFAULT_OBJECT_MB) * 1024 * 1024;
  const pollMs = parsePositive('--poll-seconds', raw.pollSeconds, DEFAULT_POLL_SECONDS) * 1000;
  const logsEndpoint = raw.logsEndpoint === undefined ? undefined : parseEndpoint(raw.logsEndpoint, '--logs-endpoint');
  const inputs = await expandInputs(raw.fromRejects === undefined ? args : [...args, raw.fromRejects]);
  const mapping = raw.map === undefined ? undefined : await readMapping(raw.map, raw.table);
  // No --shard: one ImportTable creates the table and reads every object, so one copy stages it all
  // (the import itself runs on DynamoDB's fleet); copies would each need the table to be new.
  const config = resolveUploadConfig(
    inputs,
    { ...raw, checkpoint: false, shard: undefined, shardsTotal: undefined },
    { kind: 'put', ...(mapping ? { mapping } : {}) },
  );
  if (config.inputs.includes('-') && process.stdin.isTTY) {
    throw usageError('STDIN_TTY', 'Expected rows on standard input (`-`), but it is a terminal: pipe a file in');
  }
  const log = createLogger(config.logLevel);
  const tables = await targetTables(config);
  const parameters = await tableParameters(tables, raw);
  const schemas = tables.map((t) => schemaOf(parameters.get(t) as TableCreationParameters));
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'dynaload-import-'));
  try {
    return await run({
      raw,
      config,
      tables,
      parameters,
      schemas,
      stage,
      importPrice,
      objectBytes,
      pollMs,
      logsEndpoint,
      log,
      workDir,
      startedAt,
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

interface Run {
  raw: RawImportOptions;
  config: UploadConfig;
  tables: string[];
  parameters: Map<string, TableCreationParameters>;
  schemas: ReturnType<typeof schemaOf>[];
  stage: StageLocation;
  importPrice: number;
  objectBytes: number;
  pollMs: number;
  logsEndpoint: string | undefined;
  log: Logger;
  workDir: string;
  startedAt: Date;
}

async function run(r: Run): Promise<ImportSummary> {
  const { raw, config, tables, log } = r;
  const quiet = raw.quiet === true || raw.progress === false;
  const rejects = new RejectsFile(config.rejectsPath ?? defaultRejectsPath(tables.join('+'), r.startedAt));
  const rejectedByCode: Record<string, number> = {};
  const rejectedRows = new Set<string>();
  const reject = (record: Parameters<RejectsFile['write']>[0]): void => {
    rejectedByCode[record.code] = (rejectedByCode[record.code] ?? 0) + 1;
    rejectedRows.add(`${record.file}\u0000${record.line}`);
    rejects.write(record);
  };
  const spills = new Map<string, Spill>();
  for (const [i, table] of tables.entries()) {
    const dir = path.join(r.workDir, `t${i}`);
    await mkdir(dir);
    spills.set(table, new Spill(dir));
  }
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const progress = createProgress({
    stream: process.stderr,
    isTTY: process.stderr.isTTY === true,
    noColor: raw.color === false,
    quiet,
    log: log.child({ component: 'progress' }, { level: raw.quiet ? 'silent' : 'info' }),
  });
  let counters;
  try {
    counters = await readItems(config, r.schemas, {
      item: (item) => {
        let index = fileIndex.get(item.file);
        if (index === undefined) fileIndex.set(item.file, (index = files.push(item.file) - 1));
        return (spills.get(item.table) as Spill).add(item.key, index, item.fileLine, item.line);
      },
      reject,
      progress: (c) => progress.update(c),
    });
  } finally {
    progress.done();
    await Promise.all([...spills.values()].map((s) => s.close()));
  }
  if (config.inputs.includes('-')) process.stdin.destroy();
  const staged: StagedTable[] = [];
  for (const table of tables) {
    const dir = path.join(r.workDir, `objects-${staged.length}`);
    await mkdir(dir);
    // The index lives next to the rejects file (a dry run keeps none: nothing is imported to map back).
    const indexDir = config.dryRun ? dir : path.dirname(path.resolve(rejects.toStdout ? '.' : rejects.path));
    staged.push(
      await buildObjects(
        table,
        spills.get(table) as Spill,
        files,
        r.parameters.get(table),
        r.stage,
        dir,
        indexDir,
        r.objectBytes,
      ),
    );
  }
  const summaries: Record<string, ImportTableSummary> = Object.fromEntries(
    staged.map((s) => [
      s.table,
      {
        objects: s.objects.length,
        items: s.items,
        replaced: s.replaced,
        bytes: s.bytes,
        gzipBytes: s.gzipBytes,
        clientToken: s.clientToken,
        stage: s3Url(r.stage.bucket, s.keyPrefix),
        indexFile: s.indexFile,
        importArn: null,
        status: null,
        processed: null,
        imported: null,
        errors: null,
        failureCode: null,
        failureMessage: null,
      },
    ]),
  );
  let error: DynaloadError | undefined;
  let importRejected = 0;
  if (!config.dryRun) {
    const client = createClient({ region: config.region, endpoint: config.endpoint, maxSockets: 4, maxAttempts: 5 });
    try {
      // One import per table, all at once: each runs on DynamoDB's side, independently.
      const outcomes = await Promise.allSettled(
        staged.map((s) => importOne(client, s, r, summaries[s.table] as ImportTableSummary, quiet)),
      );
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') error ??= outcome.reason as DynaloadError;
        else {
          for (const record of outcome.value.rejects) {
            const fresh = !rejectedRows.has(`${record.file}\u0000${record.line}`);
            reject(record);
            if (fresh) importRejected++;
          }
          error ??= outcome.value.error;
        }
      }
    } finally {
      client.destroy();
    }
  }
  try {
    await rejects.close();
  } catch (closeError) {
    error ??= closeError as DynaloadError;
  }
  const allImported =
    config.dryRun ||
    staged.every((s) => s.items === 0 || (summaries[s.table] as ImportTableSummary).status === 'COMPLETED');
  const written = allImported ? counters.rowsWritten - importRejected : 0;
  const rejected = counters.rowsRejected + importRejected;
  const stagedBytes = staged.reduce((sum, s) => sum + s.bytes, 0);
  const pricePerMillionWru = raw.wruPrice === undefined ? DEFAULT_PRICE_PER_MILLION_WRU : parsePrice(raw.wruPrice);
  return {
    command: 'import',
    dryRun: config.dryRun,
    rows: counters.rowsRead,
    written,
    rejected,
    skipped: counters.rowsSkipped,
    notWritten: counters.rowsRead - written - rejected - counters.rowsSkipped,
    rejectedByCode,
    tables: summaries,
    stagedBytes,
    importPricePerGb: r.importPrice,
    importCostUsd: importCost(stagedBytes, r.importPrice),
    writeUnits: counters.unitsWritten,
    pricePerMillionWru,
    batchWriteCostUsd: batchWriteCost(counters.unitsWritten, pricePerMillionWru),
    durationMs: Date.now() - r.startedAt.getTime(),
    rejectsFile: rejects.toStdout
      ? rejects.count > 0
        ? '-'
        : null
      : rejects.count > 0
        ? path.resolve(rejects.path)
        : null,
    exitCode: error ? error.exitCode : rejected > 0 ? EXIT.REJECTED : EXIT.OK,
    error: errorField(error),
  };
}

/** Stages one table, starts (or finds again) its import, follows it, and accounts for its items. */
async function importOne(
  client: ReturnType<typeof createClient>,
  staged: StagedTable,
  r: Run,
  summary: ImportTableSummary,
  quiet: boolean,
): Promise<{ rejects: Parameters<RejectsFile['write']>[0][]; error: DynaloadError | undefined }> {
  if (staged.items === 0) {
    // Every row was rejected or skipped: an import of nothing would only create an empty table.
    r.log.warn({ table: staged.table }, 'no item to import: table not created');
    return { rejects: [], error: undefined };
  }
  await uploadObjects(staged, r.stage);
  const started = await startImport(client, staged, r.stage, r.parameters.get(staged.table) as TableCreationParameters);
  const arn = started.ImportArn as string;
  r.log.info(
    { table: staged.table, importArn: arn, clientToken: staged.clientToken, status: started.ImportStatus },
    'import started (or found again by its ClientToken)',
  );
  let last = '';
  const show = (d: ImportTableDescription): void => {
    Object.assign(summary, {
      importArn: arn,
      status: d.ImportStatus ?? null,
      processed: d.ProcessedItemCount ?? 0,
      imported: d.ImportedItemCount ?? 0,
      errors: d.ErrorCount ?? 0,
      failureCode: d.FailureCode ?? null,
      failureMessage: d.FailureMessage ?? null,
    });
    const line = `import ${staged.table}: ${d.ImportStatus ?? '?'}, ${summary.processed} of ${staged.items} items processed, ${summary.imported} imported, ${summary.errors} errors`;
    if (!quiet && line !== last) process.stderr.write(line + '\n');
    last = line;
  };
  const final = FINAL_STATUSES.has(started.ImportStatus ?? '')
    ? started
    : await followImport(client, arn, staged.table, { pollMs: r.pollMs, update: show });
  show(final);
  const counts = `${summary.processed} processed, ${summary.imported} imported, ${summary.errors} errors of ${staged.items} items staged`;
  if (final.ImportStatus !== 'COMPLETED') {
    return {
      rejects: [],
      error: new DynaloadError(
        'IMPORT_FAILED',
        `Import of \`${staged.table}\` ended ${final.ImportStatus ?? 'without a status'}: ${final.FailureCode ?? 'no FailureCode'}: ${final.FailureMessage ?? 'no FailureMessage'} (${counts}); ${arn}. The same rows staged again under the same --stage get this import back for DynamoDB's 8-hour ClientToken window: after fixing the cause, stage under another prefix to start a new one`,
        { context: { table: staged.table, importArn: arn } },
      ),
    };
  }
  const errors = final.ErrorCount ?? 0;
  const imported = final.ImportedItemCount ?? 0;
  if (errors === 0) {
    if (imported === staged.items) return { rejects: [], error: undefined };
    return { rejects: [], error: countMismatch(staged, arn, counts) };
  }
  // CloudWatch Logs delivers events asynchronously: a log read right after COMPLETED may miss the
  // last ones, so it is read again (a few polls apart) until it names every refused item.
  let mapped = await importErrorRejects(client, {
    staged,
    stage: r.stage,
    description: final,
    logsEndpoint: r.logsEndpoint,
  });
  for (let attempt = 1; attempt < LOG_READS && mapped.ok && mapped.rejects.length < errors; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, r.pollMs));
    mapped = await importErrorRejects(client, {
      staged,
      stage: r.stage,
      description: final,
      logsEndpoint: r.logsEndpoint,
    });
  }
  if (!mapped.ok) {
    return {
      rejects: [],
      error: new DynaloadError(
        'IMPORT_ERRORS_UNREAD',
        `Import of \`${staged.table}\` COMPLETED with ${errors} items not imported, and their log could not be read (${mapped.reason}), so they cannot be named. ${logsHint(final, staged)}`,
        { context: { table: staged.table, importArn: arn } },
      ),
    };
  }
  if (mapped.rejects.length !== errors || imported + errors !== staged.items) {
    return {
      rejects: mapped.rejects,
      error: countMismatch(
        staged,
        arn,
        `${counts}; ${mapped.rejects.length} error events mapped to input lines. ${logsHint(final, staged)}`,
      ),
    };
  }
  return { rejects: mapped.rejects, error: undefined };
}

function countMismatch(staged: StagedTable, arn: string, counts: string): DynaloadError {
  return new DynaloadError(
    'IMPORT_COUNT_MISMATCH',
    `Import of \`${staged.table}\` COMPLETED, but its counts do not account for every item staged: ${counts}; ${arn}`,
    { context: { table: staged.table, importArn: arn } },
  );
}

function parseStage(text: string | undefined, dryRun: boolean): StageLocation {
  if (text === undefined) {
    if (dryRun) return { bucket: 'dry-run', prefix: '' };
    throw usageError(
      'OPTION_REQUIRED',
      'Expected `--stage s3://bucket/prefix/`: where the items are staged for ImportTable',
      { option: '--stage' },
    );
  }
  if (!isS3Url(text) || text.length <= 's3://'.length)
    throw usageError('OPTION_INVALID', `Expected \`--stage\` to be s3://bucket/prefix/, got \`${text}\``, {
      option: '--stage',
      value: text,
    });
  const bare = text.slice('s3://'.length);
  const slash = bare.indexOf('/');
  const bucket = slash === -1 ? bare : bare.slice(0, slash);
  const key = slash === -1 ? '' : bare.slice(slash + 1);
  if (bucket === '')
    throw usageError('OPTION_INVALID', `Expected \`--stage\` to be s3://bucket/prefix/, got \`${text}\``, {
      option: '--stage',
      value: text,
    });
  return { bucket, prefix: key === '' || key.endsWith('/') ? key : `${key}/` };
}

function parsePositive(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(n > 0))
    throw usageError(
      'OPTION_INVALID',
      `Expected \`${option}\` to be a number above 0, such as ${fallback}, got \`${text}\``,
      { option, value: text },
    );
  return n;
}

function parseImportPrice(text: string | undefined): number {
  if (text === undefined) return DEFAULT_IMPORT_PRICE_PER_GB;
  const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n))
    throw usageError(
      'OPTION_INVALID',
      `Expected \`--import-price\` to be US dollars per GB imported, such as 0.15, got \`${text}\``,
      { option: '--import-price', value: text },
    );
  return n;
}
