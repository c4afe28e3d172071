/**
 * A command that works on the main thread lets its young generation grow again after the launcher
 * held it at its first size. Each case runs in a child process: V8's flags are the process's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './support/cli.js';

const run = promisify(execFile);

/** Rows read and serialized on the main thread, some kept a while (as `import` stages them); prints the young generation's size. */
const WORK = `
  for (let i = 0, held = []; i < 300000; i++) {
    held.push(JSON.stringify({ PutRequest: { Item: { id: { N: String(i) }, name: { S: 'row ' + i } } } }));
    if (held.length > 4000) held.splice(0, 2000);
  }
  const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  console.log(young.space_size);
`;

async function youngAfterWork(works: boolean): Promise<number> {
  const code = `
    import v8 from 'node:v8';
    import { mainThreadWorks } from './src/main-thread-heap.ts';
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    ${works ? 'mainThreadWorks();' : ''}
    ${WORK}
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO_ROOT,
  });
  return Number(stdout.trim());
}

describe('the main thread heap', () => {
  it('held at its first size by the launcher, grows again once a command says it works on the main thread', async () => {
    const held = await youngAfterWork(false);
    const grown = await youngAfterWork(true);
    assert.ok(held <= 4 * 1024 * 1024, `held: ${held} bytes`);
    assert.ok(grown > 2 * held, `grown: ${grown} bytes, held: ${held}`);
  });
});
