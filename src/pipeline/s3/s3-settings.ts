import type { S3Client } from '@aws-sdk/client-s3';

/**
 * Where this thread's S3 client connects, and the client once made. Kept apart from the SDK (a
 * type import only): every thread configures S3, and a run without S3 inputs never loads
 * `@aws-sdk/client-s3` (s3-input.ts and s3-client.ts are imported when an S3 input is met).
 */
export interface S3Settings {
  /** `--s3-endpoint` (the CLI fills it from AWS_ENDPOINT_URL_S3 too). */
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
}

export const s3State: { settings: S3Settings; client: S3Client | undefined } = {
  settings: { endpoint: undefined, region: undefined },
  client: undefined,
};

/** Sets where this thread's S3 client connects (each worker thread calls it with the run's config). */
export function configureS3(next: S3Settings): void {
  const { settings } = s3State;
  if (next.endpoint !== settings.endpoint || next.region !== settings.region) destroyS3Client();
  s3State.settings = next;
}

/** The endpoint S3 requests go to when not AWS's own: the option, else the standard variables. */
export function s3Endpoint(): string | undefined {
  return s3State.settings.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
}

export function destroyS3Client(): void {
  s3State.client?.destroy();
  s3State.client = undefined;
}
