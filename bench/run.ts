/**
 * `npm run bench`: generates CSV shards, then for each endpoint (started here, on 127.0.0.1, one
 * process per run) loads them with the baseline (bench/baseline.ts) and with the built CLI, and
 * prints one table row per (endpoint, client). Not part of `npm test`. Options: bench/options.ts.
 * Data on stdout (the table, its notes, the performance goals); progress on stderr. See bench/README.md.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { generateShards } from './generate.js';
import { parseBenchOptions, USAGE, type BenchOptions, type ClientName, type Scenario } from './options.js';
import { buildBaseline, killChildren, runClient, startBusy, startEndpoint } from './processes.js';
import { goalSection, perRunLines } from './goals.js';
import { startS3Source, type S3Source } from './s3-source.js';
import {
  computeMetrics,
  fixed,
  formatTable,
  header,
  medianRun,
  runOrder,
  tableRows,
  type RunResult,
} from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Local endpoints only: fake credentials, for this process and the ones it starts.
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
Object.assign(process.env, ENV);

process.on('exit', () => killChildren());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killChildren();
    process.kill(process.pid, signal);
  });
}

const options = parseOrUsage(process.argv.slice(2));
if (options?.help) process.stdout.write(USAGE);
else if (options) await bench(options);

function parseOrUsage(argv: readonly string[]): BenchOptions | undefined {
  try {
    return parseBenchOptions(argv);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return undefined;
  }
}

async function bench(o: BenchOptions): Promise<void> {
  const began = performance.now();
  const baselineScript = o.clients.includes('baseline') ? await buildBaseline(ROOT) : '';
  const pairs: {
    scenario: Scenario;
    client: ClientName;
    rows: number;
    files: readonly string[];
    args: readonly string[];
    env: NodeJS.ProcessEnv;
    runs: RunResult[];
  }[] = [];
  const s3: S3Source | undefined = o.scenarios.some((s) => s.key === 's3') ? await startS3Source() : undefined;
  for (const scenario of o.scenarios) {
    for (const client of o.clients) {
      const rows = client === 'baseline' ? scenario.baselineRows : scenario.rows;
      if (rows === undefined) continue;
      const local = await generateShards(
        path.join(ROOT, 'bench', 'data'),
        rows,
        scenario.shards ?? o.shards,
        scenario.itemBytes,
      );
      const files = scenario.key === 's3' && s3 ? [await s3.put(local)] : local;
      const env = scenario.key === 's3' && s3 ? { ...ENV, ...s3.env } : ENV;
      const args =
        client === 'baseline'
          ? [baselineScript]
          : [path.join(ROOT, 'bin', 'dynaload.js'), 'upload', '--json', '--types', 'series:N,episode:N'];
      pairs.push({ scenario, client, rows, files, args, env, runs: [] });
    }
  }
  // With --repeat, round after round of every pair rather than n runs of one pair, then the next:
  // the machine's speed drifts by several percent over minutes, and the ratios compare runs made
  // close together ("on the same machine at the same moment").
  const order = runOrder(pairs);
  for (let round = 0; round < o.repeat; round++) {
    for (const pair of order) {
      pair.runs.push(
        await runOne(o, pair.scenario, pair.client, pair.files, pair.rows, pair.args, pair.env).catch(
          (error: unknown) => {
            process.stderr.write(`bench: ${pair.scenario.label} / ${pair.client}: ${(error as Error).message}\n`);
            return {
              scenario: pair.scenario,
              client: pair.client,
              report: undefined,
              stats: undefined,
              problem: 'failed',
              target: undefined,
            };
          },
        ),
      );
    }
  }
  await s3?.close();
  const results = pairs.map((pair) => (o.repeat === 1 ? (pair.runs[0] as RunResult) : medianRun(pair.runs)));
  const metrics = computeMetrics(results, o.warmup, o.windowSeconds);
  const head = header(o.windowSeconds);
  process.stdout.write(formatTable(head, tableRows(metrics, head.length), o.markdown));
  process.stdout.write(notes(o, results, (performance.now() - began) / 1000));
  const runs = perRunLines(
    pairs
      .filter((p) => p.scenario.capacity !== undefined && p.client === 'dynaload')
      .map((p) => ({
        label: `${p.scenario.key}/${p.client}`,
        rows: p.rows,
        runs: computeMetrics(p.runs, o.warmup, o.windowSeconds),
      })),
    o.busy,
  );
  const lines = [...runs, ...goalSection(metrics, o)];
  if (lines.length > 0) process.stdout.write('\n' + lines.map((l) => (o.markdown ? `- ${l}` : l)).join('\n') + '\n');
  if (results.some((r) => r.problem !== undefined && !r.problem.startsWith('n/a'))) process.exitCode = 1;
}

async function runOne(
  o: BenchOptions,
  scenario: Scenario,
  client: ClientName,
  files: readonly string[],
  rows: number,
  command: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<RunResult> {
  const endpoint = await startEndpoint(ROOT, scenario.spec, ENV);
  let stats;
  let run;
  try {
    const table = `bench_${Date.now()}`;
    await createTable(endpoint.endpoint, table, scenario.provisioned);
    const args =
      client === 'baseline'
        ? [...command, '--endpoint', endpoint.endpoint, '--table', table, ...files]
        : [
            ...command,
            ...files,
            '--table',
            table,
            '--endpoint',
            endpoint.endpoint,
            ...scenario.dynaloadArgs,
            ...o.cliArgs,
          ];
    process.stderr.write(
      `bench: ${scenario.label} / ${client}: ${rows} rows${o.busy > 0 ? `, ${o.busy} busy process(es)` : ''}...\n`,
    );
    const stopBusy = startBusy(o.busy);
    try {
      run = await runClient(args, env, o.timeoutMs);
    } finally {
      stopBusy();
    }
  } finally {
    stats = await endpoint.stop();
  }
  const { report } = run;
  const refused = report?.exitCode === 2 && o.maxWcu !== undefined && /max-wcu/.test(report.error?.message ?? '');
  const problem = run.timedOut
    ? 'timeout'
    : refused
      ? 'n/a: CLI refused --max-wcu'
      : report === undefined || report.written === undefined
        ? 'failed'
        : undefined;
  process.stderr.write(
    `bench: ${scenario.label} / ${client}: ${problem ?? `${report?.written} written, ${report?.rowsPerSecond} items/s`} (${(run.wallMs / 1000).toFixed(1)} s wall, endpoint CPU ${stats?.cpuMs ?? '?'} ms${report?.window ? `, ${report.window.size} in flight at ${report.window.rttMs} ms (${report.window.reason})` : ''}${stats?.invalidRequests ? `, ${stats.invalidRequests} invalid requests: ${stats.invalidSamples.join('; ')}` : ''})\n`,
  );
  if (problem !== undefined && report?.error)
    process.stderr.write(`bench:   ${report.error.code}: ${report.error.message}\n`);
  const numericMaxWcu = o.maxWcu !== undefined && o.maxWcu !== 'auto' ? Number(o.maxWcu) : undefined;
  const target = client === 'dynaload' && numericMaxWcu !== undefined ? numericMaxWcu : scenario.capacity;
  return { scenario, client, report, stats, problem, target };
}

async function createTable(endpoint: string, table: string, provisioned: number | undefined): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [
          { AttributeName: 'user', AttributeType: 'N' },
          { AttributeName: 'timestamp', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'user', KeyType: 'HASH' },
          { AttributeName: 'timestamp', KeyType: 'RANGE' },
        ],
        ...(provisioned === undefined
          ? { BillingMode: 'PAY_PER_REQUEST' as const }
          : {
              BillingMode: 'PROVISIONED' as const,
              ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: provisioned },
            }),
      }),
    );
  } finally {
    client.destroy();
  }
}

function notes(o: BenchOptions, results: readonly RunResult[], seconds: number): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const cli = o.cliArgs.length > 0 ? o.cliArgs.join(' ') : '(defaults)';
  const lines = [
    `Machine: ${cpu}, ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}. Bench took ${seconds.toFixed(0)} s.`,
    `Shards: ${o.shards}; dynaload args: ${cli}; endpoint CPU (s): ${results.map((r) => `${r.scenario.key}/${r.client} ${fixed((r.stats?.cpuMs ?? Number.NaN) / 1000, 1)}`).join(', ')}.`,
    'items/s and CPU (user+system, all threads) as each client reports them; x base = dynaload / baseline on the same endpoint.',
    'items retried: items the endpoint returned as UnprocessedItems and the client resent. units/s: write units admitted by the endpoint,',
    `first to last BatchWriteItem; wasted %: items sent and withheld / items admitted; worst ${o.windowSeconds}-s dev: the sliding ${o.windowSeconds}-s window after the first ${o.warmup} s`,
    "furthest from the target (--max-wcu when given, else the capacity). Item weight: ceil(bytes of the item's wire JSON / 1024).",
    'Baseline: DynamoDBDocumentClient + BatchWriteCommand, 25 items a request, one at a time, UnprocessedItems resent after 50 ms doubling (cap 5 s).',
    `Capacity endpoint: token bucket of ${o.capacity} units/s holding 1 s of capacity, empty at the start; what it cannot admit comes back as UnprocessedItems (hidden: the table says it is on demand).`,
    ...(o.busy > 0 ? [`${o.busy} busy-looping process(es) ran beside every client run.`] : []),
  ];
  const itemsPerSecond = (key: string): string =>
    fixed(
      results.find((r) => r.scenario.key === key && r.client === 'dynaload')?.report?.rowsPerSecond ?? Number.NaN,
      0,
    );
  if (o.scenarios.some((s) => s.key === 's3')) {
    lines.push(
      `S3: the rows of the null scenario as objects of s3rver (in the bench process, sharing its cores), streamed with GetObject: dynaload ${itemsPerSecond('s3')} items/s from S3, ${itemsPerSecond('null')} from local files.`,
    );
  }
  if (o.repeat > 1) {
    const each = results.map(
      (r) => `${r.scenario.key}/${r.client} ${(r.runs ?? []).map((v) => fixed(v, 0)).join(', ')}`,
    );
    lines.push(
      `Each row is the run with the median items/s of ${o.repeat} rounds of every pair (a fresh endpoint each time); items/s of every run, by round: ${each.join('; ')}.`,
    );
  }
  return '\n' + lines.map((l) => (o.markdown ? `${l}  ` : l)).join('\n') + '\n';
}
