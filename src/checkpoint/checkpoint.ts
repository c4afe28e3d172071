import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DynaloadError, usageError } from '../errors.js';
import type { FileIdentity } from './file-identity.js';
import { identifyS3 } from '../pipeline/s3/s3-identity.js';
import { isS3Url } from '../pipeline/s3/s3-url.js';
import { startMark, type FileProgress, type Mark } from './low-water.js';

export type { FileIdentity } from './file-identity.js';

export interface FileState {
  readonly identity: FileIdentity;
  mark: Mark;
  complete: boolean;
}

/**
 * The checkpoint file: no rows, no credentials, only positions. `settings` are the options that
 * decide what gets written; a resume with other settings is refused.
 */
export interface CheckpointData {
  readonly version: 1;
  readonly settings: Readonly<Record<string, unknown>>;
  updatedAt: string;
  readonly files: Record<string, FileState>;
}

const HEAD_BYTES = 64 * 1024;

export async function identify(file: string): Promise<FileIdentity> {
  if (isS3Url(file)) return identifyS3(file);
  const info = await stat(file);
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    return {
      path: path.resolve(file),
      size: info.size,
      mtimeMs: info.mtimeMs,
      head: createHash('sha256').update(buffer.subarray(0, bytesRead)).digest('hex'),
    };
  } finally {
    await handle.close();
  }
}

export async function readCheckpoint(file: string): Promise<CheckpointData | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const data = JSON.parse(text) as CheckpointData;
    if (data.version !== 1 || typeof data.files !== 'object') throw new Error('not a dynaload checkpoint (version 1)');
    return data;
  } catch (error) {
    throw usageError(
      'CHECKPOINT_INVALID',
      `Expected a dynaload checkpoint in ${file}, got unreadable content: ${(error as Error).message}`,
      { file },
    );
  }
}

/**
 * Checks that a resume matches the run that wrote the checkpoint: same settings, same files.
 * Returns where each input starts (complete files are left out of `pending`).
 */
export function planResume(
  data: CheckpointData,
  settings: Readonly<Record<string, unknown>>,
  identities: ReadonlyMap<string, FileIdentity>,
  source: string,
): { starts: Map<string, Mark>; done: string[] } {
  const differing = Object.keys({ ...data.settings, ...settings }).filter(
    (k) => JSON.stringify(data.settings[k]) !== JSON.stringify(settings[k]),
  );
  if (differing.length > 0) {
    const show = (v: unknown): string => (v === undefined ? 'unset' : JSON.stringify(v));
    const details = differing.map((k) => `${k}: was ${show(data.settings[k])}, now ${show(settings[k])}`).join('; ');
    throw usageError(
      'CHECKPOINT_MISMATCH',
      `Expected the same options as the run that wrote ${source}, got different ones (${details}); run without --resume to start over`,
      { file: source },
    );
  }
  const starts = new Map<string, Mark>();
  const done: string[] = [];
  for (const [input, identity] of identities) {
    const state = data.files[identity.path];
    if (state === undefined) continue;
    const was = state.identity;
    if (was.size !== identity.size || was.mtimeMs !== identity.mtimeMs || was.head !== identity.head) {
      throw usageError(
        'CHECKPOINT_INPUT_CHANGED',
        `Expected ${input} unchanged since the checkpoint (size ${was.size}, modified ${new Date(was.mtimeMs).toISOString()}), got size ${identity.size}, modified ${new Date(identity.mtimeMs).toISOString()}: it cannot be resumed from its old position; run without --resume to start over`,
        { file: input },
      );
    }
    if (state.complete) done.push(input);
    else starts.set(input, { ...state.mark });
  }
  return { starts, done };
}

/** Keeps the checkpoint in memory and rewrites the file atomically (write, fsync, rename). */
export class CheckpointStore {
  private dirty = true;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    readonly file: string,
    private readonly temporary: string,
    private readonly data: CheckpointData,
    private readonly byInput: ReadonlyMap<string, string>,
  ) {}

  static fresh(
    file: { file: string; temporary: string },
    settings: Readonly<Record<string, unknown>>,
    identities: ReadonlyMap<string, FileIdentity>,
    previous?: CheckpointData,
  ): CheckpointStore {
    const files: Record<string, FileState> = {};
    const byInput = new Map<string, string>();
    for (const [input, identity] of identities) {
      byInput.set(input, identity.path);
      const old = previous?.files[identity.path];
      files[identity.path] = old
        ? { identity, mark: { ...old.mark }, complete: old.complete }
        : { identity, mark: startMark(), complete: false };
    }
    return new CheckpointStore(
      file.file,
      file.temporary,
      { version: 1, settings, updatedAt: new Date().toISOString(), files },
      byInput,
    );
  }

  /** Rows settled by earlier runs (below the marks this run starts from). */
  totals(): Mark {
    const sum = startMark();
    for (const state of Object.values(this.data.files)) {
      for (const k of ['rows', 'written', 'rejected', 'skipped'] as const) sum[k] += state.mark[k];
    }
    return sum;
  }

  update(progress: FileProgress): void {
    const key = this.byInput.get(progress.path);
    const state = key === undefined ? undefined : this.data.files[key];
    if (state === undefined) return;
    state.mark = { ...progress.mark };
    state.complete = progress.complete;
    this.dirty = true;
  }

  /** Writes the first version now, so an unwritable place is found before any row is read. */
  async init(): Promise<void> {
    this.dirty = true;
    await this.flush();
    if (this.failure) {
      throw usageError(
        'CHECKPOINT_WRITE_FAILED',
        `Expected to write the checkpoint at ${this.file}, got ${this.failure.message}; choose another place with --checkpoint, or --no-checkpoint`,
        { file: this.file },
      );
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.dirty = true;
    await this.flush();
    if (this.failure) {
      throw new DynaloadError(
        'CHECKPOINT_WRITE_FAILED',
        `Could not write the checkpoint ${this.file}: ${this.failure.message}`,
        { context: { file: this.file }, cause: this.failure },
      );
    }
  }

  flush(): Promise<void> {
    if (!this.dirty) return this.writing;
    this.dirty = false;
    this.data.updatedAt = new Date().toISOString();
    const text = JSON.stringify(this.data, null, 1) + '\n';
    this.writing = this.writing
      .then(() => writeAtomically(this.file, this.temporary, text))
      .catch((error: Error) => {
        this.failure = error;
      });
    return this.writing;
  }
}

/**
 * The checkpoint holds paths of the user's files: only the user may read it. The temporary file is
 * created anew (never an existing file, never through a link someone left in its place).
 */
const FILE_MODE = 0o600;
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

async function writeAtomically(file: string, temporary: string, text: string): Promise<void> {
  const handle = await open(temporary, CREATE_NEW, FILE_MODE);
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    // Only the file this call created is removed (it was opened O_EXCL).
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
