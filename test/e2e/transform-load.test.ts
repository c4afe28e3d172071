import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll, TEST_REGION } from '../support/dynalite.js';
import { run, useDynalite } from './helpers.js';

// The transform module is loaded once in each thread: the main thread (for the tables it names) and
// every worker (for the rows). The checkpoint names the bytes the workers run, whatever happens to
// the file in between.

const db = useDynalite();

/**
 * Version A of a transform that, in the main thread, rewrites itself into version B as soon as the
 * checkpoint file exists: after the run hashed it, before (or while) the workers load it.
 */
function selfRewriting(checkpoint: string): string {
  return `import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
const VERSION = 'A';
const self = new URL(import.meta.url);
if (isMainThread) {
  const timer = setInterval(() => {
    if (!existsSync(${JSON.stringify(checkpoint)})) return;
    clearInterval(timer);
    writeFileSync(self, readFileSync(self, 'utf8').replace("VERSION = 'A'", "VERSION = 'B'").replace('if (isMainThread)', 'if (false)'));
  }, 1);
  timer.unref();
}
export default (row) => ({ id: row.id, version: VERSION });
`;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('transform module loading (end to end)', () => {
  it('the checkpoint records the SHA-256 of the bytes the workers ran', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const csv = path.join(dir, 'in.csv');
    await writeFile(csv, 'id\na\nb\n');
    const transform = path.join(dir, 'map.mjs');
    const text = 'export default (row) => ({ id: row.id, version: "A" });\n';
    await writeFile(transform, text);
    const checkpoint = path.join(dir, 'cp.json');
    const args = ['--table', table, '--transform', transform, '--checkpoint', checkpoint];
    const result = await run(['upload', csv, ...args, '--endpoint', db.endpoint, '--region', TEST_REGION], {
      cwd: dir,
    });
    assert.equal(result.code, 0, result.stderr);
    const saved = JSON.parse(await readFile(checkpoint, 'utf8')) as { settings: { transform: { sha256: string } } };
    assert.equal(saved.settings.transform.sha256, sha256(text));
  });

  it('a transform changed after the run loaded and hashed it is refused by the workers, never run on rows', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const csv = path.join(dir, 'in.csv');
    await writeFile(csv, 'id\na\nb\nc\n');
    const checkpoint = path.join(dir, 'cp.json');
    const transform = path.join(dir, 'map.mjs');
    const text = selfRewriting(checkpoint);
    await writeFile(transform, text);
    const args = ['--table', table, '--transform', transform, '--checkpoint', checkpoint, '--workers', '1'];
    const result = await run(['upload', csv, ...args, '--endpoint', db.endpoint, '--region', TEST_REGION], {
      cwd: dir,
    });
    const saved = JSON.parse(await readFile(checkpoint, 'utf8')) as { settings: { transform: { sha256: string } } };
    assert.equal(saved.settings.transform.sha256, sha256(text), 'the checkpoint names version A');
    const versions = new Set((await scanAll(db.endpoint, table)).map((item) => item.version?.S));
    // Either the worker loaded A before the file changed (every row through A), or it found B and
    // refused it. Never rows through B under a checkpoint that names A.
    if (result.code === 0) assert.deepEqual([...versions], ['A']);
    else {
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /TRANSFORM_CHANGED/);
      assert.match(result.stderr, /map\.mjs to be the one the run started with/);
      assert.deepEqual([...versions], []);
    }
    assert.notEqual(await readFile(transform, 'utf8'), text, 'the file did change during the run');
  });
});
