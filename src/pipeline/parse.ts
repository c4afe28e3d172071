import { pipeline, type Readable } from 'node:stream';
import { parse, type CsvError, type Options } from 'csv-parse';

/** One CSV record with where it came from. `line` is 1-based, where the record starts. */
export interface CsvRecord {
  readonly kind: 'record';
  readonly line: number;
  /** Byte offset just past this record (and its line break) in the input. */
  readonly end: number;
  readonly fields: string[];
}

/** A record csv-parse could not read (an unclosed quote, a record over the size limit, ...). */
export interface CsvFailure {
  readonly kind: 'failure';
  readonly line: number;
  readonly code: string;
  readonly message: string;
  readonly raw: string | undefined;
}

export interface ParseOptions {
  readonly delimiter: string;
}

/** A record longer than this is refused, so an unclosed quote cannot buffer the rest of a file. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

/**
 * Streams CSV records with their start line and end offset. Broken records become failures (and
 * the parse goes on), never an exception that ends the file.
 */
export async function* parseCsv(input: Readable, parseOptions: ParseOptions): AsyncGenerator<CsvRecord | CsvFailure> {
  let previousLines = 0;
  let previousEmpty = 0;
  const failures: CsvFailure[] = [];
  const options: Options<CsvRecord, string[]> = {
    delimiter: parseOptions.delimiter,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_BYTES,
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      const lines = typeof error?.lines === 'number' ? error.lines : previousLines + 1;
      failures.push({
        kind: 'failure',
        line: Math.min(previousLines + 1, lines),
        code: 'CSV_INVALID',
        message: `Expected a well-formed CSV record: ${error?.message ?? 'unreadable record'}${error?.code ? ` (${error.code})` : ''}`,
        raw,
      });
      previousLines = lines;
      return undefined;
    },
    on_record: (fields: string[], context): CsvRecord => {
      const line = previousLines + 1 + (context.empty_lines - previousEmpty);
      previousLines = context.lines;
      previousEmpty = context.empty_lines;
      return { kind: 'record', line, end: context.bytes, fields };
    },
  };
  // csv-parse's typings only let `on_record` change the record type together with `columns`.
  const parser = parse(options as unknown as Options);
  // pipeline() forwards a read error to the parser (ending the loop below with it) and destroys
  // the input when the loop stops early; the error itself surfaces through the iterator.
  pipeline(input, parser, () => undefined);
  for await (const record of parser as AsyncIterable<CsvRecord>) {
    if (failures.length > 0) yield* failures.splice(0);
    yield record;
  }
  if (failures.length > 0) yield* failures.splice(0);
}
