import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { windowCeiling } from '../../src/pipeline/window.js';
import { assertExit, assertTable, N, S, upload, useDynalite, type Item } from './helpers.js';

const db = useDynalite();
const REASONS = [
  'startup',
  'probing',
  'rate',
  'throttled',
  'input',
  'no-gain',
  'latency',
  'memory',
  'enough',
  'ceiling',
];

async function rows(dir: string, count: number): Promise<{ file: string; items: Item[] }> {
  const lines = ['id,n'];
  const items: Item[] = [];
  for (let i = 0; i < count; i++) {
    const id = `k${String(i).padStart(6, '0')}`;
    lines.push(`${id},${i}`);
    items.push({ id: S(id), n: N(String(i)) });
  }
  const file = path.join(dir, 'rows.csv');
  await writeFile(file, lines.join('\n') + '\n');
  return { file, items };
}

describe('a table far away (answers delayed by the fault proxy)', () => {
  it('writes every row, and the summary reports the window, the round-trip and why it holds', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { file, items } = await rows(dir, 3_000);
    const proxy = await startFaultProxy(db.endpoint, { delayMs: 40, withhold: 0.2, seed: 15 });
    t.after(() => proxy.close());
    const run = await upload(proxy.endpoint, [file, '--table', table, '--types', 'n:N', '--workers', '1'], {
      cwd: dir,
    });
    assertExit(run, 0);
    assert.equal(run.summary.written, 3_000);
    const window = run.summary.window;
    assert.ok(window, 'the summary has a window');
    assert.equal(window.perWorker.length, 1);
    assert.ok(window.size >= 16 && window.size <= windowCeiling(1), `window ${window.size}`);
    // Every answer left the proxy at least 40 ms after it came in.
    assert.ok(
      (window.minRttMs ?? 0) >= 40 && (window.rttMs ?? 0) >= 40,
      `round-trip ${window.rttMs} ms, fastest ${window.minRttMs} ms`,
    );
    assert.ok(
      window.reason.split(',').every((reason) => REASONS.includes(reason)),
      window.reason,
    );
    await assertTable(db.endpoint, table, items, 'id');
  });

  it('--concurrency n fixes the window, and the summary says so', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { file, items } = await rows(dir, 500);
    const proxy = await startFaultProxy(db.endpoint, { delayMs: 20, seed: 16 });
    t.after(() => proxy.close());
    const run = await upload(
      proxy.endpoint,
      [file, '--table', table, '--types', 'n:N', '--workers', '1', '--concurrency', '4'],
      { cwd: dir },
    );
    assertExit(run, 0);
    assert.deepEqual(
      { size: run.summary.window?.size, reason: run.summary.window?.reason },
      { size: 4, reason: 'fixed' },
    );
    await assertTable(db.endpoint, table, items, 'id');
  });
});
