/**
 * What a run loads, in every thread (the main one and each worker):
 * - the S3 client only for an input in S3: a fifth of the SDK code a thread would compile at start;
 * - of undici, the dispatchers it uses, not its fetch, WebSocket and the rest of its entry;
 * - no CommonJS package through the ESM loader, whose lexer for named exports each thread sets up
 *   again (src/packages/commonjs.ts). Node 24 lexes in C++, set up at start whatever loads, so there
 *   the probe sees no lexer in either case (and the run costs the same either way).
 * A module preloaded with NODE_OPTIONS (it runs before the launcher, in every thread) reports what
 * its thread loaded as the thread exits.
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
  const report = {
    main: isMainThread,
    dynamodb: has('@aws-sdk/client-dynamodb'),
    s3: has('@aws-sdk/client-s3'),
    undiciFetch: has('undici/lib/web'),
    lexer: process.moduleLoadList.some((m) => m.includes('cjs-module-lexer')),
  };
  writeSync(2, 'loaded by thread ' + threadId + ': ' + JSON.stringify(report) + '\\n');
});
`;

describe('what a run loads', () => {
  it('a run of local files loads the DynamoDB client; no S3 client, undici fetch or CommonJS lexer, in any thread', async () => {
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
    const threads = [...run.stderr.matchAll(/^loaded by thread \d+: (.*)$/gm)].map(
      ([, json]) => JSON.parse(json as string) as { main: boolean },
    );
    const expected = { dynamodb: true, s3: false, undiciFetch: false, lexer: false };
    assert.deepEqual(
      threads.sort((a, b) => Number(b.main) - Number(a.main)),
      [
        { main: true, ...expected },
        { main: false, ...expected },
        { main: false, ...expected },
      ],
      run.stderr.slice(0, 1_000),
    );
  });
});
