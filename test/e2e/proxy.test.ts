// HTTP(S)_PROXY and NO_PROXY, as the AWS CLI honours them, for the SDK's calls (CreateTable,
// DescribeTable) and the lean BatchWriteItem path alike, through a CONNECT proxy on loopback.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js';
import { assertExit, upload, useDynalite } from './helpers.js';

const db = useDynalite();
const ROWS = 600;

async function proxyFor(t: TestContext): Promise<ConnectProxy> {
  const proxy = await startConnectProxy(Number(new URL(db.endpoint).port));
  t.after(() => proxy.close());
  return proxy;
}

async function rows(): Promise<{ dir: string; file: string }> {
  const dir = await tempDir();
  const file = path.join(dir, 'rows.csv');
  await writeFile(file, ['id,v', ...Array.from({ length: ROWS }, (_, i) => `k${i},v${i}`)].join('\n') + '\n');
  return { dir, file };
}

const count = (targets: string[], name: string): number =>
  targets.filter((target) => target === `DynamoDB_20120810.${name}`).length;

describe('proxies (end to end, through a CONNECT proxy on loopback)', () => {
  for (const variable of ['HTTP_PROXY', 'http_proxy']) {
    it(`sends every request through the proxy ${variable} names: CreateTable, DescribeTable and each BatchWriteItem`, async (t) => {
      const proxy = await proxyFor(t);
      const { dir, file } = await rows();
      const table = `proxied_${randomBytes(4).toString('hex')}`;
      // This name resolves nowhere: only the proxy, which sends every host to dynalite, can reach it.
      const endpoint = `http://dynamodb.invalid:${new URL(db.endpoint).port}`;
      const run = await upload(
        endpoint,
        [file, '--table', table, '--create-table', '--key', 'id:S', '--workers', '1', '--concurrency', '4'],
        { cwd: dir, env: { [variable]: proxy.url } },
      );
      assertExit(run, 0);
      assert.equal(run.summary.written, ROWS);
      assert.ok(
        proxy.tunnels.length > 0 && proxy.tunnels.every((host) => host === new URL(endpoint).host),
        JSON.stringify(proxy.tunnels),
      );
      assert.equal(count(proxy.targets, 'CreateTable'), 1);
      assert.ok(count(proxy.targets, 'DescribeTable') >= 1);
      assert.equal(count(proxy.targets, 'BatchWriteItem'), run.summary.requests);
      assert.equal((await scanAll(db.endpoint, table)).length, ROWS);
    });
  }

  it('goes straight to a host NO_PROXY names, never through the proxy', async (t) => {
    const proxy = await proxyFor(t);
    const { dir, file } = await rows();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const run = await upload(db.endpoint, [file, '--table', table, '--workers', '1'], {
      cwd: dir,
      env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, no_proxy: 'example.com,127.0.0.1' },
    });
    assertExit(run, 0);
    assert.equal(run.summary.written, ROWS);
    assert.deepEqual(proxy.tunnels, []);
    assert.deepEqual(proxy.targets, []);
  });

  it('does not go around a proxy that is down: the run fails instead of connecting directly', async (t) => {
    const proxy = await proxyFor(t);
    await proxy.close();
    const { dir, file } = await rows();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const run = await upload(db.endpoint, [file, '--table', table, '--workers', '1'], {
      cwd: dir,
      env: { HTTP_PROXY: proxy.url },
    });
    assertExit(run, 1);
    assert.deepEqual(await scanAll(db.endpoint, table), []);
  });
});
