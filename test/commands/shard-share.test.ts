import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatShare, takeShare } from '../../src/commands/shard-share.js';
import { rateLimits } from '../../src/rate/policy.js';
import { resolveUploadConfig, type RawUploadOptions } from '../../src/config.js';

async function files(sizes: number[]): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dynaload-share-'));
  return Promise.all(
    sizes.map(async (size, i) => {
      const file = path.join(dir, `part-${i}.csv`);
      await writeFile(file, 'x'.repeat(size));
      return file;
    }),
  );
}

describe('takeShare', () => {
  it('without --shard: the config as it was, no share', async () => {
    const config = resolveUploadConfig(await files([1, 2]), { table: 'T' });
    const { config: same, share } = await takeShare(config);
    assert.equal(same, config);
    assert.equal(share, undefined);
  });

  it('each copy gets whole files of nearly equal bytes, 1/n of --max-wcu and of the capacity share, and its own file names', async () => {
    const inputs = await files([400, 100, 300, 200, 250, 150]);
    const raw: RawUploadOptions = {
      table: 'T',
      maxWcu: '3000',
      checkpoint: 'run/cp.json',
      rejects: 'run/rejects.ndjson',
    };
    const shares = await Promise.all(
      [0, 1, 2].map((i) => takeShare(resolveUploadConfig(inputs, { ...raw, shard: `${i}/3` }))),
    );
    assert.deepEqual(shares.flatMap((s) => s.config.inputs).sort(), [...inputs].sort());
    for (const [i, { config, share }] of shares.entries()) {
      assert.ok((share?.bytes ?? 0) >= 400 && (share?.bytes ?? 0) <= 500, `share ${i}: ${share?.bytes} bytes`);
      assert.equal(share?.totalBytes, 1400);
      assert.equal(config.maxWcu, 1000);
      assert.equal(config.capacityShare, 0.8 / 3);
      assert.equal(config.checkpoint, `run/cp.shard-${i}-of-3.json`);
      assert.equal(config.rejectsPath, `run/rejects.shard-${i}-of-3.ndjson`);
    }
  });

  it('a copy with no files (more copies than inputs) has nothing to resume, and says so', async () => {
    const { config, share } = await takeShare(
      resolveUploadConfig(await files([10]), { table: 'T', shard: '1/2', resume: true }),
    );
    assert.deepEqual(config.inputs, []);
    assert.equal(config.resume, false);
    assert.equal(formatShare(share as never, true), 'Shard 1/2: 0 of 1 inputs, 0 of 10 bytes\n');
  });

  it("under a cap above a provisioned table, each copy starts at its part of the table's capacity", async () => {
    const { config } = await takeShare(
      resolveUploadConfig(await files([1, 2, 3]), { table: 'T', shard: '2/3', maxWcu: '3000' }),
    );
    const { policies } = rateLimits(config, [
      {
        table: 'T',
        hash: { name: 'id', type: 'S' },
        range: undefined,
        billingMode: 'PROVISIONED',
        writeCapacityUnits: 2000,
      },
    ]);
    assert.deepEqual(policies[0], { cap: 1000, adaptive: true, start: 666 });
  });

  it('standard input cannot be split: usage error', async () => {
    await assert.rejects(takeShare(resolveUploadConfig(['-'], { table: 'T', shard: '0/2' })), {
      code: 'OPTION_CONFLICT',
      exitCode: 2,
    });
  });

  it('`--rejects -` stays on stdout', async () => {
    const { config } = await takeShare(
      resolveUploadConfig(await files([1]), { table: 'T', shard: '0/2', rejects: '-' }),
    );
    assert.equal(config.rejectsPath, '-');
  });
});
