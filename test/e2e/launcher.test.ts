/**
 * The launcher (bin/dynaload.js) keeps the main thread's heap small: the main thread only
 * coordinates, yet V8 grew its young generation to 16 MB semi-spaces while the modules loaded and
 * kept them for the whole run, a tenth of the peak RSS. A module preloaded with NODE_OPTIONS (it
 * runs before the launcher) reports the main thread's young generation as the process exits.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import { assertExit, uploadWithProbe, useDynalite } from './helpers.js';

const db = useDynalite();

const PROBE = `
import { writeSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
if (isMainThread)
  process.on('exit', () => {
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    writeSync(2, 'young generation: ' + String(young?.space_size) + '\\n');
  });
`;

describe('the launcher', () => {
  it("keeps the main thread's young generation at its first size through a run", async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    const lines = ['id,name'];
    for (let i = 0; i < 5_000; i++) lines.push(`${i},row ${i}`);
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, lines.join('\n') + '\n');
    const run = await uploadWithProbe(db.endpoint, dir, PROBE, [file, '--table', table]);
    assertExit(run, 0);
    assert.equal(run.summary.written, 5_000);
    const reported = /young generation: (\d+)/.exec(run.stderr);
    assert.ok(reported, `the probe reports (stderr: ${run.stderr.slice(0, 500)})`);
    const bytes = Number(reported[1]);
    // V8 starts a young generation at two 1 MB semi-spaces (some releases count a little more);
    // grown, it is 16 to 32 MB.
    assert.ok(bytes <= 4 * 1024 * 1024, `the main thread's young generation holds ${bytes} bytes`);
  });
});
