import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { shareOfRate, splitShares, withShardTag } from '../../src/pipeline/shard-split.js';

const bytesOf = (sizes: number[], share: number[]): number => share.reduce((sum, i) => sum + (sizes[i] as number), 0);

describe('splitShares', () => {
  it('gives every input to exactly one share, each share in input order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(10_000_000), { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (sizes, count) => {
        const shares = splitShares(sizes, count);
        assert.equal(shares.length, count);
        assert.deepEqual(
          shares.flat().sort((a, b) => a - b),
          sizes.map((_, i) => i),
        );
        for (const share of shares)
          assert.deepEqual(
            share,
            [...share].sort((a, b) => a - b),
          );
      }),
    );
  });

  it('is deterministic: the same list gives every copy the same answer', () => {
    const sizes = [5, 3, 3, 9, 1, 0, 0, 7, 7, 2];
    assert.deepEqual(splitShares(sizes, 3), splitShares([...sizes], 3));
  });

  it('keeps shares within the largest input of each other (whole inputs, largest first)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        (sizes, count) => {
          const loads = splitShares(sizes, count).map((share) => bytesOf(sizes, share));
          assert.ok(Math.max(...loads) - Math.min(...loads) <= Math.max(...sizes), `loads ${loads.join(',')}`);
        },
      ),
    );
  });

  it('balances 12 inputs of mixed sizes over 3 shares closely', () => {
    const sizes = [900, 100, 450, 450, 300, 300, 300, 120, 80, 500, 400, 100];
    const loads = splitShares(sizes, 3).map((share) => bytesOf(sizes, share));
    assert.equal(
      loads.reduce((a, b) => a + b),
      4000,
    );
    assert.ok(Math.max(...loads) - Math.min(...loads) <= 100, `loads ${loads.join(',')}`);
  });

  it('spreads empty inputs by count rather than piling them on share 0', () => {
    assert.deepEqual(
      splitShares([0, 0, 0, 0, 0, 0], 3).map((s) => s.length),
      [2, 2, 2],
    );
  });

  it('leaves a share empty when there are fewer inputs than copies', () => {
    assert.deepEqual(splitShares([10, 20], 3), [[1], [0], []]);
  });
});

describe('withShardTag and shareOfRate', () => {
  it('puts the shard before the extension', () => {
    assert.equal(withShardTag('run/rejects.ndjson', { index: 1, count: 3 }), 'run/rejects.shard-1-of-3.ndjson');
    assert.equal(withShardTag('checkpoint', { index: 0, count: 2 }), 'checkpoint.shard-0-of-2');
  });
  it('never gives n copies more than the whole cap together', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 1000 }), (cap, count) => {
        const each = shareOfRate(cap, { index: 0, count });
        assert.ok(each >= 1);
        if (cap >= count) assert.ok(each * count <= cap);
      }),
    );
  });
});
