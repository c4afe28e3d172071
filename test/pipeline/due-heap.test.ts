import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DueHeap } from '../../src/pipeline/due-heap.js';
import { mulberry32 } from '../support/fault-proxy.js';

interface Entry {
  readonly id: number;
  notBefore: number;
}

describe('DueHeap', () => {
  test('an empty heap has nothing due and no next time', () => {
    const heap = new DueHeap<Entry>();
    assert.deepEqual(
      [
        heap.size,
        heap.next(),
        heap.peekDue(Number.MAX_SAFE_INTEGER),
        heap.pop(),
        heap.countDue(Number.MAX_SAFE_INTEGER, 25),
      ],
      [0, undefined, undefined, undefined, 0],
    );
  });

  test('entries due at the same time come out in the order they started waiting', () => {
    const heap = new DueHeap<Entry>();
    for (let id = 0; id < 40; id++) heap.push({ id, notBefore: id % 2 === 0 ? 10 : 5 });
    const order: number[] = [];
    for (let entry = heap.peekDue(10); entry !== undefined; entry = heap.peekDue(10))
      order.push((heap.pop() as Entry).id);
    const odd = [...Array(20).keys()].map((i) => 2 * i + 1);
    const even = [...Array(20).keys()].map((i) => 2 * i);
    assert.deepEqual(order, [...odd, ...even]);
  });

  for (const seed of [1, 2, 3]) {
    test(`random pushes and pops (seed ${seed}) match a sorted list: next, peekDue, countDue with its limit`, () => {
      const random = mulberry32(seed);
      const heap = new DueHeap<Entry>();
      let oracle: Entry[] = [];
      let id = 0;
      for (let step = 0; step < 3_000; step++) {
        const now = Math.floor(random() * 1_000);
        if (random() < 0.6) {
          const entry = { id: id++, notBefore: Math.floor(random() * 1_000) };
          heap.push(entry);
          oracle.push(entry);
          // Stable: by time, then by arrival.
          oracle = oracle.sort((a, b) => a.notBefore - b.notBefore || a.id - b.id);
        } else {
          const due = oracle[0] !== undefined && oracle[0].notBefore <= now ? oracle[0] : undefined;
          assert.equal(heap.peekDue(now), due);
          if (due !== undefined) {
            assert.equal(heap.pop(), due);
            oracle.shift();
          }
        }
        const limit = 1 + Math.floor(random() * 30);
        assert.equal(heap.size, oracle.length);
        assert.equal(heap.next(), oracle[0]?.notBefore);
        assert.equal(heap.countDue(now, limit), Math.min(limit, oracle.filter((e) => e.notBefore <= now).length));
      }
    });
  }
});
