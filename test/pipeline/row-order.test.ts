import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RowOrder } from '../../src/pipeline/row-order.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function order(
  options: {
    maxRows?: number;
    maxBytes?: number;
    halted?: () => boolean;
    route?: (row: number, outputs: string) => Promise<void> | undefined;
  } = {},
): { order: RowOrder<number, string>; routed: [number, string][] } {
  const routed: [number, string][] = [];
  const route = options.route ?? (() => undefined);
  return {
    routed,
    order: new RowOrder<number, string>({
      route: (row, outputs) => {
        routed.push([row, outputs]);
        return route(row, outputs);
      },
      halted: options.halted ?? (() => false),
      bytes: (_row, outputs) => (outputs === undefined ? 10 : outputs.length),
      maxRows: options.maxRows ?? 100,
      maxBytes: options.maxBytes ?? 1_000_000,
    }),
  };
}

describe('RowOrder', () => {
  test('synchronous outputs with nothing held go straight through, without a promise', () => {
    const { order: o, routed } = order();
    assert.equal(o.push(1, 'a'), undefined);
    assert.equal(o.push(2, 'b'), undefined);
    assert.deepEqual(routed, [
      [1, 'a'],
      [2, 'b'],
    ]);
    assert.equal(o.idle(), undefined);
  });

  test('outputs settling out of order are routed in the order rows were pushed', async () => {
    const { order: o, routed } = order();
    const first = deferred<string>();
    const second = deferred<string>();
    void o.push(1, first.promise);
    void o.push(2, second.promise);
    void o.push(3, 'c'); // synchronous, but behind rows still waiting
    second.resolve('b');
    await tick();
    assert.deepEqual(routed, [], 'nothing routed before the first row settles');
    first.resolve('a');
    await o.idle();
    assert.deepEqual(routed, [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  test('a row leaves only once the writer took it: the next row waits for the writer too', async () => {
    const full = deferred<undefined>();
    const { order: o, routed } = order({
      route: (row) => (row === 1 ? full.promise.then(() => undefined) : undefined),
    });
    void o.push(1, Promise.resolve('a'));
    await tick();
    assert.equal(o.push(2, 'b'), undefined);
    await tick();
    assert.deepEqual(routed, [[1, 'a']], 'row 2 is held while row 1 waits for the writer');
    full.resolve(undefined);
    await o.idle();
    assert.deepEqual(routed, [
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  test('reading waits at the bound in rows, and goes on once the head is routed', async () => {
    const { order: o } = order({ maxRows: 3 });
    const head = deferred<string>();
    assert.equal(o.push(1, head.promise), undefined);
    assert.equal(o.push(2, Promise.resolve('b')), undefined);
    const wait = o.push(3, Promise.resolve('c'));
    assert.ok(wait, 'the third row held fills the order');
    let released = false;
    void wait.then(() => (released = true));
    await tick();
    assert.equal(released, false, 'still waiting while the head has not settled');
    head.resolve('a');
    await wait;
    assert.equal(o.size, 0);
  });

  test('reading waits at the bound in bytes', async () => {
    let halted = false;
    const { order: o } = order({ maxBytes: 25, halted: () => halted });
    assert.equal(o.push(1, new Promise<string>(() => {})), undefined);
    assert.equal(o.push(2, new Promise<string>(() => {})), undefined);
    const wait = o.push(3, new Promise<string>(() => {}));
    assert.ok(wait, '30 bytes held, over 25');
    halted = true;
    await wait;
  });

  test('a halt ends the waits and routes nothing more; rows left stay unrouted', async () => {
    let halted = false;
    const { order: o, routed } = order({ maxRows: 2, halted: () => halted });
    void o.push(1, new Promise<string>(() => {}));
    const late = deferred<string>();
    const wait = o.push(2, late.promise);
    assert.ok(wait);
    halted = true;
    await wait;
    await o.idle();
    late.resolve('b');
    await tick();
    assert.deepEqual(routed, []);
    assert.equal(o.size, 2);
  });

  test('whileRunning ends when its promise does, or at a halt', async () => {
    let halted = false;
    const { order: o } = order({ halted: () => halted });
    await o.whileRunning(Promise.resolve());
    const never = o.whileRunning(new Promise<void>(() => {}));
    halted = true;
    await never;
  });
});
