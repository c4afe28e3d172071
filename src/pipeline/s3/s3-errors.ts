import { DynaloadError } from '../../errors.js';
import { s3Url } from './s3-url.js';

type Action = 'list' | 'head' | 'get';

const DENIED = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'AllAccessDisabled',
]);

/**
 * An S3 failure as a run failure (exit 1) naming the bucket and key, with a code scripts can
 * match: S3_BUCKET_NOT_FOUND, S3_NO_MATCH (no object, or a glob that matched none),
 * S3_ACCESS_DENIED, else S3_FAILED. The SDK's error is kept as the cause.
 */
export function s3Error(error: unknown, bucket: string, key: string, action: Action): DynaloadError {
  const name = (error as { name?: string }).name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const where = s3Url(bucket, key);
  const context = { bucket, key };
  const options = { context, exitCode: 1, ...(error instanceof Error ? { cause: error } : {}) };
  if (name === 'NoSuchBucket') {
    return new DynaloadError(
      'S3_BUCKET_NOT_FOUND',
      `Expected the S3 bucket \`${bucket}\` to exist (for ${where}), got NoSuchBucket`,
      options,
    );
  }
  if (name === 'NoMatch') {
    return new DynaloadError(
      'S3_NO_MATCH',
      `Expected ${where} to match at least one object in bucket \`${bucket}\`, got none`,
      options,
    );
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return new DynaloadError(
      'S3_NO_MATCH',
      `Expected an object at ${where} (bucket \`${bucket}\`, key \`${key}\`), found none`,
      options,
    );
  }
  if (DENIED.has(name) || status === 403) {
    const api = action === 'list' ? 's3:ListBucket' : 's3:GetObject';
    return new DynaloadError(
      'S3_ACCESS_DENIED',
      `Expected ${api} to be allowed on ${where} (bucket \`${bucket}\`, key \`${key}\`), got ${name || 'HTTP 403'}: check the credentials and the bucket policy`,
      options,
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new DynaloadError(
    'S3_FAILED',
    `Could not ${action === 'list' ? 'list' : 'read'} ${where} (bucket \`${bucket}\`, key \`${key}\`): ${name ? `${name}: ` : ''}${detail}`,
    options,
  );
}
