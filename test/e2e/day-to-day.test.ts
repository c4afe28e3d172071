import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../support/cli.js';
import { createTable, scanAll, TEST_REGION, testClient } from '../support/dynalite.js';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { useDynalite, type Summary } from './helpers.js';

const db = useDynalite();

describe('trying, checking, configuring (end to end)', () => {
  it('`dynaload demo` loads generated rows into an embedded server from a fresh directory', async () => {
    const dir = await tempDir();
    const run = await runCli(['demo', '--rows', '600', '--shards', '3'], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Generated 600 rows in 3 shards/m);
    assert.match(run.stdout, /^Done: 600 rows read/m);
    assert.match(run.stdout, /^ {2}written {6}600 rows \(items: watch_history 600\)$/m);
    const items = run.stdout.split('A few stored items:\n')[1]?.trim().split('\n') ?? [];
    assert.equal(items.length, 3);
    for (const line of items)
      assert.deepEqual(Object.keys(JSON.parse(line) as object).sort(), [
        'episode',
        'moddt',
        'series',
        'timestamp',
        'user',
      ]);
  });

  it('--create-table creates an on-demand table with the key spec, and is never needed twice', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, 'user,ts,v\n1,10,a\n2,20,b\n');
    const table = `created_${Date.now()}`;
    const args = [
      'upload',
      file,
      '--table',
      table,
      '--create-table',
      '--key',
      'user:N',
      '--sort-key',
      'ts:N',
      '--endpoint',
      db.endpoint,
      '--region',
      TEST_REGION,
      '--json',
      '--no-checkpoint',
    ];
    const first = await runCli(args, { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const described = await testClient(db.endpoint).send(new DescribeTableCommand({ TableName: table }));
    assert.deepEqual(described.Table?.KeySchema, [
      { AttributeName: 'user', KeyType: 'HASH' },
      { AttributeName: 'ts', KeyType: 'RANGE' },
    ]);
    assert.equal(described.Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    assert.equal((await scanAll(db.endpoint, table)).length, 2);
    const again = await runCli(args, { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    const missing = await runCli(
      ['upload', file, '--table', `${table}_x`, '--endpoint', db.endpoint, '--region', TEST_REGION, '--no-checkpoint'],
      { cwd: dir },
    );
    assert.equal(missing.code, 1, 'never created without --create-table');
    assert.match(missing.stderr, /TABLE_NOT_FOUND/);
  });

  it('--dry-run counts write units exactly (1 per started KB), estimates the cost, and writes nothing', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    // Item size = name bytes + value bytes per attribute: "id" (2) + "k1" (2) + "v" (1) + value.
    // 1024 bytes exactly -> 1 unit; 1025 -> 2 units; 3000 -> 3 units.
    const pad = (total: number): string => 'x'.repeat(total - 2 - 2 - 1);
    const file = path.join(dir, 'sized.csv');
    await writeFile(file, `id,v\nk1,${pad(1024)}\nk2,${pad(1025)}\nk3,${pad(3000)}\n,bad\n`);
    const run = await runCli(
      [
        'upload',
        file,
        '--table',
        table,
        '--dry-run',
        '--max-wcu',
        '2',
        '--wru-price',
        '1.25',
        '--json',
        '--endpoint',
        db.endpoint,
        '--region',
        TEST_REGION,
        '--no-checkpoint',
        '--rejects',
        path.join(dir, 'r.ndjson'),
      ],
      { cwd: dir },
    );
    assert.equal(run.code, 3, run.stderr);
    const s = JSON.parse(run.stdout) as Summary;
    assert.equal(s.dryRun, true);
    assert.equal(s.rows, 4);
    assert.deepEqual(s.wouldWrite, { rows: 3, items: 3, tables: { [table]: 3 } });
    assert.deepEqual([s.written, s.items, s.requests, s.notWritten], [0, 0, 0, 3], 'nothing written or sent');
    assert.equal(s.rejected, 1);
    assert.deepEqual(s.rejectedByCode, { KEY_EMPTY: 1 });
    assert.equal(s.writeUnits, 1 + 2 + 3);
    assert.equal(s.estimatedCostUsd, Math.round(6 * 1.25) / 1e6, 'rounded to a millionth of a dollar');
    assert.equal(s.secondsAtMaxWcu, 3);
    assert.equal((await scanAll(db.endpoint, table)).length, 0, 'a dry run writes nothing');
  });

  it('a config file holds options; flags on the command line win', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, 'id,n\na,1\n');
    await writeFile(
      path.join(dir, '.dynaloadrc.json'),
      JSON.stringify({ table: 'no_such_table', types: { n: 'N' }, checkpoint: false, 'log-level': 'silent' }),
    );
    const run = await runCli(
      ['upload', file, '--table', table, '--endpoint', db.endpoint, '--region', TEST_REGION, '--json'],
      { cwd: dir },
    );
    assert.equal(run.code, 0, run.stderr);
    const [item] = await scanAll(db.endpoint, table);
    assert.deepEqual(item, { id: { S: 'a' }, n: { N: '1' } }, 'types came from the file, the table from the flag');
  });
});
