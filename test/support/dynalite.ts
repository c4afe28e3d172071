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
import { startLocalServer, type LocalServer } from '../../src/local/server.js';

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

/** In-memory dynalite on 127.0.0.1, a random port: the embedded server `--local` uses. */
export function startDynalite(): Promise<Dynalite> {
  return startLocalServer();
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
