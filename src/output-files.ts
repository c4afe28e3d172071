import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { usageError } from './errors.js';

/** How the rejects file is opened: a new file, appended to (`--resume`), or replaced (`--force`). */
export type RejectsMode = 'new' | 'append' | 'replace';

export interface OutputFiles {
  /** `-` for stdout. */
  readonly rejects: string;
  readonly rejectsMode: RejectsMode;
  /** The checkpoint and the temporary file it is written through; absent when the run keeps none. */
  readonly checkpoint: { readonly file: string; readonly temporary: string } | undefined;
}

export interface OutputRequest {
  readonly inputs: readonly string[];
  readonly rejects: string;
  readonly resume: boolean;
  readonly force: boolean;
  readonly checkpoint: string | undefined;
}

/**
 * Checks the files a run writes before it reads or writes anything: none of them may be one of the
 * inputs (by real path, so a link or a `./` spelling does not hide it), an existing rejects file is
 * only appended to (`--resume`) or replaced (`--force`), and the rejects file's folder must take a
 * new file. The rejects file itself is still created on the first reject only.
 */
export async function checkOutputFiles(request: OutputRequest): Promise<OutputFiles> {
  const inputs = new Map<string, string>();
  for (const input of request.inputs) if (input !== '-') inputs.set(await realPathOf(input), input);
  const clash = async (option: string, file: string): Promise<void> => {
    const input = inputs.get(await realPathOf(file));
    if (input !== undefined) {
      throw usageError(
        'OUTPUT_IS_INPUT',
        `Expected \`${option}\` to name a file other than the inputs, got \`${file}\`, which is the input \`${input}\`: writing it would destroy the input`,
        { option, file },
      );
    }
  };
  let rejectsMode: RejectsMode = 'new';
  if (request.rejects !== '-') {
    await clash('--rejects', request.rejects);
    const existing = await stat(request.rejects).catch(() => undefined);
    if (existing?.isDirectory())
      throw usageError(
        'REJECTS_UNWRITABLE',
        `Expected \`--rejects\` to name a file, got the folder \`${request.rejects}\``,
        { option: '--rejects', file: request.rejects },
      );
    // A default name is new unless two runs start within the same millisecond: refused alike.
    if (existing !== undefined) {
      if (request.resume) rejectsMode = 'append';
      else if (request.force) rejectsMode = 'replace';
      else
        throw usageError(
          'REJECTS_EXISTS',
          `Expected \`--rejects\` to name a new file, got \`${request.rejects}\`, which exists: choose another name, pass --force to replace it, or --resume to append to it`,
          { option: '--rejects', file: request.rejects },
        );
    }
    await assertWritable(
      existing === undefined ? path.dirname(path.resolve(request.rejects)) : request.rejects,
      request.rejects,
    );
  }
  let checkpoint: OutputFiles['checkpoint'];
  if (request.checkpoint !== undefined) {
    const temporary = temporaryPath(request.checkpoint);
    await clash('--checkpoint', request.checkpoint);
    await clash('--checkpoint (its temporary file)', temporary);
    checkpoint = { file: request.checkpoint, temporary };
  }
  return { rejects: request.rejects, rejectsMode, checkpoint };
}

/** The temporary file a checkpoint is written through before it is renamed into place. */
export function temporaryPath(file: string): string {
  return `${file}.${process.pid}.tmp`;
}

/** The real path of a file, or of its folder joined with its name when the file does not exist yet. */
async function realPathOf(file: string): Promise<string> {
  const absolute = path.resolve(file);
  try {
    return await realpath(absolute);
  } catch {
    const folder = await realpath(path.dirname(absolute)).catch(() => path.dirname(absolute));
    return path.join(folder, path.basename(absolute));
  }
}

async function assertWritable(place: string, file: string): Promise<void> {
  try {
    const info = await stat(place);
    if (place !== file && !info.isDirectory())
      throw Object.assign(new Error(`${place} is not a folder`), { code: 'ENOTDIR' });
    await access(place, constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw usageError(
      'REJECTS_UNWRITABLE',
      `Expected to be able to write the rejects file \`${file}\`, got ${reason} for \`${place}\`; choose another place with --rejects`,
      { option: '--rejects', file },
    );
  }
}
