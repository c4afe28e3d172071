import { isUtf8 } from 'node:buffer';
import { parse, type CsvError, type Options, type Parser } from 'csv-parse';
import { firstInvalidUtf8, locateByte, toBuffers, withoutBom } from './encoding.js';
import { keptText, LongLine, MAX_RECORD_BYTES, type KeptText } from './long-line.js';

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

/** A record that cannot be read: a stray or unclosed quote, bytes that are not UTF-8, a record over the cap. */
export interface CsvFailure extends KeptText {
  readonly kind: 'failure';
  readonly line: number;
  readonly end: number;
  readonly lines: number;
  readonly code: string;
  readonly message: string;
  /** Byte offset in the input of what broke the rule (the first byte that is not UTF-8). */
  readonly offset?: number;
}

export interface ParseOptions {
  readonly delimiter: string;
  readonly escape?: string;
  /** false: `"` is data like any other character (TSV as `mysqldump --tab` writes it). */
  readonly quote?: boolean;
  /** Refuse a quote inside an unquoted field, or text after a closing quote, instead of reading it as data. */
  readonly strictQuotes?: boolean;
  /** Where the input starts in the file, when a resumed read seeks past what was done. */
  readonly start?: { readonly offset: number; readonly lines: number };
}

export { MAX_RECORD_BYTES };

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
export async function* parseCsv(
  input: AsyncIterable<Buffer | string>,
  options: ParseOptions,
): AsyncGenerator<CsvRecord | CsvFailure> {
  for await (const records of parseCsvChunks(input, options)) yield* records;
}

/** A broken line being skipped, up to its line break (absolute offsets). */
interface Skip {
  readonly line: number;
  readonly reason: CsvError;
  /** Where to look for the line break next. */
  scanAt: number;
  /** Bytes before this are already in `long` (or, without `long`, where the line starts). */
  consumedTo: number;
  long: LongLine | undefined;
}

/**
 * The same records, as one array per chunk read: a loader iterates them synchronously, instead of
 * paying a promise and an iterator result per record through an async generator.
 */
export async function* parseCsvChunks(
  input: AsyncIterable<Buffer | string>,
  options: ParseOptions,
): AsyncGenerator<(CsvRecord | CsvFailure)[]> {
  /** Bytes from `lastEnd` (or a skipped line's `consumedTo`) to what has been read so far. */
  let pending: Buffer = Buffer.alloc(0);
  let pendingStart = options.start?.offset ?? 0;
  let lastEnd = pendingStart;
  /** Line breaks before `lastEnd`. */
  let lastLine = options.start?.lines ?? 0;
  let base = pendingStart;
  let error: CsvError | undefined;
  let fatal: Error | undefined;
  let skip: Skip | undefined;
  const utf8 = new Utf8Suspects();
  const kept = new KeptBytes();
  const out: (CsvRecord | CsvFailure)[] = [];

  let parser: CsvCore;
  const onRecord = (fields: string[]): void => {
    if (error !== undefined) return; // parsed past an error: the next parser reads it again
    const end = base + parser.info.bytes;
    const from = lastEnd - pendingStart;
    const to = end - pendingStart;
    const blank = Math.min(leadingBlank(pending, from), to);
    const line = lastLine + 1 + countBreaks(pending, from, blank);
    const breaks = countBreaks(pending, from, to);
    const broken = utf8.suspect(lastEnd, end)
      ? encodingFailure(pending.subarray(blank, to), pendingStart + blank, line, end, lastLine + breaks)
      : undefined;
    lastLine += breaks;
    lastEnd = end;
    out.push(broken ?? { kind: 'record', line, end, lines: lastLine, fields });
  };

  const start = (): CsvCore => {
    error = undefined;
    const parserOptions: Options<string[], string[]> = {
      delimiter: options.delimiter,
      ...(options.escape === undefined ? {} : { escape: options.escape }),
      ...(options.quote === false ? { quote: false } : {}),
      // Lenient as Python's csv, pandas and papaparse: `37°36'37.8"N` is data, kept as written.
      relax_quotes: options.strictQuotes !== true,
      // The byte order mark is dropped before parsing (withoutBom): a fresh parser after a broken
      // line must not take U+FEFF at the start of that line for one.
      bom: false,
      // Every line break ends a record, as Python's csv reads them and as lines are counted here.
      // csv-parse would otherwise take the first break it meets as the only one: a lone CR in the
      // header made every later LF data, and a read resumed past that header split records anew.
      record_delimiter: ['\r\n', '\n', '\r'],
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

  /**
   * After an error: reject the line where the broken record starts, and return what follows it
   * for a fresh parser, or undefined while its line break is still to come. A line past the cap
   * is not held: it streams through a LongLine, so its length costs neither quadratic time nor memory.
   */
  const resync = (atEof: boolean): Buffer | undefined => {
    if (skip === undefined) {
      const from = lastEnd - pendingStart;
      const blank = leadingBlank(pending, from);
      lastLine += countBreaks(pending, from, blank);
      lastEnd = pendingStart + blank;
      skip = { line: lastLine + 1, reason: error as CsvError, scanAt: lastEnd, consumedTo: lastEnd, long: undefined };
    }
    const found = nextBreak(pending, skip.scanAt - pendingStart);
    if (found.end === -1 && !atEof) {
      skip.scanAt = pendingStart + found.scanned;
      if (skip.long !== undefined || skip.scanAt - skip.consumedTo > MAX_RECORD_BYTES) {
        skip.long ??= new LongLine();
        skip.long.add(pending.subarray(skip.consumedTo - pendingStart, skip.scanAt - pendingStart));
        skip.consumedTo = skip.scanAt;
      }
      return undefined;
    }
    const stop = found.end === -1 ? pending.length : found.end;
    const contentEnd = found.end === -1 ? pending.length : found.content;
    const rest = pending.subarray(stop);
    const content = pending.subarray(skip.consumedTo - pendingStart, contentEnd);
    let kept: KeptText;
    if (skip.long !== undefined) {
      skip.long.add(content);
      kept = skip.long.kept();
    } else {
      kept = keptText(content);
    }
    const reason = skip.reason;
    if (found.end !== -1) lastLine++;
    lastEnd = pendingStart + stop;
    base = lastEnd;
    const tooLong = kept.length !== undefined || reason.code === 'CSV_MAX_RECORD_SIZE';
    out.push({
      kind: 'failure',
      line: skip.line,
      end: lastEnd,
      lines: lastLine,
      ...kept,
      ...(tooLong
        ? {
            code: 'RECORD_TOO_LONG',
            message: `Expected a record of at most ${MAX_RECORD_BYTES} bytes, got ${kept.length === undefined ? 'a longer one' : `a line of ${kept.length} bytes`}; the line was skipped`,
          }
        : // csv-parse counts lines from where its parser started (after the last broken line): its own
          // "at line N" would contradict `line`.
          {
            code: 'CSV_INVALID',
            message: `Expected a well-formed CSV record: ${reason.message.replace(/ at line \d+/g, '').replace(/\s+$/, '')}${reason.code ? ` (${reason.code})` : ''}; the line was skipped`,
          }),
    });
    skip = undefined;
    return rest;
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

  const bytes =
    options.start === undefined || options.start.offset === 0
      ? withoutBom(toBuffers(input), (n) => (pendingStart = lastEnd = base = n))
      : toBuffers(input);
  for await (const chunk of bytes) {
    // Keep the bytes from the last record's end: a resync needs them, and they count lines.
    const keepFrom = Math.min((skip?.consumedTo ?? lastEnd) - pendingStart, pending.length);
    pending = kept.append(pending, keepFrom, chunk);
    pendingStart += keepFrom;
    utf8.check(chunk, pendingStart + pending.length - chunk.length);
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
 * The bytes kept from the last record's end, followed by a new read. A record longer than a read
 * stays kept across many reads: each read is appended into spare room behind it, the room
 * doubling when it runs out, so such a record is copied a few times in all, not once per read (a
 * concatenation per read made a 4 MiB record read 16 KB at a time cost 512 MiB of copying).
 * Bytes once written are never written again, so views of them (what a parser keeps of a read
 * it has not finished) stay valid.
 */
export class KeptBytes {
  /** Bytes copied so far (the tests bound it). */
  copied = 0;
  /** Where the last view returned lives when it was copied here, and how much of it is written. */
  private store: Buffer | undefined;
  private written = 0;

  /** `pending` (the last view returned) from `keepFrom` on, then `chunk`. */
  append(pending: Buffer, keepFrom: number, chunk: Buffer): Buffer {
    const keep = pending.length - keepFrom;
    if (keep === 0) {
      this.store = undefined;
      return chunk;
    }
    const store = this.store;
    if (store !== undefined && this.written + chunk.length <= store.length) {
      chunk.copy(store, this.written);
      this.copied += chunk.length;
      this.written += chunk.length;
      return store.subarray(this.written - keep - chunk.length, this.written);
    }
    const size = keep + chunk.length;
    const next = Buffer.allocUnsafeSlow(2 * size);
    pending.copy(next, 0, keepFrom);
    chunk.copy(next, keep);
    this.copied += size;
    this.store = next;
    this.written = size;
    return next.subarray(0, size);
  }
}

/**
 * Which input ranges may hold bytes that are not UTF-8: each chunk is checked once, whole (a fast
 * native check), and only records overlapping a chunk that failed are checked one by one. A
 * character split across two chunks fails both checks; its records then pass their own.
 */
export class Utf8Suspects {
  private readonly ranges: [number, number][] = [];

  check(chunk: Buffer, offset: number): void {
    if (!isUtf8(chunk)) this.ranges.push([offset, offset + chunk.length]);
  }

  suspect(from: number, to: number): boolean {
    while (this.ranges.length > 0 && (this.ranges[0] as [number, number])[1] <= from) this.ranges.shift();
    const first = this.ranges[0];
    return first !== undefined && first[0] < to;
  }
}

/**
 * A record whose bytes are not all UTF-8 becomes a failure that names the first such byte, or
 * undefined when they are (a character was only split across chunks).
 */
export function encodingFailure(
  record: Buffer,
  offset: number,
  line: number,
  end: number,
  lines: number,
): CsvFailure | undefined {
  const bad = firstInvalidUtf8(record);
  if (bad === -1) return undefined;
  const at = locateByte(record, bad, line);
  const hex = (record[bad] as number).toString(16).toUpperCase().padStart(2, '0');
  return {
    kind: 'failure',
    line,
    end,
    lines,
    offset: offset + bad,
    ...keptText(trimBreak(record)),
    code: 'ENCODING_INVALID',
    message: `Expected UTF-8 text, got the byte 0x${hex} at line ${at.line}, column ${at.column} (byte offset ${offset + bad}); the row was skipped, nothing replaced. A file in another encoding needs \`--encoding\` (e.g. latin1, utf-16le)`,
  };
}

/** The record without its line break. */
function trimBreak(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (bytes[end - 1] === LF) end--;
  if (bytes[end - 1] === CR) end--;
  return bytes.subarray(0, end);
}

/**
 * csv-parse's synchronous core, under its stream: the same state machine the stream and the sync
 * API drive (csv-parse lib/index.js, lib/sync.js), fed chunk by chunk with a callback per record.
 * Driving it directly, rather than through `on_record`, spares the info object built per record
 * (two object spreads), which made parsing markedly slower. `info.bytes` is where the record just
 * pushed ends, the same figure `on_record`'s info carries. This is csv-parse's private API, so
 * package.json pins csv-parse to the exact version it was written against.
 */
interface CsvCore {
  parse(data: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
  readonly info: { readonly bytes: number };
  readonly state: { readonly field: FieldBuffer };
}

/** csv-parse's ResizeableBuffer: the bytes of the field being read, `buf[0, length)`. */
interface FieldBuffer {
  readonly buf: Buffer;
  readonly length: number;
  toString(encoding?: BufferEncoding | null): string | Uint8Array;
}

function csvCore(stream: Parser): CsvCore {
  const core = (stream as unknown as { api?: CsvCore }).api;
  // Should an upgrade of the pinned version move it, this fails loudly (and every parse test with it).
  const field = core?.state?.field;
  if (
    typeof core?.parse !== 'function' ||
    typeof core.info.bytes !== 'number' ||
    !Buffer.isBuffer(field?.buf) ||
    typeof field.length !== 'number' ||
    !Object.hasOwn(Object.getPrototypeOf(field) as object, 'toString')
  )
    throw new Error('csv-parse: expected its parser to expose `api.parse`, `api.info` and `api.state.field`');
  decodeWithoutView(field);
  return core;
}

/**
 * csv-parse decodes every field as `buf.slice(0, length).toString(encoding)`: a Buffer view made
 * and dropped per field, a large share of what a worker allocates per row, and so of its young
 * collections. `buf.toString(encoding, 0, length)` decodes the same bytes to the same text without
 * the view. Set on this parser's buffer only, not on csv-parse's prototype; without an encoding (a
 * Uint8Array copy, used to find a byte order mark) csv-parse's own method runs.
 */
function decodeWithoutView(field: FieldBuffer): void {
  const own = field.toString;
  field.toString = function (this: FieldBuffer, encoding?: BufferEncoding | null): string | Uint8Array {
    return encoding ? this.buf.toString(encoding, 0, this.length) : own.call(this, encoding);
  };
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

function leadingBlank(buffer: Buffer, from: number): number {
  let i = from;
  while (i < buffer.length && (buffer[i] === LF || buffer[i] === CR)) i++;
  return i;
}

/**
 * The first line break at or after `from`: `end` just past it and `content` where it starts, or
 * `end` -1 with `scanned`, where a later look must start (a CR at the end may be half a CRLF).
 */
function nextBreak(buffer: Buffer, from: number): { end: number; content: number; scanned: number } {
  const lf = buffer.indexOf(LF, from);
  // Look for a CR only before the LF: a search of the whole rest per broken line would add up.
  const crAt = buffer.subarray(from, lf === -1 ? buffer.length : lf).indexOf(CR);
  const cr = crAt === -1 ? -1 : from + crAt;
  if (cr !== -1) {
    if (cr + 1 >= buffer.length) return { end: -1, content: cr, scanned: cr };
    return { end: buffer[cr + 1] === LF ? cr + 2 : cr + 1, content: cr, scanned: cr };
  }
  if (lf !== -1) return { end: lf + 1, content: lf, scanned: lf };
  return { end: -1, content: buffer.length, scanned: buffer.length };
}
