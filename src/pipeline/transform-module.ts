import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynaloadError, usageError } from '../errors.js';

/** What a transform gets besides the row. */
export interface TransformContext {
  /** The input file (`-` for standard input). */
  readonly file: string;
  /** 1-based line where the row starts (the header is line 1). */
  readonly line: number;
  /** The table this call produces items for. */
  readonly table: string;
}

/** An item as plain JavaScript: strings, numbers, bigints, NumberValue, booleans, null, arrays, Sets, Uint8Array, objects. */
export type TransformItem = Record<string, unknown>;
export type TransformResult = TransformItem | TransformItem[] | null | undefined;
export type TransformFunction<Row = Readonly<Record<string, string>>> = (
  row: Row,
  ctx: TransformContext,
) => TransformResult | Promise<TransformResult>;
/** Fan-out: one function per table, by table name. */
export type FanOutTransform<Row = Readonly<Record<string, string>>> = Readonly<Record<string, TransformFunction<Row>>>;
export type Transform<Row = Readonly<Record<string, string>>> = TransformFunction<Row> | FanOutTransform<Row>;

/** The transform module loaded: one function per target table. */
export type LoadedTransform = ReadonlyMap<string, TransformFunction<Readonly<Record<string, unknown>>>>;

const TYPESCRIPT = /\.(?:ts|mts|cts)$/;

interface LoadedModule {
  readonly exported: unknown;
  /** SHA-256 of the file's bytes read right after the import: what the checkpoint records. */
  readonly sha256: string;
}

/** This thread's loads by absolute path: a module is read, hashed and evaluated once per thread. */
const loads = new Map<string, Promise<LoadedModule>>();

function loadModule(file: string): Promise<LoadedModule> {
  const resolved = path.resolve(file);
  let load = loads.get(resolved);
  if (load === undefined) loads.set(resolved, (load = readAndImport(file, resolved)));
  return load;
}

async function readAndImport(file: string, resolved: string): Promise<LoadedModule> {
  const url = pathToFileURL(resolved).href;
  let module: { default?: unknown };
  let sha256: string;
  try {
    if (TYPESCRIPT.test(file)) {
      const { tsImport } = await import('tsx/esm/api');
      module = (await tsImport(url, import.meta.url)) as { default?: unknown };
    } else {
      module = (await import(url)) as { default?: unknown };
    }
    sha256 = createHash('sha256')
      .update(await readFile(resolved))
      .digest('hex');
  } catch (error) {
    throw new DynaloadError(
      'TRANSFORM_LOAD',
      `Could not load the transform ${file}: ${error instanceof Error ? error.message : String(error)}`,
      { exitCode: 2, context: { file }, cause: error },
    );
  }
  return { exported: module.default, sha256 };
}

/**
 * SHA-256 of the transform module as this thread loaded it (loading it if not yet), for the
 * checkpoint: a resume with a changed transform is refused.
 */
export async function transformHash(file: string): Promise<string> {
  return (await loadModule(file)).sha256;
}

/**
 * Loads `--transform <file>` (.mjs, .js, .cjs, or .ts through tsx) once per thread and checks its
 * default export: a function (items for `table`) or an object of functions by table name. Any other
 * shape is a usage error, found before a row is read. With `sha256` (the main thread's hash, in a
 * worker), a module whose bytes changed since is refused: every thread runs what the checkpoint names.
 */
export async function loadTransform(
  file: string,
  table: string | undefined,
  sha256?: string,
): Promise<LoadedTransform> {
  const loaded = await loadModule(file);
  if (sha256 !== undefined && loaded.sha256 !== sha256)
    throw new DynaloadError(
      'TRANSFORM_CHANGED',
      `Expected the transform ${file} to be the one the run started with (SHA-256 ${sha256}), got a file changed since (SHA-256 ${loaded.sha256})`,
      { context: { file } },
    );
  // A .ts or .cjs module compiled to CommonJS may wrap its default export once more.
  let exported = loaded.exported;
  if (
    typeof exported === 'object' &&
    exported !== null &&
    'default' in exported &&
    Object.keys(exported).length === 1
  ) {
    exported = (exported as { default: unknown }).default;
  }
  if (typeof exported === 'function') {
    if (table === undefined)
      throw usageError(
        'OPTION_REQUIRED',
        `Expected \`--table\`: the transform ${file} exports one function, so the table it writes to must be named`,
      );
    return new Map([[table, exported as TransformFunction<Readonly<Record<string, unknown>>>]]);
  }
  if (typeof exported === 'object' && exported !== null && !Array.isArray(exported)) {
    const entries = Object.entries(exported);
    const bad = entries.find(([, fn]) => typeof fn !== 'function');
    if (entries.length > 0 && bad === undefined)
      return new Map(entries as [string, TransformFunction<Readonly<Record<string, unknown>>>][]);
    if (bad)
      throw usageError(
        'TRANSFORM_SHAPE',
        `Expected every value of the default export of ${file} to be a function, got ${typeof bad[1]} for \`${bad[0]}\``,
      );
  }
  throw usageError(
    'TRANSFORM_SHAPE',
    `Expected the default export of ${file} to be a function (row, ctx) => item | item[] | null, or an object of such functions by table name, got ${exported === undefined ? 'no default export' : typeof exported}`,
  );
}
