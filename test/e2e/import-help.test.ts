import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/cli.js';
import { assertExit, assertOrder, run } from './helpers.js';

const GOLDEN = path.join(REPO_ROOT, 'test', 'golden', 'import-help.txt');

describe('import help (end to end)', () => {
  it('`dynaload import --help` matches test/golden/import-help.txt', async (t) => {
    const result = await run(['import', '--help']);
    assertExit(result, 0);
    assert.equal(result.stderr, '', 'nothing on stderr');
    assertOrder(result.stdout, [
      'Usage: dynaload import [options] <files...>\n\nLoad a NEW table',
      '\nOptions:\n',
      '\nExamples:\n',
    ]);
    assert.match(result.stdout, /\$ dynaload import \.\/shards\/\*\.csv/);
    assert.doesNotMatch(result.stdout, /\$ dynaload demo\n/, 'not the global examples');
    if (process.env.UPDATE_GOLDEN === '1') {
      await writeFile(GOLDEN, result.stdout);
      t.diagnostic(`updated ${path.relative(REPO_ROOT, GOLDEN)}`);
      return;
    }
    assert.equal(
      result.stdout,
      await readFile(GOLDEN, 'utf8').catch(() => ''),
      'update with: npm run build && UPDATE_GOLDEN=1 node --import tsx --test test/e2e/import-help.test.ts test/e2e/help.test.ts',
    );
  });
});
