/**
 * Unit tests of BatchWriter's logic against an in-memory fake `send`: no DynamoDB, no HTTP. The
 * fake decides per request what is stored, withheld or thrown. End-to-end tests against a real
 * server (dynalite behind the fault-injecting proxy) live elsewhere in test/.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import type { DynaloadError } from '../../src/errors.js';
import type { UnprocessedTexts } from '../../src/dynamo/unprocessed-text.js';
import { serializeWriteRequest } from '../../src/dynamo/wire.js';
import { MAX_BATCH_ITEMS } from '../../src/pipeline/batch.js';
import {
  BatchWriter,
  MIN_HELD_BATCHES,
  READ_AHEAD_BATCHES,
  type RequestItems,
  type WriteEntry,
  type WriterOptions,
} from '../../src/pipeline/write.js';
import { InFlightWindow } from '../../src/pipeline/window.js';
import { REASK_MAX_MS, RESERVE_HORIZON_MS } from '../../src/rate/reservation.js';

interface Entry extends WriteEntry {
  readonly value: number;
}

const TABLE = 'T';
const keyOf = (table: string, request: WriteRequest): string => `${table}/${request.PutRequest?.Item?.pk?.S ?? '?'}`;

function entry(pk: string, value: number): Entry {
  const request = { PutRequest: { Item: { pk: { S: pk }, v: { N: String(value) } } } };
  return {
    key: keyOf(TABLE, request),
    table: TABLE,
    json: serializeWriteRequest(request),
    value,
    wire: 60,
    attempts: 0,
    notBefore: 0,
    units: 1,
  };
}

function awsError(name: string): Error {
  return Object.assign(new Error(`fake ${name}`), { name });
}

/** mulberry32: a small seeded PRNG so the random tests replay exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Answer = { throw: Error } | { withhold: (request: WriteRequest) => boolean };

/** A fake table: `decide` answers each call; puts not withheld are stored when the call is processed. */
function fakeServer(decide: (requests: WriteRequest[], call: number) => Answer, delay: () => number = () => 1) {
  const server = {
    store: new Map<string, number>(),
    calls: [] as string[][],
    inFlight: 0,
    maxInFlight: 0,
    thrown: 0,
    startedAfterThrow: 0,
  };
  const send = async (batch: readonly WriteEntry[]): Promise<RequestItems | undefined> => {
    const call = server.calls.length;
    if (server.thrown > 0) server.startedAfterThrow++;
    // What DynamoDB would read: the requests as the writer serialized them.
    const requests = batch.filter((e) => e.table === TABLE).map((e) => JSON.parse(e.json) as WriteRequest);
    server.calls.push(requests.map((r) => keyOf(TABLE, r)));
    server.inFlight++;
    server.maxInFlight = Math.max(server.maxInFlight, server.inFlight);
    try {
      await sleep(delay());
      const answer = decide(requests, call);
      if ('throw' in answer) {
        server.thrown++;
        throw answer.throw;
      }
      const withheld = requests.filter(answer.withhold);
      for (const r of requests)
        if (!withheld.includes(r)) server.store.set(keyOf(TABLE, r), Number(r.PutRequest?.Item?.v?.N));
      return withheld.length === 0 ? {} : { [TABLE]: withheld };
    } finally {
      server.inFlight--;
    }
  };
  return { server, send };
}

function writer(send: WriterOptions<Entry>['send'], options: Partial<WriterOptions<Entry>> = {}) {
  const written: Entry[] = [];
  const rejected: Array<[Entry, DynaloadError]> = [];
  const w = new BatchWriter<Entry>({
    send,
    keyOf,
    concurrency: 1,
    maxRetries: 10,
    backoff: { baseMs: 1, capMs: 5, factor: 2 },
    lingerMs: 1,
    written: (e) => written.push(e),
    rejected: (e, error) => rejected.push([e, error]),
    ...options,
  });
  return { w, written, rejected };
}

async function load(w: BatchWriter<Entry>, entries: Entry[]): Promise<void> {
  for (const e of entries) await w.add(e);
  await w.drain();
}

const range = (n: number, prefix = 'k'): Entry[] => Array.from({ length: n }, (_, i) => entry(`${prefix}${i}`, i));
const sortedKeys = (entries: readonly Entry[]): string[] => entries.map((e) => e.key).sort();
const T = { timeout: 20_000 };

describe('BatchWriter', () => {
  test('writes every entry and calls `written` once for each', T, async () => {
    const { server, send } = fakeServer(() => ({ withhold: () => false }));
    const entries = range(110);
    const { w, written, rejected } = writer(send, { concurrency: 3 });
    await load(w, entries);
    assert.deepEqual(sortedKeys(written), sortedKeys(entries));
    assert.equal(new Set(written).size, written.length);
    assert.deepEqual([rejected.length, w.failure, w.pending, w.stats.itemsWritten], [0, undefined, 0, 110]);
    assert.equal(server.store.size, 110);
    assert.equal(w.stats.requests, server.calls.length);
    for (const call of server.calls) assert.ok(call.length <= 25 && new Set(call).size === call.length);
  });

  test('resends UnprocessedItems and counts each return in stats.unprocessedRetries', T, async () => {
    const seen = new Map<string, number>();
    // Each item is withheld on its first two sends, k0..k9 only on the first.
    const { server, send } = fakeServer(() => ({
      withhold: (r) => {
        const key = keyOf(TABLE, r);
        const n = (seen.get(key) ?? 0) + 1;
        seen.set(key, n);
        return n <= (/\/k\d$/.test(key) ? 1 : 2);
      },
    }));
    const entries = range(40);
    const { w, written } = writer(send, { concurrency: 2 });
    await load(w, entries);
    assert.deepEqual(sortedKeys(written), sortedKeys(entries));
    assert.equal(w.stats.unprocessedRetries, 10 * 1 + 30 * 2);
    assert.equal(w.stats.itemsWritten, 40);
    assert.equal(server.store.size, 40);
  });

  // The lean sender answers UnprocessedItems as the texts DynamoDB sent back (src/dynamo/unprocessed-text.ts).
  for (const [label, reshape] of [
    ['sent back unchanged: matched by text', (text: string) => text],
    // Spaces and another attribute order: no longer the text that was sent, still the same key.
    [
      'sent back reformatted: matched by key',
      (text: string) => {
        const request = JSON.parse(text) as { PutRequest: { Item: Record<string, unknown> } };
        return JSON.stringify(
          { PutRequest: { Item: Object.fromEntries(Object.entries(request.PutRequest.Item).reverse()) } },
          null,
          1,
        );
      },
    ],
  ] as const) {
    test(`UnprocessedItems as request texts, ${label}`, T, async () => {
      const seen = new Set<string>();
      const stored = new Map<string, number>();
      // Every item is withheld on its first send.
      const send = async (batch: readonly WriteEntry[]): Promise<UnprocessedTexts> => {
        await sleep(1);
        const texts: string[] = [];
        for (const e of batch) {
          if (seen.has(e.key)) stored.set(e.key, (e as Entry).value);
          else texts.push(reshape(e.json));
          seen.add(e.key);
        }
        return { texts: new Map(texts.length > 0 ? [[TABLE, texts]] : []) };
      };
      const entries = range(60);
      const { w, written } = writer(send, { concurrency: 2 });
      await load(w, entries);
      assert.equal(w.failure, undefined);
      assert.deepEqual(sortedKeys(written), sortedKeys(entries));
      assert.equal(w.stats.unprocessedRetries, 60);
      assert.equal(stored.size, 60);
    });
  }

  test(
    'the rate limiter is told of each answer its units and its items (how many draws the units were)',
    T,
    async () => {
      const told: Array<{ units: number | undefined; items: number | undefined }> = [];
      const limiter = {
        reserve: (): number => 0,
        answered(sent: ReadonlyMap<string, number>, _t?: unknown, _at?: number, items?: ReadonlyMap<string, number>) {
          told.push({ units: sent.get(TABLE), items: items?.get(TABLE) });
        },
      };
      const entries = range(30).map((e, i) => ({ ...e, units: i < 25 ? 3 : 1 }));
      const { w, written } = writer(async () => undefined, { limiter });
      await load(w, entries);
      assert.equal(written.length, 30);
      assert.deepEqual(told, [
        { units: 75, items: 25 },
        { units: 5, items: 5 },
      ]);
    },
  );

  test(
    'a request the rate limiter will not book yet asks again after the time it says, and only then is sent',
    T,
    async () => {
      const asked: number[] = [];
      let sends = 0;
      let refusals = 3;
      const limiter = {
        reserve(_units: ReadonlyMap<string, number>, horizonMs?: number): number {
          asked.push(horizonMs ?? Number.NaN);
          return refusals-- > 0 ? -5 : 0;
        },
        answered: () => undefined,
      };
      const send = async (): Promise<undefined> => {
        sends++;
        await sleep(1);
        return undefined;
      };
      const { w, written } = writer(send, { limiter });
      await load(w, range(10));
      assert.equal(w.failure, undefined);
      assert.equal(written.length, 10);
      assert.equal(sends, 1, 'one batch, sent once');
      assert.deepEqual(
        asked,
        [RESERVE_HORIZON_MS, RESERVE_HORIZON_MS, RESERVE_HORIZON_MS, RESERVE_HORIZON_MS],
        'refused three times, booked on the fourth, always within the horizon',
      );
    },
  );

  test('a request waiting for the rate limiter when the run fails is not sent, and drain resolves', T, async () => {
    const { server, send } = fakeServer(
      () => ({ throw: awsError('ResourceNotFoundException') }),
      () => 20,
    );
    let asked = 0;
    // The first request is booked at once; every later one is told to come back in 30 ms, for ever.
    const limiter = { reserve: (): number => (asked++ === 0 ? 0 : -30), answered: () => undefined };
    const { w, written } = writer(send, { concurrency: 3, limiter });
    for (const e of range(75)) void w.add(e);
    await w.drain();
    assert.equal(w.failure?.code, 'TABLE_NOT_FOUND');
    assert.equal(server.calls.length, 1, 'only the booked request was sent');
    assert.equal(written.length, 0);
    assert.ok(asked > 1, 'the others did wait for the limiter');
  });

  test(
    'a request the limiter turns away for long asks again within REASK_MAX_MS plus jitter, so a rate raised meanwhile reaches it',
    T,
    async () => {
      const times: number[] = [];
      let open = false;
      const limiter = {
        reserve: (): number => {
          times.push(performance.now());
          return open ? 0 : -10_000;
        },
        answered: () => undefined,
      };
      const { w, written } = writer(async () => undefined, { limiter });
      const done = load(w, range(5));
      await sleep(REASK_MAX_MS * 2 + RESERVE_HORIZON_MS);
      open = true;
      await done;
      assert.equal(written.length, 5);
      assert.ok(times.length >= 3, `${times.length} asks`);
      const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
      assert.ok(
        Math.max(...gaps) < REASK_MAX_MS + RESERVE_HORIZON_MS / 2 + 50,
        `gaps ${gaps.map(Math.round).join(', ')}`,
      );
    },
  );

  test('UnprocessedItems as request texts in another order than sent: each matched to its own item', T, async () => {
    const seen = new Set<string>();
    const stored = new Set<string>();
    // Every other item is withheld on its first send, and the texts come back in reverse order.
    const send = async (batch: readonly WriteEntry[]): Promise<UnprocessedTexts> => {
      await sleep(1);
      const texts: string[] = [];
      batch.forEach((e, i) => {
        if (i % 2 === 1 && !seen.has(e.key)) texts.push(e.json);
        else stored.add(e.key);
        seen.add(e.key);
      });
      return { texts: new Map(texts.length > 0 ? [[TABLE, texts.reverse()]] : []) };
    };
    const entries = range(100);
    const { w, written } = writer(send, { concurrency: 1 });
    await load(w, entries);
    assert.equal(w.failure, undefined);
    assert.deepEqual(sortedKeys(written), sortedKeys(entries));
    assert.equal(stored.size, 100);
    assert.ok(w.stats.unprocessedRetries >= 40, `${w.stats.unprocessedRetries} withheld`);
  });

  test('UnprocessedItems with a table that is not a list: the run fails, nothing counted as written', T, async () => {
    const send = (): Promise<RequestItems> => Promise.resolve({ [TABLE]: null } as unknown as RequestItems);
    const { w, written } = writer(send);
    await load(w, range(3));
    assert.equal(w.failure?.code, 'UNPROCESSED_UNMATCHED');
    assert.deepEqual(written, []);
  });

  for (const [label, text] of [
    ['a request of a key never sent', JSON.stringify({ PutRequest: { Item: { pk: { S: 'nobody' }, v: { N: '1' } } } })],
    ['a request that is not JSON', '{"PutRequest":'],
  ] as const) {
    test(`UnprocessedItems texts holding ${label}: the run fails, nothing counted as written`, T, async () => {
      const send = (): Promise<UnprocessedTexts> => Promise.resolve({ texts: new Map([[TABLE, [text]]]) });
      const { w, written } = writer(send);
      await load(w, range(3));
      assert.equal(w.failure?.code, 'UNPROCESSED_UNMATCHED');
      assert.deepEqual(written, []);
    });
  }

  test('retries a request that failed with ProvisionedThroughputExceededException', T, async () => {
    const { server, send } = fakeServer((_, call) =>
      call < 3 ? { throw: awsError('ProvisionedThroughputExceededException') } : { withhold: () => false },
    );
    const entries = range(30);
    const { w, written } = writer(send);
    await load(w, entries);
    assert.equal(w.failure, undefined);
    assert.deepEqual(sortedKeys(written), sortedKeys(entries));
    assert.equal(w.stats.throttledRequests, 3);
    assert.equal(server.store.size, 30);
  });

  test('a ValidationException caused by one item of 25 rejects that item only and writes the other 24', T, async () => {
    const entries = range(25);
    const bad = (entries[7] as Entry).key;
    const { server, send } = fakeServer((requests) =>
      requests.some((r) => keyOf(TABLE, r) === bad)
        ? { throw: awsError('ValidationException') }
        : { withhold: () => false },
    );
    const { w, written, rejected } = writer(send);
    await load(w, entries);
    assert.equal(w.failure, undefined);
    assert.equal(rejected.length, 1);
    const [item, error] = rejected[0] as [Entry, DynaloadError];
    assert.equal(item.key, bad);
    assert.equal(error.code, 'DYNAMODB_REJECTED');
    assert.equal(error.message, 'DynamoDB refused the item (ValidationException): fake ValidationException');
    assert.equal(error.context.awsError, 'ValidationException');
    assert.deepEqual(sortedKeys(written), sortedKeys(entries.filter((e) => e.key !== bad)));
    assert.equal(server.store.has(bad), false);
    assert.equal(server.store.size, 24);
    assert.ok(w.stats.validationSplits > 0);
    assert.equal(w.pending, 0);
  });

  test('splitting a refused batch stays within `concurrency`', { ...T }, async () => {
    const entries = range(25);
    const bad = (entries[3] as Entry).key;
    const { server, send } = fakeServer((requests) =>
      requests.some((r) => keyOf(TABLE, r) === bad)
        ? { throw: awsError('ValidationException') }
        : { withhold: () => false },
    );
    const { w } = writer(send, { concurrency: 1 });
    await load(w, entries);
    assert.equal(server.maxInFlight, 1);
  });

  test('a ResourceNotFoundException fails with TABLE_NOT_FOUND, drain resolves, nothing more is sent', T, async () => {
    const { server, send } = fakeServer(() => ({ throw: awsError('ResourceNotFoundException') }));
    const { w, written } = writer(send, { concurrency: 3 });
    for (const e of range(200)) void w.add(e); // synchronously: the first answer comes after a timer
    await w.drain();
    assert.equal(w.failure?.code, 'TABLE_NOT_FOUND');
    assert.equal(w.failure?.context.awsError, 'ResourceNotFoundException');
    assert.equal(written.length, 0);
    assert.ok(server.calls.length >= 1 && server.calls.length <= 3, `${server.calls.length} calls`);
    assert.equal(server.startedAfterThrow, 0, 'no send starts after the fatal answer');
    const callsAtFailure = server.calls.length;
    await sleep(30);
    assert.equal(server.calls.length, callsAtFailure, 'no send after the failure');
    assert.throws(() => w.add(entry('late', 1)), { code: 'TABLE_NOT_FOUND' });
  });

  test('an item withheld every time fails the run with RETRIES_EXHAUSTED after maxRetries retries', T, async () => {
    const entries = range(10);
    const stuck = (entries[3] as Entry).key;
    const { server, send } = fakeServer(() => ({ withhold: (r) => keyOf(TABLE, r) === stuck }));
    const { w, written } = writer(send, { maxRetries: 3 });
    await load(w, entries);
    assert.equal(w.failure?.code, 'RETRIES_EXHAUSTED');
    assert.match(w.failure?.message ?? '', /within 3 retries \(`--max-retries`\)/);
    assert.equal(
      written.some((e) => e.key === stuck),
      false,
    );
    assert.equal(server.store.has(stuck), false);
    assert.deepEqual(sortedKeys(written), sortedKeys(entries.filter((e) => e.key !== stuck)));
    assert.equal(server.calls.filter((call) => call.includes(stuck)).length, 1 + 3, 'the first send and 3 retries');
    assert.equal(w.pending, 1);
  });

  test(
    'withheld while the loader itself sends more than the table accepts (overdrive): not counted toward maxRetries, and written in the end',
    T,
    async () => {
      const entries = range(10);
      const stuck = (entries[3] as Entry).key;
      // Withheld 12 times, with the limiter's controller reporting overdrive meanwhile, then accepted.
      let overdrive = true;
      const { server, send } = fakeServer(() => ({
        withhold: (r) => keyOf(TABLE, r) === stuck && server.calls.filter((c) => c.includes(stuck)).length <= 12,
      }));
      const limiter = {
        reserve: (): number => 0,
        answered: () => undefined,
        pushback: () => (overdrive ? ('overdrive' as const) : undefined),
      };
      const { w, written } = writer(send, { maxRetries: 3, limiter });
      await load(w, entries);
      assert.equal(w.failure, undefined);
      assert.equal(written.length, 10);
      assert.equal(server.store.has(stuck), true);
      // The same without overdrive: the fourth retry fails the run.
      overdrive = false;
      const again = fakeServer(() => ({ withhold: (r) => keyOf(TABLE, r) === stuck }));
      const plain = writer(again.send, { maxRetries: 3, limiter });
      await load(plain.w, range(10));
      assert.equal(plain.w.failure?.code, 'RETRIES_EXHAUSTED');
    },
  );

  test(
    'items withheld as the background the rate controller learned do not count as items coming back for the window; before that they do',
    T,
    async () => {
      for (const background of [false, true]) {
        // Every fifth item is withheld on its first attempt, as a proxy withholding at random does.
        const { send } = fakeServer((requests, call) => ({
          withhold: (r) => call < 4 && Number(r.PutRequest?.Item?.v?.N) % 5 === 0,
        }));
        const limiter = {
          reserve: (): number => 0,
          answered: () => undefined,
          pushback: () => undefined,
          backgroundOnly: () => background,
        };
        const seen: { withheld: boolean | undefined; items: number }[] = [];
        const window = new InFlightWindow({ fixed: 1 });
        const answered = window.answered.bind(window);
        window.answered = (answer) => {
          seen.push({ withheld: answer.withheld, items: answer.items });
          answered(answer);
        };
        const { w, written } = writer(send, { limiter, window });
        await load(w, range(100));
        assert.equal(written.length, 100);
        // The first four calls withheld a fifth of their items: told to the window as such only
        // while the controller has not learned them as the background.
        const told = seen.filter((answer) => answer.withheld === true).length;
        assert.equal(told, background ? 0 : 4, `background ${String(background)}: ${JSON.stringify(seen)}`);
      }
    },
  );

  test(
    'while the table accepts nothing, an item gives up after patienceMs of failing, however many retries are left',
    T,
    async () => {
      const { send } = fakeServer(() => ({ withhold: () => true }));
      // The limiter books every request at once, but says the table accepts nothing.
      const limiter = { reserve: (): number => 0, answered: () => undefined, pushback: () => 'refusing' as const };
      const started = Date.now();
      const { w, written } = writer(send, {
        maxRetries: 100,
        backoff: { baseMs: 5, capMs: 20, factor: 2 },
        patienceMs: 100,
        limiter,
      });
      await load(w, range(5));
      assert.equal(w.failure?.code, 'RETRIES_EXHAUSTED');
      assert.match(
        w.failure?.message ?? '',
        /within 100 retries \(`--max-retries`\), but it was returned in UnprocessedItems \d+ times in a row over \d+\.\d s while the table accepted nothing/,
      );
      assert.equal(written.length, 0);
      assert.ok(Date.now() - started < 5_000, 'long before 100 retries of up to 20 ms each');
    },
  );

  test(
    'stop: the requests in flight are answered, nothing more is sent (queue, retries), and drain resolves',
    T,
    async () => {
      const entries = range(200);
      const { server, send } = fakeServer(
        () => ({ withhold: (r) => keyOf(TABLE, r).endsWith('/k0') }),
        () => 20,
      );
      const { w, written } = writer(send, { concurrency: 2, highWater: 1_000 });
      for (const e of entries) void w.add(e);
      await sleep(5);
      const sentAtStop = server.calls.length;
      assert.ok(sentAtStop >= 1 && sentAtStop <= 2, `in flight at the stop: ${sentAtStop}`);
      w.stop();
      await w.drain();
      assert.equal(server.calls.length, sentAtStop, 'nothing sent after the stop');
      assert.equal(w.failure, undefined);
      assert.equal(written.length, sentAtStop * 25 - 1, 'the answers in flight counted, k0 withheld and not resent');
      assert.equal(w.pending, 200 - written.length);
    },
  );

  test('never has more than `concurrency` sends in flight', T, async () => {
    const random = prng(7);
    const { server, send } = fakeServer(
      () => ({ withhold: () => random() < 0.2 }),
      () => Math.floor(random() * 4),
    );
    const entries = range(600);
    const { w, written } = writer(send, { concurrency: 4, maxRetries: 40, random });
    await load(w, entries);
    assert.equal(written.length, 600);
    assert.ok(server.maxInFlight <= 4, `max in flight ${server.maxInFlight}`);
    assert.ok(server.maxInFlight >= 2, 'the test did exercise concurrency');
  });

  test('backpressure by bytes: large writes make the reader wait long before highWater entries', T, async () => {
    const gates: Array<() => void> = [];
    const send = async (): Promise<RequestItems> => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return {};
    };
    // 300 KB a write, 1 MB allowed: the fourth write waits, though 200 entries would be allowed.
    const { w, written } = writer(send, { highWater: 200, highWaterBytes: 1_000_000 });
    const big = range(6).map((e) => ({ ...e, wire: 300_000 }));
    for (const e of big.slice(0, 3)) assert.equal(w.add(e), undefined);
    const wait = w.add(big[3] as Entry);
    assert.ok(wait instanceof Promise, '1.2 MB held: the reader waits');
    let resolved = false;
    void wait.then(() => (resolved = true));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(resolved, false, 'no room until a send completes');
    const drained = w.drain();
    while (written.length < 4) {
      for (const open of gates.splice(0)) open();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(resolved, true);
    for (const e of big.slice(4)) await w.add(e);
    while (written.length < 6) {
      for (const open of gates.splice(0)) open();
      await new Promise((r) => setImmediate(r));
    }
    await drained;
    assert.equal(w.pending, 0);
  });

  for (const size of [16, 128, 256]) {
    test(
      `backpressure with a window of ${size}: the reader waits once the window and READ_AHEAD_BATCHES more are held`,
      T,
      async () => {
        // Nothing is ever answered: every request stays in flight, so what the writer holds is what
        // it sends plus what it reads ahead. Two windows' worth read ahead held rows no wide window used.
        const send = (): Promise<RequestItems> => new Promise<RequestItems>(() => undefined);
        const window = new InFlightWindow({ fixed: size });
        const { w } = writer(send, { concurrency: size, window });
        const held = Math.max(MIN_HELD_BATCHES, size + READ_AHEAD_BATCHES) * MAX_BATCH_ITEMS;
        const entries = range(held + 1);
        let waitedAt: number | undefined;
        for (const [i, e] of entries.entries()) {
          if (w.add(e) instanceof Promise) {
            waitedAt = i + 1;
            break;
          }
        }
        assert.equal(waitedAt, held, `the reader waits at ${held} entries held`);
      },
    );
  }

  test('backpressure: `add` returns a promise at highWater, resolved once sends complete', T, async () => {
    const gates: Array<() => void> = [];
    const send = async (): Promise<RequestItems> => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return {};
    };
    const { w, written } = writer(send, { highWater: 50 });
    const entries = range(60);
    for (const e of entries.slice(0, 49)) assert.equal(w.add(e), undefined);
    const wait = w.add(entries[49] as Entry);
    assert.ok(wait instanceof Promise, 'the 50th pending entry makes the reader wait');
    let resolved = false;
    void wait.then(() => (resolved = true));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(resolved, false, 'no room until a send completes');
    while (!resolved) {
      for (const open of gates.splice(0)) open();
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(w.pending < 50);
    const drained = w.drain();
    for (const e of entries.slice(50)) await w.add(e);
    while (written.length < 60) {
      for (const open of gates.splice(0)) open();
      await new Promise((r) => setImmediate(r));
    }
    await drained;
    assert.equal(w.pending, 0);
  });

  for (const seed of [1, 2, 3]) {
    test(`last write wins under withholding, throttling, delays and concurrency 4 (seed ${seed})`, T, async () => {
      const random = prng(seed);
      const { server, send } = fakeServer(
        () => (random() < 0.1 ? { throw: awsError('ThrottlingException') } : { withhold: () => random() < 0.3 }),
        () => Math.floor(random() * 4),
      );
      const entries = Array.from({ length: 1200 }, (_, i) => entry(`k${Math.floor(random() * 12)}`, i));
      const { w, written } = writer(send, { concurrency: 4, maxRetries: 60, highWater: 40, random });
      await load(w, entries);
      assert.equal(w.failure, undefined);
      const last = new Map(entries.map((e) => [e.key, e.value]));
      assert.deepEqual(new Map([...server.store].sort()), new Map([...last].sort()));
      for (const key of last.keys()) {
        const order = written.filter((e) => e.key === key).map((e) => e.value);
        assert.deepEqual(
          order,
          entries.filter((e) => e.key === key).map((e) => e.value),
          `${key} written in add order`,
        );
      }
    });
  }
});
