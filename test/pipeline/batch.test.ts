import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MAX_BATCH_BYTES, MAX_BATCH_ITEMS, WriteQueue, type QueueEntry } from '../../src/pipeline/batch.js';

// Rules from https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
// (25 requests, 16 MB, no two writes to one key per batch) and last write wins.

interface Entry extends QueueEntry {
  readonly id: string;
}

let serial = 0;
function entry(key: string, wire = 100): Entry {
  return { id: `${key}#${serial++}`, key, wire, attempts: 0, notBefore: 0 };
}

const ids = (batch: readonly Entry[]): string[] => batch.map((e) => e.id);
const keys = (batch: readonly Entry[]): string[] => batch.map((e) => e.key);
const MB = 1024 * 1024;

describe('WriteQueue limits', () => {
  test('the constants are the documented limits (25 requests; a margin below 16 MB)', () => {
    assert.equal(MAX_BATCH_ITEMS, 25);
    assert.equal(MAX_BATCH_BYTES, 15 * MB);
    assert.ok(MAX_BATCH_BYTES < 16 * MB);
  });

  const counts: Array<[added: number, takes: number[]]> = [
    [0, [0]],
    [1, [1, 0]],
    [25, [25, 0]],
    [26, [25, 1, 0]],
    [60, [25, 25, 10, 0]],
  ];
  for (const [added, takes] of counts) {
    test(`${added} fresh entries are taken as ${takes.join(', ')}, in arrival order`, () => {
      const q = new WriteQueue<Entry>();
      const all = Array.from({ length: added }, (_, i) => entry(`k${i}`));
      all.forEach((e) => q.add(e));
      const taken: Entry[] = [];
      for (const expected of takes) {
        const batch = q.take(0);
        assert.equal(batch.length, expected);
        taken.push(...batch);
      }
      assert.deepEqual(ids(taken), ids(all));
    });
  }

  const bytes: Array<[label: string, wires: number[], takes: number[][]]> = [
    [
      '5 MB entries: three fill 15 MB exactly',
      [5 * MB, 5 * MB, 5 * MB, 5 * MB, 5 * MB],
      [
        [0, 1, 2],
        [3, 4],
      ],
    ],
    ['4 MB entries: a fourth would pass 15 MB', [4 * MB, 4 * MB, 4 * MB, 4 * MB], [[0, 1, 2], [3]]],
    ['exactly the cap in two entries', [MAX_BATCH_BYTES - 10, 10, 1], [[0, 1], [2]]],
    ['one byte over: order is kept, the next entry waits', [MAX_BATCH_BYTES - 10, 11, 1], [[0], [1, 2]]],
    ['an entry above the cap still goes, alone (or it would wait forever)', [20 * MB, 1], [[0], [1]]],
  ];
  for (const [label, wires, takes] of bytes) {
    test(`byte cap: ${label}`, () => {
      const q = new WriteQueue<Entry>();
      const all = wires.map((w, i) => entry(`b${i}`, w));
      all.forEach((e) => q.add(e));
      for (const expected of takes) {
        const batch = q.take(0);
        assert.deepEqual(
          ids(batch),
          expected.map((i) => (all[i] as Entry).id),
        );
        assert.ok(batch.length === 1 || batch.reduce((s, e) => s + e.wire, 0) <= MAX_BATCH_BYTES);
      }
      assert.deepEqual(q.take(0), []);
    });
  }

  test('byte cap also applies to due retries', () => {
    const q = new WriteQueue<Entry>();
    const all = [0, 1, 2, 3].map((i) => entry(`r${i}`, 6 * MB));
    all.forEach((e) => q.add(e));
    const first = [...q.take(0), ...q.take(0)];
    first.forEach((e, i) => q.retry(e, 10 + i));
    assert.deepEqual(ids(q.take(100)), ids(all.slice(0, 2)));
    assert.deepEqual(ids(q.take(100)), ids(all.slice(2)));
  });
});

describe('WriteQueue: one active write per key', () => {
  test('a later write of a key is parked until the active one is done, never in the same batch', () => {
    const q = new WriteQueue<Entry>();
    const a1 = entry('a');
    const b = entry('b');
    const a2 = entry('a');
    const a3 = entry('a');
    [a1, b, a2, a3].forEach((e) => q.add(e));
    assert.deepEqual(ids(q.take(0)), [a1.id, b.id]);
    assert.deepEqual(q.take(0), []);
    q.done(b);
    assert.deepEqual(q.take(0), [], 'done of another key frees nothing for `a`');
    q.done(a1);
    assert.deepEqual(ids(q.take(0)), [a2.id]);
    q.done(a2);
    assert.deepEqual(ids(q.take(0)), [a3.id]);
    q.done(a3);
    assert.equal(q.size, 0);
  });

  test('many interleaved writes to few keys: batches hold unique keys and each key goes in add order', () => {
    const q = new WriteQueue<Entry>();
    const added = Array.from({ length: 300 }, (_, i) => entry(`k${(i * 7) % 5}`));
    added.forEach((e) => q.add(e));
    const order = new Map<string, string[]>();
    while (q.size > 0) {
      const batch = q.take(0);
      assert.ok(batch.length > 0, 'something is always sendable while entries remain');
      assert.equal(new Set(keys(batch)).size, batch.length, 'no key twice in a batch');
      for (const e of batch) {
        order.set(e.key, [...(order.get(e.key) ?? []), e.id]);
        q.done(e);
      }
    }
    for (const [key, sent] of order)
      assert.deepEqual(
        sent,
        added.filter((e) => e.key === key).map((e) => e.id),
      );
  });

  test('retry keeps the key active: a parked newer write never overtakes a retried older one', () => {
    const q = new WriteQueue<Entry>();
    const old = entry('a');
    const newer = entry('a');
    q.add(old);
    q.add(newer);
    assert.deepEqual(ids(q.take(0)), [old.id]);
    q.retry(old, 10);
    assert.equal(old.attempts, 1);
    assert.equal(old.notBefore, 10);
    assert.deepEqual(q.take(5), [], 'not due, and the newer write stays parked');
    assert.deepEqual(ids(q.take(10)), [old.id]);
    q.retry(old, 20);
    assert.equal(old.attempts, 2);
    assert.deepEqual(ids(q.take(20)), [old.id]);
    q.done(old);
    assert.deepEqual(ids(q.take(20)), [newer.id]);
  });

  test('due retries come before fresh entries, oldest notBefore first; undue ones wait', () => {
    const q = new WriteQueue<Entry>();
    const [x, y, z] = [entry('x'), entry('y'), entry('z')] as [Entry, Entry, Entry];
    [x, y, z].forEach((e) => q.add(e));
    q.take(0);
    q.retry(z, 30);
    q.retry(x, 20);
    q.retry(y, 10);
    const fresh = [entry('f1'), entry('f2')];
    fresh.forEach((e) => q.add(e));
    assert.deepEqual(ids(q.take(25)), [y.id, x.id, ...ids(fresh)]);
    assert.deepEqual(ids(q.take(30)), [z.id]);
  });

  test('due retries fill a batch before any fresh entry', () => {
    const q = new WriteQueue<Entry>();
    const old = Array.from({ length: 30 }, (_, i) => entry(`o${i}`));
    old.forEach((e) => q.add(e));
    const sent = [...q.take(0), ...q.take(0)];
    sent.forEach((e, i) => q.retry(e, 100 - i)); // the last one sent is due first
    const fresh = entry('fresh');
    q.add(fresh);
    const dueOrder = [...sent].reverse();
    assert.deepEqual(ids(q.take(100)), ids(dueOrder.slice(0, 25)));
    assert.deepEqual(ids(q.take(100)), [...ids(dueOrder.slice(25)), fresh.id]);
  });
});

describe('WriteQueue bookkeeping', () => {
  test('size, sendable, sending, available and nextDue through a life cycle', () => {
    const q = new WriteQueue<Entry>();
    assert.deepEqual([q.size, q.sendable, q.sending, q.available(0), q.nextDue()], [0, 0, 0, 0, undefined]);
    const a1 = entry('a');
    const a2 = entry('a');
    const fresh = Array.from({ length: 30 }, (_, i) => entry(`f${i}`));
    [a1, a2, ...fresh].forEach((e) => q.add(e));
    // a2 is parked: counted in size, not sendable; available is capped at 25.
    assert.deepEqual([q.size, q.sendable, q.sending, q.available(0)], [32, 31, 0, 25]);
    const batch = q.take(0);
    assert.equal(batch.length, 25);
    assert.deepEqual([q.size, q.sendable, q.sending, q.available(0)], [32, 6, 25, 6]);
    q.retry(a1, 50);
    q.retry(batch[1] as Entry, 40);
    assert.deepEqual([q.size, q.sendable, q.sending, q.nextDue()], [32, 8, 23, 40]);
    assert.equal(q.available(39), 6, 'waiting entries count only once due');
    assert.equal(q.available(40), 7);
    assert.equal(q.available(50), 8);
    for (const e of batch.slice(2)) q.done(e);
    assert.deepEqual([q.size, q.sending], [9, 0]);
    assert.deepEqual(ids(q.take(50)), [(batch[1] as Entry).id, a1.id, ...ids(fresh.slice(24))]);
    assert.equal(q.nextDue(), undefined);
    q.done(a1);
    assert.deepEqual([q.size, q.sendable, q.available(50)], [8, 1, 1], 'a2 becomes sendable');
  });

  test('an entry retried at Infinity is never due', () => {
    const q = new WriteQueue<Entry>();
    const e = entry('x');
    q.add(e);
    q.take(0);
    q.retry(e, Number.POSITIVE_INFINITY);
    assert.deepEqual([q.available(Number.MAX_SAFE_INTEGER), q.take(Number.MAX_SAFE_INTEGER).length, q.size], [0, 0, 1]);
  });

  test('compaction after many takes keeps every entry once, in order', () => {
    const q = new WriteQueue<Entry>();
    const added: Entry[] = [];
    const taken: Entry[] = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 30; i++) {
        const e = entry(`c${added.length}`);
        added.push(e);
        q.add(e);
      }
      for (const e of q.take(0)) {
        taken.push(e);
        q.done(e);
      }
    }
    for (let batch = q.take(0); batch.length > 0; batch = q.take(0)) {
      assert.ok(batch.length <= 25);
      for (const e of batch) {
        taken.push(e);
        q.done(e);
      }
    }
    assert.ok(taken.length > 2000);
    assert.equal(new Set(keys(taken)).size, taken.length);
    assert.deepEqual(ids(taken), ids(added));
    assert.deepEqual([q.size, q.sendable, q.sending], [0, 0, 0]);
  });
});

describe('WriteQueue: a key written over and over', () => {
  // Found by the crash test: a released later write went to the back of the queue, behind every
  // fresh entry, so a hot key waited a full queue per write and held the checkpoint mark back.
  test('the next write of a key goes out in the very next batch, ahead of fresh entries', () => {
    const queue = new WriteQueue<Entry>();
    const first = entry('hot');
    const second = entry('hot');
    queue.add(first);
    queue.add(second);
    for (let i = 0; i < 100; i++) queue.add(entry(`fresh${i}`));
    const batch1 = queue.take(0);
    assert.equal(batch1[0], first);
    assert.ok(!batch1.includes(second));
    for (const e of batch1) queue.done(e);
    const batch2 = queue.take(0);
    assert.equal(batch2[0], second, 'released before the 75 fresh entries still queued');
    assert.equal(batch2.length, MAX_BATCH_ITEMS);
  });
});

describe('WriteQueue memory', () => {
  test('keeps no reference to an entry once it is taken and done (a wide item is freed at once)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const queue = new WriteQueue<Entry>();
    // Fewer than the queue's compaction threshold, as a worker holds them between compactions.
    const refs: WeakRef<Entry>[] = [];
    (() => {
      for (let i = 0; i < 100; i++) {
        const added = entry(`k${i}`, 400_000);
        refs.push(new WeakRef(added));
        queue.add(added);
      }
      for (let batch = queue.take(0); batch.length > 0; batch = queue.take(0))
        for (const taken of batch) queue.done(taken);
    })();
    assert.equal(queue.size, 0);
    assert.equal(queue.bytes, 0);
    // WeakRefs are cleared only after the job that created them ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(refs.filter((ref) => ref.deref() !== undefined).length, 0);
  });
});
