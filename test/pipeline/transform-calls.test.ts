import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TransformCalls } from '../../src/pipeline/transform-calls.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TransformCalls', () => {
  test('room: none needed while nothing is in flight, whatever the number of calls', () => {
    const calls = new TransformCalls(2, 1000);
    assert.equal(calls.room(1), undefined);
    assert.equal(calls.room(5), undefined);
  });

  test('room waits once the calls in flight leave too little, and resolves when one settles', async () => {
    const calls = new TransformCalls(2, 500);
    let finish!: (value: string) => void;
    const first = calls.track(new Promise<string>((resolve) => (finish = resolve)));
    void calls.track(new Promise<string>(() => {}).catch(() => 'never'));
    assert.equal(calls.pending, 2);
    const room = calls.room(1);
    assert.ok(room);
    let free = false;
    void room.then(() => (free = true));
    await tick();
    assert.equal(free, false);
    finish('a');
    assert.deepEqual(await first, { value: 'a' });
    await room;
    assert.equal(calls.pending, 1);
  });

  test('track: a value, a failure (kept as is), a rejection without a reason', async () => {
    const calls = new TransformCalls(4, 10_000);
    assert.deepEqual(await calls.track(Promise.resolve(7)), { value: 7 });
    const error = new Error('boom');
    assert.deepEqual(await calls.track(Promise.reject(error)), { failure: error });
    const none = await calls.track(Promise.reject(undefined));
    assert.ok('failure' in none && none.failure instanceof Error);
    assert.equal(calls.pending, 0);
  });

  test('a call that has not settled in time times out and frees its place', async () => {
    const calls = new TransformCalls(1, 20);
    const outcome = calls.track(new Promise(() => {}));
    assert.ok(calls.room(1), 'the hung call holds the only place');
    assert.deepEqual(await outcome, { timeout: true });
    assert.equal(calls.pending, 0);
    assert.equal(calls.room(1), undefined);
  });
});
