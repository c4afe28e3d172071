// The lean BatchWriteItem path against real dynalite, through the fault proxy, next to the SDK.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  type AttributeValue,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { classifyError } from '../../src/dynamo/classify.js';
import { createLeanSend, type LeanSend } from '../../src/dynamo/lean-writer.js';
import { batchBody, parseWriteRequestText, serializeWriteRequest } from '../../src/dynamo/wire.js';
import { createTable, scanAll, startDynalite, TEST_REGION, type Dynalite } from '../support/dynalite.js';
import { startFaultProxy, type Faults } from '../support/fault-proxy.js';

let db: Dynalite;
before(async () => {
  db = await startDynalite();
});
after(() => db.close());

interface Rig {
  table: string;
  lean: LeanSend;
  sdk: DynamoDBClient;
  endpoint: string;
  setFaults(faults: Faults): void;
}

/** A fresh table; a lean sender and an SDK client that never retries, both behind one fault proxy. */
async function rig(t: TestContext, faults?: Faults): Promise<Rig> {
  const table = await createTable(db.endpoint, { hash: ['id', 'S'], range: ['r', 'N'] });
  const proxy = faults ? await startFaultProxy(db.endpoint, faults) : undefined;
  const endpoint = proxy?.endpoint ?? db.endpoint;
  const sdk = new DynamoDBClient({
    endpoint,
    region: TEST_REGION,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  });
  const lean = await createLeanSend(sdk, { maxSockets: 4 });
  t.after(async () => {
    lean.destroy();
    sdk.destroy();
    await proxy?.close();
  });
  return { table, lean, sdk, endpoint, setFaults: (f) => proxy?.setFaults(f) };
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

/** Items exercising every AttributeValue member, with values a lossy path would change. */
function richItems(): Record<string, AttributeValue>[] {
  return [
    {
      id: { S: 'unicode é 漢字 \u{1F600} "quoted" back\\slash \n\t\u0001' },
      r: { N: '12345678901234567890' },
      n: { N: '00123' },
      frac: { N: '-0.000000000000000000000000000001' },
      b: { B: bytes(0, 255, 128, 10) },
      ss: { SS: ['a', 'ü', ''.padEnd(3, 'z')] },
      ns: { NS: ['1', '99999999999999999999999999999999999999'] },
      bs: { BS: [bytes(1), bytes(2, 3)] },
      m: { M: { deep: { L: [{ B: bytes(7) }, { NULL: true }, { BOOL: true }, { M: { s: { S: '\u2028' } } }] } } },
      empty: { L: [] },
    },
    { id: { S: 'plain' }, r: { N: '1' } },
  ];
}

/** Sets come back in the server's order; sort them so items compare by content. */
function sortSets(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const sort = (value: AttributeValue): AttributeValue => {
    if (value.SS !== undefined) return { SS: [...value.SS].sort() };
    if (value.NS !== undefined) return { NS: [...value.NS].sort() };
    if (value.BS !== undefined) return { BS: [...value.BS].sort((a, b) => Buffer.compare(a, b)) };
    return value;
  };
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, sort(v)]));
}

async function failure(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
  }
  throw new Error('expected a rejection');
}

describe('createLeanSend against dynalite', () => {
  it('writes items that a Scan finds with exact values, and answers with no UnprocessedItems', async (t) => {
    const { table, lean } = await rig(t);
    const items = richItems();
    const unprocessed = await lean.send({ [table]: items.map((Item) => ({ PutRequest: { Item } })) });
    assert.ok(unprocessed === undefined || Object.keys(unprocessed).length === 0);
    const scanned = new Map((await scanAll(db.endpoint, table)).map((item) => [item.id?.S, sortSets(item)]));
    assert.equal(scanned.size, 2);
    // DynamoDB stores numbers normalized ("00123" -> "123"), as the real service does; everything
    // else, including a 20-digit key and a 38-digit set member, comes back as sent.
    const expected = items.map((item) => sortSets(item.n ? { ...item, n: { N: '123' } } : item));
    for (const item of expected) assert.deepStrictEqual(scanned.get(item.id?.S), item);
  });

  it('deletes by key', async (t) => {
    const { table, lean } = await rig(t);
    await lean.send({
      [table]: [
        { PutRequest: { Item: { id: { S: 'x' }, r: { N: '1' } } } },
        { PutRequest: { Item: { id: { S: 'y' }, r: { N: '1' } } } },
      ],
    });
    await lean.send({ [table]: [{ DeleteRequest: { Key: { id: { S: 'x' }, r: { N: '1' } } } }] });
    assert.deepEqual(
      (await scanAll(db.endpoint, table)).map((i) => i.id?.S),
      ['y'],
    );
  });

  it('returns withheld requests as UnprocessedItems equal to what was sent', async (t) => {
    const { table, lean } = await rig(t, { withhold: 1, seed: 1 });
    const requests: WriteRequest[] = richItems().map((Item) => ({ PutRequest: { Item } }));
    requests.push({ DeleteRequest: { Key: { id: { S: 'k' }, r: { N: '5' } } } });
    assert.deepStrictEqual(await lean.send({ [table]: requests }), { [table]: requests });
  });

  it('sendSerialized returns withheld requests as their texts, each one parsing to what was sent', async (t) => {
    const { table, lean } = await rig(t, { withhold: 1, seed: 1 });
    const requests: WriteRequest[] = richItems().map((Item) => ({ PutRequest: { Item } }));
    const texts = requests.map(serializeWriteRequest);
    const answer = await lean.sendSerialized(batchBody(texts.map((json) => ({ table, json }))));
    assert.ok(answer !== undefined && 'texts' in answer && answer.texts instanceof Map, 'texts, not parsed requests');
    const back = answer.texts.get(table) ?? [];
    assert.equal(back.length, requests.length);
    assert.deepStrictEqual(back.map(parseWriteRequestText), requests);
  });

  it('returns only the withheld part when some requests went through', async (t) => {
    const { table, lean } = await rig(t, { withhold: 0.5, seed: 7 });
    const requests: WriteRequest[] = Array.from({ length: 25 }, (_, i) => ({
      PutRequest: { Item: { id: { S: `i${i}` }, r: { N: String(i) }, b: { B: bytes(i) } } },
    }));
    const unprocessed = (await lean.send({ [table]: requests }))?.[table] ?? [];
    const stored = (await scanAll(db.endpoint, table)).map((i) => i.id?.S ?? '?');
    assert.ok(unprocessed.length > 0 && stored.length > 0);
    assert.deepEqual(
      [...stored, ...unprocessed.map((r) => r.PutRequest?.Item?.id?.S ?? '?')].sort(),
      requests.map((r) => r.PutRequest?.Item?.id?.S ?? '?').sort(),
    );
    for (const request of unprocessed) assert.ok(requests.some((sent) => isDeepStrictEqual(sent, request)));
  });
});

describe('lean errors match the SDK errors for the same fault', () => {
  const cases: {
    label: string;
    faults: Faults;
    name?: string;
    status?: number;
    fault?: string;
    kind: string;
    code?: string;
  }[] = [
    {
      label: 'throttling',
      faults: { throttle: 1 },
      name: 'ProvisionedThroughputExceededException',
      status: 400,
      fault: 'client',
      kind: 'throttled',
    },
    {
      label: 'ThrottlingException',
      faults: { throttle: 1, throttleType: 'ThrottlingException' },
      name: 'ThrottlingException',
      status: 400,
      fault: 'client',
      kind: 'throttled',
    },
    {
      label: 'a 500',
      faults: { serverError: 1 },
      name: 'InternalServerError',
      status: 500,
      fault: 'server',
      kind: 'server',
    },
    {
      label: 'a reset before forwarding',
      faults: { resetBefore: 1 },
      name: 'TimeoutError',
      code: 'ECONNRESET',
      kind: 'network',
    },
    {
      label: 'a reset after forwarding',
      faults: { resetAfter: 1 },
      name: 'TimeoutError',
      code: 'ECONNRESET',
      kind: 'network',
    },
    {
      label: 'bad credentials',
      faults: { failAfter: 0, failWith: 'UnrecognizedClientException' },
      name: 'UnrecognizedClientException',
      status: 400,
      fault: 'client',
      kind: 'fatal',
    },
    {
      label: 'a validation error',
      faults: { failAfter: 0, failWith: 'ValidationException' },
      name: 'ValidationException',
      status: 400,
      fault: 'client',
      kind: 'validation',
    },
  ];
  for (const c of cases) {
    it(`${c.label}: ${c.name ?? c.code} -> ${c.kind}`, async (t) => {
      const { table, lean, sdk } = await rig(t, { ...c.faults, seed: 3 });
      const items = { [table]: [{ PutRequest: { Item: { id: { S: 'a' }, r: { N: '1' } } } }] };
      const viaSdk = await failure(sdk.send(new BatchWriteItemCommand({ RequestItems: items })));
      const viaLean = await failure(lean.send(items));
      const shape = (e: typeof viaLean): unknown => ({
        name: e.name,
        code: e.code,
        status: e.$metadata?.httpStatusCode,
        fault: e.$fault,
        kind: classifyError(e),
      });
      assert.deepEqual(shape(viaLean), shape(viaSdk));
      assert.equal(viaLean.name, c.name);
      assert.equal(viaLean.code, c.code);
      assert.equal(viaLean.$metadata?.httpStatusCode, c.status);
      assert.equal(viaLean.$fault, c.fault);
      assert.equal(classifyError(viaLean), c.kind);
      if (c.status !== undefined) assert.equal(viaLean.message, viaSdk.message);
    });
  }

  it('a 200 with an empty body is not taken as "nothing withheld", as the SDK takes it: SyntaxError, fatal', async (t) => {
    const { table, lean, sdk } = await rig(t, { emptyAnswer: 1 });
    const requests = [{ PutRequest: { Item: { id: { S: 'a' }, r: { N: '1' } } } }];
    const items = { [table]: requests };
    // The SDK's reading, which the lean path must not copy: no UnprocessedItems, so all written.
    assert.equal((await sdk.send(new BatchWriteItemCommand({ RequestItems: items }))).UnprocessedItems, undefined);
    for (const viaLean of [
      await failure(lean.send(items)),
      await failure(
        lean.sendSerialized(batchBody(requests.map((request) => ({ table, json: serializeWriteRequest(request) })))),
      ),
    ]) {
      assert.equal(viaLean.name, 'SyntaxError');
      assert.match(viaLean.message, /got an empty body[\s\S]*HTTP 200/);
      assert.equal(viaLean.$metadata?.httpStatusCode, 200);
      assert.equal(classifyError(viaLean), 'fatal');
    }
    assert.deepEqual(await scanAll(db.endpoint, table), []);
  });

  it('recovers on the next call after a reset (the keep-alive pool drops the broken socket)', async (t) => {
    const { table, lean, setFaults } = await rig(t, { resetBefore: 1 });
    await failure(lean.send({ [table]: [{ PutRequest: { Item: { id: { S: 'a' }, r: { N: '1' } } } }] }));
    setFaults({});
    await lean.send({ [table]: [{ PutRequest: { Item: { id: { S: 'a' }, r: { N: '1' } } } }] });
    assert.equal((await scanAll(db.endpoint, table)).length, 1);
  });
});
