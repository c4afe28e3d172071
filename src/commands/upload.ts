import path from 'node:path';
import { CHECKPOINT_INTERVAL_MS, prepareCheckpoint, type PreparedCheckpoint } from '../checkpoint/prepare.js';
import type { RawUploadOptions, UploadConfig } from '../config.js';
import { EXIT, type DynaloadError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { inputBytes } from '../pipeline/input-size.js';
import type { WriteKind } from '../pipeline/item-check.js';
import { transformHash } from '../pipeline/transform-module.js';
import { startPool, type PoolResult } from '../pool/pool.js';
import { onStopSignals, resumeCommand } from '../pool/stop-signals.js';
import { createProgress } from '../progress.js';
import { startWriteRate, type WriteRate } from '../rate/policy.js';
import { RejectsFile } from '../rejects.js';
import { buildSummary, type Summary } from '../summary.js';
import { resolveRun } from './run-options.js';
import { prepareTarget, type Target } from './target.js';

/** Where the options came from: the config file read, and what set the endpoint (for the summary). */
export interface RunOrigin {
  readonly configFile?: string | undefined;
  /** `--endpoint`, `AWS_ENDPOINT_URL_DYNAMODB`, `config file`, `--local`; absent: the AWS SDK's own resolution. */
  readonly endpointSource?: string | undefined;
}

/**
 * `dynaload upload` (and `delete`): validate options, read every target table's key schema, run
 * the pool, and account for every row. Returns the summary; the caller prints it and sets the
 * exit code.
 */
export async function upload(
  args: readonly string[],
  raw: RawUploadOptions,
  kind: WriteKind = 'put',
  origin: RunOrigin = {},
): Promise<Summary> {
  if (raw.local === undefined || raw.local === false) return load(args, raw, kind, origin);
  // --local [dir]: the embedded DynamoDB-compatible server, in memory or persisted in dir.
  // Loaded only here: dynalite and its storage modules cost memory a normal run does not need.
  const { startLocalServer } = await import('../local/server.js');
  const server = await startLocalServer(typeof raw.local === 'string' ? { dir: raw.local } : {});
  // Any credentials do for the embedded server; these never leave this process.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  try {
    return await load(args, { ...raw, endpoint: server.endpoint, region: raw.region ?? 'us-east-1' }, kind, {
      ...origin,
      endpointSource: '--local',
    });
  } finally {
    await server.close();
  }
}

async function load(
  args: readonly string[],
  raw: RawUploadOptions,
  kind: WriteKind,
  origin: RunOrigin,
): Promise<Summary> {
  const startedAt = new Date();
  const { config, share } = await resolveRun(args, raw, kind);
  const log = createLogger(config.logLevel);
  const endpoint = endpointOf(config, origin);
  log.info({ configFile: origin.configFile ?? null, endpoint }, 'configuration');
  const target = await prepareTarget(config, startedAt, log);
  const resumed = await openCheckpoint(config, target, log);
  const ran = await runPool(config, target, resumed, log);
  const summary = summarize(config, target, resumed, ran, {
    startedAt,
    configFile: origin.configFile ?? null,
    endpoint,
  });
  return share ? { ...summary, shard: share } : summary;
}

/** The checkpoint, and the inputs still to read: those an earlier run finished, and bad files, are left out. */
interface Resumed {
  readonly checkpoint: PreparedCheckpoint | undefined;
  readonly run: UploadConfig;
}

async function openCheckpoint(config: UploadConfig, target: Target, log: Logger): Promise<Resumed> {
  const checkpoint = await prepareCheckpoint(config, target.tables, target.outputs.checkpoint);
  await checkpoint?.store.init();
  const skip = [...(checkpoint?.done ?? []), ...target.badFiles];
  const run = {
    ...config,
    ...(skip.length > 0 ? { inputs: config.inputs.filter((i) => !skip.includes(i)) } : {}),
    // The workers load the transform too: they must run the bytes this thread loaded and the checkpoint hashed.
    ...(config.transform !== undefined ? { transformSha256: await transformHash(config.transform) } : {}),
  };
  if (checkpoint?.done.length) log.info({ files: checkpoint.done }, 'finished in an earlier run: skipped');
  return { checkpoint, run };
}

/** What the pool's run came to, once the rejects file and the checkpoint are closed. */
interface Ran {
  readonly result: PoolResult;
  readonly rejects: RejectsFile;
  readonly rejectedByCode: Record<string, number>;
  readonly caps: WriteRate['caps'];
  readonly signal: NodeJS.Signals | undefined;
  /** The run's failure, else the first failure to close the rejects file or the checkpoint. */
  readonly error: DynaloadError | undefined;
}

/** The load itself: progress, the write rate, the workers; then the teardown, in order. */
async function runPool(config: UploadConfig, target: Target, resumed: Resumed, log: Logger): Promise<Ran> {
  const { checkpoint, run } = resumed;
  const rejects = new RejectsFile(target.outputs.rejects, target.outputs.rejectsMode);
  const rejectedByCode: Record<string, number> = {};
  const progress = createProgress({
    stream: process.stderr,
    isTTY: process.stderr.isTTY === true,
    noColor: !config.color,
    quiet: config.quiet || !config.progress,
    // Info level whatever --log-level says: in CI these lines are the progress display.
    log: log.child({ component: 'progress' }, { level: config.quiet ? 'silent' : 'info' }),
    ...(run.inputs.includes('-') ? {} : { bytesTotal: await totalBytes(run.inputs) }),
  });
  log.info(
    { inputs: run.inputs.length, workers: config.workers, concurrency: config.concurrency, tables: target.schemas },
    'starting',
  );
  const rate = startWriteRate(config, target.schemas, log);
  checkpoint?.store.start(CHECKPOINT_INTERVAL_MS);
  const pool = startPool(
    run,
    target.schemas,
    rate.shared,
    {
      reject: (r, written) => {
        rejectedByCode[r.code] = (rejectedByCode[r.code] ?? 0) + 1;
        rejects.write(r, written);
      },
      progress: (totals, window) => progress.update({ ...totals, window }),
      files: (files) => files.forEach((f) => checkpoint?.store.update(f)),
    },
    log,
    checkpoint?.starts,
  );
  const stopped = onStopSignals(pool, config.stopTimeout, log);
  const result = await pool.done.finally(() => progress.done());
  stopped.dispose();
  rate.stop();
  if (config.inputs.includes('-')) process.stdin.destroy();
  let error = result.error;
  for (const close of [() => rejects.close(), () => checkpoint?.store.stop()]) {
    try {
      await close();
    } catch (closeError) {
      error ??= closeError as DynaloadError;
    }
  }
  return { result, rejects, rejectedByCode, caps: rate.caps, signal: stopped.signal(), error };
}

/** Stopped by a signal, else failed, else rejects (or files left unread), else every row written. */
function exitCodeOf(ran: Ran, badFiles: readonly string[]): number {
  if (ran.signal) return ran.signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
  if (ran.error) return ran.error.exitCode;
  return ran.result.counters.rowsRejected > 0 || badFiles.length > 0 ? EXIT.REJECTED : EXIT.OK;
}

/** The summary: what was written, rejected and left, the caps, the files, and the exit code. */
function summarize(
  config: UploadConfig,
  target: Target,
  resumed: Resumed,
  ran: Ran,
  run: { startedAt: Date; configFile: string | null; endpoint: Summary['endpoint'] },
): Summary {
  const { checkpoint } = resumed;
  const { result, rejects, signal, error } = ran;
  const unfinished = signal !== undefined || error !== undefined;
  return buildSummary(result.counters, {
    kind: config.kind,
    window: config.dryRun ? null : result.window,
    dryRun: config.dryRun,
    rejectedByCode: ran.rejectedByCode,
    pricePerMillionWru: config.pricePerMillionWru,
    maxWcu: ran.caps.maxWcu,
    writeCaps: ran.caps.caps,
    durationMs: Date.now() - run.startedAt.getTime(),
    configFile: run.configFile,
    endpoint: run.endpoint,
    rejectsFile: rejects.toStdout
      ? rejects.count > 0
        ? '-'
        : null
      : rejects.count > 0 || (config.resume && rejects.existed)
        ? path.resolve(rejects.path)
        : null,
    checkpointFile: checkpoint ? path.resolve(checkpoint.store.file) : null,
    previous:
      checkpoint && config.resume
        ? {
            rows: checkpoint.previous.rows,
            written: checkpoint.previous.written,
            rejected: checkpoint.previous.rejected,
            skipped: checkpoint.previous.skipped,
          }
        : null,
    stopped: signal ?? null,
    resumeCommand: unfinished && checkpoint ? resumeCommand() : null,
    unreadFiles: [...target.badFiles, ...result.unread],
    exitCode: exitCodeOf(ran, target.badFiles),
    error,
  });
}

/** The endpoint the run uses and what set it, as far as dynaload knows (the SDK resolves the rest). */
function endpointOf(config: UploadConfig, origin: RunOrigin): { url: string | null; source: string } {
  if (config.endpoint !== undefined) return { url: config.endpoint, source: origin.endpointSource ?? '--endpoint' };
  const generic = process.env.AWS_ENDPOINT_URL;
  if (generic) return { url: generic, source: 'AWS_ENDPOINT_URL' };
  return { url: null, source: 'the AWS SDK (region, profile)' };
}

async function totalBytes(inputs: readonly string[]): Promise<number> {
  const sizes = await Promise.all(inputs.map(inputBytes));
  return sizes.reduce((a, b) => a + b, 0);
}
