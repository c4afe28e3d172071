/**
 * Reading a file through the shard loader, against fake sends: where reading waits, where a resumed
 * file starts. No DynamoDB needed to hold the checkpoint mark back. (End-to-end loads run in
 * test/e2e against dynalite.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startMark } from '../../src/checkpoint/low-water.js';
import { ORDER_MAX_ROWS } from '../../src/pipeline/load-context.js';
import { TransformCalls } from '../../src/pipeline/transform-calls.js';
import type { LoadedTransform } from '../../src/pipeline/transform-module.js';
import type { RowEntry } from '../../src/pipeline/row.js';
import { acknowledge, idOf, tablePlan, tempFile, testShard, until } from '../support/shard-loader.js';

const WIDE_BOUNDS = { writerBytes: 64 * 1024 * 1024, orderBytes: 32 * 1024 * 1024, rejectBytes: 1024 * 1024 };

describe('loadFile', () => {
  test(
    'a stop while reading waits for the checkpoint mark ends the read; the row read stays open for a resume',
    { timeout: 20_000 },
    async (t) => {
      const file = await tempFile(t, 'rows.csv', 'id,v\na,1\nb,2\n');
      let sends = 0;
      // No row may be open past the mark: the first row read waits at once.
      const { shard } = testShard(
        () => {
          sends++;
          return new Promise(() => {});
        },
        { bounds: { ...WIDE_BOUNDS, openRows: 0 } },
      );
      setTimeout(() => shard.stopReading(), 100);
      assert.equal(await shard.loadFile(file, tablePlan()), false, 'stopped before the end');
      assert.equal(sends, 0, 'the waiting row was not sent');
      const { rowsRead, rowsWritten, rowsRejected, rowsSkipped } = shard.snapshot();
      assert.deepEqual([rowsRead, rowsWritten, rowsRejected, rowsSkipped], [1, 0, 0, 0], 'one row read, none settled');
      assert.deepEqual(shard.fileProgress(), [], 'the mark did not move past it: a resume reads it again');
    },
  );

  test(
    "a resumed file in another encoding is read from its start and rows below the mark are not sent again (its marks count UTF-8 bytes, not the file's)",
    { timeout: 20_000 },
    async (t) => {
      const file = await tempFile(t, 'latin1.csv', Buffer.from('id,v\na,caf\xE9\nb,\xE0 la\nc,y\n', 'latin1'));
      const load = async (start?: Parameters<typeof startMark>[0]): Promise<string[]> => {
        const sent: RowEntry[] = [];
        const { shard } = testShard(acknowledge(sent), { encoding: 'windows-1252', maxRetries: 1 });
        assert.equal(await shard.loadFile(file, tablePlan(), start && startMark(start)), true);
        await shard.drain();
        return sent.map(
          (entry) => (JSON.parse(entry.json) as { PutRequest: { Item: { v: { S: string } } } }).PutRequest.Item.v.S,
        );
      };
      assert.deepEqual(await load(), ['café', 'à la', 'y']);
      // The mark after row `a`: `id,v\n` and `a,café\n` are 13 bytes as UTF-8, 12 in the file.
      assert.deepEqual(await load({ offset: 13, lines: 2, rows: 1, written: 1 }), ['à la', 'y']);
    },
  );

  test(
    'an async call that holds the head: reading waits once the rows behind it fill the order; nothing behind it is written',
    { timeout: 60_000 },
    async (t) => {
      const rows = ORDER_MAX_ROWS * 2;
      const file = await tempFile(
        t,
        'rows.csv',
        'id\n' + Array.from({ length: rows }, (_, i) => `r${i}`).join('\n') + '\n',
      );
      const sent: RowEntry[] = [];
      const { shard } = testShard(acknowledge(sent));
      // Row r0 waits until the test ends it; every other row settles at once. Settling r0 at the end
      // clears its call's timeout timer, which would otherwise hold this test file open.
      let release = (): void => {};
      t.after(() => release());
      const held = new Promise((resolve) => (release = () => resolve({ id: 'r0' })));
      const transform: LoadedTransform = new Map([
        ['T', ((row: Record<string, string>) => (row.id === 'r0' ? held : Promise.resolve({ id: row.id }))) as never],
      ]);
      const plan = tablePlan({ table: undefined, transform, calls: new TransformCalls(64, 600_000) });
      const loading = shard.loadFile(file, plan);
      const read = (): number => shard.snapshot().rowsRead;
      await until(() => read() >= ORDER_MAX_ROWS);
      // Give the reader every chance to go on: it must not (one more row may be read before it waits).
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.ok(read() <= ORDER_MAX_ROWS + 1, `reading waits at the order's bound: read ${read()} of ${rows}`);
      assert.equal(sent.length, 0, `no row behind the unsettled head is written (sent ${sent.map(idOf).join()})`);
      shard.stopReading();
      assert.equal(await loading, false);
      const { rowsWritten, rowsRejected, rowsSkipped } = shard.snapshot();
      assert.deepEqual([rowsWritten, rowsRejected, rowsSkipped], [0, 0, 0], 'every row read stays open for a resume');
      assert.deepEqual(shard.fileProgress(), [], 'the mark did not move');
    },
  );
});
