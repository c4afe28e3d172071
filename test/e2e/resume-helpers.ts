/**
 * Shared by the stop/crash/resume end-to-end tests: a CLI run that can be signalled
 * mid-run, shard files whose rows are known by key, and readers for the checkpoint file.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BIN, REPO_ROOT, type RunResult } from '../support/cli.js';
import { FAKE_AWS_ENV, scanAll, TEST_REGION } from '../support/dynalite.js';
import { mulberry32 } from '../support/fault-proxy.js';
import { parseSummary, type Summary as BaseSummary } from './helpers.js';

/** The `--json` summary with the fields the stop, crash and resume tests read. */
export interface Summary extends BaseSummary {
  skipped: number;
  checkpointFile: string | null;
  previous: { rows: number; written: number; rejected: number; skipped: number } | null;
  stopped: string | null;
  resumeCommand: string | null;
}

export type { Mark as CheckpointMark } from '../../src/checkpoint/low-water.js';
import type { Mark as CheckpointMark } from '../../src/checkpoint/low-water.js';

export interface CheckpointFile {
  version: number;
  settings: Record<string, unknown>;
  updatedAt: string;
  files: Record<
    string,
    { identity: { path: string; size: number; mtimeMs: number; head: string }; mark: CheckpointMark; complete: boolean }
  >;
}

/** A CLI run the test can signal; `done` resolves on 'close' (both streams complete). */
export interface LiveRun {
  readonly child: ChildProcessWithoutNullStreams;
  readonly done: Promise<RunResult>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** `node bin/dynaload.js upload ...args --endpoint E --region R --json`, not awaited. */
export function spawnUpload(
  endpoint: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 120_000,
  extraEnv: Record<string, string> = {},
): LiveRun {
  return spawnCli(
    ['upload', ...args, '--endpoint', endpoint, '--region', TEST_REGION, '--json'],
    cwd,
    timeoutMs,
    extraEnv,
  );
}

export function spawnCli(
  args: readonly string[],
  cwd: string,
  timeoutMs = 120_000,
  extraEnv: Record<string, string> = {},
): LiveRun {
  const env: Record<string, string> = { HOME: os.tmpdir(), ...FAKE_AWS_ENV, ...extraEnv };
  for (const name of ['PATH', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: cwd || REPO_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end();
  const done = new Promise<RunResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
  return { child, done, stderr: () => Buffer.concat(err).toString('utf8') };
}

export function summaryOf(result: RunResult): Summary {
  return parseSummary(result) as Summary;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 25 ms until it returns a value (or `timeoutMs` passes: then fails with `what`). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** The checkpoint as JSON, or undefined when absent; fails when present but not valid JSON. */
export async function readCheckpointFile(file: string): Promise<CheckpointFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as CheckpointFile;
  } catch (error) {
    assert.fail(`the checkpoint ${file} is not valid JSON (${(error as Error).message}):\n${text.slice(0, 500)}`);
  }
}

/** Rows below the marks of every file (settled by the runs so far). */
export function markedRows(data: CheckpointFile): number {
  return Object.values(data.files).reduce((sum, f) => sum + f.mark.rows, 0);
}

/** One data row of a shard: its key, version and where it ends in the file. */
export interface ShardRow {
  readonly id: string;
  readonly v: number;
  readonly note: string;
  /** Byte offset just past the row's line break. */
  readonly end: number;
}

export interface Shard {
  readonly file: string;
  readonly rows: ShardRow[];
}

/**
 * `shards` CSV files of `id,v,note` (LF line ends). Ids are unique across shards; within a shard
 * about `duplicates` of the rows repeat a key of one of the previous `reach` rows, with a higher
 * `v` (the row number), so the last row of a key wins.
 */
export async function writeShards(
  dir: string,
  opts: { rows: number; shards: number; duplicates: number; reach: number; seed: number; prefix?: string },
): Promise<Shard[]> {
  const random = mulberry32(opts.seed);
  const per = Math.ceil(opts.rows / opts.shards);
  const shards: Shard[] = [];
  for (let s = 0; s < opts.shards; s++) {
    const header = 'id,v,note\n';
    const lines: string[] = [header];
    let offset = Buffer.byteLength(header);
    const rows: ShardRow[] = [];
    const count = Math.min(per, opts.rows - s * per);
    for (let j = 0; j < count; j++) {
      // Uniform over the last `reach` rows: no key is hit again and again (a hot key is another test).
      const earlier =
        rows.length > 0 && random() < opts.duplicates
          ? rows[rows.length - 1 - Math.floor(random() * Math.min(opts.reach, rows.length))]
          : undefined;
      const id = earlier?.id ?? `${opts.prefix ?? 'k'}${s}-${String(j).padStart(6, '0')}`;
      const v = s * per + j;
      const note = `s${s}r${j}`;
      const line = `${id},${v},${note}\n`;
      offset += Buffer.byteLength(line);
      lines.push(line);
      rows.push({ id, v, note, end: offset });
    }
    const file = path.join(dir, `shard-${s}.csv`);
    await writeFile(file, lines.join(''));
    shards.push({ file, rows });
  }
  return shards;
}

/** The last write of every key: what the table must hold when the load is done. */
export function expectedItems(shards: readonly Shard[]): Map<string, { v: number; note: string }> {
  const expected = new Map<string, { v: number; note: string }>();
  for (const shard of shards) for (const row of shard.rows) expected.set(row.id, { v: row.v, note: row.note });
  return expected;
}

/** The table as id -> { v, note }. */
export async function tableState(endpoint: string, table: string): Promise<Map<string, { v: number; note: string }>> {
  const state = new Map<string, { v: number; note: string }>();
  for (const item of await scanAll(endpoint, table)) {
    state.set(item.id?.S as string, { v: Number(item.v?.N), note: item.note?.S as string });
  }
  return state;
}

/** Asserts the table holds exactly the last write of every key. */
export async function assertLastWriteWins(endpoint: string, table: string, shards: readonly Shard[]): Promise<void> {
  const expected = expectedItems(shards);
  const actual = await tableState(endpoint, table);
  const missing = [...expected.keys()].filter((id) => !actual.has(id));
  assert.equal(
    missing.length,
    0,
    `${missing.length} keys missing from the table, e.g. ${missing.slice(0, 5).join(' ')}`,
  );
  assert.equal(actual.size, expected.size, `table holds ${actual.size} items, expected ${expected.size}`);
  const stale = [...expected].filter(
    ([id, want]) => actual.get(id)?.v !== want.v || actual.get(id)?.note !== want.note,
  );
  assert.equal(
    stale.length,
    0,
    `${stale.length} keys hold an older write, e.g. ${stale
      .slice(0, 3)
      .map(([id, want]) => `${id}: v ${actual.get(id)?.v}, expected ${want.v}`)
      .join('; ')}`,
  );
}

/**
 * Checkpoint honesty: for every file, each row below its mark is in the table (at its version or a
 * later one of the same key), and the mark's offset is the end of its last row. Returns the rows checked.
 */
export async function assertMarksHonest(
  endpoint: string,
  table: string,
  data: CheckpointFile,
  shards: readonly Shard[],
): Promise<number> {
  const actual = await tableState(endpoint, table);
  let checked = 0;
  for (const shard of shards) {
    const state = data.files[path.resolve(shard.file)];
    assert.ok(state, `the checkpoint names ${shard.file}`);
    const { mark } = state;
    assert.ok(
      mark.rows <= shard.rows.length,
      `${shard.file}: mark at ${mark.rows} rows, the file has ${shard.rows.length}`,
    );
    if (mark.rows > 0)
      assert.equal(
        mark.offset,
        shard.rows[mark.rows - 1]?.end,
        `${shard.file}: the mark's offset is the end of row ${mark.rows}`,
      );
    assert.equal(mark.written + mark.rejected + mark.skipped, mark.rows, `${shard.file}: the mark's outcomes add up`);
    const lost: string[] = [];
    for (const row of shard.rows.slice(0, mark.rows)) {
      const held = actual.get(row.id);
      if (held === undefined || held.v < row.v)
        lost.push(`${row.id} v${row.v} (table: ${held ? `v${held.v}` : 'absent'})`);
      checked++;
    }
    assert.equal(
      lost.length,
      0,
      `${shard.file}: ${lost.length} rows below the mark (${mark.rows} rows) are not in the table, e.g. ${lost.slice(0, 5).join(', ')}`,
    );
  }
  return checked;
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
