import { S3Client } from '@aws-sdk/client-s3';

export interface S3Settings {
  /** `--s3-endpoint` (the CLI fills it from AWS_ENDPOINT_URL_S3 too). */
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
}

let settings: S3Settings = { endpoint: undefined, region: undefined };
let client: S3Client | undefined;

/** Sets where this thread's S3 client connects (each worker thread calls it with the run's config). */
export function configureS3(next: S3Settings): void {
  if (client !== undefined && (next.endpoint !== settings.endpoint || next.region !== settings.region)) {
    client.destroy();
    client = undefined;
  }
  settings = next;
}

/** The endpoint S3 requests go to when not AWS's own: the option, else the standard variables. */
export function s3Endpoint(): string | undefined {
  return settings.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
}

/**
 * One S3 client per thread, made on first use (a run without S3 inputs never loads it). Credentials
 * and region come from the SDK's default chain, as for DynamoDB.
 */
export function s3Client(): S3Client {
  if (client !== undefined) return client;
  const endpoint = s3Endpoint();
  client = new S3Client({
    ...(settings.region === undefined ? {} : { region: settings.region }),
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
  return client;
}

export function destroyS3Client(): void {
  client?.destroy();
  client = undefined;
}
