// Test helpers around the embedded dynalite server: a fresh table per test, Scan, fake credentials.
import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type AttributeValue,
  type KeySchemaElement,
  type ScalarAttributeType,
} from '@aws-sdk/client-dynamodb';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { LocalServer } from '../../src/local/server.js';

export type Dynalite = LocalServer;

export type KeyType = ScalarAttributeType | 'S' | 'N' | 'B';

export interface KeySpec {
  hash: [name: string, type: KeyType];
  range?: [name: string, type: KeyType];
}

export const TEST_REGION = 'us-east-1';
const FAKE_KEY_ID = 'AKIDDYNALOADTEST';
const FAKE_SECRET = 'dynaload-test-secret';

/**
 * Environment for a spawned CLI: fake static credentials, and every AWS config path pointed at
 * /dev/null so nothing from the host (profiles, SSO, credential_process) leaks in. No AWS_PROFILE:
 * with it set, the SDK's default chain skips the environment's keys.
 */
export const FAKE_AWS_ENV: Readonly<Record<string, string>> = Object.freeze({
  AWS_ACCESS_KEY_ID: FAKE_KEY_ID,
  AWS_SECRET_ACCESS_KEY: FAKE_SECRET,
  AWS_REGION: TEST_REGION,
  AWS_DEFAULT_REGION: TEST_REGION,
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
});

/**
 * In-memory dynalite on 127.0.0.1, a random port: the embedded server `--local` uses, in a worker
 * thread. node:test's harness tracks every promise of the test's thread with async hooks (to blame
 * the right test for an error), and dynalite and its LevelDB store make several promises per item
 * they write: on the test's thread, those hooks and their garbage cost a large share of its CPU.
 */
export async function startDynalite(): Promise<Dynalite> {
  // The worker loads TypeScript through tsx's API: Node 20 does not pass the test's loader to workers.
  const script = new URL('./dynalite-thread.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); });`;
  // A young generation larger than the default: the store's garbage dies young, and scavenges cost less.
  const worker = new Worker(code, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
  const [started] = (await once(worker, 'message')) as [{ endpoint: string }];
  let closing: Promise<void> | undefined;
  return {
    endpoint: started.endpoint,
    close() {
      closing ??= (async () => {
        worker.postMessage('close');
        const [closed] = (await once(worker, 'message')) as [{ closed: boolean; error?: string }];
        await worker.terminate();
        if (!closed.closed) throw new Error(`Expected dynalite to close, got ${closed.error}`);
      })();
      return closing;
    },
  };
}

/** A client for the test itself (not the CLI): fake credentials, us-east-1. */
export function testClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: FAKE_KEY_ID, secretAccessKey: FAKE_SECRET },
  });
}

/** Creates `t_<random hex>` (PAY_PER_REQUEST), waits until ACTIVE, returns its name. */
export async function createTable(endpoint: string, key: KeySpec): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const attributes: AttributeDefinition[] = [{ AttributeName: key.hash[0], AttributeType: key.hash[1] }];
  const schema: KeySchemaElement[] = [{ AttributeName: key.hash[0], KeyType: 'HASH' }];
  if (key.range) {
    attributes.push({ AttributeName: key.range[0], AttributeType: key.range[1] });
    schema.push({ AttributeName: key.range[0], KeyType: 'RANGE' });
  }
  const client = testClient(endpoint);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: attributes,
        KeySchema: schema,
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: name });
    return name;
  } finally {
    client.destroy();
  }
}

/** Every item of the table as raw AttributeValue maps (paginated Scan, consistent read). */
export async function scanAll(endpoint: string, table: string): Promise<Record<string, AttributeValue>[]> {
  const client = testClient(endpoint);
  const items: Record<string, AttributeValue>[] = [];
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  } finally {
    client.destroy();
  }
}
