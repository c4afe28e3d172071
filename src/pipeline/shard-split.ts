import path from 'node:path';

/** `--shard i/n`: this copy is number `index` (0-based) of `count` copies sharing one load. */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/**
 * Splits inputs into `count` shares of nearly equal bytes, whole inputs only: each input goes, the
 * largest first, to the share holding the fewest bytes so far (ties: fewer inputs, then the lower
 * share). Returns each share's input indexes in input order. Pure and deterministic, so n copies
 * given the same sorted list agree on who reads what without talking to each other.
 *
 * Whole inputs, never a file cut at a line: a cut must not fall inside a quoted field that holds
 * newlines, and only a parse from the file's start can tell where such fields are.
 */
export function splitShares(sizes: readonly number[], count: number): number[][] {
  const shares = Array.from({ length: count }, () => ({ bytes: 0, members: [] as number[] }));
  const order = sizes.map((_, i) => i).sort((a, b) => (sizes[b] as number) - (sizes[a] as number) || a - b);
  for (const input of order) {
    let best = shares[0] as (typeof shares)[number];
    for (const share of shares) {
      if (share.bytes < best.bytes || (share.bytes === best.bytes && share.members.length < best.members.length))
        best = share;
    }
    best.bytes += sizes[input] as number;
    best.members.push(input);
  }
  return shares.map((share) => share.members.sort((a, b) => a - b));
}

/** `shard-1-of-3`: carried by the checkpoint and rejects file names, so copies never share a file. */
export function shardTag(shard: ShardSpec): string {
  return `shard-${shard.index}-of-${shard.count}`;
}

/** `rejects.ndjson` -> `rejects.shard-1-of-3.ndjson` (a name the user gave, made this copy's own). */
export function withShardTag(file: string, shard: ShardSpec): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.${shardTag(shard)}${ext}`;
}

/** A whole load's write-rate cap, as one copy's part of it (never above its share, at least 1). */
export function shareOfRate(cap: number, shard: ShardSpec): number {
  return Math.max(1, Math.floor(cap / shard.count));
}
