import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  CheckpointStore,
  identify,
  planResume,
  readCheckpoint,
  type CheckpointData,
  type FileIdentity,
} from '../../src/checkpoint/checkpoint.js';
import { startMark } from '../../src/checkpoint/low-water.js';
import { EXIT } from '../../src/errors.js';
import { temporaryPath } from '../../src/output-files.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dynaload-checkpoint-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const place = (file: string): { file: string; temporary: string } => ({ file, temporary: temporaryPath(file) });

const SETTINGS = Object.freeze({ kind: 'put', tables: ['t'], types: { v: 'N' }, header: true, delimiter: undefined });

function identity(name: string, over: Partial<FileIdentity> = {}): FileIdentity {
  return { path: `/data/${name}`, size: 1_000, mtimeMs: 1_700_000_000_000, head: 'ab'.repeat(32), ...over };
}

function checkpointOf(
  files: Record<string, { identity: FileIdentity; rows: number; complete: boolean }>,
  settings: Record<string, unknown> = SETTINGS,
): CheckpointData {
  const out: CheckpointData['files'] = {};
  for (const f of Object.values(files))
    out[f.identity.path] = {
      identity: f.identity,
      mark: startMark({ offset: f.rows * 10, lines: f.rows + 1, rows: f.rows, written: f.rows }),
      complete: f.complete,
    };
  return { version: 1, settings, updatedAt: new Date(0).toISOString(), files: out };
}

/** Calls `fn` and returns the error it throws (failing when it does not). */
function thrown(fn: () => unknown): {
  code: string;
  exitCode: number;
  message: string;
  context: Record<string, unknown>;
} {
  try {
    fn();
  } catch (error) {
    return error as { code: string; exitCode: number; message: string; context: Record<string, unknown> };
  }
  assert.fail('expected an error');
}

describe('identify', () => {
  test('path (resolved), size, modification time and the SHA-256 of the first 64 KiB', async () => {
    const file = path.join(dir, 'big.csv');
    const body = Buffer.alloc(100 * 1024, 'x');
    await writeFile(file, body);
    const id = await identify(path.relative(process.cwd(), file));
    assert.equal(id.path, file);
    assert.equal(id.size, body.length);
    assert.equal(
      id.head,
      createHash('sha256')
        .update(body.subarray(0, 64 * 1024))
        .digest('hex'),
    );
    assert.equal(typeof id.mtimeMs, 'number');
  });

  test('a small file hashes all of it; an edit in the head changes the hash, a touch changes the time', async () => {
    const file = path.join(dir, 'small.csv');
    await writeFile(file, 'id,v\na,1\n');
    const before = await identify(file);
    assert.equal(before.head, createHash('sha256').update('id,v\na,1\n').digest('hex'));
    await writeFile(file, 'id,v\nb,1\n');
    const edited = await identify(file);
    assert.equal(edited.size, before.size);
    assert.notEqual(edited.head, before.head);
    await utimes(file, new Date(), new Date(Date.now() + 10_000));
    assert.notEqual((await identify(file)).mtimeMs, edited.mtimeMs);
  });
});

describe('planResume', () => {
  const a = identity('a.csv');
  const b = identity('b.csv');
  const c = identity('c.csv');
  const data = checkpointOf({
    a: { identity: a, rows: 500, complete: true },
    b: { identity: b, rows: 120, complete: false },
  });

  test('complete files are done, partly done files start from their mark, files the checkpoint does not know start at zero', () => {
    const { starts, done } = planResume(
      data,
      { ...SETTINGS },
      new Map([
        ['a.csv', a],
        ['b.csv', b],
        ['c.csv', c],
      ]),
      'cp.json',
    );
    assert.deepEqual(done, ['a.csv']);
    assert.deepEqual([...starts.keys()], ['b.csv']);
    assert.deepEqual(starts.get('b.csv'), {
      offset: 1_200,
      lines: 121,
      rows: 120,
      written: 120,
      rejected: 0,
      skipped: 0,
    });
    assert.notEqual(starts.get('b.csv'), data.files[b.path]?.mark, "a copy, not the checkpoint's own object");
  });

  const mismatches: { name: string; settings: Record<string, unknown>; expect: RegExp }[] = [
    {
      name: 'different --types',
      settings: { ...SETTINGS, types: { v: 'S' } },
      expect: /types: was \{"v":"N"\}, now \{"v":"S"\}/,
    },
    {
      name: 'another table',
      settings: { ...SETTINGS, tables: ['other'] },
      expect: /tables: was \["t"\], now \["other"\]/,
    },
    {
      name: 'a transform now, none then',
      settings: { ...SETTINGS, transform: { path: '/x.mjs', sha256: '00' } },
      expect: /transform: was unset, now \{"path":"\/x.mjs","sha256":"00"\}/,
    },
    {
      name: 'an option dropped',
      settings: { kind: 'put', tables: ['t'], types: { v: 'N' }, delimiter: undefined },
      expect: /header: was true, now unset/,
    },
    {
      name: 'two options at once',
      settings: { ...SETTINGS, kind: 'delete', header: false },
      expect: /kind: was "put", now "delete"; header: was true, now false/,
    },
  ];
  for (const m of mismatches) {
    test(`refuses ${m.name}: CHECKPOINT_MISMATCH (exit 2) naming the option`, () => {
      const error = thrown(() => planResume(data, m.settings, new Map([['b.csv', b]]), 'cp.json'));
      assert.equal(error.code, 'CHECKPOINT_MISMATCH');
      assert.equal(error.exitCode, EXIT.USAGE);
      assert.match(error.message, m.expect);
      assert.match(error.message, /cp\.json/);
      assert.equal(error.context.file, 'cp.json');
    });
  }

  test('key order and undefined-valued settings are not a difference', () => {
    const reordered = { delimiter: undefined, header: true, types: { v: 'N' }, tables: ['t'], kind: 'put' };
    assert.doesNotThrow(() => planResume(data, reordered, new Map([['b.csv', b]]), 'cp.json'));
  });

  const changes: { name: string; now: FileIdentity }[] = [
    { name: 'size', now: { ...b, size: b.size + 12 } },
    { name: 'modification time', now: { ...b, mtimeMs: b.mtimeMs + 1 } },
    { name: 'head hash', now: { ...b, head: 'cd'.repeat(32) } },
  ];
  for (const change of changes) {
    test(`refuses an input whose ${change.name} changed: CHECKPOINT_INPUT_CHANGED (exit 2) naming the file`, () => {
      const error = thrown(() => planResume(data, { ...SETTINGS }, new Map([['in/b.csv', change.now]]), 'cp.json'));
      assert.equal(error.code, 'CHECKPOINT_INPUT_CHANGED');
      assert.equal(error.exitCode, EXIT.USAGE);
      assert.equal(error.context.file, 'in/b.csv');
      assert.match(error.message, /Expected in\/b\.csv unchanged since the checkpoint/);
    });
  }

  test('a changed file is refused even when it was complete', () => {
    const error = thrown(() => planResume(data, { ...SETTINGS }, new Map([['a.csv', { ...a, size: 1 }]]), 'cp.json'));
    assert.equal(error.code, 'CHECKPOINT_INPUT_CHANGED');
  });
});

describe('readCheckpoint', () => {
  test('absent: undefined', async () => {
    assert.equal(await readCheckpoint(path.join(dir, 'none.json')), undefined);
  });

  for (const [name, text] of [
    ['not JSON', '{"version": 1, "files": {'],
    ['another version', '{"version": 2, "settings": {}, "files": {}}'],
    ['no files', '{"version": 1, "settings": {}}'],
  ] as const) {
    test(`${name}: CHECKPOINT_INVALID (exit 2)`, async () => {
      const file = path.join(dir, `invalid-${name.replace(/\W/g, '-')}.json`);
      await writeFile(file, text);
      await assert.rejects(readCheckpoint(file), (error: { code: string; exitCode: number; message: string }) => {
        assert.equal(error.code, 'CHECKPOINT_INVALID');
        assert.equal(error.exitCode, EXIT.USAGE);
        assert.ok(error.message.includes(file));
        return true;
      });
    });
  }
});

describe('CheckpointStore', () => {
  test('init writes the first version; updates are written on flush and stop; a resume carries the old marks', async () => {
    const file = path.join(dir, 'store.json');
    const a = identity('a.csv');
    const store = CheckpointStore.fresh(place(file), SETTINGS, new Map([['in/a.csv', a]]));
    await store.init();
    const first = await readCheckpoint(file);
    assert.ok(first);
    assert.deepEqual(first.settings, { kind: 'put', tables: ['t'], types: { v: 'N' }, header: true });
    assert.deepEqual(first.files[a.path], { identity: a, mark: startMark(), complete: false });
    store.update({
      path: 'in/a.csv',
      mark: startMark({ offset: 70, lines: 8, rows: 7, written: 6, rejected: 1 }),
      complete: false,
    });
    store.update({ path: 'unknown.csv', mark: startMark({ rows: 99 }), complete: true });
    await store.stop();
    const second = await readCheckpoint(file);
    assert.ok(second);
    assert.deepEqual(Object.keys(second.files), [a.path], 'an unknown input is ignored');
    assert.equal(second.files[a.path]?.mark.rows, 7);

    const resumed = CheckpointStore.fresh(
      place(file),
      SETTINGS,
      new Map([
        ['in/a.csv', a],
        ['in/b.csv', identity('b.csv')],
      ]),
      second,
    );
    const { rows, written, rejected, skipped } = resumed.totals();
    assert.deepEqual(
      { rows, written, rejected, skipped },
      { rows: 7, written: 6, rejected: 1, skipped: 0 },
      'rows settled by earlier runs, summed over files',
    );
  });

  test('an unwritable place is found by init: CHECKPOINT_WRITE_FAILED (exit 2) naming --checkpoint', async () => {
    const store = CheckpointStore.fresh(place(path.join(dir, 'no-such-dir', 'cp.json')), SETTINGS, new Map());
    await assert.rejects(store.init(), (error: { code: string; exitCode: number; message: string }) => {
      assert.equal(error.code, 'CHECKPOINT_WRITE_FAILED');
      assert.equal(error.exitCode, EXIT.USAGE);
      assert.match(error.message, /--checkpoint/);
      return true;
    });
  });

  test('the temporary file is created anew: a link or a file in its place is never written through, and the failure names --checkpoint', async () => {
    const file = path.join(dir, 'guarded.json');
    const victim = path.join(dir, 'victim.txt');
    await writeFile(victim, 'keep me');
    await symlink(victim, temporaryPath(file));
    const store = CheckpointStore.fresh(place(file), SETTINGS, new Map());
    await assert.rejects(store.init(), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'CHECKPOINT_WRITE_FAILED');
      assert.match(error.message, /EEXIST/);
      return true;
    });
    assert.equal(await readFile(victim, 'utf8'), 'keep me');
  });

  test('a checkpoint that cannot take the rename (a folder in its place) fails init and leaves no temporary file', async () => {
    const file = path.join(dir, 'a-folder.json');
    await mkdir(file);
    const store = CheckpointStore.fresh(place(file), SETTINGS, new Map());
    await assert.rejects(store.init(), { code: 'CHECKPOINT_WRITE_FAILED' });
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.startsWith('a-folder.json.')),
      [],
    );
  });

  test('rewritten again and again, the file is always whole, valid JSON (write, fsync, rename); no temporary file is left', async () => {
    const file = path.join(dir, 'atomic.json');
    // About 1 MB of checkpoint, so a rewrite takes long enough to be caught half-way if it were not atomic.
    const identities = new Map<string, FileIdentity>();
    for (let i = 0; i < 3_000; i++) identities.set(`in/f${i}.csv`, identity(`f${i}.csv`));
    const store = CheckpointStore.fresh(place(file), SETTINGS, identities);
    await store.init();
    // A reader on another thread, reading as fast as it can while this thread rewrites.
    const reader = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { readFileSync } = require('node:fs');
       let reads = 0, bad = 0, missing = 0, stop = false, sample = '';
       parentPort.on('message', () => { stop = true; });
       (function loop() {
         for (let i = 0; i < 20 && !stop; i++) {
           let text;
           try { text = readFileSync(workerData, 'utf8'); } catch { missing++; continue; }
           reads++;
           try { JSON.parse(text); } catch { bad++; sample = text.slice(-80); }
         }
         if (stop) parentPort.postMessage({ reads, bad, missing, sample });
         else setImmediate(loop);
       })();`,
      { eval: true, workerData: file },
    );
    const result = new Promise<{ reads: number; bad: number; missing: number; sample: string }>((resolve, reject) => {
      reader.once('message', resolve);
      reader.once('error', reject);
    });
    const rewrites = 40;
    for (let n = 1; n <= rewrites; n++) {
      for (let i = 0; i < 3_000; i += 7)
        store.update({
          path: `in/f${i}.csv`,
          mark: startMark({ offset: n * 1000 + i, rows: n * 100 + i, written: n * 100 + i }),
          complete: false,
        });
      await store.flush();
    }
    await store.stop();
    reader.postMessage('stop');
    const seen = await result;
    await reader.terminate();
    assert.ok(seen.reads > 0, 'the reader read the file');
    assert.equal(seen.missing, 0, 'the file never disappeared');
    assert.equal(seen.bad, 0, `${seen.bad} of ${seen.reads} reads were not valid JSON, e.g. ...${seen.sample}`);
    const last = JSON.parse(await readFile(file, 'utf8')) as CheckpointData;
    assert.equal(last.files['/data/f0.csv']?.mark.rows, rewrites * 100);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.startsWith('atomic.json') && f !== 'atomic.json'),
      [],
      'no temporary file left',
    );
  });
});
