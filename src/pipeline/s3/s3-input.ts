import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { s3Client } from './s3-client.js';
import { s3Error } from './s3-errors.js';
import { isKeyGlob, keyMatcher, listPrefix, parseS3Url, s3Url } from './s3-url.js';

/** What identifies an object for the checkpoint: a changed object must not be resumed from an old mark. */
export interface S3ObjectInfo {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModifiedMs: number;
}

/** Objects seen by this thread's listings, by URL: the split and the checkpoint need no HEAD of their own. */
const known = new Map<string, S3ObjectInfo>();

/** Reads of one object that may fail mid-body and be continued by a ranged GET, before the run fails. */
const MAX_REREADS = 3;

/**
 * An `s3://bucket/key` argument as the objects it names: the object itself, or for a key glob
 * every object listed under the glob's literal prefix whose key matches, sorted as local globs are.
 * A missing bucket, a glob that matches nothing, or denied access fail here, before any write.
 */
export async function expandS3(arg: string): Promise<string[]> {
  const { bucket, key } = parseS3Url(arg);
  if (!isKeyGlob(key)) return [s3Url(bucket, (await s3ObjectInfo(arg)).key)];
  const matcher = keyMatcher(key);
  const prefix = listPrefix(key);
  // A glob with no `/` after its prefix matches keys at one level only: S3 can leave out the ones
  // below it (a `*.csv` at the top of a bucket of millions of keys lists only the top level).
  const delimiter = key.slice(prefix.length).includes('/') ? {} : { Delimiter: '/' };
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client()
      .send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...delimiter,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      )
      .catch((error: unknown) => {
        throw s3Error(error, bucket, key, 'list');
      });
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined || !matcher.test(object.Key)) continue;
      const url = s3Url(bucket, object.Key);
      known.set(url, {
        bucket,
        key: object.Key,
        size: object.Size ?? 0,
        etag: object.ETag ?? '',
        lastModifiedMs: object.LastModified?.getTime() ?? 0,
      });
      urls.push(url);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  if (urls.length === 0) throw s3Error({ name: 'NoMatch' }, bucket, key, 'list');
  return urls.sort();
}

/** Size, ETag and modification time of one object: from a listing when there was one, else HeadObject. */
export async function s3ObjectInfo(url: string): Promise<S3ObjectInfo> {
  const seen = known.get(url);
  if (seen !== undefined) return seen;
  const { bucket, key } = parseS3Url(url);
  const head = await s3Client()
    .send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    .catch(async (error: unknown) => {
      // HEAD answers a bare 404 for a missing bucket and a missing key alike: a listing tells which.
      const bucketMissing = await s3Client()
        .send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }))
        .then(
          () => false,
          (e: unknown) => (e as { name?: string }).name === 'NoSuchBucket',
        );
      throw s3Error(bucketMissing ? { name: 'NoSuchBucket' } : error, bucket, key, 'head');
    });
  const info = {
    bucket,
    key,
    size: head.ContentLength ?? 0,
    etag: head.ETag ?? '',
    lastModifiedMs: head.LastModified?.getTime() ?? 0,
  };
  known.set(url, info);
  return info;
}

/**
 * The bytes of an object from `start` on (a ranged GET when resuming). A connection that breaks
 * mid-body is continued from the next byte by another ranged GET, pinned with If-Match to the ETag
 * of the first answer so that a replaced object is never stitched onto the old one.
 */
export async function* s3Bytes(url: string, start = 0): AsyncGenerator<Buffer> {
  const { bucket, key } = parseS3Url(url);
  let offset = start;
  let etag: string | undefined;
  for (let failures = 0; ;) {
    let answer: GetObjectCommandOutput;
    try {
      answer = await s3Client().send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
          ...(etag ? { IfMatch: etag } : {}),
        }),
      );
    } catch (error) {
      // A resume whose mark is at the very end of the object: nothing is left to read.
      if (offset > 0 && (error as { name?: string }).name === 'InvalidRange') return;
      throw s3Error(error, bucket, key, 'get');
    }
    etag ??= answer.ETag;
    const body = answer.Body as Readable | undefined;
    if (body === undefined) return;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        offset += chunk.length;
        yield chunk;
      }
      return;
    } catch (error) {
      if (++failures > MAX_REREADS) throw s3Error(error, bucket, key, 'get');
    } finally {
      body.destroy();
    }
  }
}

/** True when the object starts with gzip's magic number (found by content, as for files). */
export async function s3IsGzip(url: string): Promise<boolean> {
  const { bucket, key } = parseS3Url(url);
  const answer = await s3Client()
    .send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-1' }))
    .catch((error: unknown) => {
      if ((error as { name?: string }).name === 'InvalidRange') return undefined; // an empty object
      throw s3Error(error, bucket, key, 'get');
    });
  const head = answer?.Body === undefined ? new Uint8Array() : await answer.Body.transformToByteArray();
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}
