/**
 * CPU per BatchWriteItem of 25 items: `DynamoDBClient.send` versus the lean path
 * (src/dynamo/lean-writer.ts) on undici, and the same lean path on the hand-written HTTP/1.1 client
 * undici replaced (bench/old-transport/, a fixture kept only for this comparison), all against a null
 * endpoint that answers `{"UnprocessedItems":{}}` at once. The endpoint runs in a child process so its
 * CPU is not counted; process.cpuUsage() covers this process only. Rounds alternate the clients, in
 * a rotating order, so a busy moment on a shared machine hits them alike.
 *
 *   node --import tsx bench/lean-vs-sdk.ts [requests=6000] [inFlight=8]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { createLeanSend } from '../src/dynamo/lean-writer.js';
import { createTransport as createOldTransport } from './old-transport/http-transport.js';

const REQUESTS = Number(process.argv[2] ?? 6000);
const IN_FLIGHT = Number(process.argv[3] ?? 8);
const ROUNDS = 5;

// The null endpoint: reads the body, answers `{}` with DynamoDB's headers (crc32 of "{}").
const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': 23, 'x-amz-crc32': '4185382651', 'x-amzn-requestid': 'NULL' });
    res.end('{"UnprocessedItems":{}}');
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

async function startNullServer(): Promise<{ endpoint: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8').trim()));
  });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.stdin.end() };
}

/** 25 rows shaped like the bench's MySQL dump (user, series, episode, timestamp, moddt). */
function batch(offset: number): Record<string, WriteRequest[]> {
  const requests: WriteRequest[] = [];
  for (let i = 0; i < 25; i++) {
    const n = offset + i;
    requests.push({
      PutRequest: {
        Item: {
          user: { N: String(100000 + n) },
          series: { S: `series-${n % 97}` },
          episode: { N: String(n % 500) },
          timestamp: { S: new Date(1_700_000_000_000 + n * 1000).toISOString() },
          moddt: { S: new Date(1_700_000_000_000 + n * 7000).toISOString() },
        },
      },
    });
  }
  return { episodes: requests };
}

type Send = (items: Record<string, WriteRequest[]>) => Promise<unknown>;

/** CPU microseconds per request over `count` requests, `IN_FLIGHT` at a time. */
async function measure(send: Send, count: number): Promise<{ cpuUs: number; wallUs: number }> {
  const batches = Array.from({ length: 64 }, (_, i) => batch(i * 25));
  let next = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const lane = async (): Promise<void> => {
    while (next < count) await send(batches[next++ % batches.length] as Record<string, WriteRequest[]>);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const used = process.cpuUsage(cpu);
  const wallUs = Number(process.hrtime.bigint() - start) / 1000;
  return { cpuUs: (used.user + used.system) / count, wallUs: wallUs / count };
}

function client(endpoint: string): DynamoDBClient {
  const agent = { keepAlive: true, maxSockets: IN_FLIGHT };
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
    requestHandler: { httpAgent: new http.Agent(agent), connectionTimeout: 5_000, requestTimeout: 60_000 },
  });
}

const server = await startNullServer();
const sdk = client(server.endpoint);
const lean = await createLeanSend(client(server.endpoint), { maxSockets: IN_FLIGHT });
const old = await createLeanSend(client(server.endpoint), {
  maxSockets: IN_FLIGHT,
  createTransport: createOldTransport,
});
const paths: [string, Send][] = [
  ['sdk', (items) => sdk.send(new BatchWriteItemCommand({ RequestItems: items }))],
  ['old', (items) => old.send(items)],
  ['lean', (items) => lean.send(items)],
];
try {
  for (const [, send] of paths) await measure(send, 2000); // warm-up: JIT, sockets, credentials
  const results = new Map<string, number[]>(paths.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < paths.length; i++) {
      const [name, send] = paths[(round + i) % paths.length] as [string, Send];
      results.get(name)?.push((await measure(send, REQUESTS)).cpuUs);
    }
  }
  const best = (name: string): number => Math.min(...(results.get(name) ?? [Number.NaN]));
  const median = (name: string): number => {
    const sorted = [...(results.get(name) ?? [])].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const [sdkUs, oldUs, leanUs] = [best('sdk'), best('old'), best('lean')];
  process.stdout.write(
    `BatchWriteItem x25 items, ${REQUESTS} requests x ${ROUNDS} rounds, ${IN_FLIGHT} in flight, node ${process.version}\n`,
  );
  for (const [name] of paths)
    process.stdout.write(
      `${name.padEnd(5)} CPU/request: best ${best(name).toFixed(0)} us, median ${median(name).toFixed(0)} us  (rounds: ${results
        .get(name)
        ?.map((v) => v.toFixed(0))
        .join(', ')})\n`,
    );
  process.stdout.write(
    `lean/sdk CPU: ${(leanUs / sdkUs).toFixed(2)}  (${(leanUs / 25).toFixed(1)} vs ${(sdkUs / 25).toFixed(1)} us per item)\n`,
  );
  const change = (value: number): string => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
  process.stdout.write(
    `lean (undici) vs old (hand-written): best ${change(leanUs / oldUs - 1)}, median ${change(median('lean') / median('old') - 1)}\n`,
  );
} finally {
  lean.destroy();
  old.destroy();
  sdk.destroy();
  server.stop();
}
