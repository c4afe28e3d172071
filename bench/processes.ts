/**
 * The processes the bench starts: endpoints and clients, each in its own process so CPU and RSS are
 * measured per process and no client shares an event loop with a server. Every child is tracked and
 * killed when the runner exits, however it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { ClientReport, EndpointSpec, EndpointStats } from './protocol.js';

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every child still running; safe to call from an 'exit' handler (synchronous). */
export function killChildren(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const child of children) child.kill(signal);
}

export interface RunningEndpoint {
  readonly endpoint: string;
  /** Ends the endpoint (closes its stdin) and returns its stats; kills it if it does not exit in time. */
  stop(): Promise<EndpointStats | undefined>;
}

export async function startEndpoint(
  root: string,
  spec: EndpointSpec,
  env: NodeJS.ProcessEnv,
): Promise<RunningEndpoint> {
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'endpoint.ts'), JSON.stringify(spec)], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> });
  const first = await withTimeout(
    Promise.race([nextLine(lines), once(child, 'exit').then(() => undefined)]),
    30_000,
    undefined,
  );
  if (first === undefined) {
    child.kill('SIGKILL');
    throw new Error(
      `The ${spec.kind} endpoint did not start listening within 30 s (exit code ${String(child.exitCode)})`,
    );
  }
  const { endpoint } = JSON.parse(first) as { endpoint: string };
  return {
    endpoint,
    async stop() {
      const exited = child.exitCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined);
      const statsLine = Promise.race([nextLine(lines), exited.then(() => undefined)]);
      child.stdin?.end();
      const stats = await withTimeout(statsLine, 5_000, undefined);
      await withTimeout(exited, 3_000, undefined);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      return stats === undefined ? undefined : (JSON.parse(stats) as EndpointStats);
    },
  };
}

export interface ClientRun {
  readonly report: ClientReport | undefined;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly wallMs: number;
}

/** Runs a client process to its end (or kills it at `timeoutMs`) and parses the last JSON line it printed. */
export async function runClient(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<ClientRun> {
  const started = performance.now();
  const child = track(spawn(process.execPath, [...args], { env, stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  }, timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  const last = out.trim().split('\n').at(-1) ?? '';
  let report: ClientReport | undefined;
  try {
    report = last.startsWith('{') ? (JSON.parse(last) as ClientReport) : undefined;
  } catch {
    report = undefined;
  }
  return { report, exitCode: code, timedOut, wallMs: performance.now() - started };
}

/**
 * Transpiles bench/baseline.ts to plain JavaScript under bench/data/.build (git-ignored, and inside
 * the repository so `@aws-sdk/*` resolves), so the baseline runs without the tsx loader: loading the
 * SDK through tsx would add CPU and RSS to the baseline's figures that a user's own loader would not have.
 */
export async function buildBaseline(root: string): Promise<string> {
  const { default: ts } = await import('typescript');
  const source = await readFile(path.join(root, 'bench', 'baseline.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const out = path.join(root, 'bench', 'data', '.build', 'baseline.mjs');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, outputText);
  return out;
}

function nextLine(lines: Interface): Promise<string> {
  return once(lines, 'line').then(([line]) => line as string);
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `n` processes that loop on the CPU until stopped: a machine busy with other work, where the
 * client's answers are handled late. Returns the function that ends them.
 */
export function startBusy(n: number): () => void {
  const busy = Array.from({ length: n }, () =>
    track(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })),
  );
  return () => {
    for (const child of busy) child.kill('SIGKILL');
  };
}
