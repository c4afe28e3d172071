import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';

/**
 * CSV shards shaped like a MySQL dump cut with sed/cut and split with `split -l`:
 * `user,series,episode,timestamp,moddt`, integers and ISO timestamps, a header in every shard.
 * Keys (user, timestamp) are unique. Reuses shards already generated with the same rows and shards
 * (the name says both); a shard is written under a temporary name and renamed once complete, so an
 * interrupted run leaves nothing that looks reusable.
 */
export async function generateShards(dir: string, rows: number, shards: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const perShard = Math.ceil(rows / shards);
  const files: string[] = [];
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  for (let s = 0, row = 0; s < shards && row < rows; s++) {
    const file = path.join(dir, `rows${rows}-of${shards}-part-${String(s).padStart(4, '0')}.csv`);
    const count = Math.min(perShard, rows - row);
    files.push(file);
    const existing = await stat(file).catch(() => undefined);
    if (existing && existing.size > 0) {
      row += count;
      continue;
    }
    const partial = `${file}.partial`;
    const out = createWriteStream(partial);
    out.write('user,series,episode,timestamp,moddt\n');
    for (let i = 0; i < count; i++, row++) {
      const timestamp = 1_600_000_000 + row;
      const line = `${1_000_000 + random(50_000)},${random(5_000)},${1 + random(30)},${timestamp},${new Date(timestamp * 1000).toISOString()}\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    await rename(partial, file);
  }
  return files;
}
