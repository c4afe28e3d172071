import { parse, type CsvError, type Options, type Parser } from 'csv-parse';

/** One CSV record with where it came from. `line` is 1-based, where the record starts. */
export interface CsvRecord {
  readonly kind: 'record';
  readonly line: number;
  /** Byte offset just past this record (and its line break) in the input. */
  readonly end: number;
  /** Line breaks up to `end`: where a resumed read picks up its line count. */
  readonly lines: number;
  readonly fields: string[];
}

/** A line csv-parse could not read (a stray quote, an unclosed quote, a record over the size limit). */
export interface CsvFailure {
  readonly kind: 'failure';
  readonly line: number;
  readonly end: number;
  readonly lines: number;
  readonly code: string;
  readonly message: string;
  /** The text of the line that was skipped. */
  readonly raw: string;
}

export interface ParseOptions {
  readonly delimiter: string;
  readonly escape?: string;
  /** Where the input starts in the file, when a resumed read seeks past what was done. */
  readonly start?: { readonly offset: number; readonly lines: number };
}

/** A record longer than this is refused, so an unclosed quote cannot buffer the rest of a file. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Streams CSV records with their start line and end offset, in input order.
 *
 * A broken record must not take good rows down with it: after a quote error csv-parse stays in
 * quoted mode and would swallow every following row into one failure. So on an error this rejects
 * the one physical line where the broken record starts, and parses again from the next line with a
 * fresh parser. Line numbers are counted here from the bytes, because csv-parse counts a CRLF
 * inside a quoted field as two lines.
 */
export async function* parseCsv(input: AsyncIterable<Buffer | string>, options: ParseOptions): AsyncGenerator<CsvRecord | CsvFailure> {
  for await (const records of parseCsvChunks(input, options)) yield* records;
}

/**
 * The same records, as one array per chunk read: a loader iterates them synchronously, instead of
 * paying a promise and an iterator result per record through an async generator (issue 4).
 */
export async function* parseCsvChunks(input: AsyncIterable<Buffer | string>, options: ParseOptions): AsyncGenerator<(CsvRecord | CsvFailure)[]> {
  /** Bytes from `lastEnd` to what has been read so far: at most one record plus one chunk. */
  let pending: Buffer = Buffer.alloc(0);
  let pendingStart = options.start?.offset ?? 0;
  let lastEnd = pendingStart;
  /** Line breaks before `lastEnd`. */
  let lastLine = options.start?.lines ?? 0;
  let base = pendingStart;
  let error: CsvError | undefined;
  let fatal: Error | undefined;
  const out: (CsvRecord | CsvFailure)[] = [];

  let parser: CsvCore;
  const onRecord = (fields: string[]): void => {
    if (error !== undefined) return; // parsed past an error: the next parser reads it again
    const end = base + parser.info.bytes;
    const from = lastEnd - pendingStart;
    const to = end - pendingStart;
    const line = lastLine + 1 + leadingBreaks(pending, from, to);
    lastLine += countBreaks(pending, from, to);
    lastEnd = end;
    out.push({ kind: 'record', line, end, lines: lastLine, fields });
  };

  const start = (): CsvCore => {
    error = undefined;
    const parserOptions: Options<string[], string[]> = {
      delimiter: options.delimiter,
      ...(options.escape === undefined ? {} : { escape: options.escape }),
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      max_record_size: MAX_RECORD_BYTES,
      on_skip: (e: CsvError | undefined) => {
        error ??= e ?? (new Error('unreadable record') as CsvError);
        return undefined;
      },
    };
    return csvCore(parse(parserOptions as Options));
  };

  /** After an error: reject the line where the broken record starts; parse again after it. */
  const resync = (atEof: boolean): Buffer | undefined => {
    const from = lastEnd - pendingStart;
    const skipped = leadingBlank(pending, from);
    const lineEnd = nextBreak(pending, skipped);
    if (lineEnd === -1 && !atEof) return undefined; // the rest of the line is still to come
    const stop = lineEnd === -1 ? pending.length : lineEnd;
    const line = lastLine + 1 + leadingBreaks(pending, from, pending.length);
    const reason = error as CsvError;
    out.push({
      kind: 'failure', line, end: pendingStart + stop, lines: lastLine + countBreaks(pending, from, stop),
      code: 'CSV_INVALID',
      message: `Expected a well-formed CSV record: ${reason.message.replace(/\s+$/, '')}${reason.code ? ` (${reason.code})` : ''}; the line was skipped`,
      raw: pending.toString('utf8', skipped, stop).replace(/\r?\n$|\r$/, ''),
    });
    lastLine += countBreaks(pending, from, stop);
    lastEnd = pendingStart + stop;
    base = lastEnd;
    return pending.subarray(stop);
  };

  parser = start();
  const feed = (chunk: Buffer, atEof: boolean): void => {
    let data: Buffer | undefined = chunk;
    while (data !== undefined) {
      if (data.length > 0) fatal ??= parser.parse(data, false, onRecord, ignore);
      if (atEof && error === undefined) fatal ??= parser.parse(undefined, true, onRecord, ignore);
      if (fatal) throw fatal;
      data = undefined;
      if (error !== undefined) {
        const rest = resync(atEof);
        if (rest === undefined) return; // wait for the end of the broken line
        parser = start();
        data = rest;
        if (rest.length === 0 && !atEof) return;
      }
    }
  };

  for await (const piece of input) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    // Keep the bytes from the last record's end: a resync needs them, and they count lines.
    const keepFrom = Math.min(lastEnd - pendingStart, pending.length);
    pending = keepFrom === pending.length ? chunk : Buffer.concat([pending.subarray(keepFrom), chunk]);
    pendingStart += keepFrom;
    if (error !== undefined) {
      // Still looking for the end of a broken line: the old parser is discarded, feed nothing new.
      const rest = resync(false);
      if (rest !== undefined) {
        parser = start();
        feed(rest, false);
      }
    } else {
      feed(chunk, false);
    }
    if (out.length > 0) yield out.splice(0);
  }
  if (error !== undefined) {
    const rest = resync(true) ?? Buffer.alloc(0);
    parser = start();
    feed(rest, true);
  } else {
    feed(Buffer.alloc(0), true);
  }
  if (out.length > 0) yield out.splice(0);
}

/**
 * csv-parse's synchronous core, under its stream: the same state machine the stream and the sync
 * API drive (csv-parse lib/index.js, lib/sync.js), fed chunk by chunk with a callback per record.
 * Driving it directly, rather than through `on_record`, spares an info object per record (two
 * object spreads: about 5% of the CPU of a load, issue 4). `info.bytes` is where the record just
 * pushed ends, the same figure `on_record`'s info carries.
 */
interface CsvCore {
  parse(data: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
  readonly info: { readonly bytes: number };
}

function csvCore(stream: Parser): CsvCore {
  const core = (stream as unknown as { api?: CsvCore }).api;
  // The lock pins csv-parse; this fails loudly (and every parse test with it) if a release moves it.
  if (typeof core?.parse !== 'function' || typeof core.info.bytes !== 'number') throw new Error('csv-parse: expected its parser to expose `api.parse` and `api.info`');
  return core;
}

function ignore(): void {}

/** Line breaks (LF, CRLF or a lone CR) in `buffer[from, to)`. */
export function countBreaks(buffer: Buffer, from: number, to: number): number {
  // A plain loop: records are short, and indexOf() cannot be bounded by `to`.
  let count = 0;
  for (let i = from; i < to; i++) {
    const byte = buffer[i];
    if (byte === LF || (byte === CR && buffer[i + 1] !== LF)) count++;
  }
  return count;
}

/** Line breaks in the run of blank lines at `from` (csv-parse skips empty lines before a record). */
function leadingBreaks(buffer: Buffer, from: number, to: number): number {
  return countBreaks(buffer, from, Math.min(leadingBlank(buffer, from), to));
}

function leadingBlank(buffer: Buffer, from: number): number {
  let i = from;
  while (i < buffer.length && (buffer[i] === LF || buffer[i] === CR)) i++;
  return i;
}

/** Index just past the first line break at or after `from`, or -1. */
function nextBreak(buffer: Buffer, from: number): number {
  for (let i = from; i < buffer.length; i++) {
    const byte = buffer[i];
    if (byte === LF) return i + 1;
    if (byte === CR) {
      if (i + 1 >= buffer.length) return -1; // a CRLF may be split across chunks
      return buffer[i + 1] === LF ? i + 2 : i + 1;
    }
  }
  return -1;
}
