/**
 * The bench's baseline: the straightforward loader a user would write with the AWS SDK's document
 * client. Reads each CSV line by line, 25 items per BatchWriteCommand, one request at a time, and
 * resends UnprocessedItems with exponential backoff (50 ms doubling, 5 s cap, no jitter) until they
 * are drained. Prints the fields of dynaload's `--json` summary that the bench compares.
 *
 *   node bench/data/.build/baseline.mjs --endpoint http://127.0.0.1:8000 --table T a.csv b.csv
 *
 * The runner transpiles this file to plain JavaScript first, so the figures carry no tsx loader cost.
 * Self-contained on purpose: it imports only node: modules and the AWS SDK.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';

type Requests = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>;

const { values, positionals: files } = parseArgs({
  options: { endpoint: { type: 'string' }, table: { type: 'string' } },
  allowPositionals: true,
});
const table = values.table ?? 'bench';
const startedAt = performance.now();
const client = new DynamoDBClient({ endpoint: values.endpoint, region: process.env.AWS_REGION ?? 'us-east-1' });
const doc = DynamoDBDocumentClient.from(client);
const counts = { rows: 0, written: 0, requests: 0, unprocessedRetries: 0 };
let error: { code: string; message: string } | null = null;

async function writeBatch(items: Requests[string]): Promise<void> {
  let pending: Requests | undefined = { [table]: items };
  for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
    if (attempt > 0) await sleep(Math.min(5_000, 50 * 2 ** (attempt - 1)));
    const output: BatchWriteCommandOutput = await doc.send(new BatchWriteCommand({ RequestItems: pending }));
    counts.requests++;
    const sent = pending[table]?.length ?? 0;
    pending = output.UnprocessedItems;
    const left = pending?.[table]?.length ?? 0;
    counts.written += sent - left;
    counts.unprocessedRetries += left;
  }
}

try {
  for (const file of files) {
    let header = true;
    let batch: Requests[string] = [];
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (header || line === '') {
        header = false;
        continue;
      }
      const [user, series, episode, timestamp, moddt] = line.split(',');
      counts.rows++;
      batch.push({
        PutRequest: {
          Item: {
            user: Number(user),
            series: Number(series),
            episode: Number(episode),
            timestamp: Number(timestamp),
            moddt,
          },
        },
      });
      if (batch.length === 25) {
        await writeBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await writeBatch(batch);
  }
} catch (failure) {
  error = { code: (failure as Error).name, message: (failure as Error).message };
}
client.destroy();

const durationMs = performance.now() - startedAt;
const cpu = process.cpuUsage();
process.stdout.write(
  JSON.stringify({
    ...counts,
    durationMs: Math.round(durationMs),
    rowsPerSecond: Math.round((counts.written * 1000) / durationMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    exitCode: error ? 1 : 0,
    error,
  }) + '\n',
);
process.exitCode = error ? 1 : 0;
