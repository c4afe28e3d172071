import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand } from '../packages/dynamodb.js';
import { DynamoDBDocumentClient, ScanCommand } from '../packages/document-client.js';
import { createClient } from '../dynamo/client.js';
import { startLocalServer } from '../local/server.js';
import { mulberry32 } from '../random.js';
import { formatSummary, type Summary } from '../summary.js';
import { mainThreadWorks } from '../main-thread-heap.js';
import { upload } from './upload.js';

export const DEMO_TABLE = 'watch_history';

/**
 * `dynaload demo`: no AWS account needed. Generates CSV shards shaped like a split MySQL dump,
 * starts the embedded DynamoDB-compatible server, creates the table, loads the shards through the
 * same pool as `upload`, and shows a few stored items.
 */
export async function demo(options: { rows: number; shards: number; out: (text: string) => void }): Promise<Summary> {
  mainThreadWorks();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dynaload-demo-'));
  const server = await startLocalServer();
  // The embedded server accepts any credentials; these never leave this process.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const client = createClient({ region: 'us-east-1', endpoint: server.endpoint, maxSockets: 2, maxAttempts: 3 });
  try {
    const files = await writeShards(dir, options.rows, options.shards);
    options.out(`Generated ${options.rows} rows in ${files.length} shards under ${dir}\n`);
    await client.send(
      new CreateTableCommand({
        TableName: DEMO_TABLE,
        AttributeDefinitions: [
          { AttributeName: 'user', AttributeType: 'N' },
          { AttributeName: 'timestamp', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'user', KeyType: 'HASH' },
          { AttributeName: 'timestamp', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    options.out(`Created table ${DEMO_TABLE} (user:N, timestamp:N) on the embedded server at ${server.endpoint}\n`);
    const summary = await upload(files, {
      table: DEMO_TABLE,
      endpoint: server.endpoint,
      region: 'us-east-1',
      types: 'series:N,episode:N',
      rejects: path.join(dir, 'rejects.ndjson'),
    });
    options.out(`\n$ dynaload upload ${path.join(dir, '*.csv')} --table ${DEMO_TABLE} --types series:N,episode:N\n`);
    options.out(formatSummary(summary));
    const sample = await DynamoDBDocumentClient.from(client).send(new ScanCommand({ TableName: DEMO_TABLE, Limit: 3 }));
    options.out(`\nA few stored items:\n`);
    for (const item of sample.Items ?? []) options.out(`  ${JSON.stringify(item)}\n`);
    return summary;
  } finally {
    client.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Rows like `mysqldump` output cut with sed/cut and split with `split -l`: user,series,episode,timestamp,moddt. */
async function writeShards(dir: string, rows: number, shards: number): Promise<string[]> {
  const files: string[] = [];
  const perShard = Math.ceil(rows / shards);
  // Seeded, so every demo run generates the same data.
  const next = mulberry32(42);
  const random = (n: number): number => Math.floor(next() * n);
  for (let s = 0, row = 0; s < shards && row < rows; s++) {
    const lines = ['user,series,episode,timestamp,moddt'];
    for (let i = 0; i < perShard && row < rows; i++, row++) {
      const timestamp = 1_700_000_000 + row * 7;
      lines.push(
        `${100_000 + random(5_000)},${random(800)},${1 + random(24)},${timestamp},${new Date(timestamp * 1000).toISOString()}`,
      );
    }
    const file = path.join(dir, `part-${String(s).padStart(3, '0')}.csv`);
    await writeFile(file, lines.join('\n') + '\n');
    files.push(file);
  }
  return files;
}
