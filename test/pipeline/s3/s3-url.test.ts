import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKeyGlob, keyMatcher, listPrefix, parseS3Url } from '../../../src/pipeline/s3/s3-url.js';

describe('parseS3Url', () => {
  it('splits bucket and key (the key keeps its slashes)', () => {
    assert.deepEqual(parseS3Url('s3://exports/2026-11/part-1.csv.gz'), {
      bucket: 'exports',
      key: '2026-11/part-1.csv.gz',
    });
  });
  for (const bad of ['s3://', 's3://bucket', 's3://bucket/', 's3:///key']) {
    it(`refuses \`${bad}\` as a usage error naming it`, () => {
      assert.throws(
        () => parseS3Url(bad),
        (error: { code: string; exitCode: number; message: string }) =>
          error.code === 'INPUT_INVALID' && error.exitCode === 2 && error.message.includes(bad),
      );
    });
  }
});

describe('listPrefix and isKeyGlob', () => {
  const cases: [string, string, boolean][] = [
    ['exports/2026-11/*.csv.gz', 'exports/2026-11/', true],
    ['exports/part-?.csv', 'exports/part-', true],
    ['exports/[ab].csv', 'exports/', true],
    ['exports/**/x.csv', 'exports/', true],
    ['exports/one.csv', 'exports/one.csv', false],
  ];
  for (const [key, prefix, glob] of cases) {
    it(`${key}: prefix ${prefix}, glob ${String(glob)}`, () => {
      assert.equal(listPrefix(key), prefix);
      assert.equal(isKeyGlob(key), glob);
    });
  }
});

describe('keyMatcher', () => {
  const cases: [string, string, boolean][] = [
    ['x/*.csv', 'x/a.csv', true],
    ['x/*.csv', 'x/sub/a.csv', false],
    ['x/*.csv', 'x/a.csv.gz', false],
    ['x/*.csv*', 'x/a.csv.gz', true],
    ['x/part-?.csv', 'x/part-1.csv', true],
    ['x/part-?.csv', 'x/part-10.csv', false],
    ['x/[ab].csv', 'x/b.csv', true],
    ['x/[!ab].csv', 'x/b.csv', false],
    ['x/[!ab].csv', 'x/c.csv', true],
    ['x/**/*.csv', 'x/a.csv', true],
    ['x/**/*.csv', 'x/1/2/a.csv', true],
    ['x/**', 'x/1/2/a.csv', true],
    ['x/a+b (1).csv', 'x/a+b (1).csv', true],
    ['x/a.csv', 'x/abcsv', false],
  ];
  for (const [glob, key, expected] of cases) {
    it(`${glob} ${expected ? 'matches' : 'does not match'} ${key}`, () => {
      assert.equal(keyMatcher(glob).test(key), expected);
    });
  }
});
