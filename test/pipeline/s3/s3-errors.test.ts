import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { s3Error } from '../../../src/pipeline/s3/s3-errors.js';

/** An SDK error as the S3 client throws it: a name, and the HTTP status in $metadata. */
function sdkError(name: string, status?: number): Error {
  return Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status } });
}

describe('s3Error', () => {
  const cases: [string, Error | { name: string }, 'list' | 'head' | 'get', string, RegExp][] = [
    ['NoSuchBucket', sdkError('NoSuchBucket', 404), 'list', 'S3_BUCKET_NOT_FOUND', /bucket `b` to exist/],
    [
      'a glob with no match',
      { name: 'NoMatch' },
      'list',
      'S3_NO_MATCH',
      /s3:\/\/b\/k\/\*\.csv to match at least one object in bucket `b`/,
    ],
    ['NoSuchKey', sdkError('NoSuchKey', 404), 'get', 'S3_NO_MATCH', /bucket `b`, key `k\/\*\.csv`/],
    ['a bare 404 from HeadObject', sdkError('NotFound', 404), 'head', 'S3_NO_MATCH', /found none/],
    [
      'AccessDenied on a listing',
      sdkError('AccessDenied', 403),
      'list',
      'S3_ACCESS_DENIED',
      /s3:ListBucket to be allowed.*got AccessDenied/,
    ],
    ['a bare 403 on a read', sdkError('Forbidden', 403), 'get', 'S3_ACCESS_DENIED', /s3:GetObject to be allowed/],
    ['InvalidAccessKeyId', sdkError('InvalidAccessKeyId', 403), 'list', 'S3_ACCESS_DENIED', /InvalidAccessKeyId/],
    ['anything else', sdkError('SlowDown', 503), 'get', 'S3_FAILED', /Could not read s3:\/\/b\/k\/\*\.csv.*SlowDown/],
  ];
  for (const [name, error, action, code, message] of cases) {
    it(`${name}: ${code}, exit 1, bucket and key in message and context`, () => {
      const mapped = s3Error(error, 'b', 'k/*.csv', action);
      assert.equal(mapped.code, code);
      assert.equal(mapped.exitCode, 1);
      assert.match(mapped.message, message);
      assert.deepEqual(mapped.context, { bucket: 'b', key: 'k/*.csv' });
      if (error instanceof Error) assert.equal(mapped.cause, error, 'the SDK error is kept as the cause');
    });
  }
});
