import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { DynaloadError } from './errors.js';
import type { RejectsMode } from './output-files.js';

/** One line of the rejects file. */
export interface RejectRecord {
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly message: string;
  readonly table?: string;
  readonly column?: string;
  /** The row as read: an object by column name, or the raw cells when they could not be named. */
  readonly row: Record<string, string> | string[] | string | null;
  /** Byte offset in the input of what broke the rule (ENCODING_INVALID). */
  readonly offset?: number;
  /** A record past the cap keeps only its first characters in `row`: its whole length in bytes, and SHA-256. */
  readonly length?: number;
  readonly sha256?: string;
}

/** Rejects hold row data: only the user may read them. */
const FILE_MODE = 0o600;
const FLAGS: Record<RejectsMode, string> = { new: 'wx', append: 'a', replace: 'w' };

/**
 * The rejects file: one JSON line per rejected row, `{file, line, code, message, row}` (plus `table`
 * and `column` where they apply). Opened on the first reject only, so a clean run leaves no file.
 * `-` streams them to stdout (for `jq`); the summary then goes to stderr.
 */
export class RejectsFile {
  readonly path: string;
  private stream: WriteStream | undefined;
  private error: Error | undefined;
  count = 0;

  /** True when the file was there before this run (a resume appends to it). */
  readonly existed: boolean;

  /** `mode` comes from checkOutputFiles: an existing file is never truncated unless asked (`--force`). */
  constructor(
    path: string,
    private readonly mode: RejectsMode = 'new',
  ) {
    this.path = path;
    this.existed = mode === 'append';
  }

  /** Rejects go to stdout: the result stream then carries them, and nothing else. */
  get toStdout(): boolean {
    return this.path === '-';
  }

  /** `written`: called once the line is written (or failed to be: the error is reported at `close`). */
  write(reject: RejectRecord, written?: () => void): void {
    if (this.toStdout) {
      this.count++;
      process.stdout.write(JSON.stringify(reject) + '\n', () => written?.());
      return;
    }
    if (this.stream === undefined) {
      this.stream = createWriteStream(this.path, { flags: FLAGS[this.mode], mode: FILE_MODE });
      this.stream.on('error', (error) => (this.error ??= error));
    }
    this.count++;
    this.stream.write(JSON.stringify(reject) + '\n', () => written?.());
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (stream === undefined) return;
    if (!stream.destroyed) {
      stream.end();
      await once(stream, 'close');
    }
    if (this.error) {
      // A reject that could not be recorded breaks the promise that every row is accounted for.
      throw new DynaloadError(
        'REJECTS_WRITE_FAILED',
        `Could not write the rejects file ${this.path}: ${this.error.message}`,
        { context: { file: this.path }, cause: this.error },
      );
    }
  }
}

/**
 * In the working directory, named by table and start time; a dry run's have a name of their own, so
 * a dry run never writes a file a real run uses.
 */
export function defaultRejectsPath(table: string, startedAt: Date, dryRun = false): string {
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  return `dynaload-${dryRun ? 'dry-run-' : ''}rejects-${table}-${stamp}.ndjson`;
}
