/**
 * The byte budget's bounds as reading sees them: rows held open behind the checkpoint mark (one in
 * a long backoff holds them all) and rejected rows on their way to the rejects file. Reading waits
 * at a bound and goes on, with nothing dropped, once there is room.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RowEntry } from '../../src/pipeline/row.js';
import type { UnprocessedTexts } from '../../src/dynamo/unprocessed-text.js';
import { completed, csvRows, idOf, tablePlan, tempFile, testShard, until } from '../support/shard-loader.js';

const ROWS = 50;
const BOUNDS = { writerBytes: 1024 * 1024, orderBytes: 1024 * 1024, openRows: 1_000, rejectBytes: 1024 * 1024 };

describe('reading within the memory budget', () => {
  test(
    'a row withheld again and again holds the mark: reading waits once the rows open behind it reach their bound, and the mark never skips it',
    { timeout: 30_000 },
    async (t) => {
      const file = await tempFile(t, 'rows.csv', csvRows(ROWS));
      let holding = true;
      const written: string[] = [];
      const send = (batch: readonly RowEntry[]): Promise<UnprocessedTexts> => {
        const withheld = batch.filter((entry) => holding && idOf(entry) === 'k0');
        for (const entry of batch) if (!withheld.includes(entry)) written.push(idOf(entry));
        return Promise.resolve({ texts: new Map([['T', withheld.map((entry) => entry.json)]]) });
      };
      const { shard } = testShard(send, { bounds: { ...BOUNDS, openRows: 10 } });
      const loaded = shard.loadFile(file, tablePlan());
      const read = (): number => shard.snapshot().rowsRead;
      // k0 and the rows after it are open while k0 is unwritten: k10 is the eleventh, and waits.
      await until(() => read() >= 11 && written.length >= 9);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(read(), 11, 'reading waits at the bound');
      assert.deepEqual(written.sort(), ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'], 'k10 waits unsent');
      assert.ok(shard.snapshot().unprocessedRetries >= 1, 'k0 was withheld');
      assert.deepEqual(shard.fileProgress(), [], 'the mark stays before k0, however far later rows got');
      holding = false;
      assert.equal(await loaded, true);
      await shard.drain();
      assert.deepEqual(
        written.sort(),
        Array.from({ length: ROWS }, (_, i) => `k${i}`).sort(),
        'every row written once, none dropped',
      );
      const { mark } = completed(shard.fileProgress());
      assert.deepEqual([mark.rows, mark.written], [ROWS, ROWS]);
    },
  );

  test(
    'reading waits while the rejected rows not yet in the rejects file pass their bound, and goes on once they are written',
    { timeout: 30_000 },
    async (t) => {
      // The second row has no key: it is rejected, and its bytes pass a bound of 0.
      const file = await tempFile(t, 'rows.csv', 'id,v\nfirst,0\n,1\n' + csvRows(ROWS).slice('id,v\n'.length));
      const written: string[] = [];
      const { shard, rejects, rejectBytes } = testShard(
        (batch) => {
          written.push(...batch.map(idOf));
          return Promise.resolve(undefined);
        },
        { bounds: { ...BOUNDS, rejectBytes: 0 } },
      );
      const loaded = shard.loadFile(file, tablePlan());
      const read = (): number => shard.snapshot().rowsRead;
      await until(() => rejects.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(read(), 3, 'reading waits at the bound (the row after the rejected one is read, then waits)');
      shard.rejectsWritten(rejectBytes[0] as number);
      assert.equal(await loaded, true);
      await shard.drain();
      assert.equal(read(), ROWS + 2);
      assert.equal(written.length, ROWS + 1, 'every other row written once');
      const { mark } = completed(shard.fileProgress());
      assert.deepEqual([mark.rows, mark.written, mark.rejected], [ROWS + 2, ROWS + 1, 1]);
    },
  );
});
