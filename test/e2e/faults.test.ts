import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { startFaultProxy, type FaultProxy, type Faults } from '../support/fault-proxy.js';
import { assertExit, assertTable, N, S, upload, useDynalite, type Item, type Summary } from './helpers.js';

const db = useDynalite();

async function proxyFor(t: TestContext, faults: Faults): Promise<FaultProxy> {
  const proxy = await startFaultProxy(db.endpoint, faults);
  t.after(() => proxy.close());
  return proxy;
}

/** `shards` files of `id,n,note` rows (ids unique across shards); returns the paths and the items they hold. */
async function writeShards(dir: string, rows: number, shards: number): Promise<{ files: string[]; items: Item[] }> {
  const files: string[] = [];
  const items: Item[] = [];
  const per = Math.ceil(rows / shards);
  for (let s = 0; s < shards; s++) {
    const lines = ['id,n,note'];
    for (let i = s * per; i < Math.min(rows, (s + 1) * per); i++) {
      const id = `k${String(i).padStart(7, '0')}`;
      const n = String(i * 7919);
      lines.push(`${id},${n},s${s}`);
      items.push({ id: S(id), n: N(n), note: S(`s${s}`) });
    }
    const file = path.join(dir, `shard-${s}.csv`);
    await writeFile(file, lines.join('\n') + '\n');
    files.push(file);
  }
  return { files, items };
}

function assertAllWritten(s: Summary, rows: number, table: string): void {
  assert.equal(s.exitCode, 0);
  assert.equal(s.error, null);
  assert.equal(s.rows, rows);
  assert.equal(s.written, rows);
  assert.equal(s.rejected, 0);
  assert.equal(s.notWritten, 0);
  assert.deepEqual(s.tables, { [table]: { written: rows, rejected: 0 } });
}

/** written + rejected + notWritten accounts for every row read; a Scan finds exactly `written`. */
async function assertAccounted(s: Summary, table: string): Promise<void> {
  assert.equal(
    s.written + s.rejected + s.notWritten,
    s.rows,
    `written ${s.written} + rejected ${s.rejected} + not written ${s.notWritten} != rows ${s.rows}`,
  );
  const stored = await scanAll(db.endpoint, table);
  assert.equal(stored.length, s.written, `the summary says ${s.written} written, the table holds ${stored.length}`);
}

describe('faults between dynaload and DynamoDB (end to end, through the fault proxy)', () => {
  it('100,000 rows in 8 shards arrive with 30% of items withheld and 5% of requests throttled', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files, items } = await writeShards(dir, 100_000, 8);
    const proxy = await proxyFor(t, { withhold: 0.3, throttle: 0.05, seed: 1 });
    const started = Date.now();
    const run = await upload(proxy.endpoint, [...files, '--table', table, '--types', 'n:N', '--workers', '2'], {
      cwd: dir,
      timeoutMs: 240_000,
    });
    t.diagnostic(
      `100,000 rows through the proxy: ${Date.now() - started} ms (summary durationMs ${run.summary.durationMs})`,
    );
    assertExit(run, 0);
    assertAllWritten(run.summary, 100_000, table);
    assert.ok(run.summary.unprocessedRetries > 0, 'some items came back as UnprocessedItems');
    assert.equal(run.summary.unprocessedRetries, proxy.stats.itemsWithheld, 'every withheld item counted as resent');
    assert.equal(run.summary.throttledRequests, proxy.stats.throttled);
    assert.ok(run.summary.throttledRequests > 0);
    await assertTable(db.endpoint, table, items, 'id');
  });

  it('a fifth withheld at random next to the table: the rate backs off, learns it as background, and is unlimited again', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files } = await writeShards(dir, 40_000, 4);
    const proxy = await proxyFor(t, { withhold: 0.2, seed: 5 });
    const run = await upload(
      proxy.endpoint,
      [...files, '--table', table, '--types', 'n:N', '--workers', '2', '--log-level', 'info'],
      { cwd: dir, timeoutMs: 240_000 },
    );
    assertExit(run, 0);
    assertAllWritten(run.summary, 40_000, table);
    // pino writes an unlimited rate (Infinity) as null.
    const rates = run.stderr
      .split('\n')
      .filter((line) => line.includes('"write rate changed"'))
      .map((line) => (JSON.parse(line) as { rate: number | null }).rate);
    const trace = rates.map((rate) => rate ?? 'unlimited').join(' ');
    t.diagnostic(`write rates: ${trace}`);
    const firstBackOff = rates.findIndex((rate) => rate !== null);
    assert.ok(firstBackOff >= 0, `backed off: ${trace}`);
    // Back to where it was before the back-offs, not left to climb from one of them (slowly: a few
    // percent of what the table took per second).
    assert.ok(rates.slice(firstBackOff).includes(null), `unlimited again after learning the background: ${trace}`);
  });

  it('5xx answers and connection resets before and after forwarding: every row arrives once', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files, items } = await writeShards(dir, 5_000, 4);
    const proxy = await proxyFor(t, {
      withhold: 0.2,
      throttle: 0.05,
      throttleType: 'ThrottlingException',
      serverError: 0.08,
      resetBefore: 0.05,
      resetAfter: 0.05,
      seed: 2,
    });
    const run = await upload(
      proxy.endpoint,
      [...files, '--table', table, '--types', 'n:N', '--workers', '2', '--concurrency', '4'],
      { cwd: dir },
    );
    assertExit(run, 0);
    assertAllWritten(run.summary, 5_000, table);
    assert.ok(
      proxy.stats.serverErrors > 0 && proxy.stats.resetsBefore > 0 && proxy.stats.resetsAfter > 0,
      JSON.stringify(proxy.stats),
    );
    assert.equal(run.summary.serverErrors, proxy.stats.serverErrors);
    assert.equal(run.summary.networkErrors, proxy.stats.resetsBefore + proxy.stats.resetsAfter);
    await assertTable(db.endpoint, table, items, 'id');
  });

  it('keeps the last version of every key of a file, whatever the retries and concurrency', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    const lines = ['id,version,tag'];
    // Versions of one key are spread over the file, so they land in different batches.
    for (let v = 1; v <= 20; v++) for (const k of keys) lines.push(`${k},${v},${k}@${v}`);
    const file = path.join(dir, 'versions.csv');
    await writeFile(file, lines.join('\n') + '\n');
    const proxy = await proxyFor(t, { withhold: 0.4, delayMs: 5, seed: 3 });
    // Random answer delays: a new delay every few milliseconds (setFaults keeps the PRNG when no seed is given).
    const jitter = setInterval(() => proxy.setFaults({ withhold: 0.4, delayMs: Math.floor(Math.random() * 40) }), 3);
    t.after(() => clearInterval(jitter));
    const run = await upload(
      proxy.endpoint,
      [file, '--table', table, '--types', 'version:N', '--workers', '1', '--concurrency', '8'],
      { cwd: dir },
    );
    clearInterval(jitter);
    assertExit(run, 0);
    assert.equal(run.summary.rows, 4_000);
    assert.equal(run.summary.written, 4_000);
    assert.ok(run.summary.unprocessedRetries > 0);
    await assertTable(
      db.endpoint,
      table,
      keys.map((k) => ({ id: S(k), version: N(20), tag: S(`${k}@20`) })),
      'id',
    );
  });

  it('fails with RETRIES_EXHAUSTED when items are withheld every time, and accounts for every row', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files } = await writeShards(dir, 300, 1);
    await writeFile(files[0] as string, 'bad-n,not-a-number,x\n', { flag: 'a' });
    const proxy = await proxyFor(t, { withhold: 1, seed: 4 });
    const rejects = path.join(dir, 'rejects.ndjson');
    const started = Date.now();
    const run = await upload(
      proxy.endpoint,
      [...files, '--table', table, '--types', 'n:N', '--max-retries', '2', '--rejects', rejects],
      { cwd: dir, timeoutMs: 60_000 },
    );
    assertExit(run, 1);
    assert.ok(Date.now() - started < 30_000, 'fails within seconds, not after a long wait');
    assert.equal(run.summary.exitCode, 1);
    assert.equal(run.summary.error?.code, 'RETRIES_EXHAUSTED');
    assert.match(
      run.summary.error?.message ?? '',
      /within 2 retries \(`--max-retries`\), but it was returned in UnprocessedItems 3 times in a row/,
    );
    assert.match(run.stderr, /RETRIES_EXHAUSTED/);
    assert.equal(run.summary.written, 0);
    assert.ok(run.summary.notWritten > 0);
    await assertAccounted(run.summary, table);
  });

  it('a table that accepts nothing: items give up within the time --max-retries allows, however far the adaptive rate slowed', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files } = await writeShards(dir, 2_000, 1);
    const proxy = await proxyFor(t, { withhold: 1, seed: 7 });
    const started = Date.now();
    // 12 retries allow about 1.3 s of failing (the backoff's ceilings added up). The adaptive rate
    // meanwhile falls toward one unit per second, at which 2,000 rows' retries would take minutes.
    const run = await upload(proxy.endpoint, [...files, '--table', table, '--types', 'n:N', '--max-retries', '12'], {
      cwd: dir,
      timeoutMs: 90_000,
    });
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`gave up after ${seconds.toFixed(1)} s`);
    assertExit(run, 1);
    assert.equal(run.summary.error?.code, 'RETRIES_EXHAUSTED');
    assert.ok(seconds < 45, `gave up after ${seconds.toFixed(1)} s`);
    assert.equal(run.summary.written, 0);
    await assertAccounted(run.summary, table);
  });

  it('stops on a 200 answer with an empty body mid-run, never counting its items as written', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files } = await writeShards(dir, 3_000, 3);
    const proxy = await proxyFor(t, { emptyAnswer: 0.1, seed: 6 });
    const run = await upload(
      proxy.endpoint,
      [...files, '--table', table, '--types', 'n:N', '--workers', '1', '--concurrency', '4'],
      { cwd: dir },
    );
    assertExit(run, 1);
    assert.ok(proxy.stats.emptyAnswers > 0);
    assert.equal(run.summary.error?.code, 'WRITE_FAILED');
    assert.match(run.summary.error?.message ?? '', /SyntaxError.*got an empty body/s);
    assert.ok(run.summary.notWritten >= 25, `not written ${run.summary.notWritten}`);
    await assertAccounted(run.summary, table);
  });

  it('stops on UnrecognizedClientException mid-run with ACCESS_DENIED, never counting more than was written', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files } = await writeShards(dir, 3_000, 3);
    const proxy = await proxyFor(t, { failAfter: 6, failWith: 'UnrecognizedClientException', seed: 5 });
    const run = await upload(
      proxy.endpoint,
      [...files, '--table', table, '--types', 'n:N', '--workers', '1', '--concurrency', '4'],
      { cwd: dir },
    );
    assertExit(run, 1);
    assert.equal(run.summary.error?.code, 'ACCESS_DENIED');
    assert.match(run.summary.error?.message ?? '', /UnrecognizedClientException/);
    assert.ok(run.summary.written > 0 && run.summary.written <= 6 * 25, `written ${run.summary.written}`);
    assert.ok(run.summary.notWritten > 0);
    await assertAccounted(run.summary, table);
  });
});

describe('answers of every shape between dynaload and DynamoDB (end to end, through the fault proxy)', () => {
  const args = (files: string[], table: string): string[] => [
    ...files,
    '--table',
    table,
    '--types',
    'n:N',
    '--workers',
    '1',
    '--concurrency',
    '4',
  ];

  it('stops on a 200 `{}` answer, without UnprocessedItems, naming the request id and never counting its items as written', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files } = await writeShards(dir, 3_000, 3);
    const proxy = await proxyFor(t, { emptyObject: 0.1, seed: 7 });
    const run = await upload(proxy.endpoint, args(files, table), { cwd: dir });
    assertExit(run, 1);
    assert.ok(proxy.stats.emptyObjects > 0);
    assert.equal(run.summary.error?.code, 'WRITE_FAILED');
    assert.match(
      run.summary.error?.message ?? '',
      /SyntaxError.*Expected a JSON object holding UnprocessedItems, got `\{\}`/s,
    );
    assert.match(run.summary.error?.message ?? '', /HTTP 200, request id [A-Z0-9]{52}/);
    assert.ok(run.summary.notWritten >= 25, `not written ${run.summary.notWritten}`);
    await assertAccounted(run.summary, table);
  });

  it('reads answers framed by chunks and by the end of the connection, with and without withheld items', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files, items } = await writeShards(dir, 3_000, 2);
    const proxy = await proxyFor(t, { withhold: 0.2, chunkedAnswer: 0.4, closeDelimitedAnswer: 0.5, seed: 8 });
    const run = await upload(proxy.endpoint, args(files, table), { cwd: dir });
    assertExit(run, 0);
    assertAllWritten(run.summary, 3_000, table);
    assert.ok(proxy.stats.chunkedAnswers > 0 && proxy.stats.closeDelimitedAnswers > 0, JSON.stringify(proxy.stats));
    assert.equal(run.summary.unprocessedRetries, proxy.stats.itemsWithheld);
    await assertTable(db.endpoint, table, items, 'id');
  });

  it('stops on an endless 200 answer once it passes the size cap, without reading on', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files } = await writeShards(dir, 200, 1);
    const proxy = await proxyFor(t, { endlessAnswer: 1, seed: 9 });
    const run = await upload(
      proxy.endpoint,
      [...files, '--table', table, '--types', 'n:N', '--workers', '1', '--concurrency', '2'],
      { cwd: dir, timeoutMs: 120_000 },
    );
    assertExit(run, 1);
    assert.equal(run.summary.error?.code, 'WRITE_FAILED');
    assert.match(run.summary.error?.message ?? '', /AnswerTooLarge.*at most 33554432 bytes/s);
    // Two answers in flight at most, each cut at the cap (plus what the sockets held).
    assert.ok(proxy.stats.endlessBytes < 4 * 32 * 1024 * 1024, `the proxy sent ${proxy.stats.endlessBytes} bytes`);
    assert.equal(run.summary.written, 0);
    await assertAccounted(run.summary, table);
  });

  it('gives up on an answer that trickles past the answer deadline, and sends its items again', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files, items } = await writeShards(dir, 500, 1);
    const proxy = await proxyFor(t, { trickleAnswer: 0.3, trickleMs: 100, seed: 10 });
    const run = await upload(proxy.endpoint, args(files, table), {
      cwd: dir,
      env: { DYNALOAD_ANSWER_TIMEOUT_MS: '1500' },
      timeoutMs: 120_000,
    });
    assertExit(run, 0);
    assertAllWritten(run.summary, 500, table);
    assert.ok(proxy.stats.trickledAnswers > 0);
    assert.equal(run.summary.networkErrors, proxy.stats.trickledAnswers);
    await assertTable(db.endpoint, table, items, 'id');
  });

  it('takes a gateway 429 as throttling: backs off and sends again', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const { files, items } = await writeShards(dir, 2_000, 2);
    const proxy = await proxyFor(t, { tooManyRequests: 0.2, seed: 11 });
    const run = await upload(proxy.endpoint, args(files, table), { cwd: dir });
    assertExit(run, 0);
    assertAllWritten(run.summary, 2_000, table);
    assert.ok(proxy.stats.tooManyRequests > 0);
    assert.equal(run.summary.throttledRequests, proxy.stats.tooManyRequests);
    await assertTable(db.endpoint, table, items, 'id');
  });
});
