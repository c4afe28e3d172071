import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { mulberry32 } from '../src/random.js';

/**
 * CSV shards shaped like a MySQL dump cut with sed/cut and split with `split -l`:
 * `user,series,episode,timestamp,moddt`, integers and ISO timestamps, a header in every shard.
 * Keys (user, timestamp) are unique. Reuses shards already generated with the same rows and shards
 * (the name says both); a shard is written under a temporary name and renamed once complete, so an
 * interrupted run leaves nothing that looks reusable.
 */
export async function generateShards(dir: string, rows: number, shards: number, itemBytes = 0): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const perShard = Math.ceil(rows / shards);
  const files: string[] = [];
  const next = mulberry32(7);
  const random = (n: number): number => Math.floor(next() * n);
  for (let s = 0, row = 0; s < shards && row < rows; s++) {
    const file = path.join(
      dir,
      `rows${rows}-of${shards}${itemBytes > 0 ? `-wide${itemBytes}` : ''}-part-${String(s).padStart(4, '0')}.csv`,
    );
    const count = Math.min(perShard, rows - row);
    files.push(file);
    const existing = await stat(file).catch(() => undefined);
    if (existing && existing.size > 0) {
      row += count;
      continue;
    }
    const partial = `${file}.partial`;
    const out = createWriteStream(partial);
    out.write(`user,series,episode,timestamp,moddt${itemBytes > 0 ? ',body' : ''}\n`);
    for (let i = 0; i < count; i++, row++) {
      const timestamp = 1_600_000_000 + row;
      const body = itemBytes > 0 ? `,${wideText(itemBytes, row)}` : '';
      const line = `${1_000_000 + random(50_000)},${random(5_000)},${1 + random(30)},${timestamp},${new Date(timestamp * 1000).toISOString()}${body}\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    await rename(partial, file);
  }
  return files;
}

/** A text cell of `bytes` ASCII letters, different for every row (no quoting needed in CSV). */
function wideText(bytes: number, row: number): string {
  const seed = (row % 26) + 1;
  const pattern = Array.from({ length: 997 }, (_, i) => String.fromCharCode(97 + ((i * seed + row) % 26))).join('');
  return pattern.repeat(Math.ceil(bytes / pattern.length)).slice(0, bytes);
}
