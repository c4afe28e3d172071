/**
 * Kill -9 at random moments, resume until done, lose nothing. The fault proxy withholds
 * items (UnprocessedItems) and resets connections after forwarding, so rows settle out of order
 * and some writes land twice even without a crash.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir, type RunResult } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import { mulberry32, startFaultProxy } from '../support/fault-proxy.js';
import { assertExit, useDynalite } from './helpers.js';
import {
  assertLastWriteWins,
  assertMarksHonest,
  expectedItems,
  markedRows,
  readCheckpointFile,
  sleep,
  spawnUpload,
  summaryOf,
  waitFor,
  writeShards,
} from './resume-helpers.js';

const db = useDynalite();

/** DYNALOAD_CRASH_SEED picks other kill moments, duplicate keys and faults. */
const SEED = Number(process.env.DYNALOAD_CRASH_SEED ?? 20240505);
const ROWS = 200_000;
const SHARDS = 8;
const WORKERS = 2;
const CONCURRENCY = 8;
const KILLS = 3;
/** src/commands/upload.ts CHECKPOINT_INTERVAL_MS, plus the workers' 250 ms stats interval, plus slack for a busy machine. */
const UNPERSISTED_MS = 2_000 + 250 + 750;
/** Answers are held this long: it bounds the rate on a fast machine, so the kills land mid-load. */
const DELAY_MS = 10;

describe('kill -9 and resume (end to end, through the fault proxy)', () => {
  it(
    `${ROWS} rows in ${SHARDS} shards, killed ${KILLS} times at random moments, resumed until done: every key holds its last write`,
    { timeout: 170_000 },
    async (t) => {
      const started = Date.now();
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
      const shards = await writeShards(dir, { rows: ROWS, shards: SHARDS, duplicates: 0.05, reach: 3_000, seed: SEED });
      const distinct = expectedItems(shards).size;
      const proxy = await startFaultProxy(db.endpoint, {
        withhold: 0.03,
        resetAfter: 0.01,
        delayMs: DELAY_MS,
        seed: SEED,
      });
      t.after(() => proxy.close());
      const checkpoint = path.join(dir, 'load.checkpoint.json');
      const args = [
        ...shards.map((s) => s.file),
        '--table',
        table,
        '--types',
        'v:N',
        '--workers',
        String(WORKERS),
        '--concurrency',
        String(CONCURRENCY),
        '--checkpoint',
        checkpoint,
      ];
      const random = mulberry32(SEED);

      // Items the proxy forwarded, sampled every 100 ms: how many went out in the last few seconds before a kill.
      const samples: { at: number; forwarded: number }[] = [];
      const sampler = setInterval(() => samples.push({ at: Date.now(), forwarded: proxy.stats.itemsForwarded }), 100);
      t.after(() => clearInterval(sampler));
      const forwardedSince = (at: number): number =>
        proxy.stats.itemsForwarded - (samples.find((s) => s.at >= at)?.forwarded ?? 0);

      const window = WORKERS * CONCURRENCY * 25;
      let marked = 0;
      let forwarded = 0;
      let resets = 0;
      const report: string[] = [];
      let againTotal = 0;
      let kills = 0;
      let result: RunResult | undefined;
      while (result === undefined) {
        const live = spawnUpload(proxy.endpoint, kills === 0 ? args : [...args, '--resume'], dir);
        if (kills === KILLS) {
          result = await live.done;
          break;
        }
        let exited = false;
        void live.done.then(() => (exited = true));
        // Let this run move the marks past where the last one stopped (a checkpoint was rewritten), then pick a moment.
        await waitFor('the checkpoint to move', async () => {
          const data = await readCheckpointFile(checkpoint);
          return exited || (data !== undefined && markedRows(data) > marked) ? true : undefined;
        });
        const delay = Math.round(500 + random() * 2_500);
        await sleep(delay);
        if (exited) {
          // A fast machine finished the load before this kill: that run is the last.
          result = await live.done;
          break;
        }
        const killedAt = Date.now();
        live.child.kill('SIGKILL');
        const killed = await live.done;
        assert.equal(
          killed.signal,
          'SIGKILL',
          `run ${kills + 1} ended before it was killed:\n${killed.stdout}\n${killed.stderr}`,
        );
        kills++;
        // Requests the proxy had accepted are forwarded after their delay even though the client is gone.
        await sleep(DELAY_MS + 300);
        const recent = forwardedSince(killedAt - UNPERSISTED_MS);
        const data = await readCheckpointFile(checkpoint);
        assert.ok(data, 'a checkpoint exists after kill -9');
        const honest = await assertMarksHonest(db.endpoint, table, data, shards);
        const nowMarked = markedRows(data);
        const nowForwarded = proxy.stats.itemsForwarded;
        const nowResets = proxy.stats.resetsAfter;
        // Forwarded by this run, minus the rows it moved below the marks: written now, and again by the next run.
        const again = nowForwarded - forwarded - (nowMarked - marked);
        const resetRetries = (nowResets - resets) * 25;
        const bound = recent + window + resetRetries;
        againTotal += again;
        report.push(
          `kill ${kills} at +${delay} ms: marks ${marked} -> ${nowMarked} rows (${honest} rows checked in the table), forwarded ${nowForwarded - forwarded}, written again by the next run <= ${again}; bound ${bound} = ${recent} forwarded in the last ${UNPERSISTED_MS} ms + in-flight ${window} + ${nowResets - resets} resets x 25`,
        );
        assert.ok(again <= bound, report.at(-1));
        marked = nowMarked;
        forwarded = nowForwarded;
        resets = nowResets;
      }

      assert.ok(kills >= 1, 'the load was killed at least once');
      assertExit(result, 0);
      const summary = summaryOf(result);
      assert.equal(summary.stopped, null);
      assert.equal(summary.resumeCommand, null);
      assert.equal(summary.checkpointFile, checkpoint);
      assert.ok(summary.previous, 'a resumed run reports the rows of earlier runs');
      assert.equal(summary.previous.rows, marked, 'previous.rows is what the checkpoint held');
      assert.equal(
        summary.previous.rows + summary.rows,
        ROWS,
        `earlier runs ${summary.previous.rows} + this run ${summary.rows}`,
      );
      assert.equal(summary.previous.written + summary.written, ROWS);
      assert.equal(summary.notWritten, 0);
      await assertLastWriteWins(db.endpoint, table, shards);
      const final = await readCheckpointFile(checkpoint);
      assert.ok(final);
      assert.ok(
        Object.values(final.files).every((f) => f.complete && f.mark.rows === f.mark.written),
        'every file complete in the final checkpoint',
      );
      assert.equal(markedRows(final), ROWS);

      const total = proxy.stats.itemsForwarded;
      report.push(
        `${kills} kills: ${againTotal} rows written again after them (in-flight window ${window} = ${WORKERS} workers x ${CONCURRENCY} x 25 per kill)`,
      );
      report.push(
        `final run: ${summary.rows} rows in ${summary.durationMs} ms; proxy forwarded ${total} items for ${ROWS} rows (${distinct} distinct keys): ${total - ROWS} writes beyond one per row (${total - distinct} beyond one per key), of which up to ${proxy.stats.resetsAfter * 25} from ${proxy.stats.resetsAfter} resets after forwarding`,
      );
      const leftovers = (await readdir(dir)).filter((f) => f.endsWith('.tmp'));
      report.push(`temporary checkpoint files left by the killed runs: ${leftovers.length}`);
      report.push(`seed ${SEED}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const line of report) t.diagnostic(line);
    },
  );
});
