import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Spill buckets: every staged item goes to one of BUCKETS local files chosen by a hash of its key,
 * so that all the writes of one key meet in one bucket (and so in one object, where the last can
 * win), and so that any run of sorted input is spread over every object. An object is built from
 * whole buckets, read back into memory one object at a time.
 */
export const BUCKETS = 256;

/** One spilled line: `seq \t fileIndex \t line \t keyHash \t {"Item":...}`. */
export interface SpilledItem {
  readonly seq: number;
  readonly file: number;
  readonly line: number;
  readonly keyHash: string;
  readonly text: string;
}

export function hashHex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class Spill {
  bytes = 0;
  items = 0;
  private readonly streams = new Map<number, WriteStream>();

  constructor(private readonly dir: string) {}

  /** Appends an item; resolves once the bucket's stream can take more (backpressure). */
  async add(key: string, file: number, line: number, text: string): Promise<void> {
    const keyHash = hashHex(key);
    const bucket = Number.parseInt(keyHash.slice(0, 4), 16) % BUCKETS;
    let stream = this.streams.get(bucket);
    if (stream === undefined) {
      stream = createWriteStream(this.bucketPath(bucket));
      this.streams.set(bucket, stream);
    }
    this.bytes += Buffer.byteLength(text) + 1;
    if (!stream.write(`${this.items++}\t${file}\t${line}\t${keyHash.slice(0, 32)}\t${text}\n`))
      await once(stream, 'drain');
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.streams.values()].map(async (stream) => {
        stream.end();
        await once(stream, 'finish');
      }),
    );
  }

  /** The items of buckets [from, to), the last write of each key only, in a shuffled order that depends only on the content. */
  async read(from: number, to: number): Promise<{ items: SpilledItem[]; replaced: number }> {
    const latest = new Map<string, SpilledItem>();
    let total = 0;
    for (let bucket = from; bucket < to; bucket++) {
      if (!this.streams.has(bucket)) continue;
      const text = await readFile(this.bucketPath(bucket), 'utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const [seq, file, at, keyHash] = line.split('\t', 4) as [string, string, string, string];
        const item = {
          seq: Number(seq),
          file: Number(file),
          line: Number(at),
          keyHash,
          text: line.slice(seq.length + file.length + at.length + keyHash.length + 4),
        };
        total++;
        // Two rows with one key: the later row wins, as with BatchWriteItem in input order
        // (ImportTable itself keeps one of them at random).
        const prior = latest.get(keyHash);
        if (prior === undefined || prior.seq < item.seq) latest.set(keyHash, item);
      }
    }
    const items = [...latest.values()];
    // Ordered by a hash of the item: sorted input is spread over the whole object, and a rerun of
    // the same input stages the same bytes (so the same ClientToken).
    const order = new Map(items.map((item) => [item, hashHex(item.text + '\u0000' + item.keyHash)]));
    items.sort((a, b) => ((order.get(a) as string) < (order.get(b) as string) ? -1 : 1));
    return { items, replaced: total - items.length };
  }

  private bucketPath(bucket: number): string {
    return path.join(this.dir, `bucket-${bucket}.tsv`);
  }
}
