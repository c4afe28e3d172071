import { stat } from 'node:fs/promises';
import { s3ObjectInfo } from './s3/s3-input.js';
import { isS3Url } from './s3/s3-url.js';

/** An input's size as stored (compressed for gzip): a file's, or an S3 object's from its listing. */
export async function inputBytes(input: string): Promise<number> {
  return isS3Url(input) ? (await s3ObjectInfo(input)).size : (await stat(input)).size;
}
