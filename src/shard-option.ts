import { usageError } from './errors.js';
import type { ShardSpec } from './pipeline/shard-split.js';

/** The variable that gives `--shard auto` the count of copies where the orchestrator does not. */
export const SHARDS_TOTAL_ENV = 'DYNALOAD_SHARDS_TOTAL';

const MAX_SHARDS = 100_000;

/**
 * `--shard i/n`, or `auto`: the index from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or an
 * AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX), the count from `--shards-total`, else
 * DYNALOAD_SHARDS_TOTAL, else AWS_BATCH_JOB_ARRAY_SIZE where the orchestrator sets one.
 */
export function parseShard(
  text: string | undefined,
  total: string | number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ShardSpec | undefined {
  if (text === undefined) {
    if (total !== undefined)
      throw usageError(
        'OPTION_CONFLICT',
        'Expected `--shards-total` only with `--shard auto`, got it without `--shard`',
        { option: '--shards-total' },
      );
    return undefined;
  }
  if (text !== 'auto') {
    const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
    const index = Number(match?.[1]);
    const count = Number(match?.[2]);
    if (!match || !(count >= 1 && count <= MAX_SHARDS) || !(index < count)) {
      throw usageError(
        'OPTION_INVALID',
        `Expected \`--shard\` to be i/n with 0 <= i < n <= ${MAX_SHARDS} (0-based, e.g. 0/3), or auto, got \`${text}\``,
        { option: '--shard', value: text },
      );
    }
    if (total !== undefined)
      throw usageError(
        'OPTION_CONFLICT',
        `Expected \`--shards-total\` only with \`--shard auto\`, got it with \`--shard ${text}\``,
        { option: '--shards-total' },
      );
    return { index, count };
  }
  const [indexVar, sizeVar] =
    env.JOB_COMPLETION_INDEX !== undefined
      ? ['JOB_COMPLETION_INDEX', undefined]
      : env.AWS_BATCH_JOB_ARRAY_INDEX !== undefined
        ? ['AWS_BATCH_JOB_ARRAY_INDEX', 'AWS_BATCH_JOB_ARRAY_SIZE']
        : [undefined, undefined];
  if (indexVar === undefined) {
    throw usageError(
      'SHARD_UNKNOWN',
      'Expected `--shard auto` to find JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) in the environment, found neither: give `--shard i/n`',
      { option: '--shard' },
    );
  }
  const index = integer(env[indexVar] as string, indexVar, 0);
  const countText = total ?? env[SHARDS_TOTAL_ENV] ?? (sizeVar === undefined ? undefined : env[sizeVar]);
  if (countText === undefined) {
    throw usageError(
      'SHARD_UNKNOWN',
      `Expected the number of copies for \`--shard auto\` (${indexVar}=${index}): give \`--shards-total n\` or set ${SHARDS_TOTAL_ENV}`,
      { option: '--shards-total' },
    );
  }
  const count = integer(
    String(countText),
    total !== undefined
      ? '--shards-total'
      : env[SHARDS_TOTAL_ENV] !== undefined
        ? SHARDS_TOTAL_ENV
        : (sizeVar as string),
    1,
  );
  if (index >= count)
    throw usageError(
      'OPTION_INVALID',
      `Expected the shard index ${indexVar}=${index} to be below the number of copies, got ${count}`,
      { option: '--shard' },
    );
  return { index, count };
}

function integer(text: string, name: string, min: number): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > MAX_SHARDS) {
    throw usageError(
      'OPTION_INVALID',
      `Expected \`${name}\` to be an integer from ${min} to ${MAX_SHARDS}, got \`${text}\``,
      { option: name, value: text },
    );
  }
  return n;
}
