import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isS3Url } from './s3/s3-url.js';

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Bytes read (or gunzipped) at a time: zlib's own default. Reads of 256 KB, a few thousand short
 * rows each, made runs far from the table slower and their heap larger (`npm run bench`, the
 * distance scenarios), with no gain next to it. A record longer than a read costs no more copying
 * for it (KeptBytes in parse.ts).
 */
export const READ_BYTES = 16 * 1024;

/**
 * A path or `-` as a byte stream, gunzipped when its first two bytes are gzip's magic number
 * (whatever its name says, for files and standard input alike). Concatenated gzip members, as
 * `cat a.gz b.gz` makes, are read through.
 */
export async function openInput(path: string, start = 0, onBytes?: (n: number) => void): Promise<Readable> {
  const raw =
    path === '-'
      ? process.stdin
      : isS3Url(path)
        ? (await import('./s3/s3-input.js')).s3Bytes(path, start)
        : createReadStream(path, { highWaterMark: READ_BYTES, start });
  // Peek through the async iterator rather than read()/unshift(): a short input may already have
  // ended by then, and an unshifted chunk after 'end' is lost.
  const chunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await chunks.next();
  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (first.done) return;
      onBytes?.(first.value.length);
      yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
        onBytes?.(next.value.length);
        yield next.value;
      }
    } finally {
      await chunks.return?.();
    }
  }
  const source = Readable.from(all(), { objectMode: false });
  const head = first.done ? undefined : first.value;
  if (head === undefined || head.length < 2 || head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) return source;
  const gunzip = createGunzip({ chunkSize: READ_BYTES });
  // pipeline() hands a read error to the gunzip stream (so it reaches whoever reads it) and
  // destroys the source when the reader stops early; the error itself surfaces through gunzip.
  pipeline(source, gunzip, () => undefined);
  return gunzip;
}
