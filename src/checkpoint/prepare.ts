import path from 'node:path';
import type { UploadConfig } from '../config.js';
import { usageError } from '../errors.js';
import { isS3Url } from '../pipeline/s3/s3-url.js';
import { shardTag } from '../pipeline/shard-split.js';
import { transformHash } from '../pipeline/transform-module.js';
import { CheckpointStore, identify, planResume, readCheckpoint } from './checkpoint.js';
import { startMark, type Mark } from './low-water.js';

export const CHECKPOINT_INTERVAL_MS = 2_000;

export interface PreparedCheckpoint {
  readonly store: CheckpointStore;
  readonly starts: Map<string, Mark>;
  readonly done: string[];
  readonly previous: { rows: number; written: number; rejected: number; skipped: number };
}

/**
 * The checkpoint: every file input's identity and low-water mark, by default next to the first
 * input. With --resume, the run continues from it (after checking nothing that decides what is
 * written has changed). Standard input has no position to come back to.
 */
export async function prepareCheckpoint(
  config: UploadConfig,
  tables: readonly string[],
  file: { file: string; temporary: string } | undefined,
): Promise<PreparedCheckpoint | undefined> {
  if (file === undefined) return undefined;
  const files = config.inputs.filter((i) => i !== '-');
  const identities = new Map(await Promise.all(files.map(async (input) => [input, await identify(input)] as const)));
  const settings = await runSettings(config, tables);
  if (!config.resume) {
    return {
      store: CheckpointStore.fresh(file, settings, identities),
      starts: new Map(),
      done: [],
      previous: startMark(),
    };
  }
  const data = await readCheckpoint(file.file);
  if (data === undefined)
    throw usageError(
      'CHECKPOINT_MISSING',
      `Expected a checkpoint to resume from at ${file.file}, found none (give its place with --checkpoint)`,
      { file: file.file },
    );
  const { starts, done } = planResume(data, settings, identities, file.file);
  const store = CheckpointStore.fresh(file, settings, identities, data);
  return { store, starts, done, previous: store.totals() };
}

/**
 * Where the run keeps its checkpoint (undefined: it keeps none). A dry run keeps none and refuses
 * `--resume`: it must neither read nor write the file a real run resumes from. `delete` and `upload`
 * keep theirs apart, so a rollback never moves the marks of the load it rolls back.
 */
export function checkpointPath(config: UploadConfig, tables: readonly string[]): string | undefined {
  const files = config.inputs.filter((i) => i !== '-');
  if (config.dryRun) {
    if (config.resume)
      throw usageError(
        'OPTION_CONFLICT',
        'Expected either `--dry-run` or `--resume`, got both: a dry run neither reads nor writes the checkpoint of a real run',
        { option: '--resume' },
      );
    return undefined;
  }
  if (config.resume && config.inputs.includes('-')) {
    throw usageError(
      'STDIN_RESUME',
      'Expected files to resume, got `-`: standard input cannot be resumed (it has no position to come back to); save it to a file first',
    );
  }
  if (config.checkpoint === false || files.length === 0) {
    if (config.resume)
      throw usageError(
        'CHECKPOINT_MISSING',
        'Expected a checkpoint to resume from, but the run keeps none (`--no-checkpoint` or no file inputs)',
      );
    return undefined;
  }
  // Next to the first input; for an S3 input, in the working directory. A copy of a split load (--shard) keeps its own.
  const first = files[0] as string;
  const kind = config.kind === 'delete' ? 'delete-' : '';
  return (
    config.checkpoint ??
    path.join(
      isS3Url(first) ? '.' : path.dirname(first),
      `.dynaload-checkpoint-${kind}${tables.join('+')}${config.shard ? `.${shardTag(config.shard)}` : ''}.json`,
    )
  );
}

/** The options that decide what a row becomes: a resume must use the same. */
async function runSettings(config: UploadConfig, tables: readonly string[]): Promise<Record<string, unknown>> {
  const transform =
    config.transform === undefined
      ? undefined
      : {
          path: path.resolve(config.transform),
          // The hash of what this thread loaded (to name the tables), not of another read.
          sha256: await transformHash(config.transform),
        };
  return {
    kind: config.kind,
    tables: [...tables],
    transform,
    mapping: config.mapping,
    types: { ...config.types },
    infer: config.infer,
    format: config.format,
    header: config.header,
    columns: config.columns,
    delimiter: config.delimiter,
    escape: config.escape,
    empty: config.empty,
    // Absent at their defaults, so a checkpoint written before these options existed still resumes.
    encoding: config.encoding === 'utf-8' ? undefined : config.encoding,
    strictQuotes: config.strictQuotes || undefined,
  };
}
