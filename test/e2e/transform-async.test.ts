import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BIN, tempDir } from '../support/cli.js';
import { createTable, FAKE_AWS_ENV, scanAll, TEST_REGION } from '../support/dynalite.js';
import { assertExit, readRejects, upload, useDynalite, type Item } from './helpers.js';

// Async transforms: calls run concurrently in a worker, rows are written in input order, and a
// call that never settles rejects its row instead of stalling the load.

const db = useDynalite();

async function put(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

function csv(rows: readonly string[]): string {
  return ['id,v', ...rows].join('\n') + '\n';
}

const num = (item: Item, name: string): number => Number(item[name]?.N);

describe('async transforms (end to end)', () => {
  it(
    '2,000 rows through a transform that awaits 20 ms: calls overlap up to --transform-concurrency (64 by default), every row written',
    { timeout: 120_000 },
    async (t) => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
      const input = await put(dir, 'in.csv', csv(Array.from({ length: 2000 }, (_, i) => `r${i},${i}`)));
      // Each item records how many calls of its worker were in flight when its own call began.
      const transform = await put(
        dir,
        'lookup.mjs',
        `let active = 0;
export default async (row) => {
  const concurrent = ++active;
  await new Promise((resolve) => setTimeout(resolve, 20));
  active--;
  return { id: row.id, v: Number(row.v), concurrent };
};
`,
      );
      const run = await upload(db.endpoint, [input, '--table', table, '--transform', transform, '--no-checkpoint'], {
        cwd: dir,
      });
      assertExit(run, 0);
      assert.equal(run.summary.written, 2000);
      const items = await scanAll(db.endpoint, table);
      assert.equal(items.length, 2000);
      const most = Math.max(...items.map((item) => num(item, 'concurrent')));
      t.diagnostic(
        `most calls in flight: ${most}; ${run.summary.rowsPerSecond} rows/s (not asserted: the machine is shared)`,
      );
      assert.ok(most > 16, `expected calls to overlap well past 16, got at most ${most} in flight`);
      assert.ok(most <= 64, `expected at most 64 calls in flight (the default --transform-concurrency), got ${most}`);
    },
  );

  it('--transform-concurrency bounds the calls in flight', { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const input = await put(dir, 'in.csv', csv(Array.from({ length: 200 }, (_, i) => `r${i},${i}`)));
    const transform = await put(
      dir,
      'lookup.mjs',
      `let active = 0;
export default async (row) => {
  const concurrent = ++active;
  await new Promise((resolve) => setTimeout(resolve, 5));
  active--;
  return { id: row.id, concurrent };
};
`,
    );
    const run = await upload(
      db.endpoint,
      [input, '--table', table, '--transform', transform, '--transform-concurrency', '3', '--no-checkpoint'],
      { cwd: dir },
    );
    assertExit(run, 0);
    const counts = (await scanAll(db.endpoint, table)).map((item) => num(item, 'concurrent'));
    assert.equal(counts.length, 200);
    assert.equal(Math.max(...counts), 3);
  });

  it(
    "earlier rows of a key slower than later ones: the table holds each key's last row; rejects come in line order",
    { timeout: 120_000 },
    async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
      // 40 keys, 5 versions each, version by version: the calls for several versions of a key are
      // in flight together, and version 0 takes longest, version 4 least.
      const rows: string[] = [];
      for (let v = 0; v < 5; v++)
        for (let k = 0; k < 40; k++) rows.push(k % 10 === 9 && v === 2 ? `k${k},bad` : `k${k},${v}`);
      const input = await put(dir, 'in.csv', csv(rows));
      const transform = await put(
        dir,
        'slow-first.mjs',
        `export default async (row) => {
  if (row.v === 'bad') {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new Error('no such version');
  }
  await new Promise((resolve) => setTimeout(resolve, (5 - Number(row.v)) * 25));
  return { id: row.id, v: Number(row.v) };
};
`,
      );
      const rejects = path.join(dir, 'rejects.ndjson');
      const run = await upload(
        db.endpoint,
        [input, '--table', table, '--transform', transform, '--rejects', rejects, '--no-checkpoint'],
        { cwd: dir },
      );
      assertExit(run, 3);
      const items = await scanAll(db.endpoint, table);
      assert.equal(items.length, 40);
      for (const item of items) assert.equal(num(item, 'v'), 4, `the last row of ${item.id?.S} is version 4`);
      const lines = await readRejects(rejects);
      // Line 1 is the header; row i (0-based) is on line i + 2.
      const bad = rows.flatMap((row, i) => (row.endsWith(',bad') ? [i + 2] : []));
      assert.deepEqual(
        lines.map((r) => r.line),
        bad,
      );
      for (const r of lines) {
        assert.equal(r.code, 'TRANSFORM_FAILED');
        assert.match(r.message, /threw: no such version/);
      }
    },
  );

  it(
    'a call that never settles, --transform-timeout 2: its row rejected TRANSFORM_TIMEOUT with its line, every other row written, exit 3',
    { timeout: 120_000 },
    async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
      const input = await put(dir, 'in.csv', csv(Array.from({ length: 30 }, (_, i) => `r${i},${i}`)));
      // The hung call holds a timer, as a lookup on a socket that never answers holds the socket:
      // the worker must not stay alive for it either.
      const transform = await put(
        dir,
        'hang.mjs',
        `export default async (row) => {
  if (row.id === 'r11') return new Promise(() => setInterval(() => {}, 1000));
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { id: row.id, v: Number(row.v) };
};
`,
      );
      const rejects = path.join(dir, 'rejects.ndjson');
      const run = await upload(
        db.endpoint,
        [
          input,
          '--table',
          table,
          '--transform',
          transform,
          '--transform-timeout',
          '2',
          '--rejects',
          rejects,
          '--no-checkpoint',
        ],
        { cwd: dir, timeoutMs: 60_000 },
      );
      assertExit(run, 3);
      assert.equal(run.summary.written, 29);
      assert.equal(run.summary.rejected, 1);
      const lines = await readRejects(rejects);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.code, 'TRANSFORM_TIMEOUT');
      assert.equal(lines[0]?.line, 13);
      assert.equal(lines[0]?.table, table);
      assert.match(lines[0]?.message ?? '', /within 2 s \(`--transform-timeout`\)/);
      assert.deepEqual(lines[0]?.row, { id: 'r11', v: '11' });
      const ids = (await scanAll(db.endpoint, table)).map((item) => item.id?.S).sort();
      assert.deepEqual(
        ids,
        Array.from({ length: 30 }, (_, i) => `r${i}`)
          .filter((id) => id !== 'r11')
          .sort(),
      );
    },
  );

  it(
    'Ctrl-C while a call hangs: the run stops without waiting for it (exit 130, long before --transform-timeout)',
    { timeout: 120_000 },
    async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
      const input = await put(dir, 'in.csv', csv(Array.from({ length: 30 }, (_, i) => `r${i},${i}`)));
      const hung = path.join(dir, 'hung');
      const transform = await put(
        dir,
        'hang.mjs',
        `import { writeFileSync } from 'node:fs';
export default async (row) => {
  if (row.id === 'r5') {
    writeFileSync(${JSON.stringify(hung)}, '');
    return new Promise(() => setInterval(() => {}, 1000));
  }
  return { id: row.id };
};
`,
      );
      const args = [
        'upload',
        input,
        '--table',
        table,
        '--transform',
        transform,
        '--transform-timeout',
        '600',
        '--stop-timeout',
        '300',
        '--endpoint',
        db.endpoint,
        '--region',
        TEST_REGION,
        '--json',
        '--no-checkpoint',
      ];
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', ...FAKE_AWS_ENV },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.resume();
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      for (let i = 0; i < 600; i++) {
        if (
          await access(hung).then(
            () => true,
            () => false,
          )
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(killer);
      assert.equal(code, 130, stdout);
      const summary = JSON.parse(stdout) as { stopped: string; rejected: number };
      assert.equal(summary.stopped, 'SIGINT');
      assert.equal(summary.rejected, 0, 'the hung row is not rejected: it stays for a resume');
    },
  );
});
