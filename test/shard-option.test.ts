import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseShard } from '../src/shard-option.js';

type Expect = { index: number; count: number } | string;

describe('parseShard', () => {
  const cases: [string, string | undefined, string | undefined, NodeJS.ProcessEnv, Expect | undefined][] = [
    ['no --shard', undefined, undefined, {}, undefined],
    ['0/3', '0/3', undefined, {}, { index: 0, count: 3 }],
    ['2/3', '2/3', undefined, {}, { index: 2, count: 3 }],
    ['3/3 is past the last copy', '3/3', undefined, {}, 'OPTION_INVALID'],
    ['0/0', '0/0', undefined, {}, 'OPTION_INVALID'],
    ['1-of-3', '1-of-3', undefined, {}, 'OPTION_INVALID'],
    ['--shards-total without --shard', undefined, '3', {}, 'OPTION_CONFLICT'],
    ['--shards-total with i/n', '0/3', '3', {}, 'OPTION_CONFLICT'],
    ['auto, Kubernetes index, --shards-total', 'auto', '4', { JOB_COMPLETION_INDEX: '3' }, { index: 3, count: 4 }],
    [
      'auto, Kubernetes index, DYNALOAD_SHARDS_TOTAL',
      'auto',
      undefined,
      { JOB_COMPLETION_INDEX: '1', DYNALOAD_SHARDS_TOTAL: '2' },
      { index: 1, count: 2 },
    ],
    [
      'auto, --shards-total wins over the variable',
      'auto',
      '5',
      { JOB_COMPLETION_INDEX: '4', DYNALOAD_SHARDS_TOTAL: '2' },
      { index: 4, count: 5 },
    ],
    ['auto, Kubernetes index without a count', 'auto', undefined, { JOB_COMPLETION_INDEX: '1' }, 'SHARD_UNKNOWN'],
    [
      'auto, AWS Batch index and size',
      'auto',
      undefined,
      { AWS_BATCH_JOB_ARRAY_INDEX: '7', AWS_BATCH_JOB_ARRAY_SIZE: '10' },
      { index: 7, count: 10 },
    ],
    [
      'auto, AWS Batch index, DYNALOAD_SHARDS_TOTAL',
      'auto',
      undefined,
      { AWS_BATCH_JOB_ARRAY_INDEX: '0', DYNALOAD_SHARDS_TOTAL: '2' },
      { index: 0, count: 2 },
    ],
    ['auto, index beyond the count', 'auto', '2', { JOB_COMPLETION_INDEX: '2' }, 'OPTION_INVALID'],
    ['auto, no orchestrator variables', 'auto', undefined, {}, 'SHARD_UNKNOWN'],
    ['auto, a count that is not a number', 'auto', 'three', { JOB_COMPLETION_INDEX: '0' }, 'OPTION_INVALID'],
  ];
  for (const [name, text, total, env, expected] of cases) {
    it(name, () => {
      if (typeof expected === 'string') {
        assert.throws(
          () => parseShard(text, total, env),
          (error: { code: string; exitCode: number }) => error.code === expected && error.exitCode === 2,
        );
      } else {
        assert.deepEqual(parseShard(text, total, env), expected);
      }
    });
  }
});
