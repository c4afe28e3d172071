import { S3Client } from '@aws-sdk/client-s3';
import { s3Endpoint, s3State } from './s3-settings.js';

/**
 * One S3 client per thread, made on first use. Credentials and region come from the SDK's default
 * chain, as for DynamoDB.
 */
export function s3Client(): S3Client {
  if (s3State.client !== undefined) return s3State.client;
  const { region } = s3State.settings;
  const endpoint = s3Endpoint();
  s3State.client = new S3Client({
    ...(region === undefined ? {} : { region }),
    // S3-compatible servers (MinIO, s3rver, Ceph) are addressed by path: a bucket as a host name
    // needs DNS they rarely have.
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    // A bucket in another region than the client's answers 301; follow it rather than fail.
    followRegionRedirects: true,
    // Only reads are made, and whole-object checksums cannot be checked on a ranged GET.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
  });
  return s3State.client;
}
