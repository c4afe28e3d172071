import type { FileIdentity } from '../../checkpoint/file-identity.js';

/**
 * An object's checkpoint identity: bucket and key (the URL), size, and ETag in place of a file's
 * head hash (S3 changes the ETag whenever the content changes), with its LastModified time.
 */
export async function identifyS3(url: string): Promise<FileIdentity> {
  const { s3ObjectInfo } = await import('./s3-input.js');
  const info = await s3ObjectInfo(url);
  return { path: url, size: info.size, mtimeMs: info.lastModifiedMs, head: `etag:${info.etag}` };
}
