/**
 * The byte budget's bounds as loadFile sees them: rows held open for the checkpoint mark and
 * rejected rows on their way to the rejects file. Reading waits at a bound and goes on, with
 * nothing dropped, once there is room.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { LowWater } from '../../src/checkpoint/low-water.js';
import type { TableSchema } from '../../src/dynamo/schema.js';
import { settle, type LoadContext, type RowEntry } from '../../src/pipeline/load-file.js';
import { loadFile } from '../../src/pipeline/load-input.js';
import { Plan } from '../../src/pipeline/plan.js';
import { BatchWriter } from '../../src/pipeline/write.js';

const schema: TableSchema = {
  table: 'T',
  hash: { name: 'id', type: 'S' },
  range: undefined,
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
};
const ROWS = 50;

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('loadFile within the memory budget', () => {
  const cases: Array<[name: string, openRows: number, heldOpen: number, rejectsFullAtFirst: boolean]> = [
    ['the rows held open behind the mark reach their bound', 10, 11, false],
    ['the rejected rows not yet in the rejects file reach their bound', 1_000, 0, true],
  ];
  for (const [name, openRows, heldOpen, rejectsFullAtFirst] of cases) {
    test(`reading waits while ${name}, and every row is written once there is room`, { timeout: 30_000 }, async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'dynaload-bounds-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'rows.csv');
      await writeFile(file, 'id,v\n' + Array.from({ length: ROWS }, (_, i) => `k${i},${i}\n`).join(''));
      const tracker = new LowWater();
      // Rows of an earlier part of the file, still open (one in a long backoff holds them all).
      const held = Array.from({ length: heldOpen }, () => tracker.add(0, 0));
      let rejectsFull = rejectsFullAtFirst;
      const sent: string[] = [];
      const writer = new BatchWriter<RowEntry>({
        send: (batch) => {
          for (const entry of batch)
            sent.push((JSON.parse(entry.json) as { PutRequest: { Item: { id: { S: string } } } }).PutRequest.Item.id.S);
          return Promise.resolve(undefined);
        },
        keyOf: () => '',
        concurrency: 4,
        maxRetries: 1,
        backoff: { baseMs: 1, capMs: 1, factor: 2 },
        lingerMs: 1,
        written: (entry) => settle(entry.row, 'written'),
        rejected: () => assert.fail('nothing is rejected'),
      });
      let read = 0;
      const context: LoadContext = {
        options: {
          kind: 'put',
          header: true,
          columns: undefined,
          delimiter: undefined,
          escape: '"',
          encoding: 'utf-8',
          strictQuotes: false,
          format: undefined,
          replay: [],
        },
        tracker,
        writer,
        stopping: () => false,
        plan: new Plan({
          kind: 'put',
          schemas: new Map([['T', schema]]),
          table: 'T',
          types: {},
          empty: 'drop',
          infer: false,
        }),
        rowRead: () => read++,
        rowSkipped: () => {},
        reject: () => assert.fail('nothing is rejected'),
        bounds: { openRows, orderBytes: 1024 * 1024 },
        rejectsFull: () => rejectsFull,
      };
      const loaded = loadFile(file, context);
      await until(() => read >= 1);
      // Give the reader every chance to go on: it must not.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(read, 1, 'reading waits at the bound');
      assert.equal(sent.length, 0, 'the row read waits too: nothing is sent past the bound');
      for (const seq of held) tracker.settle(seq, 'written');
      rejectsFull = false;
      assert.equal(await loaded, true);
      await writer.drain();
      assert.equal(read, ROWS);
      assert.deepEqual(
        sent.sort(),
        Array.from({ length: ROWS }, (_, i) => `k${i}`).sort(),
        'every row written once, none dropped',
      );
      assert.equal(tracker.open, 0);
    });
  }
});
