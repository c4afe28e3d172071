import { usageError } from '../errors.js';

export const FORMATS = ['csv', 'tsv', 'ndjson', 'ddb-json'] as const;
export type InputFormat = (typeof FORMATS)[number];

/**
 * The format of an input: `--format` when given, else from the name where it is unambiguous
 * (`.csv`, `.tsv`, `.ndjson`, `.jsonl`, with or without `.gz`); anything else is CSV. DynamoDB's
 * S3 export files (`.json.gz` of `{"Item": ...}` lines) need `--format ddb-json`. TSV is
 * tab-separated without quoting, as `mysqldump --tab` writes it: a `"` in it is data.
 */
export function detectFormat(path: string, option: InputFormat | undefined): InputFormat {
  if (option !== undefined) return option;
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.tsv')) return 'tsv';
  return 'csv';
}

/** A `.tsv` file (or `--format tsv`) is tab-separated unless `--delimiter` says otherwise. */
export function defaultDelimiter(path: string, option: string | undefined, format?: InputFormat): string {
  if (option !== undefined) return option;
  return format === 'tsv' || path.toLowerCase().replace(/\.gz$/, '').endsWith('.tsv') ? '\t' : ',';
}

export function parseFormat(text: string | undefined): InputFormat | undefined {
  if (text === undefined) return undefined;
  if ((FORMATS as readonly string[]).includes(text)) return text as InputFormat;
  throw usageError('OPTION_INVALID', `Expected \`--format\` to be one of ${FORMATS.join(', ')}, got \`${text}\``, {
    option: '--format',
    value: text,
  });
}
