import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir, writeCsv } from '../support/cli.js';
import { createTable, TEST_REGION } from '../support/dynalite.js';
import { assertExit, assertTable, parseSummary, run, S, upload, useDynalite } from './helpers.js';

const db = useDynalite();

/** A port that nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function oneFile(): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  const file = path.join(dir, 'rows.csv');
  await writeCsv(file, ['id', 'v'], [['a', '1']]);
  return { dir, file };
}

describe('failures before any row is written (end to end)', () => {
  it('fails fast with TABLE_NOT_FOUND for a missing table, still one JSON object with --json', async () => {
    const { dir, file } = await oneFile();
    const started = Date.now();
    const result = await upload(db.endpoint, [file, '--table', 'no_such_table'], { cwd: dir, timeoutMs: 30_000 });
    const elapsed = Date.now() - started;
    assertExit(result, 1);
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
    assert.equal(result.summary.exitCode, 1);
    assert.equal(result.summary.error?.code, 'TABLE_NOT_FOUND');
    assert.match(
      result.summary.error?.message ?? '',
      /Expected table `no_such_table` to exist at http:\/\/127\.0\.0\.1:\d+, but DescribeTable found no such table/,
    );
    assert.match(result.stderr, /TABLE_NOT_FOUND/);
  });

  it('prints the failure in the human form without --json, on stderr', async () => {
    const { dir, file } = await oneFile();
    const result = await run(
      ['upload', file, '--table', 'no_such_table', '--endpoint', db.endpoint, '--region', TEST_REGION],
      { cwd: dir },
    );
    assertExit(result, 1);
    assert.match(result.stderr, /^dynaload: TABLE_NOT_FOUND: Expected table `no_such_table` to exist/m);
    assert.doesNotMatch(result.stdout, /^\{/, 'no JSON without --json');
  });

  it('fails with ENDPOINT_UNREACHABLE when nothing listens at the endpoint', async () => {
    const { dir, file } = await oneFile();
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const result = await upload(endpoint, [file, '--table', 'whatever'], { cwd: dir, timeoutMs: 60_000 });
    const elapsed = Date.now() - started;
    assertExit(result, 1);
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    assert.equal(result.summary.error?.code, 'ENDPOINT_UNREACHABLE');
    assert.match(
      result.summary.error?.message ?? '',
      new RegExp(`Expected a DynamoDB endpoint at ${endpoint.replaceAll('.', '\\.')}, but it could not be reached`),
    );
  });

  const usage: { name: string; args: (file: string) => string[]; code: string | null; stderr: RegExp }[] = [
    {
      name: '--concurrency abc',
      args: (f) => [f, '--table', 'T', '--concurrency', 'abc'],
      code: 'OPTION_INVALID',
      stderr: /Expected `--concurrency` to be `auto` or an integer from 1 to 50, got `abc`/,
    },
    {
      name: '--max-retries -1',
      args: (f) => [f, '--table', 'T', '--max-retries', '-1'],
      code: 'OPTION_INVALID',
      stderr: /Expected `--max-retries` to be an integer from 0 to 100, got `-1`/,
    },
    { name: 'missing --table', args: (f) => [f], code: 'OPTION_REQUIRED', stderr: /Expected `--table <name>`/ },
    {
      name: 'a file that does not exist',
      args: (f) => [path.join(path.dirname(f), 'missing.csv'), '--table', 'T'],
      code: 'INPUT_NOT_FOUND',
      stderr: /Expected an input file at `.*missing\.csv`, found nothing there/,
    },
    {
      name: 'a glob that matches nothing',
      args: (f) => [path.join(path.dirname(f), 'none-*.csv'), '--table', 'T'],
      code: 'INPUT_NOT_FOUND',
      stderr: /Expected the glob `.*none-\*\.csv` to match at least one file, got none/,
    },
    {
      name: '--no-header without --columns',
      args: (f) => [f, '--table', 'T', '--no-header'],
      code: 'OPTION_REQUIRED',
      stderr: /Expected `--columns a,b,c` with `--no-header`/,
    },
    {
      name: '--types x:Q',
      args: (f) => [f, '--table', 'T', '--types', 'x:Q'],
      code: 'TYPES_INVALID',
      stderr:
        /Expected `--types` entries like `column:TYPE` with TYPE one of S, N, B, BOOL, NULL, JSON, L, M, SS, NS, BS, got `x:Q`/,
    },
    {
      name: '--delimiter ab',
      args: (f) => [f, '--table', 'T', '--delimiter', 'ab'],
      code: 'OPTION_INVALID',
      stderr: /Expected `--delimiter` to be one character/,
    },
    // Refused by commander itself.
    {
      name: '--empty maybe',
      args: (f) => [f, '--table', 'T', '--empty', 'maybe'],
      code: null,
      stderr: /argument 'maybe' is invalid\. Allowed choices are drop, string, null/,
    },
    {
      name: 'an unknown option',
      args: (f) => [f, '--table', 'T', '--bogus'],
      code: null,
      stderr: /unknown option '--bogus'/,
    },
  ];
  for (const c of usage) {
    it(`exits 2 on bad usage: ${c.name}`, async () => {
      const { dir, file } = await oneFile();
      const result = await run(['upload', ...c.args(file), '--endpoint', db.endpoint], { cwd: dir, timeoutMs: 30_000 });
      assertExit(result, 2);
      assert.match(result.stderr, c.stderr);
      assert.equal(result.stdout, '', 'nothing on stdout without --json');
      if (c.code !== null) assert.match(result.stderr, new RegExp(`^dynaload: ${c.code}: `, 'm'));
    });
  }

  it('prints one JSON object with error.code for bad usage with --json', async () => {
    const { dir, file } = await oneFile();
    const result = await run(['upload', file, '--table', 'T', '--concurrency', 'abc', '--json'], { cwd: dir });
    assertExit(result, 2);
    const summary = parseSummary(result);
    assert.equal(summary.exitCode, 2);
    assert.deepEqual(summary.error, {
      code: 'OPTION_INVALID',
      message: 'Expected `--concurrency` to be `auto` or an integer from 1 to 50, got `abc`',
    });
  });

  it('prints one JSON object with error.code for an option commander refuses, with --json', async () => {
    const { dir, file } = await oneFile();
    const result = await run(['upload', file, '--table', 'T', '--empty', 'maybe', '--json'], { cwd: dir });
    assertExit(result, 2);
    const summary = parseSummary(result);
    assert.equal(summary.exitCode, 2);
    assert.equal(typeof summary.error?.code, 'string');
  });

  it('refuses a bad --wru-price before writing anything, as every other option', async () => {
    const { dir, file } = await oneFile();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const result = await upload(db.endpoint, [file, '--table', table, '--wru-price', 'abc'], { cwd: dir });
    assertExit(result, 2);
    assert.deepEqual(result.summary.error, {
      code: 'OPTION_INVALID',
      message: 'Expected `--wru-price` to be US dollars per million write request units, such as 0.625, got `abc`',
    });
    await assertTable(db.endpoint, table, [], 'id');
  });

  it('refuses --types giving a key another type than the table schema', async () => {
    const { dir, file } = await oneFile();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const result = await upload(db.endpoint, [file, '--table', table, '--types', 'id:N'], { cwd: dir });
    assertExit(result, 2);
    assert.equal(result.summary.error?.code, 'TYPES_KEY_MISMATCH');
    assert.equal(result.summary.error?.message, "Expected `--types` to give key `id` the table's type S, got N");
    await assertTable(db.endpoint, table, [], 'id');
    const ok = await upload(db.endpoint, [file, '--table', table, '--types', 'id:S,v:N'], { cwd: dir });
    assertExit(ok, 0);
    await assertTable(db.endpoint, table, [{ id: S('a'), v: { N: '1' } }], 'id');
  });
});
