/**
 * S3 inputs end to end: a real S3-compatible server (s3rver, behind a front that records requests)
 * and dynalite, the built CLI between them.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createTable, scanAll, TEST_REGION } from '../support/dynalite.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startS3, type LocalS3 } from '../support/s3.js';
import { assertExit, assertTable, N, run, S, upload, useDynalite, type Item } from './helpers.js';
import { readCheckpointFile } from './resume-helpers.js';

const db = useDynalite();
let s3: LocalS3;
const BUCKET = 'exports';

before(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
});
after(() => s3?.close());

const tempDir = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'dynaload-s3-e2e-'));

/** `id,name` rows `from`..`to`-1, as CSV text with a header. */
function csvRows(from: number, to: number): string {
  let text = 'id,name\n';
  for (let i = from; i < to; i++) text += `${i},name ${i}\n`;
  return text;
}

function itemsFor(from: number, to: number): Item[] {
  return Array.from({ length: to - from }, (_, k) => ({ id: N(from + k), name: S(`name ${from + k}`) }));
}

describe('S3 inputs (end to end)', () => {
  it('a key glob loads the matching objects, plain and gzip (found by content), CSV with quoted newlines, NDJSON; nothing else', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    await s3.put(BUCKET, 'glob/a.csv', csvRows(0, 50));
    // gzip whatever the name says: found by its first bytes, as for files.
    await s3.put(BUCKET, 'glob/b.csv', gzipSync(csvRows(50, 120)));
    await s3.put(BUCKET, 'glob/c.csv.gz', gzipSync('id,name\n120,"two\nlines"\n121,"a ""quoted"" name"\n'));
    await s3.put(BUCKET, 'glob/d.ndjson', '{"id":122,"name":"from json"}\n');
    await s3.put(BUCKET, 'glob/sub/e.csv', csvRows(500, 510)); // below the glob's level: not matched
    await s3.put(BUCKET, 'globber/f.csv', csvRows(600, 610)); // shares the listing prefix, not the glob
    const result = await upload(db.endpoint, [`s3://${BUCKET}/glob/*`, '--table', table], { cwd: dir, env: s3.env });
    assertExit(result, 0);
    assert.equal(result.summary.rows, 123);
    assert.equal(result.summary.written, 123);
    const expected = [
      ...itemsFor(0, 120),
      { id: N(120), name: S('two\nlines') },
      { id: N(121), name: S('a "quoted" name') },
      { id: N(122), name: S('from json') },
    ];
    await assertTable(db.endpoint, table, expected, 'id');
    const listed = s3.requests.filter(
      (r) => r.method === 'GET' && r.url.includes('list-type=2') && r.url.includes('prefix=glob%2F'),
    );
    assert.ok(listed.length >= 1, "listed by the glob's literal prefix");
    assert.ok(
      listed.every((r) => r.url.includes('delimiter=%2F')),
      'one level only: keys below it are not listed',
    );
  });

  it('an object whose header lacks the key stops the run before the first write (exit 2, naming the object), as a local file does', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    await s3.put(BUCKET, 'hdr/a.csv', csvRows(0, 20));
    await s3.put(BUCKET, 'hdr/b.csv', gzipSync('a,b\n1,2\n3,4\n'));
    const result = await upload(db.endpoint, [`s3://${BUCKET}/hdr/*.csv`, '--table', table], { cwd: dir, env: s3.env });
    assertExit(result, 2);
    assert.match(result.stderr, /HEADER_MISMATCH/);
    assert.match(result.stderr, new RegExp(`s3://${BUCKET}/hdr/b\\.csv`));
    assert.deepEqual(await scanAll(db.endpoint, table), [], 'nothing written, not even the good object');
  });

  it('`**` matches keys at any depth (listed without a delimiter)', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    await s3.put(BUCKET, 'deep/a.csv', csvRows(0, 5));
    await s3.put(BUCKET, 'deep/2026/11/b.csv', csvRows(5, 10));
    await s3.put(BUCKET, 'deep/2026/notes.txt', 'not a csv');
    const before = s3.requests.length;
    const result = await upload(db.endpoint, [`s3://${BUCKET}/deep/**/*.csv`, '--table', table], {
      cwd: dir,
      env: s3.env,
    });
    assertExit(result, 0);
    await assertTable(db.endpoint, table, itemsFor(0, 10), 'id');
    assert.ok(s3.requests.slice(before).some((r) => r.url.includes('list-type=2') && !r.url.includes('delimiter')));
  });

  it('DynamoDB JSON (an S3 export) from an exact key, with --format ddb-json; --s3-endpoint instead of the variable', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['pk', 'S'] });
    await s3.put(
      BUCKET,
      'export/data/0001.json.gz',
      gzipSync('{"Item":{"pk":{"S":"a"},"n":{"N":"00123"}}}\n{"Item":{"pk":{"S":"b"},"l":{"L":[{"S":"x"}]}}}\n'),
    );
    const { AWS_ENDPOINT_URL_S3: endpoint, ...env } = s3.env;
    const result = await upload(
      db.endpoint,
      [
        `s3://${BUCKET}/export/data/0001.json.gz`,
        '--table',
        table,
        '--format',
        'ddb-json',
        '--s3-endpoint',
        endpoint as string,
      ],
      { cwd: dir, env },
    );
    assertExit(result, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        { pk: S('a'), n: N('123') },
        { pk: S('b'), l: { L: [S('x')] } },
      ],
      'pk',
    );
  });

  it('delete reads its keys from S3', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    await s3.put(BUCKET, 'del/all.csv', csvRows(0, 30));
    await s3.put(BUCKET, 'del/keys/first.csv', 'id\n' + Array.from({ length: 20 }, (_, i) => `${i}\n`).join(''));
    assertExit(
      await upload(db.endpoint, [`s3://${BUCKET}/del/all.csv`, '--table', table], { cwd: dir, env: s3.env }),
      0,
    );
    const deleted = await run(
      [
        'delete',
        `s3://${BUCKET}/del/keys/*.csv`,
        '--table',
        table,
        '--endpoint',
        db.endpoint,
        '--region',
        TEST_REGION,
        '--json',
      ],
      { cwd: dir, env: s3.env },
    );
    assertExit(deleted, 0);
    await assertTable(db.endpoint, table, itemsFor(20, 30), 'id');
  });

  const failures: [string, string, string, Record<string, string>, RegExp][] = [
    ['a missing bucket', 's3://no-such-bucket/x/*.csv', 'S3_BUCKET_NOT_FOUND', {}, /bucket `no-such-bucket`/],
    [
      'a missing bucket, exact key',
      's3://no-such-bucket/x/one.csv',
      'S3_BUCKET_NOT_FOUND',
      {},
      /bucket `no-such-bucket`/,
    ],
    [
      'a glob that matches no object',
      `s3://${BUCKET}/nothing-here/*.csv`,
      'S3_NO_MATCH',
      {},
      /s3:\/\/exports\/nothing-here\/\*\.csv.*bucket `exports`/,
    ],
    [
      'a key with no object',
      `s3://${BUCKET}/glob/missing.csv`,
      'S3_NO_MATCH',
      {},
      /bucket `exports`, key `glob\/missing\.csv`/,
    ],
    [
      'access denied (a key S3 does not know)',
      `s3://${BUCKET}/glob/*`,
      'S3_ACCESS_DENIED',
      { AWS_ACCESS_KEY_ID: 'AKIDNOTKNOWNTOS3' },
      /s3:ListBucket.*bucket `exports`, key `glob\/\*`/,
    ],
  ];
  for (const [name, url, code, env, message] of failures) {
    it(`${name}: exit 1 ${code} naming bucket and key, before any write`, async () => {
      const dir = await tempDir();
      const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
      const result = await upload(db.endpoint, [url, `s3://${BUCKET}/glob/a.csv`, '--table', table], {
        cwd: dir,
        env: { ...s3.env, ...env },
      });
      assertExit(result, 1);
      assert.equal(result.summary.error?.code, code);
      assert.match(result.summary.error?.message ?? '', message);
      assert.match(result.stderr, new RegExp(code));
      assert.deepEqual(await scanAll(db.endpoint, table), [], 'nothing written');
    });
  }

  it('--resume continues an object with a ranged GET from the mark; a gzip object is read again from the start', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    await s3.put(BUCKET, 'resume/a.csv', csvRows(0, 6000));
    await s3.put(BUCKET, 'resume/b.csv.gz', gzipSync(csvRows(6000, 12000)));
    const proxy = await startFaultProxy(db.endpoint, {
      failAfter: 150,
      failWith: 'UnrecognizedClientException',
      seed: 3,
    });
    t.after(() => proxy.close());
    const args = [
      `s3://${BUCKET}/resume/*`,
      '--table',
      table,
      '--workers',
      '2',
      '--concurrency',
      '2',
      '--checkpoint',
      path.join(dir, 'cp.json'),
    ];
    const failed = await upload(proxy.endpoint, args, { cwd: dir, env: s3.env });
    assertExit(failed, 1);
    const data = await readCheckpointFile(path.join(dir, 'cp.json'));
    assert.ok(data);
    const plain = data.files[`s3://${BUCKET}/resume/a.csv`];
    assert.ok(plain && plain.mark.offset > 0 && !plain.complete, `a.csv part done: ${JSON.stringify(plain?.mark)}`);
    assert.match(plain.identity.head, /^etag:"/, 'the identity holds the ETag');

    proxy.setFaults({});
    const before = s3.requests.length;
    const resumed = await upload(proxy.endpoint, [...args, '--resume'], { cwd: dir, env: s3.env });
    assertExit(resumed, 0);
    assert.equal((resumed.summary.previous?.rows ?? 0) + resumed.summary.rows, 12_000);
    await assertTable(db.endpoint, table, itemsFor(0, 12_000), 'id');
    const gets = s3.requests.slice(before).filter((r) => r.method === 'GET' && !r.url.includes('list-type'));
    const ranged = gets.filter((r) => r.url.includes('resume/a.csv')).map((r) => r.range);
    assert.ok(
      ranged.includes(`bytes=${plain.mark.offset}-`),
      `a.csv continued from byte ${plain.mark.offset}: ${ranged.join(' ')}`,
    );
    const gz = data.files[`s3://${BUCKET}/resume/b.csv.gz`];
    if (gz && gz.mark.offset > 0 && !gz.complete) {
      const gzRanges = gets.filter((r) => r.url.includes('resume/b.csv.gz')).map((r) => r.range);
      assert.ok(
        gzRanges.every((r) => r === undefined || r === 'bytes=0-1'),
        `b.csv.gz read from the start: ${gzRanges.join(' ')}`,
      );
    }
  });

  it('a connection cut in the middle of an object is continued from the next byte (If-Match the ETag): every row once', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    await s3.put(BUCKET, 'cut/a.csv', csvRows(0, 5000));
    s3.cutNext('cut/a.csv', 20_000);
    const before = s3.requests.length;
    const result = await upload(db.endpoint, [`s3://${BUCKET}/cut/a.csv`, '--table', table], { cwd: dir, env: s3.env });
    assertExit(result, 0);
    assert.equal(result.summary.rows, 5000);
    await assertTable(db.endpoint, table, itemsFor(0, 5000), 'id');
    const continued = s3.requests
      .slice(before)
      .filter(
        (r) => r.method === 'GET' && r.url.includes('cut/a.csv') && r.range !== undefined && r.range !== 'bytes=0-1',
      );
    assert.equal(continued.length, 1, `one ranged GET after the cut: ${JSON.stringify(s3.requests.slice(before))}`);
    const from = Number(/^bytes=(\d+)-$/.exec(continued[0]?.range ?? '')?.[1]);
    assert.ok(from > 0 && from <= 20_000, `continued from byte ${from}`);
    assert.match(continued[0]?.ifMatch ?? '', /^"/, 'pinned to the ETag');
  });

  it('--resume refuses an object replaced since the checkpoint (its ETag changed): exit 2 naming it', async (t) => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'N'] });
    await s3.put(BUCKET, 'changed/a.csv', csvRows(0, 3000));
    const proxy = await startFaultProxy(db.endpoint, {
      failAfter: 20,
      failWith: 'UnrecognizedClientException',
      seed: 4,
    });
    t.after(() => proxy.close());
    const args = [
      `s3://${BUCKET}/changed/a.csv`,
      '--table',
      table,
      '--workers',
      '1',
      '--concurrency',
      '1',
      '--checkpoint',
      path.join(dir, 'cp.json'),
    ];
    assertExit(await upload(proxy.endpoint, args, { cwd: dir, env: s3.env }), 1);
    await s3.put(BUCKET, 'changed/a.csv', csvRows(1, 3001));
    proxy.setFaults({});
    const refused = await upload(proxy.endpoint, [...args, '--resume'], { cwd: dir, env: s3.env });
    assertExit(refused, 2);
    assert.equal(refused.summary.error?.code, 'CHECKPOINT_INPUT_CHANGED');
    assert.match(refused.summary.error?.message ?? '', /s3:\/\/exports\/changed\/a\.csv/);
  });
});
