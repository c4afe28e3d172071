import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, HttpRequest, Provider } from '@smithy/types';
import { createSigner, NodeSha256, updatedClockOffset } from '../../src/dynamo/sign.js';
import { serializeBatchWrite } from '../../src/dynamo/wire.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'token/with+chars=',
};

function batchRequest(): HttpRequest {
  const body = serializeBatchWrite({
    'my-table': [{ PutRequest: { Item: { id: { S: 'é' }, b: { B: new Uint8Array([1, 2]) } } } }],
  });
  return {
    method: 'POST',
    protocol: 'https:',
    hostname: 'dynamodb.eu-west-1.amazonaws.com',
    path: '/',
    query: {},
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
      'content-length': String(body.length),
      host: 'dynamodb.eu-west-1.amazonaws.com',
    },
    body,
  };
}

describe('createSigner', () => {
  it("signs a BatchWriteItem exactly as the SDK client's own signer does, at the same time", async () => {
    const client = new DynamoDBClient({ region: 'eu-west-1', credentials });
    try {
      const sdkSigner = await client.config.signer();
      const ours = createSigner({
        credentials: client.config.credentials,
        region: client.config.region,
        service: 'dynamodb',
      });
      const signingDate = new Date('2024-02-29T23:59:58Z');
      const options = { signingDate, signingRegion: 'eu-west-1', signingService: 'dynamodb' };
      const expected = (await sdkSigner.sign(batchRequest(), options)) as HttpRequest;
      const actual = await ours.sign(batchRequest(), options);
      assert.equal(actual.headers.authorization, expected.headers.authorization);
      assert.equal(actual.headers['x-amz-date'], '20240229T235958Z');
      assert.equal(actual.headers['x-amz-security-token'], credentials.sessionToken);
      assert.equal(actual.headers['x-amz-content-sha256'], expected.headers['x-amz-content-sha256']);
      assert.match(
        actual.headers.authorization ?? '',
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240229\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      client.destroy();
    }
  });

  it('reproduces the signature of the GET Object example in the AWS SigV4 documentation', async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (Example: GET Object)
    const signer = createSigner({
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      region: 'us-east-1',
      service: 's3',
    });
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'examplebucket.s3.amazonaws.com',
        path: '/test.txt',
        query: {},
        headers: {
          host: 'examplebucket.s3.amazonaws.com',
          range: 'bytes=0-9',
          'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        },
      },
      { signingDate: new Date('2013-05-24T00:00:00Z') },
    );
    assert.equal(
      signed.headers.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});

/** The SDK's SignatureV4 as the old createSigner built it: the reference our signer must match byte for byte. */
function sdkSigner(
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>,
  region: string | Provider<string> = 'eu-west-1',
): SignatureV4 {
  return new SignatureV4({
    credentials,
    region,
    service: 'dynamodb',
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: true,
  });
}

function request(
  path: string,
  headers: Record<string, string>,
  body: unknown,
  query: HttpRequest['query'] = {},
): HttpRequest {
  return {
    method: 'POST',
    protocol: 'https:',
    hostname: 'dynamodb.eu-west-1.amazonaws.com',
    path,
    query,
    headers: { ...headers },
    body,
  };
}

const secrets: [string, AwsCredentialIdentity][] = [
  ['secret A with a session token', credentials],
  ['secret B without a session token', { accessKeyId: 'AKIDOTHER', secretAccessKey: 'another/secret+KEY=' }],
];
// Both sides of two UTC midnights, in signing order: the key cache must not reuse yesterday's key.
const dates = [
  '2024-02-29T23:59:58Z',
  '2024-02-29T23:59:59.999Z',
  '2024-03-01T00:00:00Z',
  '2024-03-01T00:00:00.001Z',
  '2024-12-31T23:59:59.500Z',
  '2025-01-01T00:00:00Z',
];
const regions: [string, string | undefined][] = [
  ['the signer region (eu-west-1)', undefined],
  ['us-east-1', 'us-east-1'],
];
const backing = new Uint8Array(64).map((_, i) => i * 7);
const bodies: [string, unknown][] = [
  ['an empty body', Buffer.alloc(0)],
  ['an ASCII body', Buffer.from('{"RequestItems":{"my-table":[{"PutRequest":{"Item":{"id":{"S":"1"}}}}]}}')],
  ['a multi-byte UTF-8 body', Buffer.from('{"id":{"S":"é 漢字 🙂"}}')],
  ['a binary body', Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i))],
  ['no body', undefined],
  ['a string body', 'héllo 🙂 wörld'],
  ['a Uint8Array view into a larger buffer', new Uint8Array(backing.buffer, 5, 20)],
  ['a Uint16Array', new Uint16Array([1, 0xffff, 0x1234])],
  ['an ArrayBuffer', backing.buffer.slice(3, 19)],
  ['a stream (not hashed)', Readable.from(['x'])],
];
const host = { host: 'dynamodb.eu-west-1.amazonaws.com' };
const headerSets: [string, Record<string, string>][] = [
  [
    'lowercase headers',
    {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
      'content-length': '42',
      ...host,
    },
  ],
  [
    'mixed-case header names',
    {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'DynamoDB_20120810.BatchWriteItem',
      'Content-Length': '42',
      Host: host.host,
    },
  ],
  [
    'spaces, tabs and newlines in values',
    {
      'content-type': '  application/x-amz-json-1.0 ',
      'x-amz-target': 'DynamoDB\t\t_20120810  .Batch \r\n WriteItem',
      'x-blank': ' ',
      'x-tab': '\tv\t',
      ...host,
    },
  ],
  [
    'unsignable headers',
    {
      'User-Agent': 'dynaload/1.0',
      'x-amzn-trace-id': 'Root=1-abc',
      'proxy-authorization': 'x',
      'Sec-Fetch-Mode': 'cors',
      connection: 'keep-alive',
      Expect: '100-continue',
      'transfer-encoding': 'chunked',
      'cache-control': 'no-cache',
      ...host,
    },
  ],
  [
    'stale generated headers',
    {
      Authorization: 'AWS4-HMAC-SHA256 stale',
      'X-Amz-Date': '19990101T000000Z',
      Date: 'Mon, 01 Jan 1999 00:00:00 GMT',
      'X-Amz-Security-Token': 'stale',
      ...host,
    },
  ],
  [
    'a caller-given payload hash',
    { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', 'content-type': 'application/x-amz-json-1.0', ...host },
  ],
];
const paths = [
  '/',
  '/tables/my table/ü+é',
  "/a/./b/../c/*(!)'~",
  '//double//slash//',
  '/../x/../../y',
  '/already%20escaped/%2F',
  'relative/path/',
  '',
];

interface Case {
  label: string;
  identity: AwsCredentialIdentity;
  signingDate: Date;
  signingRegion: string | undefined;
  signingService: string | undefined;
  request: () => HttpRequest;
}

// The signing context (secret, region, day) changes on every signature or two, and the four
// (secret, region) pairs of a day fill the signer's key cache, so the first signatures after midnight
// would find yesterday's keys if the cache ignored the day (or the secret, or the region). The request
// shapes rotate through the bodies, header sets and paths; signingService is left out, then given.
const cases: Case[] = [];
for (const date of dates) {
  for (const [regionLabel, signingRegion] of regions) {
    for (const [secretLabel, identity] of secrets) {
      for (let k = 0; k < 2; k += 1) {
        const n = cases.length;
        const [bodyLabel, body] = bodies[n % bodies.length] ?? ['', undefined];
        const [headersLabel, headers] = headerSets[n % headerSets.length] ?? ['', {}];
        const path = paths[n % paths.length] ?? '/';
        const signingService = k === 0 ? undefined : 'dynamodb';
        cases.push({
          label: `${date}, ${regionLabel}, service ${signingService ?? '(signer default)'}, ${secretLabel}, ${bodyLabel}, ${headersLabel}, path ${JSON.stringify(path)}`,
          identity,
          signingDate: new Date(date),
          signingRegion,
          signingService,
          request: () => request(path, headers, body),
        });
      }
    }
  }
}

describe('createSigner against the SDK SignatureV4', () => {
  let current: AwsCredentialIdentity = credentials;
  const provider = (): Promise<AwsCredentialIdentity> => Promise.resolve(current);
  const reference = sdkSigner(provider);
  // One signer for every case, so its key cache sees the alternation.
  const ours = createSigner({ credentials: provider, region: 'eu-west-1', service: 'dynamodb' });

  for (const { label, identity, signingDate, signingRegion, signingService, request: make } of cases) {
    it(label, async () => {
      current = identity;
      const options = { signingDate, signingRegion, signingService };
      const expected = await reference.sign(make(), options);
      const actual = await ours.sign(make(), options);
      assert.equal(actual.headers.authorization, expected.headers.authorization);
      assert.equal(actual.headers['x-amz-date'], expected.headers['x-amz-date']);
      assert.equal(actual.headers['x-amz-content-sha256'], expected.headers['x-amz-content-sha256']);
      assert.equal(actual.headers['x-amz-security-token'], expected.headers['x-amz-security-token']);
      assert.deepEqual(actual.headers, expected.headers);
    });
  }

  it('signs a request with a query string, or with a header named __proto__, as the SDK does', async () => {
    current = credentials;
    const options = { signingDate: new Date('2024-03-01T00:00:00Z') };
    const query = { b: ['2', '1 0'], a: 'x y*', 'X-Amz-Signature': 'dropped', empty: '' };
    const protoHeader = JSON.parse('{"__proto__": "own", "host": "dynamodb.eu-west-1.amazonaws.com"}') as Record<
      string,
      string
    >;
    for (const make of [
      () => request('/q', host, Buffer.from('{}'), query),
      () => request('/', protoHeader, Buffer.from('{}')),
    ]) {
      const expected = await reference.sign(make(), options);
      const actual = await ours.sign(make(), options);
      assert.equal(actual.headers.authorization, expected.headers.authorization);
    }
  });
});

describe('createSigner signing service', () => {
  it('signs for a signingService override and back for the default, as the SDK does', async () => {
    const reference = sdkSigner(credentials);
    const ours = createSigner({ credentials, region: 'eu-west-1', service: 'dynamodb' });
    const signingDate = new Date('2024-03-01T00:00:00Z');
    for (const signingService of ['streams.dynamodb', undefined, 'streams.dynamodb', 'dynamodb']) {
      const expected = await reference.sign(request('/', host, Buffer.from('{}')), { signingDate, signingService });
      const actual = await ours.sign(request('/', host, Buffer.from('{}')), { signingDate, signingService });
      assert.equal(actual.headers.authorization, expected.headers.authorization);
    }
  });
});

describe('createSigner credentials', () => {
  it('calls the credentials provider on every signature and signs with rotated keys', async () => {
    const rotation: AwsCredentialIdentity[] = [
      { accessKeyId: 'AKIDFIRST', secretAccessKey: 'first-secret', sessionToken: 'first-token' },
      { accessKeyId: 'AKIDFIRST', secretAccessKey: 'first-secret', sessionToken: 'first-token' },
      { accessKeyId: 'AKIDSECOND', secretAccessKey: 'second-secret', sessionToken: 'second-token' },
    ];
    let calls = 0;
    const signer = createSigner({
      credentials: () => {
        const identity = rotation[calls];
        calls += 1;
        assert.ok(identity, 'called more often than signatures');
        return Promise.resolve(identity);
      },
      region: () => Promise.resolve('eu-west-1'),
      service: 'dynamodb',
    });
    const signingDate = new Date('2024-03-01T12:00:00Z');
    for (const identity of rotation) {
      const make = (): HttpRequest =>
        request('/', { 'content-type': 'application/x-amz-json-1.0', ...host }, Buffer.from('{}'));
      const actual = await signer.sign(make(), { signingDate });
      const expected = await sdkSigner(identity, () => Promise.resolve('eu-west-1')).sign(make(), { signingDate });
      assert.equal(actual.headers.authorization, expected.headers.authorization);
      assert.equal(actual.headers['x-amz-security-token'], identity.sessionToken);
      assert.match(actual.headers.authorization ?? '', new RegExp(`Credential=${identity.accessKeyId}/`));
    }
    assert.equal(calls, rotation.length);
  });

  it('rejects resolved credentials without keys, with the SDK message', async () => {
    const signer = createSigner({
      credentials: () => Promise.resolve({} as AwsCredentialIdentity),
      region: 'eu-west-1',
      service: 'dynamodb',
    });
    await assert.rejects(signer.sign(request('/', host, undefined)), {
      message: 'Resolved credential object is not valid',
    });
  });
});

describe('NodeSha256', () => {
  it('hashes and HMACs like node:crypto, and resets', async () => {
    const hash = new NodeSha256();
    hash.update('abc');
    assert.equal(
      Buffer.from(await hash.digest()).toString('hex'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    hash.reset();
    hash.update(new Uint8Array());
    assert.equal(
      Buffer.from(await hash.digest()).toString('hex'),
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    const hmac = new NodeSha256('key');
    hmac.update('The quick brown fox jumps over the lazy dog');
    assert.equal(
      Buffer.from(await hmac.digest()).toString('hex'),
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });
});

describe('updatedClockOffset', () => {
  const now = Date.parse('2024-01-01T12:00:00Z');
  const cases: [string, string | undefined, string | undefined, number, number][] = [
    ['takes the server time minus now', 'Mon, 01 Jan 2024 13:00:00 GMT', undefined, 0, 3_600_000],
    ['corrects a past offset back to zero', 'Mon, 01 Jan 2024 12:00:00 GMT', undefined, 3_600_000, 0],
    ['keeps the offset without a Date header', undefined, undefined, 42, 42],
    ['keeps the offset for a cached answer (Age header)', 'Mon, 01 Jan 2024 13:00:00 GMT', '10', 42, 42],
    ['keeps the offset for an unparsable date', 'yesterday-ish', undefined, 42, 42],
  ];
  for (const [label, date, age, current, expected] of cases) {
    it(label, () => assert.equal(updatedClockOffset(date, age, current, now - 100, now), expected));
  }
  it('keeps the offset when the request took more than 15 minutes', () => {
    assert.equal(updatedClockOffset('Mon, 01 Jan 2024 13:00:00 GMT', undefined, 7, now - 900_001, now), 7);
  });
});
