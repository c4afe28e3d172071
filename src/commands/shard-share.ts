import type { UploadConfig } from '../config.js';
import { usageError } from '../errors.js';
import { inputBytes } from '../pipeline/input-size.js';
import { shareOfRate, splitShares, withShardTag } from '../pipeline/shard-split.js';

/** What `--shard i/n` gave this copy: the summary shows it (and `--dry-run` is how to see it first). */
export interface ShareSummary {
  readonly index: number;
  readonly count: number;
  readonly files: readonly string[];
  readonly bytes: number;
  readonly totalFiles: number;
  readonly totalBytes: number;
}

/**
 * This copy's part of the load: its inputs from the whole sorted list, 1/n of `--max-wcu` (and of
 * `--capacity-share` for `auto`), and its own checkpoint and rejects file names.
 */
export async function takeShare(
  config: UploadConfig,
): Promise<{ config: UploadConfig; share: ShareSummary | undefined }> {
  const { shard } = config;
  if (shard === undefined) return { config, share: undefined };
  if (config.inputs.includes('-')) {
    throw usageError(
      'OPTION_CONFLICT',
      'Expected files or S3 objects with `--shard`, got `-`: standard input cannot be split between copies',
      { option: '--shard' },
    );
  }
  const sizes = await Promise.all(config.inputs.map(inputBytes));
  const members = splitShares(sizes, shard.count)[shard.index] as number[];
  const files = members.map((i) => config.inputs[i] as string);
  const share: ShareSummary = {
    index: shard.index,
    count: shard.count,
    files,
    bytes: members.reduce((sum, i) => sum + (sizes[i] as number), 0),
    totalFiles: sizes.length,
    totalBytes: sizes.reduce((a, b) => a + b, 0),
  };
  return {
    share,
    config: Object.freeze({
      ...config,
      inputs: Object.freeze(files),
      // A copy with nothing to read (more copies than inputs) has nothing to resume either: the same
      // command with --resume, run on every copy, must not fail on it.
      resume: config.resume && files.length > 0,
      maxWcu: typeof config.maxWcu === 'number' ? shareOfRate(config.maxWcu, shard) : config.maxWcu,
      capacityShare: config.capacityShare / shard.count,
      checkpoint: typeof config.checkpoint === 'string' ? withShardTag(config.checkpoint, shard) : config.checkpoint,
      rejectsPath:
        config.rejectsPath !== undefined && config.rejectsPath !== '-'
          ? withShardTag(config.rejectsPath, shard)
          : config.rejectsPath,
    }),
  };
}

/** The share as the human summary shows it; a dry run lists every input it holds. */
export function formatShare(share: ShareSummary, listFiles: boolean): string {
  const head = `Shard ${share.index}/${share.count}: ${share.files.length} of ${share.totalFiles} inputs, ${share.bytes} of ${share.totalBytes} bytes\n`;
  return listFiles ? head + share.files.map((file) => `  ${file}\n`).join('') : head;
}
