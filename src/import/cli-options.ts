import { Option, type Command } from '../packages/commander.js';
import { DEFAULTS } from '../config.js';
import { capacityOptions } from '../table-options.js';
import { csvOptions } from '../csv-options.js';

export const IMPORT_EXAMPLES = `
Examples:
  # a new table from CSV shards, through DynamoDB's import engine (no write capacity used)
  $ dynaload import ./shards/*.csv --table watch_history_v2 --key user:N --sort-key moddt:S --stage s3://my-staging/dynaload/

  # what each path would cost, before staging anything
  $ dynaload import ./shards/*.csv --table T --key id:S --dry-run

DynamoDB APIs used: ImportTable, DescribeImport. S3: PutObject (staging), and for s3:// inputs ListObjectsV2,
GetObject, HeadObject. CloudWatch Logs: FilterLogEvents on /aws-dynamodb/imports, to name the items an import
could not import. Credentials come from the AWS SDK's default provider chain.

Exit codes: 0 every row imported, 1 the run or the import failed, 2 bad usage, 3 finished but some rows were rejected.
`;

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The options of `dynaload import`: upload's reading and mapping options, and the new table's. */
export function addImportOptions(command: Command): Command {
  const [billing, wcu, rcu] = capacityOptions({ billing: 'the new table', provisioned: 'a provisioned new table' });
  const [noHeader, columns, delimiter, escape] = csvOptions();
  return command
    .addOption(
      new Option(
        '-t, --table <name>',
        'the new table (ImportTable creates it); not needed when --map or --transform name the tables',
      ),
    )
    .addOption(new Option('--key <name:type>', 'partition key of the new table, e.g. user:N (S, N or B)'))
    .addOption(new Option('--sort-key <name:type>', 'sort key of the new table, e.g. timestamp:N'))
    .addOption(
      new Option(
        '--gsi <name=pk:T[,sk:T]>',
        'a global secondary index of the new table (projection ALL); repeat for more',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--table-spec <file>',
        'JSON TableCreationParameters (or an array, one per table of a fan-out): keys, billing, indexes; replaces --key, --sort-key, --gsi, --billing',
      ),
    )
    .addOption(billing)
    .addOption(wcu)
    .addOption(rcu)
    .addOption(
      new Option(
        '--stage <s3-url>',
        's3://bucket/prefix/ where the items are staged as gzip DynamoDB JSON (under <prefix><table>/<token>/)',
      ),
    )
    .addOption(
      new Option(
        '--object-mb <n>',
        'largest size of a staged object, uncompressed MiB (objects come out between half of it and it)',
      ).default('64'),
    )
    .addOption(new Option('--poll-seconds <n>', 'seconds between two DescribeImport calls').default('10'))
    .addOption(
      new Option(
        '--import-price <usd>',
        'ImportTable price per GB of uncompressed data, for the cost comparison',
      ).default('0.15'),
    )
    .addOption(
      new Option(
        '--wru-price <usd>',
        'on-demand price per million write request units, for the cost comparison',
      ).default('0.625'),
    )
    .addOption(
      new Option(
        '--transform <file>',
        'module (.mjs .js .cjs .ts) whose default export maps a row to items; { table: fn, ... } fans out (one import per table)',
      ),
    )
    .addOption(new Option('--map <file>', 'mapping file (JSON): rename, types, templates, constants, drop; see README'))
    .addOption(
      new Option(
        '--types <spec>',
        'column types, e.g. user:N,series:N,moddt:S (S N B BOOL NULL JSON L M SS NS BS; default S; keys use the table spec)',
      ),
    )
    .addOption(
      new Option(
        '--infer',
        'columns without a type become N when the text is a number DynamoDB gives back unchanged, BOOL for true/false, else S',
      ),
    )
    .addOption(
      new Option('--format <format>', 'input format: csv, ndjson, ddb-json (default: from the name; else csv)'),
    )
    .addOption(
      new Option(
        '--config <file>',
        'JSON file of options (keys as the long flags); flags given here win (default: .dynaloadrc.json in the working directory, if any)',
      ),
    )
    .addOption(
      new Option(
        '--dry-run',
        'read, map, check and stage locally; print the staged bytes and the cost of ImportTable and of BatchWriteItem; upload and import nothing',
      ),
    )
    .addOption(new Option('--no-progress', 'no progress line or progress log lines'))
    .addOption(new Option('-q, --quiet', 'print nothing but errors (and the --json summary when asked for)'))
    .addOption(new Option('--no-color', 'no colors in the progress line (NO_COLOR is honoured too)'))
    .addOption(new Option('--endpoint <url>', 'DynamoDB endpoint URL').env('AWS_ENDPOINT_URL_DYNAMODB'))
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(
      new Option(
        '--s3-endpoint <url>',
        'S3-compatible endpoint for s3:// inputs and the stage, addressed path-style',
      ).env('AWS_ENDPOINT_URL_S3'),
    )
    .addOption(
      new Option('--logs-endpoint <url>', 'CloudWatch Logs endpoint URL').env('AWS_ENDPOINT_URL_CLOUDWATCH_LOGS'),
    )
    .addOption(noHeader)
    .addOption(columns)
    .addOption(delimiter)
    .addOption(escape)
    .addOption(
      new Option('--empty <policy>', 'empty non-key cells: drop the attribute, keep an empty string, or store NULL')
        .choices(['drop', 'string', 'null'])
        .default(DEFAULTS.empty),
    )
    .addOption(
      new Option(
        '--rejects <file>',
        'rejects file, one JSON line per rejected row (local checks, and DYNAMODB_REJECTED for items the import refused); - for stdout (default: dynaload-rejects-<table>-<time>.ndjson)',
      ),
    )
    .addOption(
      new Option(
        '--from-rejects <file>',
        'import the rows of a rejects file again (after fixing their cause), as they were first read',
      ),
    )
    .addOption(new Option('--json', 'print the summary as one JSON object on stdout'))
    .addOption(
      new Option('--log-level <level>', 'log level on stderr')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default(DEFAULTS.logLevel)
        .env('DYNALOAD_LOG_LEVEL'),
    );
}
