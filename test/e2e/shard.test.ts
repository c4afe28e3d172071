/**
 * One load split across copies (`--shard i/n`) end to end: objects in a real S3-compatible server
 * (s3rver), copies of the built CLI run at the same time, dynalite (or the bench's metering null
 * endpoint for the write rate) behind them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { startNullEndpoint } from '../../bench/null-endpoint.js';
import { createTable, scanAll, TEST_REGION } from '../support/dynalite.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startS3, type LocalS3 } from '../support/s3.js';
import { assertExit, parseSummary, run, useDynalite, type Summary } from './helpers.js';
import { readCheckpointFile, spawnUpload, waitFor, type LiveRun } from './resume-helpers.js';

const db = useDynalite();
let s3: LocalS3;
const BUCKET = 'split-load';
const OBJECTS = 12;

/** Object k: `id,name` rows with ids unique across objects; every third gzip; object 5 has quoted newlines in every row. */
function objectRows(k: number, scale = 1): { id: number; name: string }[] {
  const base = k * 100_000;
  return Array.from({ length: (200 + 150 * k) * scale }, (_, i) => ({
    id: base + i,
    name: k === 5 ? `line one ${i}\nline two, "quoted"` : `name ${base + i}`,
  }));
}

function objectBody(k: number, scale = 1): Buffer {
  const csv =
    'id,name\n' +
    objectRows(k, scale)
      .map((r) => `${r.id},"${r.name.replace(/"/g, '""')}"\n`)
      .join('');
  return k % 3 === 1 ? gzipSync(csv) : Buffer.from(csv);
}

const keyOf = (prefix: string, k: number): string =>
  `${prefix}/part-${String(k).padStart(2, '0')}.csv${k % 3 === 1 ? '.gz' : ''}`;

async function putObjects(prefix: string, scale = 1): Promise<Map<number, string>> {
  const expected = new Map<number, string>();
  for (let k = 0; k < OBJECTS; k++) {
    await s3.put(BUCKET, keyOf(prefix, k), objectBody(k, scale));
    for (const row of objectRows(k, scale)) expected.set(row.id, row.name);
  }
  return expected;
}

before(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
});
after(() => s3?.close());

const tempDir = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'dynaload-shard-e2e-'));

function copies(endpoint: string, prefix: string, table: string, dir: string, extra: string[] = []): LiveRun[] {
  return [0, 1, 2].map((i) =>
    spawnUpload(
      endpoint,
      [`s3://${BUCKET}/${prefix}/*`, '--table', table, '--shard', `${i}/3`, '--workers', '1', ...extra],
      dir,
      180_000,
      s3.env,
    ),
  );
}

async function assertStoredOnce(table: string, expected: Map<number, string>): Promise<void> {
  const items = await scanAll(db.endpoint, table);
  assert.equal(items.length, expected.size, `table holds ${items.length} items, the input ${expected.size} rows`);
  for (const item of items) assert.equal(item.name?.S, expected.get(Number(item.id?.N)), `item ${item.id?.N}`);
}

describe('--shard i/n over S3 objects (end to end)', () => {
  it('three copies at once: every row stored once, shares disjoint and whole, summaries add up to the input', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    const expected = await putObjects('together');
    const results = await Promise.all(copies(db.endpoint, 'together', table, dir).map((c) => c.done));
    const summaries: Summary[] = results.map((r) => {
      assertExit(r, 0);
      return parseSummary(r);
    });
    assert.equal(
      summaries.reduce((sum, s) => sum + s.rows, 0),
      expected.size,
      'rows read add up',
    );
    assert.equal(
      summaries.reduce((sum, s) => sum + s.written, 0),
      expected.size,
      'rows written add up',
    );
    const files = summaries.flatMap((s) => s.shard?.files ?? []);
    assert.equal(files.length, OBJECTS);
    assert.equal(new Set(files).size, OBJECTS, 'no object in two shares');
    const bytes = summaries.map((s) => s.shard?.bytes ?? 0);
    assert.ok(
      Math.max(...bytes) - Math.min(...bytes) <=
        Math.max(...Array.from({ length: OBJECTS }, (_, k) => objectBody(k).length)),
      `share bytes ${bytes.join(', ')}`,
    );
    await assertStoredOnce(table, expected);
    // Each copy kept its own checkpoint.
    const checkpoints = (await readdir(dir)).filter((f) => f.startsWith('.dynaload-checkpoint-')).sort();
    assert.deepEqual(
      checkpoints,
      [0, 1, 2].map((i) => `.dynaload-checkpoint-${table}.shard-${i}-of-3.json`),
    );
  });

  it('--dry-run --shard 1/3 prints the share (its objects and bytes of the whole) and writes nothing', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    await putObjects('dry');
    const result = await run(
      [
        'upload',
        `s3://${BUCKET}/dry/*`,
        '--table',
        table,
        '--shard',
        '1/3',
        '--dry-run',
        '--endpoint',
        db.endpoint,
        '--region',
        TEST_REGION,
      ],
      { cwd: dir, env: s3.env },
    );
    assertExit(result, 0);
    const total = Array.from({ length: OBJECTS }, (_, k) => objectBody(k).length).reduce((a, b) => a + b, 0);
    const head = new RegExp(`^Shard 1/3: (\\d+) of ${OBJECTS} inputs, (\\d+) of ${total} bytes\\n`);
    const match = head.exec(result.stdout);
    assert.ok(match, result.stdout);
    const listed = result.stdout
      .split('\n')
      .filter((line) => line.startsWith(`  s3://${BUCKET}/dry/`))
      .map((line) => line.trim());
    assert.equal(listed.length, Number(match[1]));
    assert.equal(
      listed.reduce((sum, url) => sum + objectBody(Number(/part-(\d+)/.exec(url)?.[1])).length, 0),
      Number(match[2]),
      "the bytes are the listed objects' sizes",
    );
    assert.deepEqual(await scanAll(db.endpoint, table), [], 'nothing written');
  });

  it('one copy killed with SIGKILL, resumed alone: nothing lost', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    const expected = await putObjects('killed');
    // Slow answers keep the copies busy long enough to be killed mid-share.
    const proxy = await startFaultProxy(db.endpoint, { delayMs: 30, seed: 9 });
    t.after(() => proxy.close());
    const runs = copies(proxy.endpoint, 'killed', table, dir, ['--concurrency', '1']);
    const victim = runs[1] as LiveRun;
    const checkpoint = path.join(dir, `.dynaload-checkpoint-${table}.shard-1-of-3.json`);
    await waitFor(
      'a checkpoint of copy 1 with rows below its marks',
      async () => {
        const data = await readCheckpointFile(checkpoint).catch(() => undefined);
        return data && Object.values(data.files).some((f) => f.mark.rows > 0) ? true : undefined;
      },
      120_000,
    );
    victim.child.kill('SIGKILL');
    const [first, killed, third] = await Promise.all(runs.map((r) => r.done));
    assert.equal(killed?.signal, 'SIGKILL');
    assertExit(first as never, 0);
    assertExit(third as never, 0);
    const done = parseSummary(first as never).rows + parseSummary(third as never).rows;

    proxy.setFaults({});
    const resumed = await spawnUpload(
      proxy.endpoint,
      [`s3://${BUCKET}/killed/*`, '--table', table, '--shard', '1/3', '--workers', '1', '--resume'],
      dir,
      180_000,
      s3.env,
    ).done;
    assertExit(resumed, 0);
    const summary = parseSummary(resumed);
    t.diagnostic(`copy 1 resumed: ${summary.previous?.rows ?? 0} rows from before the kill, ${summary.rows} read now`);
    assert.ok((summary.previous?.rows ?? 0) > 0, 'the resume started from the marks');
    assert.ok(done + (summary.previous?.rows ?? 0) + summary.rows >= expected.size, 'every row read by some run');
    await assertStoredOnce(table, expected);
  });

  it('--max-wcu 3000 over three copies: the writes at the endpoint stay within the whole cap', async (t) => {
    const dir = await tempDir();
    // About 12 s of writes at the whole cap.
    const expected = await putObjects('rate', 3);
    const endpoint = await startNullEndpoint({ kind: 'null', meter: true });
    t.after(() => endpoint.close());
    const table = await createTable(endpoint.endpoint, { hash: ['id', 'N'] });
    const results = await Promise.all(
      copies(endpoint.endpoint, 'rate', table, dir, ['--max-wcu', '3000', '--no-checkpoint']).map((c) => c.done),
    );
    for (const result of results) assertExit(result, 0);
    const stats = endpoint.stats();
    const perSecond = stats.unitsPerSecond.slice(0, -1); // the last second is partial
    // Counted over 3-second windows: one copy's burst allowance and the edges of a second stay small there.
    const windows = perSecond
      .slice(2)
      .map((_, i) => (perSecond[i] ?? 0) + (perSecond[i + 1] ?? 0) + (perSecond[i + 2] ?? 0));
    const worst = Math.max(0, ...windows);
    const overall = stats.unitsAdmitted / Math.max(1, stats.activeMs / 1000);
    t.diagnostic(
      `units per second: ${perSecond.join(' ')}; worst 3 s window ${worst}; overall ${Math.round(overall)}/s`,
    );
    assert.equal(stats.unitsAdmitted, expected.size, 'every row written once');
    assert.ok(worst <= 3 * 3000 * 1.15, `worst 3 s window ${worst} units, cap ${3 * 3000}`);
    assert.ok(overall <= 3000 * 1.15, `overall ${Math.round(overall)} units/s, cap 3000`);
  });
});
