/**
 * A dry run between a stopped load and its resume: it must neither read nor write the checkpoint or
 * rejects file of the real run, and it counts nothing as written or sent.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { assertExit, useDynalite } from './helpers.js';
import { assertLastWriteWins, spawnUpload, summaryOf, waitFor, writeShards } from './resume-helpers.js';

const db = useDynalite();
const ROWS = 6_000;

describe('--dry-run between a stop and a resume (end to end)', () => {
  it('SIGINT mid-run, then --dry-run, then --resume: the resume writes the remaining rows, exit 0, every row in the table', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const shards = await writeShards(dir, { rows: ROWS, shards: 2, duplicates: 0, reach: 1, seed: 23 });
    const proxy = await startFaultProxy(db.endpoint, { delayMs: 50, seed: 23 });
    t.after(() => proxy.close());
    // The default checkpoint place (next to the first input): the one a dry run used to rewrite.
    const args = [
      ...shards.map((s) => s.file),
      '--table',
      table,
      '--types',
      'v:N',
      '--workers',
      '2',
      '--concurrency',
      '2',
    ];
    const checkpoint = path.join(dir, `.dynaload-checkpoint-${table}.json`);

    const live = spawnUpload(proxy.endpoint, args, dir);
    await waitFor(
      '1,000 items forwarded',
      async () => (proxy.stats.itemsForwarded >= 1_000 ? true : undefined),
      60_000,
    );
    live.child.kill('SIGINT');
    const stopped = await live.done;
    assertExit(stopped, 130);
    const first = summaryOf(stopped);
    assert.ok(first.written > 0 && first.written < ROWS, `stopped mid-run: ${first.written} written`);
    const before = await readFile(checkpoint, 'utf8');
    const forwarded = proxy.stats.itemsForwarded;

    const dry = spawnUpload(proxy.endpoint, [...args, '--dry-run'], dir);
    const dryResult = await dry.done;
    assertExit(dryResult, 0);
    const drySummary = summaryOf(dryResult);
    assert.equal(drySummary.dryRun, true);
    assert.equal(drySummary.rows, ROWS, 'a dry run reads every row, from the start');
    assert.deepEqual(
      [drySummary.written, drySummary.items, drySummary.requests],
      [0, 0, 0],
      'a dry run counts nothing as written or sent',
    );
    assert.equal(drySummary.wouldWrite?.rows, ROWS);
    assert.equal(drySummary.notWritten, ROWS);
    assert.equal(drySummary.checkpointFile, null);
    assert.equal(proxy.stats.itemsForwarded, forwarded, 'a dry run sends no item');
    assert.equal(await readFile(checkpoint, 'utf8'), before, 'the checkpoint is untouched by the dry run');
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file left',
    );

    const resumed = spawnUpload(proxy.endpoint, [...args, '--resume'], dir);
    const resumeResult = await resumed.done;
    assertExit(resumeResult, 0);
    const second = summaryOf(resumeResult);
    assert.equal(second.previous?.written, first.written, "the resume starts from the real run's marks");
    assert.equal(second.written + first.written, ROWS);
    assert.equal((await scanAll(db.endpoint, table)).length, ROWS);
    await assertLastWriteWins(db.endpoint, table, shards);
  });

  it("--dry-run --resume is a usage error: a dry run never reads a real run's checkpoint", async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const [shard] = await writeShards(dir, { rows: 10, shards: 1, duplicates: 0, reach: 1, seed: 1 });
    const live = spawnUpload(
      db.endpoint,
      [(shard as { file: string }).file, '--table', table, '--dry-run', '--resume'],
      dir,
    );
    const result = await live.done;
    assertExit(result, 2);
    assert.match(result.stdout, /OPTION_CONFLICT/);
  });
});
