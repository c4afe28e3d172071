/**
 * `npm run bench`: loads generated shards through the built CLI against endpoints started here, on
 * 127.0.0.1, and prints one row per scenario. Not part of `npm test`.
 *
 *   npm run bench -- [--rows 1000000] [--shards 8] [--workers n] [--concurrency n] [--scenarios a,b] [--quick]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Summary } from '../src/summary.js';
import { generateShards } from './generate.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Local endpoints only: fake credentials, for this process and the ones it starts.
const ENV = Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });

interface Scenario {
  readonly name: string;
  readonly faults: Record<string, unknown>;
}

const SCENARIOS: Record<string, Scenario> = {
  dynalite: { name: 'dynalite', faults: {} },
  withhold30: { name: 'dynalite, 30% withheld', faults: { proxy: true, withhold: 0.3, seed: 1 } },
};

const { values } = parseArgs({
  options: {
    rows: { type: 'string' }, shards: { type: 'string', default: '8' }, workers: { type: 'string' },
    concurrency: { type: 'string' }, scenarios: { type: 'string', default: Object.keys(SCENARIOS).join(',') },
    quick: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows ?? (values.quick ? 50_000 : 1_000_000));
const files = await generateShards(path.join(ROOT, 'bench', 'data'), rows, Number(values.shards));

const results: string[][] = [['scenario', 'rows', 'items/s', 'CPU s / M items', 'peak RSS MiB', 'requests', 'items retried', 'exit']];
for (const key of values.scenarios.split(',')) {
  const scenario = SCENARIOS[key];
  if (!scenario) throw new Error(`Unknown scenario ${key}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const summary = await runScenario(scenario);
  results.push([
    scenario.name, String(summary.rows), String(summary.rowsPerSecond),
    ((summary.cpuMs / 1000) / (summary.written / 1e6)).toFixed(1), String(summary.peakRssMb),
    String(summary.requests), String(summary.unprocessedRetries), String(summary.exitCode),
  ]);
  process.stderr.write(`${scenario.name}: ${JSON.stringify(summary)}\n`);
}
printTable(results);

async function runScenario(scenario: Scenario): Promise<Summary> {
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'endpoint.ts'), JSON.stringify(scenario.faults)], { env: ENV, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(createInterface({ input: server.stdout }), 'line')) as [string];
    const { endpoint } = JSON.parse(line) as { endpoint: string };
    const table = `bench_${Date.now()}`;
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1' });
    await client.send(new CreateTableCommand({
      TableName: table, BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'user', AttributeType: 'N' }, { AttributeName: 'timestamp', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'user', KeyType: 'HASH' }, { AttributeName: 'timestamp', KeyType: 'RANGE' }],
    }));
    client.destroy();
    const args = [path.join(ROOT, 'bin', 'dynaload.js'), 'upload', ...files, '--table', table, '--endpoint', endpoint, '--json', '--types', 'series:N,episode:N'];
    if (values.workers) args.push('--workers', values.workers);
    if (values.concurrency) args.push('--concurrency', values.concurrency);
    const cli = spawn(process.execPath, args, { env: ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    cli.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await once(cli, 'close');
    return JSON.parse(out) as Summary;
  } finally {
    server.stdin.end();
    await once(server, 'close');
  }
}

function printTable(table: string[][]): void {
  const widths = (table[0] as string[]).map((_, i) => Math.max(...table.map((r) => (r[i] as string).length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  process.stdout.write([line(table[0] as string[]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.slice(1).map(line)].join('\n') + '\n');
}
