import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FAKE_AWS_ENV } from './dynalite.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(REPO_ROOT, 'bin', 'dynaload.js');

export interface RunOptions {
  /** Merged over the minimal environment and FAKE_AWS_ENV. */
  env?: Record<string, string>;
  /** Written to stdin; without it stdin is an already-closed pipe (never a TTY). */
  input?: string | Buffer;
  /** Kill with SIGKILL after this long; default 120 s. */
  timeoutMs?: number;
  cwd?: string;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export class CliTimeoutError extends Error {
  readonly code = 'CLI_TIMEOUT';

  constructor(
    readonly args: readonly string[],
    readonly timeoutMs: number,
    readonly result: RunResult,
  ) {
    super(
      `dynaload ${args.join(' ')} did not finish within ${timeoutMs} ms\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
    this.name = 'CliTimeoutError';
  }
}

/** Runs `node bin/dynaload.js ...args` with fake AWS credentials and nothing AWS from this process. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const env: Record<string, string> = { ...minimalEnv(), ...FAKE_AWS_ENV, ...opts.env };
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // The CLI may exit before reading all of stdin (EPIPE); that is its business, not a test failure.
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input);

  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close' (not 'exit') so stdout and stderr are complete.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = {
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (timedOut) reject(new CliTimeoutError(args, timeoutMs, result));
      else resolve(result);
    });
  });
}

function minimalEnv(): Record<string, string> {
  const env: Record<string, string> = { HOME: os.tmpdir() };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** A fresh directory under os.tmpdir(), removed by node:test `after` (the calling test, or the file at top level). */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dynaload-test-'));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a CSV file (CRLF line ends, RFC 4180 quoting where a field needs it). */
export async function writeCsv(file: string, header: string[] | null, rows: (string | number)[][]): Promise<void> {
  const lines = header ? [header, ...rows] : rows;
  await writeFile(file, lines.map((row) => row.map(csvField).join(',') + '\r\n').join(''));
}

export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
