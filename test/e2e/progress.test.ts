import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BIN, runCli, tempDir } from '../support/cli.js';
import { createTable, FAKE_AWS_ENV, TEST_REGION } from '../support/dynalite.js';
import { useDynalite } from './helpers.js';

const db = useDynalite();
const hasScript = spawnSync('script', ['--version']).status === 0;

async function rows(dir: string, count: number): Promise<string> {
  const file = path.join(dir, 'rows.csv');
  const lines = ['id,v'];
  for (let i = 0; i < count; i++) lines.push(`k${i},${i}`);
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

describe('progress (end to end)', () => {
  it(
    'draws a status line on stderr under a pseudo-terminal, and clears it',
    { skip: hasScript ? false : 'no `script` command here' },
    async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
      const file = await rows(dir, 3000);
      // --max-wcu slows the load to about 1.5 s, long enough for several redraws.
      const command = [
        process.execPath,
        BIN,
        'upload',
        file,
        '--table',
        table,
        '--endpoint',
        db.endpoint,
        '--region',
        TEST_REGION,
        '--max-wcu',
        '2000',
        '--no-checkpoint',
      ]
        .map((a) => `'${a}'`)
        .join(' ');
      // Asynchronously: this process serves dynalite, so it must not block while the CLI runs.
      const run = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const child = spawn('script', ['-qec', command, '/dev/null'], {
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...FAKE_AWS_ENV },
          cwd: dir,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.on('close', (status) => resolve({ status, stdout }));
      });
      assert.equal(run.status, 0, run.stdout);
      // Redraws: carriage return + clear line, then "<n> of ~<total> rows done (<p>%)".
      const frames = run.stdout.split('\r\x1b[2K').slice(1);
      assert.ok(frames.length >= 2, `expected several redraws, got ${frames.length}:\n${run.stdout}`);
      assert.match(frames[0] as string, /^[\d,]+ of ~[\d,]+ rows done \(\d+%\)/);
      // The percentage follows rows written, not rows read: reading runs ahead of the 2,000-unit cap
      // (it holds up to 1,600 rows queued), so the first frame, a quarter of a second in, is far from 100%.
      const percents = frames
        .map((f) => Number(/\((\d+)%\)/.exec(f)?.[1] ?? Number.NaN))
        .filter((p) => !Number.isNaN(p));
      assert.ok((percents[0] ?? 100) <= 50, `first frames: ${frames.slice(0, 3).join(' | ')}`);
      assert.ok(
        percents.every((p, i) => i === 0 || p >= (percents[i - 1] ?? 0)),
        `never goes back: ${percents.join(', ')}`,
      );
      assert.match(run.stdout, /Done: 3000 rows read/);
    },
  );

  it('draws nothing when stderr is a pipe, and --quiet prints nothing on stdout', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = await rows(dir, 200);
    const run = await runCli(
      ['upload', file, '--table', table, '--endpoint', db.endpoint, '--region', TEST_REGION, '--no-checkpoint'],
      { cwd: dir },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stderr.includes('\x1b[2K'), 'no line-clearing escape codes in a pipe');
    const quiet = await runCli(
      [
        'upload',
        file,
        '--table',
        table,
        '--endpoint',
        db.endpoint,
        '--region',
        TEST_REGION,
        '--no-checkpoint',
        '--quiet',
      ],
      { cwd: dir },
    );
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, '');
  });
});
