import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from './packages/commander.js';
import { upload, type RunOrigin } from './commands/upload.js';
import { DEFAULTS, parseInteger, type RawUploadOptions } from './config.js';
import { EXIT, isDynaloadError } from './errors.js';
import { knownOptions, loadConfigFile, mergeOptions, type OptionSource } from './config-file.js';
import { SHARDS_TOTAL_ENV } from './shard-option.js';
import { capacityOptions } from './table-options.js';
import { csvOptions } from './csv-options.js';
import { formatSummary, type Summary } from './summary.js';
import type { RawImportOptions } from './commands/import.js';
import { addImportOptions, IMPORT_EXAMPLES } from './import/cli-options.js';
import { formatImportSummary } from './import/summary.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

const UPLOAD_EXAMPLES = `
Examples:
  # every shard of a split CSV dump, against a local DynamoDB-compatible server
  $ dynaload upload ./shards/*.csv --table watch_history --endpoint http://127.0.0.1:8000 --region us-east-1

  # from a pipeline, with typed columns and a JSON summary for scripts
  $ cut -d, -f1-5 dump.csv | dynaload upload - --table watch_history --types user:N,series:N --json

  # shards without a header line, tab-separated, quoted glob expanded by dynaload
  $ dynaload upload 'shards/part-*' --table T --no-header --columns user,series,moddt --delimiter '\\t'

  # one pass, three tables: a transform module fans every row out
  $ dynaload upload shards/*.csv.gz --transform ./fan-out.mjs

  # objects in S3, as one of the copies of a Kubernetes Indexed Job or AWS Batch array job
  $ dynaload upload 's3://my-exports/2026-11/*.csv.gz' --table T --shard auto --max-wcu 20000

DynamoDB APIs used: DescribeTable (once per table, for the key schema), BatchWriteItem (25 items per
request), CreateTable (only with --create-table). S3, for s3:// inputs: ListObjectsV2, GetObject, HeadObject.
Credentials come from the AWS SDK's default provider chain (AWS_ACCESS_KEY_ID/..., AWS_PROFILE, SSO, roles).

Exit codes: 0 every row written (or skipped), 1 the run failed, 2 bad usage, 3 finished but some rows were rejected.
`;

const PROGRAM_EXAMPLES = `
Examples:
  # try it with no AWS account: generate rows, load them into an embedded server
  $ dynaload demo

  # split CSV shards into a table (credentials from the AWS SDK's default chain)
  $ dynaload upload ./shards/*.csv --table watch_history --types series:N,episode:N

  # know before you pay: read, map and check every row, count write units and cost
  $ dynaload upload ./shards/*.csv --table watch_history --dry-run --max-wcu 1000

  # stopped or crashed? continue where it stopped
  $ dynaload upload ./shards/*.csv --table watch_history --resume

DynamoDB APIs used: DescribeTable, BatchWriteItem, CreateTable (only with --create-table).
Environment: AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, AWS_CA_BUNDLE,
the SDK's credential variables, DYNALOAD_LOG_LEVEL, DYNALOAD_SHARDS_TOTAL, NO_COLOR.
Run \`dynaload <command> --help\` for every option.
`;

const DELETE_EXAMPLES = `
Examples:
  # roll back a bad load: the same files (only the key columns are read)
  $ dynaload delete ./shards/*.csv --table watch_history

  # keys from a query, as NDJSON on standard input
  $ jq -c '.Items[] | {user: .user.N, timestamp: .timestamp.N}' page.json | dynaload delete - --table watch_history --format ndjson

DynamoDB APIs used: DescribeTable, BatchWriteItem with DeleteRequest (25 keys per request).
Exit codes: 0 every key deleted, 1 the run failed, 2 bad usage, 3 finished but some rows were rejected.
`;

export function buildProgram(): Command {
  const program = new Command('dynaload')
    .description(
      'Bulk-load CSV files into Amazon DynamoDB: every row written, or rejected with its file, line and reason.',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // After the options, as git, gh and the AWS CLI do; 'after' (not 'afterAll') keeps it off the commands' help.
    .addHelpText('after', PROGRAM_EXAMPLES)
    .exitOverride();

  addLoadOptions(
    program
      .command('upload')
      .description(
        'Load CSV, NDJSON or DynamoDB JSON files (or - for standard input) into DynamoDB tables with BatchWriteItem.',
      )
      .argument(
        '[files...]',
        'input files (.gz read as gzip), quoted globs, s3://bucket/prefix/*.csv, or - for standard input',
      ),
  )
    .addHelpText('after', UPLOAD_EXAMPLES)
    .action(async (files: string[], options: RawUploadOptions, command: Command) => {
      const { merged, origin } = await withConfigFile(options, command);
      report(await upload(files, merged, 'put', origin), merged);
    });

  addLoadOptions(
    program
      .command('delete')
      .description(
        'Delete the items whose keys the input files list (the rollback of a bad load), with BatchWriteItem DeleteRequests.',
      )
      .argument(
        '<files...>',
        'files listing keys (other columns are ignored), quoted globs, s3:// objects, or - for standard input',
      ),
  )
    .addHelpText('after', DELETE_EXAMPLES)
    .action(async (files: string[], options: RawUploadOptions, command: Command) => {
      const { merged, origin } = await withConfigFile(options, command);
      report(await upload(files, merged, 'delete', origin), merged);
    });

  addImportOptions(
    program
      .command('import')
      .description(
        "Load a NEW table with DynamoDB's ImportTable: rows checked as upload does, staged in S3 as gzip DynamoDB JSON, imported, refused items named by file and line.",
      )
      .argument('<files...>', 'input files, quoted globs, s3:// objects, or - for standard input'),
  )
    .addHelpText('after', IMPORT_EXAMPLES)
    .action(async (files: string[], options: RawImportOptions, command: Command) => {
      const merged = (await withConfigFile(options, command)).merged as RawImportOptions;
      const { importTables } = await import('./commands/import.js');
      const summary = await importTables(files, merged);
      const out = merged.rejects === '-' ? process.stderr : process.stdout;
      if (merged.json) out.write(JSON.stringify(summary) + '\n');
      else if (!merged.quiet) out.write(formatImportSummary(summary));
      if (summary.error) process.stderr.write(`dynaload: ${summary.error.code}: ${summary.error.message}\n`);
      process.exitCode = summary.exitCode;
    });

  program
    .command('demo')
    .description(
      'Try dynaload with no AWS account: generate CSV shards, start an embedded DynamoDB-compatible server, load them, show a few items.',
    )
    .addOption(new Option('--rows <n>', 'rows to generate').default(20_000))
    .addOption(new Option('--shards <n>', 'shard files to generate').default(4))
    .action(async (options: { rows: string | number; shards: string | number }) => {
      const { demo } = await import('./commands/demo.js');
      const summary = await demo({
        rows: parseInteger('--rows', options.rows, 20_000, 1, 10_000_000),
        shards: parseInteger('--shards', options.shards, 4, 1, 1_000),
        out: (text) => process.stdout.write(text),
      });
      process.exitCode = summary.exitCode;
    });
  return program;
}

/** The options upload and delete share. */
function addLoadOptions(command: Command): Command {
  const [noHeader, columns, delimiter, escape] = csvOptions();
  const [billing, wcu, rcu] = capacityOptions({
    billing: 'a created table',
    provisioned: 'a created provisioned table',
  });
  return command
    .addOption(
      new Option(
        '-t, --table <name>',
        'table to write to (its key schema is read with DescribeTable); not needed when --map or --transform name the tables',
      ),
    )
    .addOption(
      new Option(
        '--transform <file>',
        'module (.mjs .js .cjs .ts) whose default export maps a row to items: (row, ctx) => item | item[] | null, or { table: fn, ... } to fan out',
      ),
    )
    .addOption(
      new Option(
        '--transform-concurrency <n>',
        'async transform calls in flight per worker; rows are still written in input order',
      ).default(DEFAULTS.transformConcurrency),
    )
    .addOption(
      new Option(
        '--transform-timeout <s>',
        'seconds a transform call may take; a row whose call has not settled is rejected (TRANSFORM_TIMEOUT)',
      ).default(DEFAULTS.transformTimeout),
    )
    .addOption(
      new Option(
        '--map <file>',
        'mapping file (JSON): rename, types, templates like "${series}#${episode}", constants, drop; see README',
      ),
    )
    .addOption(
      new Option(
        '--types <spec>',
        'column types, e.g. user:N,series:N,moddt:S (S N B BOOL NULL JSON L M SS NS BS; default S; keys use the table schema)',
      ),
    )
    .addOption(
      new Option(
        '--infer',
        'each cell of a column without a type becomes N when its text is a number DynamoDB gives back unchanged, BOOL for true/false, else S (per cell: a column may get several types; a warning names it)',
      ),
    )
    .addOption(
      new Option(
        '--format <format>',
        'input format: csv, tsv (tab-separated, no quoting), ndjson (a JSON object per line), ddb-json (DynamoDB S3 export lines) (default: from the name; else csv)',
      ),
    )
    .addOption(
      new Option(
        '--config <file>',
        'JSON file of options (keys as the long flags: "table", "max-wcu", ...); flags given here win (default: .dynaloadrc.json in the working directory, if any)',
      ),
    )
    .addOption(
      new Option(
        '--create-table',
        'create the table (with --key, --sort-key) if it does not exist, and wait until it is ACTIVE; never done without this flag',
      ),
    )
    .addOption(new Option('--key <name:type>', 'partition key for --create-table, e.g. user:N (S, N or B)'))
    .addOption(new Option('--sort-key <name:type>', 'sort key for --create-table, e.g. timestamp:N'))
    .addOption(billing)
    .addOption(wcu)
    .addOption(rcu)
    .addOption(
      new Option(
        '--local [dir]',
        'run an embedded DynamoDB-compatible server (dynalite) in this process and load into it: in memory, or persisted in dir',
      ),
    )
    .addOption(new Option('--dry-run', 'read, map and check every row and count write units and cost; write nothing'))
    .addOption(
      new Option('--wru-price <usd>', 'on-demand price per million write request units, for the cost estimate').default(
        '0.625',
      ),
    )
    .addOption(new Option('--no-progress', 'no progress line (on a terminal) or progress log lines (elsewhere)'))
    .addOption(new Option('-q, --quiet', 'print nothing but errors (and the --json summary when asked for)'))
    .addOption(new Option('--no-color', 'no colors in the progress line (NO_COLOR is honoured too)'))
    .addOption(
      new Option('--endpoint <url>', 'DynamoDB endpoint URL (local servers, proxies)').env('AWS_ENDPOINT_URL_DYNAMODB'),
    )
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(
      new Option(
        '--s3-endpoint <url>',
        'S3-compatible endpoint for s3:// inputs (MinIO, local servers), addressed path-style',
      ).env('AWS_ENDPOINT_URL_S3'),
    )
    .addOption(
      new Option(
        '--shard <i/n|auto>',
        'load only share i (0-based) of n copies run in parallel: whole inputs of nearly equal bytes, 1/n of --max-wcu; auto: from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX',
      ),
    )
    .addOption(
      new Option(
        '--shards-total <n>',
        `number of copies for --shard auto (default: ${SHARDS_TOTAL_ENV}, else AWS_BATCH_JOB_ARRAY_SIZE)`,
      ),
    )
    .addOption(
      new Option('-w, --workers <n>', 'worker threads, each reading one file at a time').default(
        DEFAULTS.workers,
        'available cores',
      ),
    )
    .addOption(
      new Option(
        '-c, --concurrency <n|auto>',
        'BatchWriteItem requests in flight per worker: auto follows the round-trip time (from 16, up to 512 for the whole run and 256 per worker), or a fixed 1-50',
      ).default(DEFAULTS.concurrency),
    )
    .addOption(
      new Option(
        '--memory <MiB>',
        'rows and items all workers together may hold, shared among them; reading waits when it is reached (16-65536)',
      ).default(DEFAULTS.memory),
    )
    .addOption(noHeader)
    .addOption(columns)
    .addOption(delimiter)
    .addOption(escape)
    .addOption(
      new Option(
        '--encoding <name>',
        'encoding of the input files: utf-8, latin1 (read as windows-1252, as MySQL writes it), utf-16le; bytes that are not valid in it reject their row',
      ).default('utf-8'),
    )
    .addOption(
      new Option(
        '--strict-quotes',
        'reject a record with a quote inside an unquoted field (37\'36"N) or text after a closing quote, instead of reading it as data',
      ),
    )
    .addOption(
      new Option('--empty <policy>', 'empty non-key cells: drop the attribute, keep an empty string, or store NULL')
        .choices(['drop', 'string', 'null'])
        .default(DEFAULTS.empty),
    )
    .addOption(
      new Option(
        '--rejects <file>',
        'rejects file, one JSON line per rejected row; - for stdout (the summary then goes to stderr) (default: dynaload-rejects-<table>-<time>.ndjson, created only when a row is rejected)',
      ),
    )
    .addOption(
      new Option(
        '--force',
        'replace an existing --rejects file (without it, a run refuses to overwrite one; --resume appends to it)',
      ),
    )
    .addOption(
      new Option(
        '--max-retries <n>',
        'attempts an item may fail in a row (unprocessed, throttled, 5xx, network) before the run fails',
      ).default(DEFAULTS.maxRetries),
    )
    .addOption(
      new Option(
        '--max-wcu <n|auto>',
        "cap on write capacity units per second for the whole run, shared by all workers; auto: --capacity-share of a provisioned table's capacity (default: auto for provisioned tables, else no cap)",
      ),
    )
    .addOption(
      new Option('--capacity-share <f>', "fraction of a provisioned table's write capacity that auto targets").default(
        DEFAULTS.capacityShare,
      ),
    )
    .addOption(
      new Option(
        '--no-adaptive',
        'do not slow down when DynamoDB throttles (by default the shared rate backs off and probes upward again)',
      ),
    )
    .addOption(
      new Option(
        '--checkpoint <file>',
        'checkpoint file, rewritten every 2 s and at the end (default: .dynaload-checkpoint-<table>.json next to the first input; delete: .dynaload-checkpoint-delete-<table>.json; a dry run keeps none)',
      ),
    )
    .addOption(new Option('--no-checkpoint', 'keep no checkpoint'))
    .addOption(
      new Option(
        '--from-rejects <file>',
        'load the rows of a rejects file again (after fixing their cause), as they were first read',
      ),
    )
    .addOption(
      new Option(
        '--skip-bad-files',
        "leave unread (and list in the summary) the files whose header cannot give the table's keys, instead of stopping before the first write",
      ),
    )
    .addOption(
      new Option(
        '--resume',
        'continue from the checkpoint: finished files are skipped, partly done ones continue from their mark',
      ),
    )
    .addOption(
      new Option(
        '--stop-timeout <s>',
        'on Ctrl-C or SIGTERM, seconds to finish in-flight writes before stopping at once',
      ).default(DEFAULTS.stopTimeout),
    )
    .addOption(new Option('--json', 'print the summary as one JSON object on stdout'))
    .addOption(
      new Option('--log-level <level>', 'log level on stderr')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default(DEFAULTS.logLevel)
        .env('DYNALOAD_LOG_LEVEL'),
    );
}

/**
 * Options from `--config` (or .dynaloadrc.json) under the flags the user typed and the environment
 * (command line, then environment, then the file, then defaults); and where the file and the
 * endpoint came from, for the summary.
 */
async function withConfigFile(
  options: RawUploadOptions,
  command: Command,
): Promise<{ merged: RawUploadOptions; origin: RunOrigin }> {
  const file = await loadConfigFile({
    explicitPath: options.config,
    cwd: process.cwd(),
    known: knownOptions(command),
    pathOptions: ['map', 'transform', 'rejects', 'checkpoint', 'fromRejects', 'local', 'tableSpec'],
  });
  const source = command.getOptionValueSource('endpoint') as OptionSource;
  const endpointSource =
    source === 'cli'
      ? '--endpoint'
      : source === 'env'
        ? 'AWS_ENDPOINT_URL_DYNAMODB'
        : file.values.endpoint !== undefined
          ? 'config file'
          : undefined;
  return {
    merged: mergeOptions(file.values, options, (name) => command.getOptionValueSource(name) as OptionSource),
    origin: { configFile: file.path, endpointSource },
  };
}

function report(summary: Summary, options: RawUploadOptions): void {
  // With `--rejects -` stdout carries the rejects; the summary moves to stderr.
  const out = options.rejects === '-' ? process.stderr : process.stdout;
  if (options.json) out.write(JSON.stringify(summary) + '\n');
  else if (!options.quiet) out.write(formatSummary(summary));
  if (summary.error) process.stderr.write(`dynaload: ${summary.error.code}: ${summary.error.message}\n`);
  process.exitCode = summary.exitCode;
}

/** Runs the CLI. The only place that sets process.exitCode for a whole run. */
export async function main(argv: readonly string[]): Promise<void> {
  // A reader that goes away (`dynaload ... | head`) is not an error of the load: stop writing to it.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; commander has printed the message.
      process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      if (json && error.exitCode !== 0) {
        process.stdout.write(
          JSON.stringify({
            exitCode: EXIT.USAGE,
            error: { code: 'USAGE', message: error.message.replace(/^error: /, '') },
          }) + '\n',
        );
      }
      return;
    }
    const code = isDynaloadError(error) ? error.code : 'EINTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    process.exitCode = isDynaloadError(error) ? error.exitCode : EXIT.FAILED;
    if (json) process.stdout.write(JSON.stringify({ exitCode: process.exitCode, error: { code, message } }) + '\n');
    process.stderr.write(`dynaload: ${code}: ${message}\n`);
    if (!isDynaloadError(error) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  }
}
