import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CreateTableCommand, waitUntilTableExists, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { REPO_ROOT, tempDir } from '../support/cli.js';
import { startDynalite, testClient } from '../support/dynalite.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { assertExit, assertTable, N, S, scanSorted, upload, type Item, type Summary } from './helpers.js';

// The worked example (examples/watch-history), run as README shows it, through the fault
// proxy with 30% of the items withheld, so every table sees UnprocessedItems and retries.
const EXAMPLE = 'examples/watch-history';

/** A dynalite of its own (the example's table names are fixed), the three tables of tables.json, and the proxy in front. */
async function exampleServer(
  t: TestContext,
  withhold: number,
  seed: number,
): Promise<{ direct: string; proxy: FaultProxy }> {
  const db = await startDynalite();
  t.after(() => db.close());
  const inputs = JSON.parse(
    await readFile(path.join(REPO_ROOT, EXAMPLE, 'tables.json'), 'utf8'),
  ) as CreateTableCommandInput[];
  assert.deepEqual(
    inputs.map((i) => i.TableName),
    ['watch_by_user', 'watch_by_series', 'latest'],
  );
  const client = testClient(db.endpoint);
  try {
    for (const input of inputs) {
      await client.send(new CreateTableCommand(input));
      await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: input.TableName });
    }
  } finally {
    client.destroy();
  }
  const proxy = await startFaultProxy(db.endpoint, { withhold, seed });
  t.after(() => proxy.close());
  return { direct: db.endpoint, proxy };
}

// watch.csv, copied by hand; the test checks the file still says this.
const WATCH_CSV = `user,series,episode,position,timestamp,moddt
1001,77,1,1320,1700000000,2023-11-14T22:13:20Z
1001,77,2,60,1700003600,2023-11-14T23:13:20Z
1002,77,1,2700,1700000100,2023-11-14T22:15:00Z
1001,91,5,15,1700007200,2023-11-15T00:13:20Z
1003,12,3,900,1700000200,2023-11-14T22:16:40Z
1002,77,2,300,1700004000,2023-11-14T23:20:00Z
1001,77,2,1800,1700005400,2023-11-14T23:43:20Z
1003,12,4,,1700009000,2023-11-15T00:43:20Z
`;

// Derived by hand from the eight rows above.
const WATCH_BY_USER: Item[] = [
  { user: N(1001), timestamp: N(1700000000), series: N(77), episode: N(1), position: N(1320) },
  { user: N(1001), timestamp: N(1700003600), series: N(77), episode: N(2), position: N(60) },
  { user: N(1002), timestamp: N(1700000100), series: N(77), episode: N(1), position: N(2700) },
  { user: N(1001), timestamp: N(1700007200), series: N(91), episode: N(5), position: N(15) },
  { user: N(1003), timestamp: N(1700000200), series: N(12), episode: N(3), position: N(900) },
  { user: N(1002), timestamp: N(1700004000), series: N(77), episode: N(2), position: N(300) },
  { user: N(1001), timestamp: N(1700005400), series: N(77), episode: N(2), position: N(1800) },
  // Empty position: no attribute (the transform leaves it out; the mapping's default --empty drop).
  { user: N(1003), timestamp: N(1700009000), series: N(12), episode: N(4) },
];

const WATCH_BY_SERIES: Item[] = [
  { series: N(77), viewer: S('1001#1700000000'), episode: N(1) },
  { series: N(77), viewer: S('1001#1700003600'), episode: N(2) },
  { series: N(77), viewer: S('1002#1700000100'), episode: N(1) },
  { series: N(91), viewer: S('1001#1700007200'), episode: N(5) },
  { series: N(12), viewer: S('1003#1700000200'), episode: N(3) },
  { series: N(77), viewer: S('1002#1700004000'), episode: N(2) },
  { series: N(77), viewer: S('1001#1700005400'), episode: N(2) },
  { series: N(12), viewer: S('1003#1700009000'), episode: N(4) },
];

/**
 * Both fan-out.mjs and mapping.json: the last row of each (user, series) wins, `at` from moddt; the
 * last row (1003, 12) has no position, so its item leaves the attribute out, and being last it wins.
 */
const LATEST: Item[] = [
  { user: N(1001), series: N(77), episode: N(2), position: N(1800), at: S('2023-11-14T23:43:20Z') },
  { user: N(1002), series: N(77), episode: N(2), position: N(300), at: S('2023-11-14T23:20:00Z') },
  { user: N(1001), series: N(91), episode: N(5), position: N(15), at: S('2023-11-15T00:13:20Z') },
  { user: N(1003), series: N(12), episode: N(4), at: S('2023-11-15T00:43:20Z') },
];

function assertCounts(s: Summary, rows: number, tables: Record<string, number>): void {
  assert.equal(s.exitCode, 0);
  assert.equal(s.error, null);
  assert.equal(s.rows, rows);
  assert.equal(s.written, rows);
  assert.equal(s.rejected, 0);
  assert.equal((s as Summary & { skipped: number }).skipped, 0);
  assert.equal(s.notWritten, 0);
  assert.deepEqual(
    s.tables,
    Object.fromEntries(Object.entries(tables).map(([name, written]) => [name, { written, rejected: 0 }])),
  );
}

describe('fan-out to three tables (end to end, through the fault proxy)', () => {
  it('the example transform: README command, 30% withheld, all three tables complete and correct', async (t) => {
    assert.equal(await readFile(path.join(REPO_ROOT, EXAMPLE, 'watch.csv'), 'utf8'), WATCH_CSV);
    const dir = await tempDir();
    const { direct, proxy } = await exampleServer(t, 0.3, 31);
    const run = await upload(
      proxy.endpoint,
      [`${EXAMPLE}/watch.csv`, '--transform', `${EXAMPLE}/fan-out.mjs`, '--rejects', path.join(dir, 'rejects.ndjson')],
      { cwd: REPO_ROOT },
    );
    assertExit(run, 0);
    // latest gets 8 writes; four of them are overwritten by later rows of the same (user, series).
    assertCounts(run.summary, 8, { watch_by_user: 8, watch_by_series: 8, latest: 8 });
    assert.ok(proxy.stats.itemsWithheld > 0, 'the proxy withheld some items');
    assert.equal(run.summary.unprocessedRetries, proxy.stats.itemsWithheld);
    await assertTable(direct, 'watch_by_user', WATCH_BY_USER, 'user', 'timestamp');
    await assertTable(direct, 'watch_by_series', WATCH_BY_SERIES, 'series', 'viewer');
    await assertTable(direct, 'latest', LATEST, 'user', 'series');
  });

  it('the example mapping file: the same three tables', async (t) => {
    const dir = await tempDir();
    const { direct, proxy } = await exampleServer(t, 0.3, 32);
    const run = await upload(
      proxy.endpoint,
      [`${EXAMPLE}/watch.csv`, '--map', `${EXAMPLE}/mapping.json`, '--rejects', path.join(dir, 'rejects.ndjson')],
      { cwd: REPO_ROOT },
    );
    assertExit(run, 0);
    assertCounts(run.summary, 8, { watch_by_user: 8, watch_by_series: 8, latest: 8 });
    assert.ok(proxy.stats.itemsWithheld > 0);
    await assertTable(direct, 'watch_by_user', WATCH_BY_USER, 'user', 'timestamp');
    await assertTable(direct, 'watch_by_series', WATCH_BY_SERIES, 'series', 'viewer');
    await assertTable(direct, 'latest', LATEST, 'user', 'series');
  });

  it('the example transform and mapping file, loaded side by side, give the same three tables', async (t) => {
    const dir = await tempDir();
    const tables = [
      ['watch_by_user', 'user', 'timestamp'],
      ['watch_by_series', 'series', 'viewer'],
      ['latest', 'user', 'series'],
    ] as const;
    const loaded: Item[][][] = [];
    for (const [how, file] of [
      ['--transform', 'fan-out.mjs'],
      ['--map', 'mapping.json'],
    ] as const) {
      const { direct } = await exampleServer(t, 0, 34);
      const run = await upload(
        direct,
        [
          `${EXAMPLE}/watch.csv`,
          how,
          `${EXAMPLE}/${file}`,
          '--rejects',
          path.join(dir, 'rejects.ndjson'),
          '--no-checkpoint',
        ],
        { cwd: REPO_ROOT },
      );
      assertExit(run, 0);
      loaded.push(await Promise.all(tables.map(([name, ...keys]) => scanSorted(direct, name, ...keys))));
    }
    const [byTransform, byMapping] = loaded as [Item[][], Item[][]];
    tables.forEach(([name], i) => {
      assert.ok((byTransform[i] as Item[]).length > 0, `${name} holds items`);
      assert.deepEqual(
        byMapping[i],
        byTransform[i],
        `${name}: the mapping file and the transform wrote the same items`,
      );
    });
  });

  it('12,000 generated rows in 4 shards fan out to 3 tables with exact counts, 30% withheld', async (t) => {
    const dir = await tempDir();
    const { direct, proxy } = await exampleServer(t, 0.3, 33);
    const SHARDS = 4;
    const PER_SHARD = 3_000;
    const USERS = 200; // per shard; with 7 series every (user, series) pair has 2 or 3 rows
    const byUser: Item[] = [];
    const bySeries: Item[] = [];
    const latest = new Map<string, Item>();
    const files: string[] = [];
    for (let s = 0; s < SHARDS; s++) {
      // Users of a shard appear in no other shard, so "last row wins" is decided within one file.
      const lines = ['user,series,episode,position,timestamp,moddt'];
      for (let j = 0; j < PER_SHARD; j++) {
        const user = 10_000 + s * 1_000 + (j % USERS);
        const series = (j % 7) + 1;
        const episode = j;
        const position = j % 13 === 0 ? '' : String(j * 3);
        const timestamp = 1_700_000_000 + s * 100_000 + j;
        const moddt = `m-${s}-${j}`;
        lines.push(`${user},${series},${episode},${position},${timestamp},${moddt}`);
        byUser.push({
          user: N(user),
          timestamp: N(timestamp),
          series: N(series),
          episode: N(episode),
          ...(position === '' ? {} : { position: N(position) }),
        });
        bySeries.push({ series: N(series), viewer: S(`${user}#${timestamp}`), episode: N(episode) });
        latest.set(`${user}/${series}`, {
          user: N(user),
          series: N(series),
          episode: N(episode),
          ...(position === '' ? {} : { position: N(position) }),
          at: S(moddt),
        });
      }
      const file = path.join(dir, `watch-${s}.csv`);
      await writeFile(file, lines.join('\n') + '\n');
      files.push(file);
    }
    const started = Date.now();
    const run = await upload(
      proxy.endpoint,
      [...files, '--transform', path.join(REPO_ROOT, EXAMPLE, 'fan-out.mjs'), '--workers', '2'],
      { cwd: dir, timeoutMs: 60_000 },
    );
    t.diagnostic(`12,000 rows x 3 tables through the proxy: ${Date.now() - started} ms`);
    assertExit(run, 0);
    const rows = SHARDS * PER_SHARD;
    assertCounts(run.summary, rows, { watch_by_user: rows, watch_by_series: rows, latest: rows });
    assert.ok(run.summary.unprocessedRetries > 0);
    assert.equal(run.summary.unprocessedRetries, proxy.stats.itemsWithheld);
    await assertTable(direct, 'watch_by_user', byUser, 'user', 'timestamp');
    await assertTable(direct, 'watch_by_series', bySeries, 'series', 'viewer');
    const stored = await scanSorted(direct, 'latest', 'user', 'series');
    assert.equal(stored.length, SHARDS * USERS * 7);
    await assertTable(direct, 'latest', [...latest.values()], 'user', 'series');
  });
});
