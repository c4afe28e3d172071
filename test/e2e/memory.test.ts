/**
 * Wide items (documents near DynamoDB's 400 KB item limit) load within the memory budget: every
 * row written or counted, and the resident set the summary reports stays flat, not growing with
 * the rows held.
 */
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { assertExit, upload, useDynalite } from './helpers.js';

const db = useDynalite();
const WIDE = 380_000;

/** A text of `bytes` letters, different for every row. */
function body(row: number, bytes: number): string {
  const unit = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + ((i * 7 + row) % 26))).join('');
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

async function writeWide(file: string, rows: number, from: number, bytes = WIDE): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,body\n');
  for (let i = from; i < from + rows; i++) if (!out.write(`${i},${body(i, bytes)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'close');
}

describe('wide items within the memory budget (end to end)', () => {
  it(
    'a dry run of 600 items of 380 KB reads and checks every row with a peak RSS far below what the rows weigh (228 MB)',
    { timeout: 300_000 },
    async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
      const files = [path.join(dir, 'a.csv'), path.join(dir, 'b.csv')];
      await writeWide(files[0] as string, 300, 0);
      await writeWide(files[1] as string, 300, 300);
      const run = await upload(
        db.endpoint,
        [...files, '--table', table, '--types', 'id:N', '--workers', '2', '--dry-run'],
        { cwd: dir, timeoutMs: 280_000 },
      );
      assertExit(run, 0);
      assert.equal(run.summary.rows, 600);
      assert.equal(run.summary.rejected, 0);
      assert.equal(run.summary.wouldWrite?.items, 600);
      // Node and two workers take about 150 MiB; with every item held once (the old writer kept up
      // to a thousand written items per worker) the peak passed 350 MiB.
      assert.ok(run.summary.peakRssMb > 0 && run.summary.peakRssMb < 300, `peak RSS ${run.summary.peakRssMb} MiB`);
    },
  );

  it(
    'with the smallest budget, wide items are all written as read (part-filled batches, nothing dropped)',
    { timeout: 300_000 },
    async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
      const file = path.join(dir, 'wide.csv');
      const rows = 40;
      await writeWide(file, rows, 0);
      const run = await upload(db.endpoint, [file, '--table', table, '--types', 'id:N', '--memory', '16'], {
        cwd: dir,
        timeoutMs: 280_000,
      });
      assertExit(run, 0);
      assert.equal(run.summary.written, rows);
      assert.equal(run.summary.notWritten, 0);
      const items = await scanAll(db.endpoint, table);
      assert.equal(items.length, rows);
      for (const item of items)
        assert.equal(item.body?.S, body(Number(item.id?.N), WIDE), `item ${item.id?.N} stored as read`);
    },
  );
});
