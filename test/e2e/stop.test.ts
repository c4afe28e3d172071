/**
 * A graceful stop (Ctrl-C) finishes the writes in flight and sends nothing more: not the rows
 * already read and queued, which at a low `--max-wcu` took seconds to write.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { useDynalite } from './helpers.js';
import { spawnUpload, summaryOf, waitFor } from './resume-helpers.js';

const db = useDynalite();

describe('graceful stop (end to end)', () => {
  it('SIGINT at a low --max-wcu: only the requests in flight are finished; every row is accounted for', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, ['id,n', ...Array.from({ length: 3_000 }, (_, i) => `k${i},${i}`)].join('\n') + '\n');
    const proxy = await startFaultProxy(db.endpoint, {});
    t.after(() => proxy.close());
    // 100 units/s, 2 requests of 25 in flight: the writer holds 200 rows read ahead of the table.
    const live = spawnUpload(
      proxy.endpoint,
      [
        file,
        '--table',
        table,
        '--types',
        'n:N',
        '--workers',
        '1',
        '--concurrency',
        '2',
        '--max-wcu',
        '100',
        '--no-checkpoint',
      ],
      dir,
    );
    await waitFor('100 items forwarded', async () => (proxy.stats.itemsForwarded >= 100 ? true : undefined));
    const atSignal = proxy.stats.itemsForwarded;
    live.child.kill('SIGINT');
    const result = await live.done;
    assert.equal(result.code, 130, result.stderr);
    const summary = summaryOf(result);
    const sentAfter = proxy.stats.itemsForwarded - atSignal;
    t.diagnostic(
      `forwarded ${atSignal} before the signal, ${sentAfter} after; written ${summary.written}, not written ${summary.notWritten}`,
    );
    // At most the requests that were on their way (2 of 25 items); draining the queue sent 200 more.
    assert.ok(sentAfter <= 50, `${sentAfter} items sent after the signal`);
    assert.equal(summary.stopped, 'SIGINT');
    assert.equal(summary.written + summary.rejected + summary.notWritten, summary.rows);
    assert.ok(summary.notWritten > 0, 'the queued rows are not written, and said so');
    assert.equal((await scanAll(db.endpoint, table)).length, summary.written);
  });
});
