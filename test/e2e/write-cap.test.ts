/**
 * The write cap in force is reported with its source: `auto` on a provisioned table is a cap as
 * real as `--max-wcu`, and a dry run against such a table gives the time at it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../support/cli.js';
import { TEST_REGION } from '../support/dynalite.js';
import { useDynalite } from './helpers.js';

const db = useDynalite();

describe('the write cap in force (end to end)', () => {
  it('auto on a provisioned table: the summary and --json say the cap and its source; a dry run gives the time at it', async () => {
    const dir = await tempDir();
    const table = `t_${randomBytes(6).toString('hex')}`;
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, ['id,n', ...Array.from({ length: 80 }, (_, i) => `k${i},${i}`)].join('\n') + '\n');
    const common = [
      file,
      '--table',
      table,
      '--types',
      'n:N',
      '--endpoint',
      db.endpoint,
      '--region',
      TEST_REGION,
      '--no-checkpoint',
    ];
    // 50 provisioned write units: auto caps the run at 0.8 of them, 40 units/s.
    // A dry run before the table exists checks against the table it would create, capacity included.
    const dry = await runCli(
      [
        'upload',
        ...common,
        '--create-table',
        '--key',
        'id:S',
        '--billing',
        'provisioned',
        '--wcu',
        '50',
        '--dry-run',
        '--json',
      ],
      { cwd: dir },
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual((JSON.parse(dry.stdout) as { secondsAtMaxWcu: number | null; maxWcu: number | null }).maxWcu, 40);
    const created = await runCli(
      ['upload', ...common, '--create-table', '--key', 'id:S', '--billing', 'provisioned', '--wcu', '50', '--json'],
      { cwd: dir, timeoutMs: 60_000 },
    );
    assert.equal(created.code, 0, created.stderr);
    const s = JSON.parse(created.stdout) as { written: number; maxWcu: number | null; writeCaps: unknown[] };
    assert.equal(s.written, 80);
    assert.equal(s.maxWcu, 40);
    assert.deepEqual(s.writeCaps, [{ table, wcu: 40, source: 'auto', capacityShare: 0.8 }]);

    const human = await runCli(['upload', ...common, '--dry-run'], { cwd: dir });
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      new RegExp(
        `time +2s at 40 WCU/s \\(the cap in force: 40 WCU/s on ${table} \\(auto: 0\\.8 of its provisioned capacity\\)\\)`,
      ),
    );
    const json = await runCli(['upload', ...common, '--dry-run', '--json'], { cwd: dir });
    assert.equal((JSON.parse(json.stdout) as { secondsAtMaxWcu: number | null }).secondsAtMaxWcu, 2);

    const explicit = await runCli(['upload', ...common, '--max-wcu', '1000', '--json'], { cwd: dir });
    assert.equal(explicit.code, 0, explicit.stderr);
    const e = JSON.parse(explicit.stdout) as { maxWcu: number | null; writeCaps: unknown[] };
    assert.equal(e.maxWcu, 1000);
    assert.deepEqual(e.writeCaps, [{ table: '*', wcu: 1000, source: '--max-wcu' }]);
  });
});
