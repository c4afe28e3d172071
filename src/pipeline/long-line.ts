import { createHash, type Hash } from 'node:crypto';
import { escapeBytes } from './encoding.js';

/** A record longer than this is refused, so an unclosed quote or a gzip bomb cannot buffer a whole file. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

/** How much of a refused long record the rejects file keeps. */
export const KEPT_CHARS = 1000;
/** Enough bytes for KEPT_CHARS characters of UTF-8 (at most 4 bytes each). */
const KEPT_BYTES = KEPT_CHARS * 4;

/** What a rejects line keeps of a record: its text, or for one past the cap its head, length and hash. */
export interface KeptText {
  readonly raw: string;
  /** Bytes in the whole record, when `raw` holds only its first KEPT_CHARS characters. */
  readonly length?: number;
  /** SHA-256 (hex) of the whole record's bytes, with `length`. */
  readonly sha256?: string;
}

/**
 * The bytes of one over-long line, taken in as they stream past: only its head, its length and a
 * running hash are kept, so skipping it costs linear time and no more memory than a chunk.
 */
export class LongLine {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private length = 0;
  private readonly hash: Hash = createHash('sha256');

  add(bytes: Buffer): void {
    this.hash.update(bytes);
    this.length += bytes.length;
    if (this.headBytes < KEPT_BYTES) {
      const part = Buffer.from(bytes.subarray(0, KEPT_BYTES - this.headBytes));
      this.head.push(part);
      this.headBytes += part.length;
    }
  }

  kept(): KeptText {
    // Cut on a character, not a byte: the head may end inside a character.
    const text = escapeBytes(Buffer.concat(this.head));
    return {
      raw: [...text.slice(0, KEPT_CHARS * 2)].slice(0, KEPT_CHARS).join(''),
      length: this.length,
      sha256: this.hash.digest('hex'),
    };
  }
}

/** A record's text for the rejects file: whole when within the cap, else as a LongLine keeps it. */
export function keptText(bytes: Buffer): KeptText {
  if (bytes.length <= MAX_RECORD_BYTES) return { raw: escapeBytes(bytes) };
  const line = new LongLine();
  line.add(bytes);
  return line.kept();
}
