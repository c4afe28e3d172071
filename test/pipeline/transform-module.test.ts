import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadTransform, transformHash } from '../../src/pipeline/transform-module.js';
import { tempDir } from '../support/cli.js';

const counter = globalThis as { transformEvaluations?: Record<string, number> };

/** A transform module that counts its evaluations in this thread. */
function counting(name: string, extension: string): string {
  const body = `(globalThis.transformEvaluations ??= {})[${JSON.stringify(name)}] = ((globalThis.transformEvaluations ?? {})[${JSON.stringify(name)}] ?? 0) + 1;`;
  return extension === '.ts'
    ? `${body}\nexport default (row: Record<string, string>) => ({ id: row.id });\n`
    : `${body}\nexport default (row) => ({ id: row.id });\n`;
}

describe('loadTransform', () => {
  for (const extension of ['.mjs', '.ts']) {
    test(`a ${extension} module is read, hashed and evaluated once per thread, however often it is asked for`, async () => {
      const dir = await tempDir();
      const name = `once${extension}`;
      const file = path.join(dir, name);
      const text = counting(file, extension);
      await writeFile(file, text);
      const first = await loadTransform(file, 't');
      const second = await loadTransform(path.relative(process.cwd(), file), 'u');
      assert.deepEqual([...first.keys()], ['t']);
      assert.deepEqual([...second.keys()], ['u']);
      assert.equal(await transformHash(file), createHash('sha256').update(text).digest('hex'));
      assert.equal(counter.transformEvaluations?.[file], 1);
    });
  }

  test('a module whose bytes differ from the hash it is expected to have is refused (TRANSFORM_CHANGED)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'changed.mjs');
    await writeFile(file, 'export default (row) => row;\n');
    const other = createHash('sha256').update('export default () => null;\n').digest('hex');
    await assert.rejects(loadTransform(file, 't', other), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'TRANSFORM_CHANGED');
      assert.match(
        error.message,
        new RegExp(`changed\\.mjs to be the one the run started with \\(SHA-256 ${other}\\)`),
      );
      return true;
    });
    const same = await transformHash(file);
    assert.deepEqual([...(await loadTransform(file, 't', same)).keys()], ['t']);
  });
});
