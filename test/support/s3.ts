// Test helpers around s3rver: a real S3-compatible server on 127.0.0.1, a random port, files in a temp dir.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver knows one account; the CLI signs with it (s3rver does not check v4 signatures, only the key id). */
export const S3_ACCESS_KEY = 'S3RVER';

/** One request the CLI made, as the recording front saw it. */
export interface S3Request {
  readonly method: string;
  readonly url: string;
  readonly range: string | undefined;
  readonly ifMatch: string | undefined;
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`: a front that records each request, then passes it to s3rver. */
  readonly endpoint: string;
  /** Every request through `endpoint`, in order. */
  readonly requests: S3Request[];
  /** The next whole-object GET whose URL contains `match` sends `bytes` bytes of the body, then the connection is cut. */
  cutNext(match: string, bytes: number): void;
  readonly client: S3Client;
  /** Environment for a spawned CLI: s3rver's key (dynalite takes any) and AWS_ENDPOINT_URL_S3. */
  readonly env: Record<string, string>;
  createBucket(bucket: string): Promise<void>;
  put(bucket: string, key: string, body: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'dynaload-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address = (await server.run()) as AddressInfo;
  const requests: S3Request[] = [];
  let cut: { match: string; bytes: number } | undefined;
  const front = http.createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      range: req.headers.range,
      ifMatch: req.headers['if-match'],
    });
    const rule =
      req.method === 'GET' &&
      req.headers.range === undefined &&
      cut !== undefined &&
      (req.url ?? '').includes(cut.match)
        ? cut
        : undefined;
    if (rule) cut = undefined;
    const upstream = http.request(
      { host: '127.0.0.1', port: address.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (rule === undefined) {
          answer.pipe(res);
          return;
        }
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= rule.bytes) return;
          const part = chunk.subarray(0, rule.bytes - sent);
          sent += part.length;
          if (sent < rule.bytes) {
            res.write(part);
            return;
          }
          // Cut once the part is on the wire, so the client has the headers and some body: mid-object.
          answer.destroy();
          res.write(part, () => res.socket?.destroy());
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${address.port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_ACCESS_KEY },
    // The SDK's default checksum mode sends bodies with aws-chunked framing, which s3rver stores as is.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    requests,
    cutNext(match, bytes) {
      cut = { match, bytes };
    },
    client,
    env: { AWS_ACCESS_KEY_ID: S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3_ACCESS_KEY, AWS_ENDPOINT_URL_S3: endpoint },
    async createBucket(bucket) {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    async put(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async close() {
      client.destroy();
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
