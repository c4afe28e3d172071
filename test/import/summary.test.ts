import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchWriteCost, importCost } from '../../src/import/summary.js';

describe('import cost comparison', () => {
  it('ImportTable per GB of uncompressed bytes; BatchWriteItem per million write units', () => {
    assert.equal(importCost(1024 ** 3, 0.15), 0.15);
    assert.equal(importCost(10 * 1024 ** 3, 0.15), 1.5);
    // 1M items of 1 KB: 1M write units, about 0.95 GB.
    assert.equal(batchWriteCost(1_000_000, 0.625), 0.625);
    assert.ok(importCost(1_000_000 * 1024, 0.15) < batchWriteCost(1_000_000, 0.625) / 4);
  });
});
