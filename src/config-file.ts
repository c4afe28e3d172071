import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { isDynaloadError, usageError } from './errors.js';
import { jsonToAttributeValue } from './pipeline/exact-json.js';

/**
 * `--config <file>` or `.dynaloadrc.json`: any option of the command line, as JSON, so a
 * long invocation can be checked in. Keys are the options' names in camelCase (`maxWcu`) or as on
 * the command line (`max-wcu`); flags the user types win over the file (`mergeOptions`).
 */

export const DEFAULT_CONFIG_FILE = '.dynaloadrc.json';

/** An option the file may set: its commander attribute name, and what it takes. */
export interface KnownOption {
  readonly name: string;
  /** `--json`, `--infer`, `--no-header` (name `header`), `--local [dir]`: takes true or false. */
  readonly flag: boolean;
  /** Takes a value too (`--checkpoint <file>` beside `--no-checkpoint`, `--local [dir]`); default: not a flag. */
  readonly value?: boolean;
}

/** Option values as commander hands them to an action: strings and booleans. */
export type OptionValues = Record<string, string | boolean>;

export interface LoadedConfigFile {
  /** The file read (absolute), or undefined when there was none. */
  readonly path: string | undefined;
  readonly values: OptionValues;
}

export interface LoadConfigFileOptions {
  /** `--config <file>`: must exist. Absent: `.dynaloadrc.json` in `cwd`, if there is one. */
  readonly explicitPath?: string | undefined;
  readonly cwd: string;
  /** The options a file may set (see `knownOptions`); others are a usage error that lists these. */
  readonly known: readonly KnownOption[];
  /** Options naming files (`map`, `transform`, `rejects`): relative paths are taken from the config file's folder. */
  readonly pathOptions?: readonly string[];
}

/** Options that may be given as an object: `{"types": {"user": "N"}}` is `user:N`. */
const MAP_OPTIONS = new Set(['types']);

/** The options of a commander command, minus `--config` itself. */
export function knownOptions(command: Command): KnownOption[] {
  // `--checkpoint <file>` and `--no-checkpoint` are one option (`checkpoint`): a path, or false.
  const byName = new Map<string, { flag: boolean; value: boolean }>();
  for (const option of command.options) {
    const name = option.attributeName();
    if (name === 'config') continue;
    const known = byName.get(name) ?? { flag: false, value: false };
    known.flag ||= option.isBoolean() || option.negate || option.optional;
    known.value ||= option.required || option.optional;
    byName.set(name, known);
  }
  return [...byName].map(([name, known]) => ({ name, ...known }));
}

export async function loadConfigFile(options: LoadConfigFileOptions): Promise<LoadedConfigFile> {
  const file = path.resolve(options.cwd, options.explicitPath ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (options.explicitPath === undefined && code === 'ENOENT') return { path: undefined, values: {} };
    throw usageError(
      'CONFIG_NOT_FOUND',
      `Expected \`--config\` to name a readable JSON file, got \`${options.explicitPath ?? file}\` (${code ?? String(error)})`,
      { option: '--config', file },
    );
  }
  return { path: file, values: parseConfigFile(text, file, options.known, options.pathOptions ?? []) };
}

/** Validates and normalises the text of a config file (pure; `file` is only for messages and relative paths). */
export function parseConfigFile(
  text: string,
  file: string,
  known: readonly KnownOption[],
  pathOptions: readonly string[] = [],
): OptionValues {
  const source = text.replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    const offset = syntaxErrorOffset(source, (error as Error).message);
    const { line, column } = lineAndColumn(source, offset);
    // A word (`tru`, `01`) is named whole, any other character alone.
    const found = /^[\w.+-]+/.exec(source.slice(offset, offset + 40))?.[0] ?? source.charAt(offset);
    const reason = offset >= source.length ? 'the text ends too early' : `unexpected ${JSON.stringify(found)}`;
    throw usageError(
      'CONFIG_INVALID',
      `Expected ${file} to be JSON, got a syntax error at line ${line}, column ${column}: ${reason}`,
      { file, line, column },
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw usageError(
      'CONFIG_INVALID',
      `Expected ${file} to hold a JSON object of options, such as {"table": "watch_history", "max-wcu": 500}`,
      { file },
    );
  }
  const byName = new Map(known.map((option) => [option.name, option]));
  const values: OptionValues = {};
  const seen = new Map<string, string>();
  for (const [key, raw] of Object.entries(json)) {
    let name = camelCase(key);
    let value = raw;
    // `"no-header": true` is `"header": false`, as on the command line.
    if (
      !byName.has(name) &&
      /^no[A-Z]/.test(name) &&
      byName.get(lowerFirst(name.slice(2)))?.flag &&
      typeof raw === 'boolean'
    ) {
      name = lowerFirst(name.slice(2));
      value = !raw;
    }
    const option = byName.get(name);
    if (option === undefined) {
      throw usageError(
        'CONFIG_UNKNOWN_OPTION',
        `Expected the options of ${file} to be among ${known.map((o) => o.name).join(', ')}, got \`${key}\``,
        { file, option: key },
      );
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw usageError('CONFIG_INVALID', `Expected each option once in ${file}, got \`${earlier}\` and \`${key}\``, {
        file,
        option: key,
      });
    }
    seen.set(name, key);
    const normalised = normalise(value, option, key, file);
    values[name] =
      pathOptions.includes(name) && typeof normalised === 'string' && normalised !== '-'
        ? path.resolve(path.dirname(file), normalised)
        : normalised;
  }
  return values;
}

function normalise(value: unknown, option: KnownOption, key: string, file: string): string | boolean {
  const wrong = (expected: string) =>
    usageError('CONFIG_INVALID', `Expected \`${key}\` in ${file} to be ${expected}, got ${JSON.stringify(value)}`, {
      file,
      option: key,
    });
  const takesValue = option.value ?? !option.flag;
  if (option.flag && typeof value === 'boolean') return value;
  if (!takesValue) throw wrong('true or false');
  if (option.flag && typeof value !== 'string') throw wrong('true, false or a string');
  const scalar = (v: unknown): v is string | number =>
    typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
  if (scalar(value)) return String(value);
  if (Array.isArray(value) && value.length > 0 && value.every(scalar)) return value.join(',');
  if (MAP_OPTIONS.has(option.name) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length > 0 && entries.every(([, v]) => typeof v === 'string'))
      return entries.map(([k, v]) => `${k}:${String(v)}`).join(',');
    throw wrong('an object of column types, such as {"user": "N"}');
  }
  throw wrong(
    MAP_OPTIONS.has(option.name)
      ? 'a string, a list, or an object such as {"user": "N"}'
      : 'a string, a number, or a non-empty list of them',
  );
}

/** Where a value came from, as commander's `getOptionValueSource` says. */
export type OptionSource = 'cli' | 'env' | 'default' | 'implied' | 'config' | undefined;

/**
 * The file's values under what the user typed: a flag given on the command line or read from the
 * environment wins; a commander default does not (else every default would hide the file).
 */
export function mergeOptions<T extends object>(
  fromFile: OptionValues,
  fromFlags: T,
  sourceOf: (name: string) => OptionSource,
): T {
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [name, value] of Object.entries(fromFlags)) {
    const source = sourceOf(name);
    if (source === 'cli' || source === 'env' || !Object.hasOwn(fromFile, name)) merged[name] = value;
  }
  return merged as T;
}

function camelCase(key: string): string {
  return key.replace(/^-+/, '').replace(/-+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/**
 * Where JSON.parse stopped: the position its message gives (Node 20, 22 and 24 give one for most
 * errors), the end of the text when it ends too early; for "Unexpected token 'x', "..." is not valid
 * JSON", which has none, the position where the exact JSON reader of cells stops.
 */
export function syntaxErrorOffset(text: string, message: string): number {
  const position = / at position (\d+)/.exec(message);
  if (position) return Math.min(Number(position[1]), text.length);
  if (message.startsWith('Unexpected end of JSON input')) return text.length;
  try {
    jsonToAttributeValue(text);
  } catch (error) {
    const at = isDynaloadError(error) ? error.context.position : undefined;
    if (typeof at === 'number') return Math.min(at, text.length);
  }
  return 0;
}
