import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  CreateTableCommand,
  waitUntilTableExists,
  type AttributeDefinition,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { tempDir } from '../support/cli.js';
import { testClient } from '../support/dynalite.js';
import { assertExit, assertTable, N, readRejects, S, scanSorted, upload, useDynalite, type Item } from './helpers.js';

// Secondary-index keys are checked (and typed) from DescribeTable like the table's own keys: a bad
// index key value is rejected before it joins a batch, not found by splitting batches in halves.

const db = useDynalite();

type Key = [name: string, type: 'S' | 'N' | 'B'];

async function indexedTable(spec: {
  hash: Key;
  range?: Key;
  gsi?: { hash: Key; range?: Key };
  lsi?: Key;
}): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const definitions = new Map<string, AttributeDefinition>();
  const define = ([n, t]: Key): void => void definitions.set(n, { AttributeName: n, AttributeType: t });
  const keySchema = (hash: Key, range?: Key) => [
    { AttributeName: hash[0], KeyType: 'HASH' as const },
    ...(range ? [{ AttributeName: range[0], KeyType: 'RANGE' as const }] : []),
  ];
  [spec.hash, spec.range, spec.gsi?.hash, spec.gsi?.range, spec.lsi].forEach((k) => k && define(k));
  const input: CreateTableCommandInput = {
    TableName: name,
    AttributeDefinitions: [...definitions.values()],
    KeySchema: keySchema(spec.hash, spec.range),
    BillingMode: 'PAY_PER_REQUEST',
    ...(spec.gsi
      ? {
          GlobalSecondaryIndexes: [
            {
              IndexName: 'by_g',
              KeySchema: keySchema(spec.gsi.hash, spec.gsi.range),
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }
      : {}),
    ...(spec.lsi
      ? {
          LocalSecondaryIndexes: [
            {
              IndexName: 'by_l',
              KeySchema: keySchema(spec.hash, spec.lsi),
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          ],
        }
      : {}),
  };
  const client = testClient(db.endpoint);
  try {
    await client.send(new CreateTableCommand(input));
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: name });
    return name;
  } finally {
    client.destroy();
  }
}

describe('secondary-index keys (end to end)', () => {
  it('10,000 NDJSON rows, every tenth with `g: "abc"` for a numeric GSI key: 1,000 rejected locally with their lines, 9,000 written in few requests', async () => {
    const dir = await tempDir();
    const table = await indexedTable({ hash: ['id', 'S'], gsi: { hash: ['g', 'N'] } });
    const lines: string[] = [];
    for (let i = 1; i <= 10_000; i++) lines.push(JSON.stringify({ id: `r${i}`, g: i % 10 === 0 ? 'abc' : i, v: 'x' }));
    const file = path.join(dir, 'rows.ndjson');
    await writeFile(file, lines.join('\n') + '\n');
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--rejects', rejectsFile], { cwd: dir });
    assertExit(run, 3);
    assert.deepEqual([run.summary.rows, run.summary.written, run.summary.rejected], [10_000, 9_000, 1_000]);
    assert.deepEqual(run.summary.rejectedByCode, { INDEX_KEY_TYPE: 1_000 });
    // 9,000 items are 360 full batches: splitting batches to find the bad items took thousands.
    assert.ok(run.summary.requests <= 450, `${run.summary.requests} requests`);
    const rejects = await readRejects(rejectsFile);
    assert.deepEqual(
      rejects.map((r) => r.line),
      Array.from({ length: 1_000 }, (_, i) => (i + 1) * 10),
    );
    assert.ok(
      rejects.every((r) => r.code === 'INDEX_KEY_TYPE' && r.column === 'g' && r.table === table),
      JSON.stringify(rejects[0]),
    );
    assert.match(
      rejects[0]?.message ?? '',
      /`g` \(partition key of index `by_g` of table `t_[0-9a-f]+`\): Expected type N or no value, got S/,
    );
    const items = await scanSorted(db.endpoint, table, 'id');
    assert.equal(items.length, 9_000);
    assert.deepEqual(
      items.find((item) => item.id?.S === 'r7'),
      { id: S('r7'), g: N(7), v: S('x') },
    );
  });

  it('--dry-run reports the same rejections and writes nothing', async () => {
    const dir = await tempDir();
    const table = await indexedTable({ hash: ['id', 'S'], gsi: { hash: ['g', 'N'] } });
    const file = path.join(dir, 'rows.ndjson');
    await writeFile(
      file,
      ['{"id":"a","g":1}', '{"id":"b","g":"abc"}', '{"id":"c","g":true}', '{"id":"d"}'].join('\n') + '\n',
    );
    const run = await upload(
      db.endpoint,
      [file, '--table', table, '--dry-run', '--rejects', path.join(dir, 'r.ndjson')],
      { cwd: dir },
    );
    assertExit(run, 3);
    assert.deepEqual(run.summary.rejectedByCode, { INDEX_KEY_TYPE: 2 });
    assert.deepEqual(await scanSorted(db.endpoint, table, 'id'), []);
  });

  it('a CSV column keying a numeric GSI is stored as N without --types; an empty cell leaves the item out of the index', async () => {
    const dir = await tempDir();
    const table = await indexedTable({ hash: ['id', 'S'], gsi: { hash: ['g', 'N'], range: ['at', 'S'] } });
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, 'id,g,at\na,7,2024\nb,,2025\nc,12345678901234567890,\n');
    const run = await upload(db.endpoint, [file, '--table', table], { cwd: dir });
    assertExit(run, 0);
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('a'), g: N(7), at: S('2024') },
        { id: S('b'), at: S('2025') },
        { id: S('c'), g: N('12345678901234567890') },
      ],
      'id',
    );
  });

  it("`--types` or a mapping giving an index key another type than the table's is one usage error before reading", async () => {
    const dir = await tempDir();
    const table = await indexedTable({ hash: ['id', 'S'], gsi: { hash: ['g', 'N'] } });
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, 'id,g\na,7\n');
    const typed = await upload(db.endpoint, [file, '--table', table, '--types', 'g:S'], { cwd: dir });
    assertExit(typed, 2);
    assert.equal(typed.summary.error?.code, 'TYPES_KEY_MISMATCH');
    assert.match(typed.stderr + (typed.summary.error?.message ?? ''), /`g`.*by_g.*N, got S/);
    const mapping = path.join(dir, 'map.json');
    await writeFile(mapping, JSON.stringify({ types: { g: 'S' } }));
    const mapped = await upload(db.endpoint, [file, '--table', table, '--map', mapping], { cwd: dir });
    assertExit(mapped, 2);
    assert.equal(mapped.summary.error?.code, 'MAP_KEY_TYPE');
    assert.deepEqual(await scanSorted(db.endpoint, table, 'id'), []);
  });

  it('LSI: an empty string for its sort key is rejected locally (INDEX_KEY_EMPTY); absent or filled, the row is written', async () => {
    const dir = await tempDir();
    const table = await indexedTable({ hash: ['id', 'S'], range: ['sk', 'N'], lsi: ['l', 'S'] });
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, 'id,sk,l,v\na,1,x,1\na,2,,2\nb,1,y,\n');
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--empty', 'string', '--rejects', rejectsFile], {
      cwd: dir,
    });
    assertExit(run, 3);
    assert.deepEqual(run.summary.rejectedByCode, { INDEX_KEY_EMPTY: 1 });
    const [reject] = await readRejects(rejectsFile);
    assert.deepEqual([reject?.line, reject?.column], [3, 'l']);
    assert.match(reject?.message ?? '', /sort key of index `by_l`/);
    // Dropped instead (the default --empty), the attribute is absent: the item is just not in the index.
    const dropped = await upload(db.endpoint, [file, '--table', table], { cwd: dir });
    assertExit(dropped, 0);
    const expected: Item[] = [
      { id: S('a'), sk: N(1), l: S('x'), v: S('1') },
      { id: S('a'), sk: N(2), v: S('2') },
      { id: S('b'), sk: N(1), l: S('y') },
    ];
    await assertTable(db.endpoint, table, expected, 'id', 'sk');
  });

  it('DynamoDB JSON: an index key of the wrong type is rejected locally, never converted', async () => {
    const dir = await tempDir();
    const table = await indexedTable({ hash: ['id', 'S'], gsi: { hash: ['g', 'N'] } });
    const file = path.join(dir, 'export.json');
    await writeFile(
      file,
      ['{"Item":{"id":{"S":"a"},"g":{"N":"1"}}}', '{"Item":{"id":{"S":"b"},"g":{"S":"2"}}}'].join('\n') + '\n',
    );
    const run = await upload(
      db.endpoint,
      [file, '--table', table, '--format', 'ddb-json', '--rejects', path.join(dir, 'r.ndjson')],
      { cwd: dir },
    );
    assertExit(run, 3);
    assert.deepEqual(run.summary.rejectedByCode, { INDEX_KEY_TYPE: 1 });
    assert.equal(run.summary.requests, 1);
    await assertTable(db.endpoint, table, [{ id: S('a'), g: N(1) }], 'id');
  });
});

describe('key types in NDJSON (end to end)', () => {
  it("one rule both ways: a key takes the table's type, a string of a number as N and a number as S by its text; what cannot be converted is KEY_TYPE", async () => {
    const dir = await tempDir();
    const table = await indexedTable({ hash: ['id', 'S'], range: ['n', 'N'] });
    const file = path.join(dir, 'rows.ndjson');
    await writeFile(
      file,
      [
        '{"id":5,"n":"100001"}', //       1 both converted
        '{"id":5.50,"n":2}', //           2 the number's text as written
        '{"id":true,"n":1}', //           3 a boolean is no string
        '{"id":"x","n":"abc"}', //        4 not a number
        '{"id":"y","n":"1e400"}', //      5 out of DynamoDB's range: kept as read, so a type error
      ].join('\n') + '\n',
    );
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--rejects', rejectsFile], { cwd: dir });
    assertExit(run, 3);
    const rejects = await readRejects(rejectsFile);
    assert.deepEqual(
      rejects.map((r) => [r.line, r.code, r.column]),
      [
        [3, 'KEY_TYPE', 'id'],
        [4, 'KEY_TYPE', 'n'],
        [5, 'KEY_TYPE', 'n'],
      ],
    );
    await assertTable(
      db.endpoint,
      table,
      [
        { id: S('5'), n: N(100001) },
        { id: S('5.50'), n: N(2) },
      ],
      'id',
      'n',
    );
  });

  it("the same rule through a mapping file, for the table's keys and its index keys", async () => {
    const dir = await tempDir();
    const table = await indexedTable({ hash: ['pk', 'N'], gsi: { hash: ['g', 'S'] } });
    const file = path.join(dir, 'rows.ndjson');
    await writeFile(file, '{"user":"42","group":7}\n{"user":"x","group":8}\n');
    const mapping = path.join(dir, 'map.json');
    await writeFile(mapping, JSON.stringify({ rename: { user: 'pk', group: 'g' } }));
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const run = await upload(db.endpoint, [file, '--table', table, '--map', mapping, '--rejects', rejectsFile], {
      cwd: dir,
    });
    assertExit(run, 3);
    assert.deepEqual(
      (await readRejects(rejectsFile)).map((r) => [r.line, r.code, r.column]),
      [[2, 'KEY_TYPE', 'pk']],
    );
    await assertTable(db.endpoint, table, [{ pk: N(42), g: S('7') }], 'pk');
  });
});
