import { stat } from 'node:fs/promises';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { UploadConfig } from '../config.js';
import type { Logger } from '../log.js';
import { keyTypes, type TableSchema } from '../dynamo/schema.js';
import { usageError } from '../errors.js';
import type { KeyType } from '../type-spec.js';
import { csvOptions, openDecoded } from './csv-input.js';
import { detectFormat } from './formats.js';
import { compileTemplate, type MappingFile } from './mapping-file.js';
import { marshalValue } from './marshal.js';
import { parseCsv, type CsvFailure, type CsvRecord } from './parse.js';
import { isS3Url } from './s3/s3-url.js';
import { convertCell } from './transform.js';

/**
 * What the headers tell before any row is read. A header that lacks a key column, or names a
 * column twice, would reject every row of its file one by one (or drop a column silently); found
 * here, it stops the run before the first write with one message, or (`--skip-bad-files`) leaves
 * that file unread. Transform modules are code: what they need of the columns cannot be known.
 */
export interface ColumnTarget {
  /** Every target table (one for a plain load). */
  readonly schemas: readonly TableSchema[];
  readonly mapping: MappingFile | undefined;
  readonly transform: boolean;
}

/** The problems of one file's column names for the plan, as sentences; empty when it is fine. */
export function columnProblems(columns: readonly string[], target: ColumnTarget): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const name of columns) (seen.has(name) ? twice : seen).add(name);
  if (twice.size > 0)
    problems.push(
      `columns named more than once: ${[...twice].map((c) => `\`${c}\``).join(', ')} (each cell would overwrite the one before it)`,
    );
  if (seen.has(''))
    problems.push(`an empty column name at position ${columns.indexOf('') + 1} (its cells cannot be named)`);
  if (target.transform) return problems;
  for (const schema of target.schemas) {
    const keys = [schema.hash, ...(schema.range ? [schema.range] : [])];
    const rules = target.mapping?.[schema.table];
    if (target.mapping !== undefined && rules === undefined) continue;
    const missing = keys
      .filter((k) => (rules === undefined ? !columns.includes(k.name) : !mapped(k.name, rules, columns)))
      .map((k) => `\`${k.name}\``);
    if (missing.length > 0)
      problems.push(
        `table \`${schema.table}\` needs key attribute${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which no column${rules ? ', rename or set' : ''} gives`,
      );
    const absent = Object.entries(rules?.set ?? {}).flatMap(([name, value]) =>
      typeof value !== 'string'
        ? []
        : compileTemplate(value, () => [] as never).flatMap((p) =>
            typeof p === 'string' || columns.includes(p.column) ? [] : [`\`${p.column}\` (used by set.${name})`],
          ),
    );
    if (absent.length > 0)
      problems.push(
        `table \`${schema.table}\`: the mapping uses column${absent.length > 1 ? 's' : ''} ${absent.join(', ')}, which the file lacks`,
      );
  }
  return problems;
}

/** Whether a mapping gives attribute `name`: by `set` (a constant or a template), or by copying a column. */
function mapped(name: string, rules: NonNullable<MappingFile[string]>, columns: readonly string[]): boolean {
  if (rules.set && Object.hasOwn(rules.set, name)) return true;
  return columns.some(
    (c) =>
      (rules.only === undefined || rules.only.includes(c)) &&
      !(rules.drop ?? []).includes(c) &&
      (rules.rename?.[c] ?? c) === name,
  );
}

/**
 * Key types declared for the run (`--types` for an index key, a mapping's `types`, a mapping's
 * constant for a key) must be the table's: one usage error before reading, not one reject per row.
 */
export function checkDeclaredKeyTypes(
  config: Pick<UploadConfig, 'types' | 'mapping' | 'transform'>,
  schemas: readonly TableSchema[],
): void {
  if (config.transform) return;
  if (config.mapping === undefined) {
    const [schema] = schemas as [TableSchema];
    for (const key of schema.indexKeys ?? []) {
      const declared = Object.hasOwn(config.types, key.name) ? config.types[key.name] : undefined;
      if (declared !== undefined && declared !== key.type) {
        throw usageError(
          'TYPES_KEY_MISMATCH',
          `Expected \`--types\` to give \`${key.name}\` (key of index ${key.indexes.join(', ')} of table \`${schema.table}\`) its type ${key.type}, got ${declared}`,
          { column: key.name },
        );
      }
    }
    return;
  }
  for (const schema of schemas) {
    const rules = config.mapping[schema.table];
    if (rules === undefined) continue;
    for (const [name, type] of Object.entries(keyTypes(schema))) {
      const declared = rules.types && Object.hasOwn(rules.types, name) ? rules.types[name] : undefined;
      const what = `\`${name}\` (${keyRole(schema, name)} of table \`${schema.table}\`)`;
      if (declared !== undefined && declared !== type) {
        throw usageError(
          'MAP_KEY_TYPE',
          `Expected the mapping's \`types\` to give ${what} the table's type ${type}, got ${declared}`,
          { column: name, table: schema.table },
        );
      }
      const constant = rules.set && Object.hasOwn(rules.set, name) ? rules.set[name] : undefined;
      if (constant === undefined) continue;
      const fail = (found: string): never => {
        throw usageError(
          'MAP_KEY_TYPE',
          `Expected the mapping's \`set.${name}\` to give ${what} a value of type ${type}, got ${found}`,
          { column: name, table: schema.table },
        );
      };
      if (typeof constant !== 'string') {
        const found = typeOfConstant(marshalValue(constant, name, 1) as AttributeValue);
        if (found !== type) fail(`a constant of type ${found}`);
        continue;
      }
      // A template without a column is a constant too: one that cannot be of the key's type never will.
      const parts = compileTemplate(constant, () => [] as never);
      if (parts.every((p) => typeof p === 'string')) {
        try {
          convertCell(type, parts.join(''));
        } catch (error) {
          fail(`\`${constant}\` (${(error as Error).message})`);
        }
      }
    }
  }
}

function keyRole(schema: TableSchema, name: string): string {
  if (name === schema.hash.name) return 'partition key';
  if (name === schema.range?.name) return 'sort key';
  const index = schema.indexKeys?.find((k) => k.name === name);
  return `key of index ${index?.indexes.join(', ') ?? '?'}`;
}

function typeOfConstant(value: AttributeValue): KeyType | string {
  return Object.keys(value).find((t) => (value as unknown as Record<string, unknown>)[t] !== undefined) ?? '?';
}

export interface PreflightOptions {
  /** `--skip-bad-files`: a bad file is left unread instead of stopping the run. */
  readonly skipBadFiles: boolean;
  readonly log: Pick<Logger, 'warn'>;
  /** One line per file checked, for `--dry-run`. */
  readonly say?: (line: string) => void;
}

/**
 * Reads the first record of every local CSV input (gunzipped by content) and checks it against
 * the plan. Files that cannot be opened, JSON inputs, rejects files and standard input are left to
 * the run (standard input is checked when its header arrives). Without `--skip-bad-files` any bad
 * file is a usage error naming every one; with it, returns the files to leave unread.
 */
export async function preflight(
  config: UploadConfig,
  schemas: readonly TableSchema[],
  options: PreflightOptions,
): Promise<string[]> {
  const target: ColumnTarget = { schemas, mapping: config.mapping, transform: config.transform !== undefined };
  const files = config.inputs.filter(
    (f) => f !== '-' && !config.replay.includes(f) && ['csv', 'tsv'].includes(detectFormat(f, config.format)),
  );
  const results = new Map<string, string[] | undefined>();
  // A few at a time: a run of thousands of shards opens each for one record, not all at once.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++] as string;
      results.set(file, await checkFile(file, config, target));
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  const bad: { file: string; problems: string[] }[] = [];
  for (const file of files) {
    const problems = results.get(file);
    if (problems === undefined) continue;
    options.say?.(`header check ${file}: ${problems.length === 0 ? 'ok' : problems.join('; ')}`);
    if (problems.length > 0) bad.push({ file, problems });
  }
  if (bad.length > 0 && !options.skipBadFiles) {
    const list = bad.map((b) => `${b.file}: ${b.problems.join('; ')}`).join('\n  ');
    throw usageError(
      'HEADER_MISMATCH',
      `Expected every input's columns to give what the plan needs, but ${bad.length} of ${files.length} file${files.length > 1 ? 's do' : ' does'} not (nothing was written; \`--skip-bad-files\` loads the others):\n  ${list}`,
      { file: bad[0]?.file, files: bad.length },
    );
  }
  for (const { file, problems } of bad)
    options.log.warn({ file, problems }, 'not read (--skip-bad-files): its columns cannot give what the plan needs');
  return bad.map((b) => b.file);
}

/** The problems of one file, or undefined when it is not checked here (unreadable, not a plain file). */
async function checkFile(file: string, config: UploadConfig, target: ColumnTarget): Promise<string[] | undefined> {
  try {
    // An S3 object is checked by its first bytes too (a ranged read ends when the first record does).
    if (!isS3Url(file) && !(await stat(file)).isFile()) return undefined;
    const first = await firstRecord(file, config);
    if (first === undefined) return [];
    if (first.kind === 'failure') return config.header ? [`its header line cannot be read (${first.message})`] : [];
    if (config.columns !== undefined && first.fields.length !== config.columns.length) {
      const what = config.header ? 'its header has' : 'its first record has';
      return [
        `${what} ${first.fields.length} columns, \`--columns\` names ${config.columns.length} (${config.columns.join(',')})`,
      ];
    }
    return config.header || config.columns !== undefined ? columnProblems(config.columns ?? first.fields, target) : [];
  } catch {
    // The run reports a file it cannot read, as it does for every input.
    return undefined;
  }
}

async function firstRecord(file: string, config: UploadConfig): Promise<CsvRecord | CsvFailure | undefined> {
  const input = await openDecoded(file, config.encoding);
  try {
    for await (const record of parseCsv(input, csvOptions(file, config))) return record;
    return undefined;
  } finally {
    input.destroy();
  }
}

/** The check of a header as it arrives during the run (standard input): a usage error when it fails. */
export function checkArrivingHeader(columns: readonly string[], file: string, target: ColumnTarget): void {
  const problems = columnProblems(columns, target);
  if (problems.length > 0) {
    throw usageError(
      'HEADER_MISMATCH',
      `Expected the columns of ${file === '-' ? 'standard input' : file} to give what the plan needs, got ${columns.join(',')}: ${problems.join('; ')}`,
      { file },
    );
  }
}
