import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TableSchema } from '../../src/dynamo/schema.js';
import { Plan, type Output } from '../../src/pipeline/plan.js';
import { TransformCalls } from '../../src/pipeline/transform-calls.js';
import type { LoadedTransform } from '../../src/pipeline/transform-module.js';

const schema: TableSchema = {
  table: 'T',
  hash: { name: 'id', type: 'S' },
  range: undefined,
  billingMode: 'PAY_PER_REQUEST',
  writeCapacityUnits: undefined,
};

function plan(fn: (row: Readonly<Record<string, unknown>>) => unknown, calls = new TransformCalls(2, 50)): Plan {
  const transform: LoadedTransform = new Map([['T', fn as never]]);
  return new Plan({
    kind: 'put',
    schemas: new Map([['T', schema]]),
    table: undefined,
    types: {},
    empty: 'drop',
    infer: false,
    transform,
    calls,
  });
}

const ctx = { file: 'a.csv', line: 2 };
const codes = (outputs: Output[]): string[] => outputs.map((o) => o.error?.code ?? 'item');

describe('Plan with a transform', () => {
  test('a synchronous transform gives its outputs at once (no promise), and never waits for room', () => {
    const p = plan((row) => ({ id: row.id }));
    const outputs = p.csv(['id'], 'test')(['a'], ctx);
    assert.ok(Array.isArray(outputs));
    assert.deepEqual(codes(outputs), ['item']);
    assert.equal(p.room(), undefined);
  });

  test('a synchronous throw is TRANSFORM_FAILED with its message, at once', () => {
    const outputs = plan(() => {
      throw new Error('bad row');
    }).csv(['id'], 'test')(['a'], ctx);
    assert.ok(Array.isArray(outputs));
    assert.deepEqual(codes(outputs), ['TRANSFORM_FAILED']);
    assert.match(outputs[0]?.error?.message ?? '', /threw: bad row/);
  });

  test('an async call counts against the concurrency until it settles', async () => {
    const calls = new TransformCalls(1, 1000);
    let finish!: () => void;
    const p = plan((row) => new Promise((resolve) => (finish = () => resolve({ id: row.id }))), calls);
    const pending = p.csv(['id'], 'test')(['a'], ctx);
    assert.ok(pending instanceof Promise);
    assert.equal(calls.pending, 1);
    assert.ok(p.room(), 'a second row waits for room');
    finish();
    assert.deepEqual(codes(await pending), ['item']);
    assert.equal(calls.pending, 0);
  });

  test('an async call that does not settle in time is TRANSFORM_TIMEOUT for its table', async () => {
    const outputs = await plan(() => new Promise(() => {})).csv(['id'], 'test')(['a'], ctx);
    assert.deepEqual(
      outputs.map((o) => [o.table, o.error?.code]),
      [['T', 'TRANSFORM_TIMEOUT']],
    );
    assert.match(outputs[0]?.error?.message ?? '', /within 0.05 s \(`--transform-timeout`\)/);
  });
});
