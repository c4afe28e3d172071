import { Readable } from 'node:stream';
import { transcode, type Encoding } from './encoding.js';
import { defaultDelimiter, detectFormat, type InputFormat } from './formats.js';
import type { ParseOptions } from './parse.js';
import { openInput } from './read.js';

/** How the run's options say a CSV or TSV file is read; the loader and the header check share it. */
export interface CsvReadOptions {
  readonly delimiter: string | undefined;
  readonly escape: string;
  readonly encoding: Encoding;
  readonly strictQuotes: boolean;
  readonly format: InputFormat | undefined;
}

/** An input as UTF-8 bytes, whatever `--encoding` it is in. */
export async function openDecoded(
  path: string,
  encoding: Encoding,
  start = 0,
  onBytes?: (n: number) => void,
): Promise<Readable> {
  const bytes = await openInput(path, start, onBytes);
  return encoding === 'utf-8' ? bytes : Readable.from(transcode(bytes, encoding), { objectMode: false });
}

/** How a CSV file of this name is read (TSV: tab-separated, a quote is data). */
export function csvOptions(file: string, options: CsvReadOptions): ParseOptions {
  const format = detectFormat(file, options.format);
  return {
    delimiter: defaultDelimiter(file, options.delimiter, format),
    escape: options.escape,
    quote: format !== 'tsv',
    strictQuotes: options.strictQuotes,
  };
}
