// The run's write-rate buckets, from the options and the tables DescribeTable found.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rateLimits } from '../../src/rate/policy.js';
import { resolveUploadConfig, type RawUploadOptions } from '../../src/config.js';
import type { TableSchema } from '../../src/dynamo/schema.js';

const table = (name: string, writeCapacityUnits?: number): TableSchema => ({
  table: name,
  hash: { name: 'id', type: 'S' },
  range: undefined,
  billingMode: writeCapacityUnits === undefined ? 'PAY_PER_REQUEST' : 'PROVISIONED',
  writeCapacityUnits,
});
const limits = (raw: RawUploadOptions, schemas: TableSchema[]) => {
  const { state, policies } = rateLimits(resolveUploadConfig(['a.csv'], { table: 't', ...raw }), schemas);
  return state.buckets.map((bucket, i) => ({ bucket: bucket.table, ...policies[i] }));
};

describe('rateLimits', () => {
  test("a cap above a provisioned table's capacity starts at the capacity", () => {
    assert.deepEqual(limits({ maxWcu: '5000' }, [table('t', 200)]), [
      { bucket: '*', cap: 5000, adaptive: true, start: 200 },
    ]);
  });

  test('with several tables, at the sum of their capacities, when every one is provisioned', () => {
    assert.deepEqual(limits({ maxWcu: '5000' }, [table('a', 200), table('b', 300)]), [
      { bucket: '*', cap: 5000, adaptive: true, start: 500 },
    ]);
    assert.deepEqual(limits({ maxWcu: '5000' }, [table('a', 200), table('b')]), [
      { bucket: '*', cap: 5000, adaptive: true },
    ]);
  });

  test('a cap at or below the capacity, an on-demand table, or --no-adaptive: no start', () => {
    assert.deepEqual(limits({ maxWcu: '200' }, [table('t', 200)]), [{ bucket: '*', cap: 200, adaptive: true }]);
    assert.deepEqual(limits({ maxWcu: '5000' }, [table('t')]), [{ bucket: '*', cap: 5000, adaptive: true }]);
    assert.deepEqual(limits({ maxWcu: '5000', adaptive: false }, [table('t', 200)]), [
      { bucket: '*', cap: 5000, adaptive: false },
    ]);
  });

  test('by default a provisioned table gets its own bucket at --capacity-share of its capacity', () => {
    assert.deepEqual(limits({}, [table('t', 1000)]), [
      { bucket: '*', cap: undefined, adaptive: true },
      { bucket: 't', cap: 800, adaptive: true },
    ]);
  });
});
