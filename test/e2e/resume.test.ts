/**
 * Graceful stop (SIGINT, SIGTERM, a second signal), failure honesty when credentials stop
 * working mid-run, a gzip input resumed, and the refusals of `--resume`.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { startFaultProxy, type FaultProxy, type Faults } from '../support/fault-proxy.js';
import { assertExit, upload, useDynalite } from './helpers.js';
import {
  assertLastWriteWins,
  assertMarksHonest,
  fileExists,
  markedRows,
  readCheckpointFile,
  sleep,
  spawnCli,
  spawnUpload,
  summaryOf,
  waitFor,
  writeShards,
  type Shard,
  type Summary,
} from './resume-helpers.js';

const db = useDynalite();
const GZ_ROWS = 12_000;

async function proxyFor(t: TestContext, faults: Faults): Promise<FaultProxy> {
  const proxy = await startFaultProxy(db.endpoint, faults);
  t.after(() => proxy.close());
  return proxy;
}

/** Splits a command line made by the CLI's resumeCommand (words, or '...' with '\'' inside). */
function shellWords(command: string): string[] {
  const words: string[] = [];
  for (const match of command.matchAll(/(?:'[^']*'|\\'|[^\s'\\]+)+/g)) {
    words.push(
      match[0].replace(
        /'([^']*)'|\\(')/g,
        (_, quoted: string | undefined, escaped: string | undefined) => quoted ?? escaped ?? '',
      ),
    );
  }
  return words;
}

/** Runs the summary's resumeCommand as it is printed (`dynaload` is the built bin). */
async function runResumeCommand(
  summary: Summary,
  cwd: string,
): Promise<{ code: number | null; summary: Summary; stdout: string; stderr: string }> {
  assert.ok(summary.resumeCommand, 'the summary says how to resume');
  const [program, ...args] = shellWords(summary.resumeCommand);
  assert.equal(program, 'dynaload');
  assert.equal(args.at(-1), '--resume');
  const result = await spawnCli(args, cwd).done;
  assertExit(result, 0);
  return { code: result.code, summary: summaryOf(result), stdout: result.stdout, stderr: result.stderr };
}

function uploadArgs(shards: readonly Shard[], table: string, extra: string[]): string[] {
  return [...shards.map((s) => s.file), '--table', table, '--types', 'v:N', ...extra];
}

/** Sends `signal` once the proxy has forwarded `after` items; returns the run's result and summary. */
async function stopAfter(
  proxy: FaultProxy,
  endpoint: string,
  args: string[],
  cwd: string,
  signal: NodeJS.Signals,
  after: number,
): Promise<{ code: number | null; summary: Summary; stderr: string; forwarded: number }> {
  const live = spawnUpload(endpoint, args, cwd);
  await waitFor(`${after} items forwarded`, async () => (proxy.stats.itemsForwarded >= after ? true : undefined));
  live.child.kill(signal);
  const result = await live.done;
  assert.equal(result.signal, null, `the CLI ended by ${String(result.signal)}, not an exit code:\n${result.stderr}`);
  return {
    code: result.code,
    summary: summaryOf(result),
    stderr: result.stderr,
    forwarded: proxy.stats.itemsForwarded,
  };
}

describe('graceful stop and resume (end to end)', () => {
  it('SIGINT mid-run: exit 130, summary with stopped and resumeCommand, honest checkpoint; the resume command completes the load', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const shards = await writeShards(dir, { rows: 20_000, shards: 4, duplicates: 0.05, reach: 500, seed: 11 });
    // At most 2 workers x 2 requests x 25 items per 20 ms: about 4 s for the whole load.
    const proxy = await proxyFor(t, { delayMs: 20, seed: 11 });
    const checkpoint = path.join(dir, 'run.checkpoint.json');
    const args = uploadArgs(shards, table, ['--workers', '2', '--concurrency', '2', '--checkpoint', checkpoint]);

    const stopped = await stopAfter(proxy, proxy.endpoint, args, dir, 'SIGINT', 3_000);
    assert.equal(stopped.code, 130, stopped.stderr);
    const first = stopped.summary;
    assert.equal(first.exitCode, 130);
    assert.equal(first.stopped, 'SIGINT');
    assert.equal(first.error, null);
    assert.equal(first.checkpointFile, checkpoint);
    assert.match(first.resumeCommand ?? '', /^dynaload upload .* --resume$/);
    assert.ok(!/--resume.*--resume/.test(first.resumeCommand ?? ''));
    assert.match(stopped.stderr, /SIGINT: stopping after the writes in flight/);
    assert.ok(first.rows > 0 && first.rows < 20_000, `stopped mid-run: ${first.rows} rows read`);
    // A graceful stop finishes the requests in flight and sends nothing more: the rows read and
    // queued are not written, and said so.
    assert.equal(first.written + first.notWritten, first.rows);
    assert.equal(stopped.forwarded, first.written, 'the proxy forwarded exactly the rows the summary counts');

    const data = await readCheckpointFile(checkpoint);
    assert.ok(data, 'the checkpoint is present and valid JSON');
    assert.equal(data.version, 1);
    assert.ok(
      markedRows(data) <= first.written,
      `the marks cover ${markedRows(data)} rows, at most the ${first.written} written`,
    );
    assert.ok(
      Object.values(data.files).some((f) => !f.complete),
      'some file is not complete',
    );
    await assertMarksHonest(db.endpoint, table, data, shards);

    const resumed = await runResumeCommand(first, dir);
    const second = resumed.summary;
    assert.equal(second.stopped, null);
    assert.equal(second.resumeCommand, null);
    const { rows, written, rejected, skipped } = second.previous ?? {};
    assert.deepEqual(
      { rows, written, rejected, skipped },
      { rows: markedRows(data), written: markedRows(data), rejected: 0, skipped: 0 },
    );
    assert.equal((second.previous?.rows ?? 0) + second.rows, 20_000);
    assert.equal(
      proxy.stats.itemsForwarded - stopped.forwarded,
      20_000 - markedRows(data),
      'the resume sent only the rows after the marks',
    );
    await assertLastWriteWins(db.endpoint, table, shards);
    const final = await readCheckpointFile(checkpoint);
    assert.ok(final && Object.values(final.files).every((f) => f.complete));
  });

  it('SIGTERM mid-run: exit 143, stopped SIGTERM; resume completes', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const shards = await writeShards(dir, { rows: 10_000, shards: 2, duplicates: 0.05, reach: 500, seed: 12 });
    const proxy = await proxyFor(t, { delayMs: 40, seed: 12 });
    const args = uploadArgs(shards, table, ['--workers', '2', '--concurrency', '2']);

    const stopped = await stopAfter(proxy, proxy.endpoint, args, dir, 'SIGTERM', 1_500);
    assert.equal(stopped.code, 143, stopped.stderr);
    assert.equal(stopped.summary.exitCode, 143);
    assert.equal(stopped.summary.stopped, 'SIGTERM');
    // The default place: next to the first input, named for the table.
    const checkpoint = path.join(dir, `.dynaload-checkpoint-${table}.json`);
    assert.equal(stopped.summary.checkpointFile, checkpoint);
    const data = await readCheckpointFile(checkpoint);
    assert.ok(data);
    await assertMarksHonest(db.endpoint, table, data, shards);

    const resumed = await runResumeCommand(stopped.summary, dir);
    assert.equal((resumed.summary.previous?.rows ?? 0) + resumed.summary.rows, 10_000);
    await assertLastWriteWins(db.endpoint, table, shards);
  });

  it('a second SIGINT stops at once (no drain), still exit 130 with an honest checkpoint; resume completes', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const shards = await writeShards(dir, { rows: 10_000, shards: 2, duplicates: 0, reach: 1, seed: 13 });
    // Slow answers: a drain would take seconds.
    const proxy = await proxyFor(t, { delayMs: 40, seed: 13 });
    const checkpoint = path.join(dir, 'cp.json');
    const args = uploadArgs(shards, table, ['--workers', '2', '--concurrency', '4', '--checkpoint', checkpoint]);
    const live = spawnUpload(proxy.endpoint, args, dir);
    await waitFor('1,000 items forwarded', async () => (proxy.stats.itemsForwarded >= 1_000 ? true : undefined));
    proxy.setFaults({ delayMs: 3_000 });
    await sleep(100);
    live.child.kill('SIGINT');
    await sleep(300);
    const secondAt = Date.now();
    live.child.kill('SIGINT');
    const result = await live.done;
    const took = Date.now() - secondAt;
    assert.equal(result.code, 130, result.stderr);
    assert.ok(took < 2_500, `stopped ${took} ms after the second SIGINT (the proxy holds answers for 3 s)`);
    const summary = summaryOf(result);
    assert.equal(summary.stopped, 'SIGINT');
    assert.ok(summary.resumeCommand);
    // Requests still held by the proxy are forwarded after the CLI is gone: wait, then check the marks.
    await sleep(3_200);
    const data = await readCheckpointFile(checkpoint);
    assert.ok(data);
    assert.ok(
      Date.parse(data.updatedAt) >= secondAt - 1_000,
      `the checkpoint was written on the way out (updated ${data.updatedAt})`,
    );
    await assertMarksHonest(db.endpoint, table, data, shards);
    proxy.setFaults({});
    const resumed = await runResumeCommand(summary, dir);
    assert.equal((resumed.summary.previous?.rows ?? 0) + resumed.summary.rows, 10_000);
    await assertLastWriteWins(db.endpoint, table, shards);
  });

  it('credentials that start failing mid-run: exit 1 ACCESS_DENIED, marks never above what the table holds; resume after recovery completes', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const shards = await writeShards(dir, { rows: 20_000, shards: 4, duplicates: 0.05, reach: 500, seed: 14 });
    const proxy = await proxyFor(t, {
      failAfter: 200,
      failWith: 'UnrecognizedClientException',
      withhold: 0.05,
      delayMs: 5,
      seed: 14,
    });
    const checkpoint = path.join(dir, 'cp.json');
    const args = uploadArgs(shards, table, ['--workers', '2', '--concurrency', '4', '--checkpoint', checkpoint]);

    const failed = await spawnUpload(proxy.endpoint, args, dir).done;
    assertExit(failed, 1);
    const summary = summaryOf(failed);
    assert.equal(summary.error?.code, 'ACCESS_DENIED');
    assert.match(summary.error?.message ?? '', /UnrecognizedClientException/);
    assert.ok(proxy.stats.failed > 0);
    assert.ok(
      summary.written > 0 && summary.written < 20_000,
      `${summary.written} rows written before the credentials failed`,
    );
    assert.ok(summary.resumeCommand, 'the failure says how to resume');
    assert.match(summary.resumeCommand, /--resume$/);
    assert.match(failed.stderr, /ACCESS_DENIED/);

    const data = await readCheckpointFile(checkpoint);
    assert.ok(data);
    const checked = await assertMarksHonest(db.endpoint, table, data, shards);
    assert.equal(markedRows(data), checked);
    assert.ok(markedRows(data) <= summary.written, `marks ${markedRows(data)} rows, the run wrote ${summary.written}`);
    t.diagnostic(
      `credentials failed after 200 requests: ${summary.written} rows written, ${markedRows(data)} below the marks`,
    );

    proxy.setFaults({ withhold: 0.05, seed: 15 });
    const resumed = await runResumeCommand(summary, dir);
    assert.equal(resumed.summary.previous?.rows, markedRows(data));
    assert.equal((resumed.summary.previous?.rows ?? 0) + resumed.summary.rows, 20_000);
    await assertLastWriteWins(db.endpoint, table, shards);
  });

  it('a gzip input stopped and resumed: rows below the mark are read again but not sent again', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const [plain] = await writeShards(dir, { rows: GZ_ROWS, shards: 1, duplicates: 0.05, reach: 500, seed: 16 });
    assert.ok(plain);
    const gz = `${plain.file}.gz`;
    await writeFile(gz, gzipSync(await readFile(plain.file)));
    const shard: Shard = { file: gz, rows: plain.rows };
    const proxy = await proxyFor(t, { delayMs: 40, seed: 16 });
    const args = uploadArgs([shard], table, ['--workers', '1', '--concurrency', '4']);

    const stopped = await stopAfter(proxy, proxy.endpoint, args, dir, 'SIGINT', 3_000);
    assert.equal(stopped.code, 130, stopped.stderr);
    const checkpoint = path.join(dir, `.dynaload-checkpoint-${table}.json`);
    const data = await readCheckpointFile(checkpoint);
    assert.ok(data);
    const mark = markedRows(data);
    assert.ok(
      mark <= stopped.summary.written,
      `the mark covers ${mark} rows, at most the ${stopped.summary.written} written`,
    );
    // The mark is an offset in the decompressed text: the end of the last settled row.
    await assertMarksHonest(db.endpoint, table, data, [shard]);

    const resumed = await runResumeCommand(stopped.summary, dir);
    const sent = proxy.stats.itemsForwarded - stopped.forwarded;
    t.diagnostic(
      `gzip: ${mark} rows below the mark; the resume forwarded ${sent} items for the ${GZ_ROWS - mark} rows after it`,
    );
    assert.equal(sent, GZ_ROWS - mark, 'only rows after the mark are sent again');
    assert.equal(resumed.summary.rows, GZ_ROWS - mark);
    assert.equal(resumed.summary.previous?.rows, mark);
    await assertLastWriteWins(db.endpoint, table, [shard]);
  });
});

describe('resume refuses what it cannot continue (end to end)', () => {
  async function loaded(): Promise<{ dir: string; shards: Shard[]; table: string }> {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const shards = await writeShards(dir, { rows: 100, shards: 2, duplicates: 0, reach: 1, seed: 21 });
    const first = await upload(db.endpoint, uploadArgs(shards, table, ['--workers', '1']), { cwd: dir });
    assertExit(first, 0);
    return { dir, shards, table };
  }

  it('the same options resume: finished files are skipped, the summary counts the earlier rows', async () => {
    const { dir, shards, table } = await loaded();
    const again = await upload(db.endpoint, [...uploadArgs(shards, table, ['--workers', '1']), '--resume'], {
      cwd: dir,
    });
    assertExit(again, 0);
    const summary = again.summary as Summary;
    assert.equal(summary.rows, 0);
    const { rows, written, rejected, skipped } = summary.previous ?? {};
    assert.deepEqual({ rows, written, rejected, skipped }, { rows: 100, written: 100, rejected: 0, skipped: 0 });
  });

  it('summary.previous holds exactly rows, written, rejected and skipped (src/summary.ts), not the positions of a mark', async () => {
    const { dir, shards, table } = await loaded();
    const again = await upload(db.endpoint, [...uploadArgs(shards, table, ['--workers', '1']), '--resume'], {
      cwd: dir,
    });
    assertExit(again, 0);
    // CheckpointStore.totals() returns a whole Mark, so `offset: 0, lines: 0` (meaningless sums) reach the JSON.
    assert.deepEqual((again.summary as Summary).previous, { rows: 100, written: 100, rejected: 0, skipped: 0 });
  });

  it('an input file modified since the checkpoint (a row appended): exit 2 CHECKPOINT_INPUT_CHANGED naming the file', async () => {
    const { dir, shards, table } = await loaded();
    const changed = shards[1] as Shard;
    await appendFile(changed.file, 'zz-new,999,appended\n');
    const refused = await upload(db.endpoint, [...uploadArgs(shards, table, []), '--resume'], { cwd: dir });
    assertExit(refused, 2);
    assert.equal(refused.summary.error?.code, 'CHECKPOINT_INPUT_CHANGED');
    assert.ok(refused.summary.error?.message.includes(changed.file), refused.summary.error?.message);
    assert.match(refused.summary.error?.message ?? '', /without --resume/);
    assert.equal(
      (await scanAll(db.endpoint, table)).some((item) => item.id?.S === 'zz-new'),
      false,
      'nothing was written',
    );
  });

  it('different --types: exit 2 CHECKPOINT_MISMATCH naming the option', async () => {
    const { dir, shards, table } = await loaded();
    const refused = await upload(
      db.endpoint,
      [...shards.map((s) => s.file), '--table', table, '--types', 'v:S', '--resume'],
      { cwd: dir },
    );
    assertExit(refused, 2);
    assert.equal(refused.summary.error?.code, 'CHECKPOINT_MISMATCH');
    assert.match(refused.summary.error?.message ?? '', /types: was \{"v":"N"\}, now \{"v":"S"\}/);
  });

  it('a different --table: CHECKPOINT_MISMATCH naming the tables with the same --checkpoint; CHECKPOINT_MISSING at the default place', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const other = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const shards = await writeShards(dir, { rows: 100, shards: 2, duplicates: 0, reach: 1, seed: 22 });
    const checkpoint = path.join(dir, 'cp.json');
    assertExit(await upload(db.endpoint, uploadArgs(shards, table, ['--checkpoint', checkpoint]), { cwd: dir }), 0);

    const mismatch = await upload(
      db.endpoint,
      [...uploadArgs(shards, other, ['--checkpoint', checkpoint]), '--resume'],
      { cwd: dir },
    );
    assertExit(mismatch, 2);
    assert.equal(mismatch.summary.error?.code, 'CHECKPOINT_MISMATCH');
    assert.ok(
      mismatch.summary.error?.message.includes(`tables: was ["${table}"], now ["${other}"]`),
      mismatch.summary.error?.message,
    );

    const missing = await upload(db.endpoint, [...uploadArgs(shards, other, []), '--resume'], { cwd: dir });
    assertExit(missing, 2);
    assert.equal(missing.summary.error?.code, 'CHECKPOINT_MISSING');
    assert.deepEqual(await scanAll(db.endpoint, other), [], 'nothing was written to the other table');
  });

  it('standard input with --resume: exit 2 STDIN_RESUME', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const refused = await upload(db.endpoint, ['-', '--table', table, '--resume'], { cwd: dir, input: 'id,v\na,1\n' });
    assertExit(refused, 2);
    assert.equal(refused.summary.error?.code, 'STDIN_RESUME');
    assert.match(refused.summary.error?.message ?? '', /standard input cannot be resumed/);
  });

  it('no checkpoint to resume from: exit 2 CHECKPOINT_MISSING (also with --no-checkpoint)', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const shards = await writeShards(dir, { rows: 10, shards: 1, duplicates: 0, reach: 1, seed: 23 });
    const none = await upload(db.endpoint, [...uploadArgs(shards, table, []), '--resume'], { cwd: dir });
    assertExit(none, 2);
    assert.equal(none.summary.error?.code, 'CHECKPOINT_MISSING');
    assert.ok(
      none.summary.error?.message.includes(path.join(dir, `.dynaload-checkpoint-${table}.json`)),
      none.summary.error?.message,
    );
    const off = await upload(db.endpoint, [...uploadArgs(shards, table, ['--no-checkpoint']), '--resume'], {
      cwd: dir,
    });
    assertExit(off, 2);
    assert.equal(off.summary.error?.code, 'CHECKPOINT_MISSING');
    assert.equal(
      await fileExists(path.join(dir, `.dynaload-checkpoint-${table}.json`)),
      false,
      'a refused resume leaves no checkpoint behind',
    );
  });
});
