import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynaloadError } from '../errors.js';
import { s3Client } from '../pipeline/s3/s3-client.js';
import { s3Error } from '../pipeline/s3/s3-errors.js';
import { s3Url } from '../pipeline/s3/s3-url.js';
import { BUCKETS, hashHex, type Spill } from './spill.js';

/** Where staged objects go: `--stage s3://bucket/prefix/`. */
export interface StageLocation {
  readonly bucket: string;
  /** Ends with `/` (or is empty). */
  readonly prefix: string;
}

export interface StagedObject {
  /** Name under the import's key prefix. */
  readonly name: string;
  readonly items: number;
  /** Uncompressed bytes: what ImportTable bills. */
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly file: string;
}

export interface StagedTable {
  readonly table: string;
  readonly objects: readonly StagedObject[];
  /** Distinct keys staged (the items the table should hold after the import). */
  readonly items: number;
  /** Items replaced by a later row with the same key (not staged). */
  readonly replaced: number;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** ImportTable's ClientToken: a digest of the table's parameters and the staged bytes. */
  readonly clientToken: string;
  /** S3KeyPrefix of the import: the stage prefix, the table, the token. */
  readonly keyPrefix: string;
  /** The local index from (object, line) to (input file, line). */
  readonly indexFile: string;
}

/**
 * Builds a table's objects from its spill: buckets grouped into objects of between half of
 * `objectBytes` and `objectBytes` (uncompressed; more only past BUCKETS objects), each object's
 * items shuffled, gzip'd into `workDir`, with the index lines.
 * Nothing is uploaded yet: the token (and so the key prefix) depends on every object's content.
 */
export async function buildObjects(
  table: string,
  spill: Spill,
  files: readonly string[],
  parameters: unknown,
  stage: StageLocation,
  workDir: string,
  indexDir: string,
  objectBytes: number,
): Promise<StagedTable> {
  // A power of two, so every object holds the same number of buckets (so about the same bytes).
  const wanted = Math.min(BUCKETS, Math.ceil(spill.bytes / objectBytes));
  let count = 1;
  while (count < wanted) count *= 2;
  const objects: StagedObject[] = [];
  const digest = createHash('sha256').update(JSON.stringify({ table, parameters, stage }));
  const indexBody = path.join(workDir, 'index.body');
  const index = createWriteStream(indexBody);
  let items = 0;
  let replaced = 0;
  for (let j = 0; j < count; j++) {
    const range = await spill.read(Math.floor((j * BUCKETS) / count), Math.floor(((j + 1) * BUCKETS) / count));
    if (range.items.length === 0) continue;
    const name = `data-${String(objects.length).padStart(5, '0')}.json.gz`;
    const body = Buffer.from(range.items.map((i) => i.text + '\n').join(''), 'utf8');
    const gzip = gzipSync(body);
    const file = path.join(workDir, name);
    await writeFile(file, gzip);
    digest.update(name).update(hashHex(body.toString('utf8')));
    // One index line per staged line, in the object's order: "object line" is its position here.
    if (!index.write(`@${name}\n${range.items.map((i) => `${i.file}\t${i.line}\n`).join('')}`))
      await once(index, 'drain');
    objects.push({ name, items: range.items.length, bytes: body.length, gzipBytes: gzip.length, file });
    items += range.items.length;
    replaced += range.replaced;
  }
  index.end();
  await once(index, 'finish');
  const hex = digest.digest('hex');
  const clientToken = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  const keyPrefix = `${stage.prefix}${table}/${clientToken}/`;
  const indexFile = path.resolve(indexDir, `dynaload-import-${table}-${clientToken}.index`);
  const header = JSON.stringify({ table, bucket: stage.bucket, keyPrefix, clientToken, files });
  await writeFile(indexFile, header + '\n');
  await pipeline(createReadStream(indexBody), createWriteStream(indexFile, { flags: 'a' }));
  return {
    table,
    objects,
    items,
    replaced,
    clientToken,
    keyPrefix,
    indexFile,
    bytes: objects.reduce((sum, o) => sum + o.bytes, 0),
    gzipBytes: objects.reduce((sum, o) => sum + o.gzipBytes, 0),
  };
}

/** PutObject of every staged object (a rerun puts the same bytes under the same keys). */
export async function uploadObjects(staged: StagedTable, stage: StageLocation): Promise<void> {
  const client = s3Client();
  for (const object of staged.objects) {
    const key = staged.keyPrefix + object.name;
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: stage.bucket,
          Key: key,
          Body: await readFile(object.file),
          ContentType: 'application/json',
          ContentEncoding: 'gzip',
        }),
      );
    } catch (error) {
      const mapped = s3Error(error, stage.bucket, key, 'get');
      if (mapped.code !== 'S3_ACCESS_DENIED')
        throw new DynaloadError(
          mapped.code === 'S3_FAILED' ? 'STAGE_FAILED' : mapped.code,
          mapped.message.replace('Could not read', 'Could not stage'),
          { context: mapped.context, cause: error },
        );
      throw new DynaloadError(
        'S3_ACCESS_DENIED',
        `Expected s3:PutObject to be allowed on ${s3Url(stage.bucket, key)} (the --stage prefix), got access denied: check the credentials and the bucket policy`,
        { context: { bucket: stage.bucket, key }, cause: error },
      );
    }
  }
}

/** The index read back: for each object name, the (file, line) of each of its lines. */
export interface StageIndex {
  readonly files: readonly string[];
  readonly keyPrefix: string;
  readonly objects: ReadonlyMap<string, readonly (readonly [number, number])[]>;
}

export async function readIndex(indexFile: string): Promise<StageIndex> {
  const lines = (await readFile(indexFile, 'utf8')).split('\n');
  const header = JSON.parse(lines[0] as string) as { files: string[]; keyPrefix: string };
  const objects = new Map<string, [number, number][]>();
  let current: [number, number][] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith('@')) objects.set(line.slice(1), (current = []));
    else {
      const tab = line.indexOf('\t');
      current.push([Number(line.slice(0, tab)), Number(line.slice(tab + 1))]);
    }
  }
  return { files: header.files, keyPrefix: header.keyPrefix, objects };
}
