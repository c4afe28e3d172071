/**
 * The S3 scenario's source: an S3-compatible server (s3rver, in the bench process, files in a temp
 * dir) holding the same CSV shards the other scenarios read from disk, so items/s from S3 compares
 * with items/s from local files on the same endpoint.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

const BUCKET = 'bench-data';
/** s3rver's one account: it checks the key id, not the v4 signature. */
const KEY = 'S3RVER';

export interface S3Source {
  /** Environment for the CLI: the server's endpoint and key. */
  readonly env: Record<string, string>;
  /** Uploads the shards (once) and returns the s3:// glob that names exactly them. */
  put(files: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startS3Source(): Promise<S3Source> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'dynaload-bench-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: KEY, secretAccessKey: KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const uploaded = new Map<string, string>();
  return {
    env: { AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: KEY, AWS_ENDPOINT_URL_S3: endpoint },
    async put(files) {
      const [first] = files;
      // Shard names end in -part-NNNN.csv: the glob keeps their common stem.
      const glob = `s3://${BUCKET}/rows/${path.basename(first ?? '').replace(/-part-\d+\.csv$/, '-part-*.csv')}`;
      if (!uploaded.has(glob)) {
        for (const file of files)
          await client.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: `rows/${path.basename(file)}`, Body: await readFile(file) }),
          );
        uploaded.set(glob, glob);
      }
      return glob;
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
