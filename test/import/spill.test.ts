import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BUCKETS, Spill } from '../../src/import/spill.js';

async function spillOf(entries: [key: string, text: string][]): Promise<Spill> {
  const spill = new Spill(await mkdtemp(path.join(os.tmpdir(), 'dynaload-spill-')));
  for (const [i, [key, text]] of entries.entries()) await spill.add(key, 0, i + 2, text);
  await spill.close();
  return spill;
}

describe('Spill', () => {
  it('keeps the last write of a key (as puts in input order would), and counts the replaced ones', async () => {
    const spill = await spillOf([
      ['a', '{"v":1}'],
      ['b', '{"v":2}'],
      ['a', '{"v":3}'],
      ['a', '{"v":4}'],
    ]);
    const { items, replaced } = await spill.read(0, BUCKETS);
    assert.equal(replaced, 2);
    assert.deepEqual(items.map((i) => i.text).sort(), ['{"v":2}', '{"v":4}']);
    assert.equal(items.find((i) => i.text === '{"v":4}')?.line, 5);
  });

  it('spreads sorted keys over the buckets, shuffles them, and gives the same order for the same content', async () => {
    const entries: [string, string][] = Array.from({ length: 2_000 }, (_, i) => [
      `k${String(i).padStart(5, '0')}`,
      `{"i":${i}}`,
    ]);
    const [one, two] = [await spillOf(entries), await spillOf(entries)];
    const half = await one.read(0, BUCKETS / 2);
    // A uniform hash puts about half of the keys in half of the buckets.
    assert.ok(half.items.length > 800 && half.items.length < 1_200, `${half.items.length} of 2000 in half the buckets`);
    const order = (await one.read(0, BUCKETS)).items.map((i) => i.line);
    assert.deepEqual(
      (await two.read(0, BUCKETS)).items.map((i) => i.line),
      order,
    );
    const ascending = order.filter((line, i) => i > 0 && line > (order[i - 1] as number)).length;
    assert.ok(ascending < order.length * 0.6, `shuffled: ${ascending} ascending steps of ${order.length}`);
    assert.equal(one.items, 2_000);
  });

  it('keeps tabs and any text of the item intact', async () => {
    const spill = await spillOf([['x', '{"Item":{"s":{"S":"a\\tb"}}}']]);
    assert.equal((await spill.read(0, BUCKETS)).items[0]?.text, '{"Item":{"s":{"S":"a\\tb"}}}');
  });
});
