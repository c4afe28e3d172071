/**
 * What a run loads: every thread (the main one and each worker) configures S3, but a run of local
 * files never loads the S3 client, a fifth of the SDK code a thread would otherwise compile at start.
 * And no thread sends a CommonJS package through the ESM loader, whose lexer for named exports each
 * thread sets up again (src/packages/commonjs.ts). A module preloaded with NODE_OPTIONS (it runs
 * before the launcher, in every thread) reports, as each thread exits, which SDK clients it loaded
 * and whether Node loaded that lexer. Node 24 lexes in C++, set up at start whatever loads, so
 * there the probe sees no lexer in either case (and the run costs the same either way).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import { assertExit, uploadWithProbe, useDynalite } from './helpers.js';

const db = useDynalite();

// The SDK's packages load as CommonJS (their `main`), so they are in the require cache.
const PROBE = `
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread, threadId } from 'node:worker_threads';
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const loaded = Object.keys(require.cache);
  const has = (pkg) => loaded.some((file) => file.includes('/node_modules/' + pkg + '/'));
  const lexer = process.moduleLoadList.some((m) => m.includes('cjs-module-lexer'));
  writeSync(2, 'thread ' + (isMainThread ? 'main' : threadId) + ': client-dynamodb ' + has('@aws-sdk/client-dynamodb') + ', client-s3 ' + has('@aws-sdk/client-s3') + ', lexer ' + lexer + '\\n');
});
`;

describe('what a run loads', () => {
  it('a run of local files loads the DynamoDB client, no S3 client and no CommonJS lexer, in any thread', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    const files: string[] = [];
    for (let f = 0; f < 2; f++) {
      const file = path.join(dir, `rows-${f}.csv`);
      await writeFile(file, `id,name\n${f * 2},a\n${f * 2 + 1},b\n`);
      files.push(file);
    }
    const run = await uploadWithProbe(db.endpoint, dir, PROBE, [...files, '--table', table, '--workers', '2']);
    assertExit(run, 0);
    assert.equal(run.summary.written, 4);
    const threads = [...run.stderr.matchAll(/thread (\S+): client-dynamodb (\w+), client-s3 (\w+), lexer (\w+)/g)];
    assert.deepEqual(
      threads
        .map(([, thread, dynamodb, s3, lexer]) => ({ main: thread === 'main', dynamodb, s3, lexer }))
        .sort((a, b) => Number(b.main) - Number(a.main)),
      [
        { main: true, dynamodb: 'true', s3: 'false', lexer: 'false' },
        { main: false, dynamodb: 'true', s3: 'false', lexer: 'false' },
        { main: false, dynamodb: 'true', s3: 'false', lexer: 'false' },
      ],
      run.stderr.slice(0, 1_000),
    );
  });
});
