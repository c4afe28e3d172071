import { stat } from 'node:fs/promises';
import { isS3Url } from './s3/s3-url.js';

/** An input's size as stored (compressed for gzip): a file's, or an S3 object's from its listing. */
export async function inputBytes(input: string): Promise<number> {
  if (!isS3Url(input)) return (await stat(input)).size;
  const { s3ObjectInfo } = await import('./s3/s3-input.js');
  return (await s3ObjectInfo(input)).size;
}
