/**
 * Shared by the end-to-end tests: one dynalite per test file, a run of the built CLI against it,
 * and comparisons of what a Scan finds.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { runCli, type RunOptions, type RunResult } from '../support/cli.js';
import { scanAll, startDynalite, TEST_REGION, type Dynalite } from '../support/dynalite.js';

export type Item = Record<string, AttributeValue>;

/** The `--json` summary (src/summary.ts). */
/** The `--json` summary: the CLI's own type, so tests and code cannot drift apart. */
export type { Summary } from '../../src/summary.js';
import type { Summary } from '../../src/summary.js';

/** One line of the rejects file. */
export interface RejectLine {
  file: string;
  line: number;
  code: string;
  message: string;
  table?: string;
  column?: string;
  row: unknown;
}

/** Starts dynalite in `before` and closes it in `after` of the calling file; read `.endpoint` inside tests. */
export function useDynalite(): { readonly endpoint: string } {
  let db: Dynalite | undefined;
  before(async () => {
    db = await startDynalite();
  });
  after(() => db?.close());
  return {
    get endpoint(): string {
      assert.ok(db, 'dynalite is not started yet');
      return db.endpoint;
    },
  };
}

/** The CLI as a user runs it (fake credentials, no AWS config from the host: see runCli). */
export function run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCli(args, opts);
}

export interface UploadRun extends RunResult {
  /** The parsed `--json` summary: stdout must be exactly one JSON line. */
  summary: Summary;
}

/**
 * `dynaload upload ...args --endpoint <endpoint> --region us-east-1 --json`, with the working
 * directory given by the caller (a temp dir, so a default rejects file never lands in the repo).
 */
export async function upload(endpoint: string, args: string[], opts: RunOptions = {}): Promise<UploadRun> {
  const result = await run(['upload', ...args, '--endpoint', endpoint, '--region', TEST_REGION, '--json'], opts);
  return { ...result, summary: parseSummary(result) };
}

/**
 * `upload` with `probe` (an ES module's source) preloaded in every thread through NODE_OPTIONS: it
 * runs before the launcher, so it sees the process as the launcher leaves it. Written to `dir`.
 */
export async function uploadWithProbe(
  endpoint: string,
  dir: string,
  probe: string,
  args: string[],
): Promise<UploadRun> {
  const file = path.join(dir, 'probe.mjs');
  await writeFile(file, probe);
  return upload(endpoint, args, { cwd: dir, env: { NODE_OPTIONS: `--import ${JSON.stringify(file)}` } });
}

export function parseSummary(result: RunResult): Summary {
  const lines = result.stdout.split('\n').filter((l) => l !== '');
  assert.equal(
    lines.length,
    1,
    `expected one JSON line on stdout, got:\n${result.stdout}\n--- stderr\n${result.stderr}`,
  );
  return JSON.parse(lines[0] as string) as Summary;
}

/** Asserts the exit code, with both streams in the message when it differs. */
export function assertExit(result: RunResult, code: number): void {
  assert.equal(
    result.code,
    code,
    `exit code ${String(result.code)} (signal ${String(result.signal)}), expected ${code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
  );
}

/** Scans the table and sorts the items by the string form of the given key attributes. */
export async function scanSorted(endpoint: string, table: string, ...keys: string[]): Promise<Item[]> {
  return sortItems(await scanAll(endpoint, table), ...keys);
}

export function sortItems(items: Item[], ...keys: string[]): Item[] {
  const keyOf = (item: Item): string => keys.map((k) => attrText(item[k])).join('\u0001');
  return [...items].sort((a, b) => compare(keyOf(a), keyOf(b)));
}

function attrText(value: AttributeValue | undefined): string {
  if (value === undefined) return '';
  if (value.N !== undefined) return value.N.padStart(40, '0');
  if (value.S !== undefined) return value.S;
  return JSON.stringify(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Scan result and expected items, compared in full (every attribute and its type). */
export async function assertTable(endpoint: string, table: string, expected: Item[], ...keys: string[]): Promise<void> {
  const actual = await scanSorted(endpoint, table, ...keys);
  assert.equal(actual.length, expected.length, `table holds ${actual.length} items, expected ${expected.length}`);
  assert.deepStrictEqual(actual, sortItems(expected, ...keys));
}

export async function readRejects(file: string): Promise<RejectLine[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RejectLine);
}

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: string | number): AttributeValue => ({ N: String(value) });

/** Each of `parts` appears in `text`, in this order (the first at the very start). */
export function assertOrder(text: string, parts: readonly string[]): void {
  assert.ok(text.startsWith(parts[0] as string), `expected the help to start with ${JSON.stringify(parts[0])}`);
  let from = 0;
  for (const part of parts) {
    const at = text.indexOf(part, from);
    assert.ok(at >= from, `expected ${JSON.stringify(part)} after position ${from}`);
    from = at + part.length;
  }
}
