import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { resolveBatchWriteTarget } from '../../src/dynamo/endpoint.js';

const ENV_KEYS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'AWS_USE_FIPS_ENDPOINT',
  'AWS_USE_DUALSTACK_ENDPOINT',
  'AWS_ACCOUNT_ID_ENDPOINT_MODE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_PROFILE',
];
let saved: Record<string, string | undefined> = {};
beforeEach(() => {
  saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const key of ENV_KEYS) delete process.env[key];
  // Nothing from the host's ~/.aws may steer the endpoint.
  process.env.AWS_CONFIG_FILE = '/dev/null';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
});
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

async function target(
  config: DynamoDBClientConfig,
  tables = ['t'],
): Promise<{ url: string; host: string; region: string; service: string }> {
  const client = new DynamoDBClient({ credentials, ...config });
  try {
    const resolved = await resolveBatchWriteTarget(client, tables);
    return {
      url: resolved.url.href,
      host: resolved.host,
      region: resolved.signingRegion,
      service: resolved.signingService,
    };
  } finally {
    client.destroy();
  }
}

describe('resolveBatchWriteTarget', () => {
  it('uses the regional endpoint by default', async () => {
    assert.deepEqual(await target({ region: 'eu-west-1' }), {
      url: 'https://dynamodb.eu-west-1.amazonaws.com/',
      host: 'dynamodb.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
      service: 'dynamodb',
    });
  });

  it('uses an explicit endpoint (--endpoint), keeping its port in the Host header', async () => {
    assert.deepEqual(await target({ region: 'us-east-1', endpoint: 'http://127.0.0.1:8000' }), {
      url: 'http://127.0.0.1:8000/',
      host: '127.0.0.1:8000',
      region: 'us-east-1',
      service: 'dynamodb',
    });
  });

  it('drops a default port from the Host header, as the SDK does', async () => {
    assert.equal(
      (await target({ region: 'us-east-1', endpoint: 'https://ddb.example.com:443' })).host,
      'ddb.example.com',
    );
  });

  it('honours AWS_ENDPOINT_URL_DYNAMODB', async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://localhost:4566';
    assert.equal((await target({ region: 'us-east-1' })).url, 'http://localhost:4566/');
  });

  it('prefers an explicit endpoint over AWS_ENDPOINT_URL_DYNAMODB', async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://localhost:4566';
    assert.equal((await target({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' })).url, 'http://127.0.0.1:9/');
  });

  it('honours FIPS and dual-stack settings', async () => {
    assert.equal(
      (await target({ region: 'us-east-1', useFipsEndpoint: true })).url,
      'https://dynamodb-fips.us-east-1.amazonaws.com/',
    );
    assert.equal(
      (await target({ region: 'eu-west-1', useDualstackEndpoint: true })).url,
      'https://dynamodb.eu-west-1.api.aws/',
    );
  });

  it('uses the account-based endpoint when the credentials carry an account id', async () => {
    const resolved = await target({ region: 'eu-west-1', credentials: { ...credentials, accountId: '123456789012' } });
    assert.equal(resolved.url, 'https://123456789012.ddb.eu-west-1.amazonaws.com/');
    assert.equal(resolved.region, 'eu-west-1');
  });
});
