/** What identifies an input file: a changed file must not be resumed from an old mark. */
export interface FileIdentity {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** SHA-256 of the first 64 KiB (an S3 object: its ETag). */
  readonly head: string;
}
