import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Spill } from '../../src/import/spill.js';
import { buildObjects, readIndex } from '../../src/import/stage.js';

const tmp = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'dynaload-stage-'));

async function build(count: number, objectBytes: number, parameters: unknown = { k: 1 }) {
  const spill = new Spill(await tmp());
  for (let i = 0; i < count; i++) await spill.add(`key${i}`, i % 2, i + 2, `{"Item":{"id":{"N":"${i}"}}}`);
  await spill.close();
  const dir = await tmp();
  return buildObjects('T', spill, ['a.csv', 'b.csv'], parameters, { bucket: 'b', prefix: 'p/' }, dir, dir, objectBytes);
}

describe('buildObjects', () => {
  it('objects of similar size, each line mapped back by the index to its file and line', async () => {
    const staged = await build(3_000, 20_000);
    assert.ok(staged.objects.length >= 4, `${staged.objects.length} objects`);
    assert.equal(staged.items, 3_000);
    const counts = staged.objects.map((o) => o.items);
    assert.ok(Math.max(...counts) < Math.min(...counts) * 1.5, counts.join(','));
    assert.equal(staged.keyPrefix, `p/T/${staged.clientToken}/`);
    const index = await readIndex(staged.indexFile);
    assert.deepEqual(index.files, ['a.csv', 'b.csv']);
    for (const object of staged.objects) {
      const lines = gunzipSync(await readFile(object.file))
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '');
      const origins = index.objects.get(object.name) ?? [];
      assert.equal(origins.length, lines.length);
      for (const [n, line] of lines.entries()) {
        const id = Number((JSON.parse(line) as { Item: { id: { N: string } } }).Item.id.N);
        assert.deepEqual(origins[n], [id % 2, id + 2]);
      }
    }
  });

  it('the ClientToken follows the staged bytes and the parameters, and nothing else', async () => {
    const [a, b] = [await build(500, 10_000), await build(500, 10_000)];
    assert.equal(a.clientToken, b.clientToken);
    assert.match(a.clientToken, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual((await build(501, 10_000)).clientToken, a.clientToken);
    assert.notEqual((await build(500, 10_000, { k: 2 })).clientToken, a.clientToken);
  });
});
