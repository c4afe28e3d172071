/**
 * loadFile's waits, against a writer whose requests never finish: no DynamoDB needed to hold the
 * checkpoint mark back. (End-to-end loads run in test/e2e against dynalite.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { LowWater } from '../../src/checkpoint/low-water.js';
import type { TableSchema } from '../../src/dynamo/schema.js';
import {
  MAX_OPEN_ROWS,
  ORDER_MAX_ROWS,
  settle,
  type LoadContext,
  type RowEntry,
} from '../../src/pipeline/load-file.js';
import { loadFile } from '../../src/pipeline/load-input.js';
import { Plan } from '../../src/pipeline/plan.js';
import { TransformCalls } from '../../src/pipeline/transform-calls.js';
import type { LoadedTransform } from '../../src/pipeline/transform-module.js';
import { BatchWriter } from '../../src/pipeline/write.js';

const schema: TableSchema = {
  table: 'T',
  hash: { name: 'id', type: 'S' },
  range: undefined,
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
};

describe('loadFile', () => {
  test(
    'a stop while reading waits for the checkpoint mark ends the read; the row read stays open for a resume',
    { timeout: 20_000 },
    async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'dynaload-load-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'rows.csv');
      await writeFile(file, 'id,v\na,1\nb,2\n');
      // One row held (say, withheld again and again) with more than MAX_OPEN_ROWS read after it.
      const tracker = new LowWater();
      for (let i = 0; i <= MAX_OPEN_ROWS; i++) tracker.add(i + 1, i + 1);
      const writer = new BatchWriter<RowEntry>({
        send: () => new Promise(() => {}),
        keyOf: () => '',
        concurrency: 1,
        maxRetries: 1,
        backoff: { baseMs: 1, capMs: 1, factor: 2 },
        written: () => {},
        rejected: () => {},
      });
      let stopping = false;
      setTimeout(() => (stopping = true), 100);
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
        stopping: () => stopping,
        plan: new Plan({
          kind: 'put',
          schemas: new Map([['T', schema]]),
          table: 'T',
          types: {},
          empty: 'drop',
          infer: false,
        }),
        rowRead: () => {},
        rowSkipped: () => {},
        reject: () => assert.fail('nothing is rejected'),
      };
      const open = tracker.open;
      assert.equal(await loadFile(file, context), false, 'stopped before the end');
      assert.equal(writer.pending, 0, 'the waiting row was not sent');
      assert.equal(tracker.open, open + 1, 'the row read is open, not settled: a resume reads it again');
    },
  );

  test(
    "a resumed file in another encoding is read from its start and rows below the mark are not sent again (its marks count UTF-8 bytes, not the file's)",
    { timeout: 20_000 },
    async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'dynaload-load-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'latin1.csv');
      await writeFile(file, Buffer.from('id,v\na,caf\xE9\nb,\xE0 la\nc,y\n', 'latin1'));
      const load = async (tracker: LowWater): Promise<string[]> => {
        const sent: string[] = [];
        const writer = new BatchWriter<RowEntry>({
          send: (batch) => {
            for (const entry of batch) sent.push(entry.json);
            return Promise.resolve(undefined);
          },
          keyOf: () => '',
          concurrency: 1,
          maxRetries: 1,
          backoff: { baseMs: 1, capMs: 1, factor: 2 },
          lingerMs: 1,
          written: (entry) => settle(entry.row, 'written'),
          rejected: () => assert.fail('nothing is rejected'),
        });
        const context: LoadContext = {
          options: {
            kind: 'put',
            header: true,
            columns: undefined,
            delimiter: undefined,
            escape: '"',
            encoding: 'windows-1252',
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
          rowRead: () => {},
          rowSkipped: () => {},
          reject: () => assert.fail('nothing is rejected'),
        };
        assert.equal(await loadFile(file, context), true);
        await writer.drain();
        return sent.map(
          (json) => (JSON.parse(json) as { PutRequest: { Item: { v: { S: string } } } }).PutRequest.Item.v.S,
        );
      };
      const first = new LowWater();
      assert.deepEqual(await load(first), ['café', 'à la', 'y']);
      // The mark after row `a`: `id,v\n` and `a,café\n` are 13 bytes as UTF-8, 12 in the file.
      const resumed = await load(new LowWater({ offset: 13, lines: 2, rows: 1, written: 1 }));
      assert.deepEqual(resumed, ['à la', 'y']);
    },
  );

  test(
    'an async call that holds the head: reading waits once the rows behind it fill the order; nothing behind it is written',
    { timeout: 60_000 },
    async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'dynaload-load-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'rows.csv');
      const rows = ORDER_MAX_ROWS * 2;
      await writeFile(file, 'id\n' + Array.from({ length: rows }, (_, i) => `r${i}`).join('\n') + '\n');
      let sent = 0;
      const writer = new BatchWriter<RowEntry>({
        send: (batch) => {
          sent += batch.length;
          return Promise.resolve(undefined);
        },
        keyOf: () => '',
        concurrency: 4,
        maxRetries: 1,
        backoff: { baseMs: 1, capMs: 1, factor: 2 },
        written: () => {},
        rejected: () => {},
      });
      // Row r0 waits until the test ends it; every other row settles at once. Settling r0 at the end
      // clears its call's timeout timer, which would otherwise hold this test file open.
      let release = (): void => {};
      t.after(() => release());
      const held = new Promise((resolve) => (release = () => resolve({ id: 'r0' })));
      const transform: LoadedTransform = new Map([
        ['T', ((row: Record<string, string>) => (row.id === 'r0' ? held : Promise.resolve({ id: row.id }))) as never],
      ]);
      let read = 0;
      let stopping = false;
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
        tracker: new LowWater(),
        writer,
        stopping: () => stopping,
        plan: new Plan({
          kind: 'put',
          schemas: new Map([['T', schema]]),
          table: undefined,
          types: {},
          empty: 'drop',
          infer: false,
          transform,
          calls: new TransformCalls(64, 600_000),
        }),
        rowRead: () => read++,
        rowSkipped: () => {},
        reject: () => assert.fail('nothing is rejected'),
      };
      const loading = loadFile(file, context);
      // Wait (counting, not timing) until reading stops moving.
      let last = -1;
      while (read !== last) {
        last = read;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(
        read >= ORDER_MAX_ROWS && read <= ORDER_MAX_ROWS + 1,
        `reading waits at the order's bound: read ${read} of ${rows}`,
      );
      assert.equal(sent, 0, 'no row behind the unsettled head is written');
      stopping = true;
      assert.equal(await loading, false);
      assert.equal(context.tracker.open, read, 'every row read stays open for a resume');
    },
  );
});
