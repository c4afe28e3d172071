import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HttpRequest } from '@smithy/types';
import { createSigner, NodeSha256, updatedClockOffset } from '../../src/dynamo/sign.js';
import { serializeBatchWrite } from '../../src/dynamo/wire.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token/with+chars=' };

function batchRequest(): HttpRequest {
  const body = serializeBatchWrite({ 'my-table': [{ PutRequest: { Item: { id: { S: 'é' }, b: { B: new Uint8Array([1, 2]) } } } }] });
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
      const ours = createSigner({ credentials: client.config.credentials, region: client.config.region, service: 'dynamodb' });
      const signingDate = new Date('2024-02-29T23:59:58Z');
      const options = { signingDate, signingRegion: 'eu-west-1', signingService: 'dynamodb' };
      const expected = (await sdkSigner.sign(batchRequest(), options)) as HttpRequest;
      const actual = await ours.sign(batchRequest(), options);
      assert.equal(actual.headers.authorization, expected.headers.authorization);
      assert.equal(actual.headers['x-amz-date'], '20240229T235958Z');
      assert.equal(actual.headers['x-amz-security-token'], credentials.sessionToken);
      assert.equal(actual.headers['x-amz-content-sha256'], expected.headers['x-amz-content-sha256']);
      assert.match(actual.headers.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240229\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/);
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

describe('NodeSha256', () => {
  it('hashes and HMACs like node:crypto, and resets', async () => {
    const hash = new NodeSha256();
    hash.update('abc');
    assert.equal(Buffer.from(await hash.digest()).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    hash.reset();
    hash.update(new Uint8Array());
    assert.equal(Buffer.from(await hash.digest()).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const hmac = new NodeSha256('key');
    hmac.update('The quick brown fox jumps over the lazy dog');
    assert.equal(Buffer.from(await hmac.digest()).toString('hex'), 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
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
