/**
 * The files a run writes never harm the user's own: an output that is an input is refused before
 * anything is read or written, an existing rejects file is never overwritten unasked, the files that
 * hold row data or paths are the user's only, and an unwritable rejects place is found up front.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll, TEST_REGION } from '../support/dynalite.js';
import { assertExit, parseSummary, readRejects, run, upload, useDynalite } from './helpers.js';

const db = useDynalite();
const ROWS = 'id,v\na,1\nb,2\n,3\nc,4\n';

async function setup(): Promise<{ dir: string; table: string; input: string }> {
  const dir = await tempDir();
  const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
  const input = path.join(dir, 'rows.csv');
  await writeFile(input, ROWS);
  return { dir, table, input };
}

describe('output files (end to end)', () => {
  for (const [name, option, spelling] of [
    ['--rejects naming the input', '--rejects', (dir: string) => path.join(dir, 'rows.csv')],
    [
      '--rejects naming the input by another spelling',
      '--rejects',
      (dir: string) => path.join(dir, 'sub', '..', 'rows.csv'),
    ],
    ['--rejects through a link to the input', '--rejects', (dir: string) => path.join(dir, 'link.ndjson')],
    ['--checkpoint naming the input', '--checkpoint', (dir: string) => path.join(dir, 'rows.csv')],
    ['--checkpoint through a link to the input', '--checkpoint', (dir: string) => path.join(dir, 'link.ndjson')],
  ] as const) {
    it(`${name}: usage error OUTPUT_IS_INPUT (exit 2), the input unchanged, nothing written`, async () => {
      const { dir, table, input } = await setup();
      await mkdir(path.join(dir, 'sub'));
      await symlink(input, path.join(dir, 'link.ndjson'));
      const run = await upload(db.endpoint, [input, '--table', table, option, spelling(dir)], { cwd: dir });
      assertExit(run, 2);
      assert.equal(run.summary.error?.code, 'OUTPUT_IS_INPUT');
      assert.match(run.summary.error?.message ?? '', new RegExp(`\`${option}\``));
      assert.equal(await readFile(input, 'utf8'), ROWS, 'the input is untouched');
      assert.equal((await scanAll(db.endpoint, table)).length, 0, 'nothing was written');
    });
  }

  it('a --from-rejects file named as --rejects too is refused (it is an input)', async () => {
    const { dir, table } = await setup();
    const replay = path.join(dir, 'old.ndjson');
    const kept = '{"file":"x.csv","line":2,"code":"KEY_EMPTY","message":"m","row":{"id":"z","v":"1"}}\n';
    await writeFile(replay, kept);
    const run = await upload(db.endpoint, ['--from-rejects', replay, '--table', table, '--rejects', replay], {
      cwd: dir,
    });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'OUTPUT_IS_INPUT');
    assert.equal(await readFile(replay, 'utf8'), kept);
  });

  it('an existing --rejects file is never overwritten: REJECTS_EXISTS (exit 2) before reading; --force replaces it; files are created 0600', async () => {
    const { dir, table, input } = await setup();
    const rejects = path.join(dir, 'rejects.ndjson');
    await writeFile(rejects, 'earlier rejects\n');
    const refused = await upload(db.endpoint, [input, '--table', table, '--rejects', rejects, '--no-checkpoint'], {
      cwd: dir,
    });
    assertExit(refused, 2);
    assert.equal(refused.summary.error?.code, 'REJECTS_EXISTS');
    assert.match(refused.summary.error?.message ?? '', /--force/);
    assert.equal(await readFile(rejects, 'utf8'), 'earlier rejects\n');
    assert.equal((await scanAll(db.endpoint, table)).length, 0, 'refused before any row was read');

    const forced = await upload(
      db.endpoint,
      [input, '--table', table, '--rejects', rejects, '--no-checkpoint', '--force'],
      { cwd: dir },
    );
    assertExit(forced, 3);
    const lines = await readRejects(rejects);
    assert.deepEqual(
      lines.map((l) => [l.line, l.code]),
      [[4, 'KEY_EMPTY']],
      "replaced by this run's rejects",
    );

    const fresh = path.join(dir, 'fresh.ndjson');
    const checkpoint = path.join(dir, 'cp.json');
    const third = await upload(db.endpoint, [input, '--table', table, '--rejects', fresh, '--checkpoint', checkpoint], {
      cwd: dir,
    });
    assertExit(third, 3);
    assert.equal((await stat(fresh)).mode & 0o777, 0o600, "the rejects file (row data) is the user's only");
    assert.equal((await stat(checkpoint)).mode & 0o777, 0o600, "the checkpoint (paths) is the user's only");
  });

  it('--resume appends to the existing --rejects file', async () => {
    const { dir, table } = await setup();
    const input = path.join(dir, 'more.csv');
    await writeFile(input, 'id,v\n,1\nd,2\n');
    const rejects = path.join(dir, 'rejects.ndjson');
    const checkpoint = path.join(dir, 'cp.json');
    const first = await upload(
      db.endpoint,
      [input, '--table', table, '--rejects', rejects, '--checkpoint', checkpoint],
      { cwd: dir },
    );
    assertExit(first, 3);
    // The checkpoint says every row is settled; the resume reads nothing, and must keep the rejects.
    const resumed = await upload(
      db.endpoint,
      [input, '--table', table, '--rejects', rejects, '--checkpoint', checkpoint, '--resume'],
      { cwd: dir },
    );
    assert.notEqual(resumed.code, 2, resumed.stdout);
    assert.equal(resumed.summary.rejectsFile, rejects);
    assert.equal((await readRejects(rejects)).length, 1, 'the earlier rejects are kept');
  });

  it('an unwritable rejects place is found before the first write: REJECTS_UNWRITABLE (exit 2), nothing written', async () => {
    const { dir, table, input } = await setup();
    const notAFolder = path.join(dir, 'plain-file');
    await writeFile(notAFolder, 'x');
    for (const place of [path.join(dir, 'no-such-folder', 'r.ndjson'), path.join(notAFolder, 'r.ndjson'), dir]) {
      const run = await upload(db.endpoint, [input, '--table', table, '--rejects', place, '--no-checkpoint'], {
        cwd: dir,
      });
      assertExit(run, 2);
      assert.equal(run.summary.error?.code, 'REJECTS_UNWRITABLE', place);
    }
    assert.equal((await scanAll(db.endpoint, table)).length, 0, 'nothing was written');
  });

  it('delete keeps its own checkpoint: a rollback does not break the --resume of the load', async () => {
    const { dir, table } = await setup();
    const input = path.join(dir, 'load.csv');
    await writeFile(input, 'id,v\na,1\nb,2\n');
    const loaded = await upload(db.endpoint, [input, '--table', table], { cwd: dir });
    assertExit(loaded, 0);
    const uploadCheckpoint = path.join(dir, `.dynaload-checkpoint-${table}.json`);
    assert.equal(loaded.summary.checkpointFile, uploadCheckpoint);
    const before = await readFile(uploadCheckpoint, 'utf8');
    const deleted = await run(
      ['delete', input, '--table', table, '--endpoint', db.endpoint, '--region', TEST_REGION, '--json'],
      { cwd: dir },
    );
    assertExit(deleted, 0);
    assert.equal(parseSummary(deleted).checkpointFile, path.join(dir, `.dynaload-checkpoint-delete-${table}.json`));
    assert.equal(await readFile(uploadCheckpoint, 'utf8'), before, "the upload's checkpoint is untouched");
    const resumed = await upload(db.endpoint, [input, '--table', table, '--resume'], { cwd: dir });
    assertExit(resumed, 0);
    assert.equal(resumed.summary.previous?.written, 2);
  });
});
