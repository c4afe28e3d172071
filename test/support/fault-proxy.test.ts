import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  BatchWriteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { createTable, scanAll, startDynalite, TEST_REGION, type Dynalite } from './dynalite.js';
import { crc32, startFaultProxy, type Faults, type FaultProxy } from './fault-proxy.js';

let db: Dynalite;
before(async () => {
  db = await startDynalite();
});
after(() => db.close());

interface Rig {
  proxy: FaultProxy;
  client: DynamoDBClient;
  table: string;
}

/** A fresh table, a proxy in front of dynalite, and an SDK client that never retries. */
async function rig(t: TestContext, faults: Faults): Promise<Rig> {
  const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
  const proxy = await startFaultProxy(db.endpoint, faults);
  const client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  t.after(async () => {
    client.destroy();
    await proxy.close();
  });
  return { proxy, client, table };
}

const ids = (n: number, prefix = 'i'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const puts = (keys: string[]): WriteRequest[] =>
  keys.map((id) => ({ PutRequest: { Item: { id: { S: id }, v: { N: '1' } } } }));
const requestIds = (requests: WriteRequest[] | undefined): string[] =>
  (requests ?? []).map((r) => (r.PutRequest?.Item?.id ?? r.DeleteRequest?.Key?.id)?.S ?? '?').sort();
const scannedIds = async (table: string): Promise<string[]> =>
  (await scanAll(db.endpoint, table)).map((item) => item.id?.S ?? '?').sort();

function batch(table: string, requests: WriteRequest[]): BatchWriteItemCommand {
  return new BatchWriteItemCommand({ RequestItems: { [table]: requests } });
}

/** The error a failed `send` rejected with. */
async function failure(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number }; code?: string }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail('expected the request to fail');
}

void describe('fault proxy', () => {
  void it('withhold 1.0 returns every request as UnprocessedItems and writes nothing', async (t) => {
    const { proxy, client, table } = await rig(t, { withhold: 1 });
    const sent = ids(25);
    const out = await client.send(batch(table, puts(sent)));
    assert.deepEqual(requestIds(out.UnprocessedItems?.[table]), [...sent].sort());
    assert.deepEqual(await scannedIds(table), []);
    assert.equal(proxy.stats.itemsWithheld, 25);
    assert.equal(proxy.stats.itemsForwarded, 0);
  });

  void it('withhold 1.0 applies to deletes too', async (t) => {
    const { proxy, client, table } = await rig(t, {});
    await client.send(batch(table, puts(ids(5))));
    proxy.setFaults({ withhold: 1 });
    const deletes: WriteRequest[] = ids(5).map((id) => ({ DeleteRequest: { Key: { id: { S: id } } } }));
    const out = await client.send(batch(table, deletes));
    assert.deepEqual(out.UnprocessedItems?.[table], deletes);
    assert.deepEqual(await scannedIds(table), ids(5).sort());
  });

  void it('withhold 0.3 forwards exactly the requests it does not return, reproducibly per seed', async (t) => {
    const { proxy, client, table } = await rig(t, { withhold: 0.3, seed: 42 });
    const sent = ids(25);
    const out = await client.send(batch(table, puts(sent)));
    const unprocessed = requestIds(out.UnprocessedItems?.[table]);
    const written = await scannedIds(table);
    assert.ok(unprocessed.length > 0 && written.length > 0, `split ${unprocessed.length}/${written.length}`);
    assert.equal(proxy.stats.itemsForwarded + proxy.stats.itemsWithheld, sent.length);
    assert.equal(proxy.stats.itemsWithheld, unprocessed.length);
    assert.deepEqual(written, sent.filter((id) => !unprocessed.includes(id)).sort());

    // Same seed, same choices.
    const again = await createTable(db.endpoint, { hash: ['id', 'S'] });
    proxy.setFaults({ withhold: 0.3, seed: 42 });
    const out2 = await client.send(batch(again, puts(sent)));
    assert.deepEqual(requestIds(out2.UnprocessedItems?.[again]), unprocessed);
  });

  void it('withheld requests merge with the other tables of the batch', async (t) => {
    const { client, table } = await rig(t, { withhold: 0.5, seed: 7 });
    const other = await createTable(db.endpoint, { hash: ['id', 'S'] });
    const out = await client.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: puts(ids(10, 'a')), [other]: puts(ids(10, 'b')) } }),
    );
    for (const [name, prefix] of [
      [table, 'a'],
      [other, 'b'],
    ] as const) {
      const unprocessed = requestIds(out.UnprocessedItems?.[name]);
      assert.deepEqual(
        await scannedIds(name),
        ids(10, prefix)
          .filter((id) => !unprocessed.includes(id))
          .sort(),
      );
    }
  });

  void it('throttle 1.0 answers ProvisionedThroughputExceededException and writes nothing', async (t) => {
    const { proxy, client, table } = await rig(t, { throttle: 1 });
    const err = await failure(client.send(batch(table, puts(ids(3)))));
    assert.equal(err.name, 'ProvisionedThroughputExceededException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.deepEqual(await scannedIds(table), []);
    assert.equal(proxy.stats.throttled, 1);

    proxy.setFaults({ throttle: 1, throttleType: 'ThrottlingException' });
    assert.equal((await failure(client.send(batch(table, puts(ids(3)))))).name, 'ThrottlingException');
    proxy.setFaults({ throttle: 1, throttleType: 'RequestLimitExceeded' });
    assert.equal((await failure(client.send(batch(table, puts(ids(3)))))).name, 'RequestLimitExceeded');
  });

  void it('serverError 1.0 answers HTTP 500 and writes nothing', async (t) => {
    const { proxy, client, table } = await rig(t, { serverError: 1 });
    const err = await failure(client.send(batch(table, puts(ids(3)))));
    assert.equal(err.$metadata?.httpStatusCode, 500);
    assert.equal(err.name, 'InternalServerError');
    assert.deepEqual(await scannedIds(table), []);
    assert.equal(proxy.stats.serverErrors, 1);
  });

  void it('resetBefore drops the connection and writes nothing', async (t) => {
    const { proxy, client, table } = await rig(t, { resetBefore: 1 });
    const err = await failure(client.send(batch(table, puts(ids(3)))));
    assert.equal(err.$metadata?.httpStatusCode, undefined, `not an HTTP answer: ${err.name} ${err.message}`);
    assert.deepEqual(await scannedIds(table), []);
    assert.equal(proxy.stats.resetsBefore, 1);
  });

  void it('resetAfter drops the connection after the server wrote the items', async (t) => {
    const { proxy, client, table } = await rig(t, { resetAfter: 1 });
    const err = await failure(client.send(batch(table, puts(ids(3)))));
    assert.equal(err.$metadata?.httpStatusCode, undefined, `not an HTTP answer: ${err.name} ${err.message}`);
    assert.deepEqual(await scannedIds(table), ids(3).sort());
    assert.equal(proxy.stats.resetsAfter, 1);
    assert.equal(proxy.stats.itemsForwarded, 3);
  });

  void it('failAfter fails every request after N batches, until setFaults clears it', async (t) => {
    const { proxy, client, table } = await rig(t, { failAfter: 1, failWith: 'UnrecognizedClientException' });
    await client.send(batch(table, puts(['first'])));
    const err = await failure(client.send(batch(table, puts(['second']))));
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    const describeErr = await failure(client.send(new DescribeTableCommand({ TableName: table })));
    assert.equal(describeErr.name, 'UnrecognizedClientException');
    assert.equal(proxy.stats.failed, 2);
    assert.deepEqual(await scannedIds(table), ['first']);

    proxy.setFaults({});
    await client.send(batch(table, puts(['third'])));
    assert.deepEqual(await scannedIds(table), ['first', 'third']);
  });

  void it('passes other requests through untouched, whatever the faults', async (t) => {
    const { proxy, client, table } = await rig(t, {
      withhold: 1,
      throttle: 1,
      serverError: 1,
      resetBefore: 1,
      resetAfter: 1,
    });
    const described = await client.send(new DescribeTableCommand({ TableName: table }));
    assert.equal(described.Table?.TableStatus, 'ACTIVE');
    await client.send(
      new PutItemCommand({ TableName: table, Item: { id: { S: 'p' }, n: { N: '12345678901234567890' } } }),
    );
    const got = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'p' } } }));
    assert.deepEqual(got.Item, { id: { S: 'p' }, n: { N: '12345678901234567890' } });
    assert.equal(proxy.stats.requests, 3);
    assert.equal(proxy.stats.batchWriteRequests, 0);
  });

  void it('passes server errors for a BatchWriteItem through', async (t) => {
    const { client } = await rig(t, { withhold: 0.5, seed: 1 });
    const err = await failure(client.send(batch('t_missing', puts(ids(4)))));
    assert.equal(err.name, 'ResourceNotFoundException');
  });

  void it('delays BatchWriteItem answers by delayMs', async (t) => {
    const { client, table } = await rig(t, { delayMs: 150 });
    const start = performance.now();
    await client.send(batch(table, puts(['slow'])));
    assert.ok(performance.now() - start >= 140);
  });

  void it('answers exactly like DynamoDB: content type, request id, a matching x-amz-crc32', async (t) => {
    const { proxy, table } = await rig(t, { withhold: 1 });
    const body = JSON.stringify({ RequestItems: { [table]: puts(['x']) } });
    const res = await rawPost(proxy.endpoint, body);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-amz-json-1.0');
    assert.match(String(res.headers['x-amzn-requestid']), /^[A-Z0-9]{52}$/);
    assert.equal(res.headers['x-amz-crc32'], String(crc32(res.body)));
    assert.equal(res.headers['content-length'], String(res.body.length));
    assert.deepEqual(JSON.parse(res.body.toString()), { UnprocessedItems: { [table]: puts(['x']) } });
  });

  void it('survives a client that aborts mid-request', async (t) => {
    const { proxy, client, table } = await rig(t, {});
    const { port } = new URL(proxy.endpoint);
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"RequestItems":');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 20);
      });
      socket.on('error', reject);
    });
    await client.send(batch(table, puts(['after'])));
    assert.deepEqual(await scannedIds(table), ['after']);
  });

  void it('computes the standard CRC-32', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
  });
});

async function rawPost(
  endpoint: string,
  body: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${endpoint}/`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
          'x-amz-date': '20240101T000000Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc',
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
