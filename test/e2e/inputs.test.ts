/** Inputs as the user names them: a quoted name that exists is that file; an unreadable folder is an error. */
import assert from 'node:assert/strict';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/cli.js';
import { createTable } from '../support/dynalite.js';
import { assertExit, S, scanSorted, upload, useDynalite } from './helpers.js';

const db = useDynalite();

describe('input names (end to end)', () => {
  it('a quoted name with `[...]` that exists is read as that file, not globbed into another', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    await writeFile(path.join(dir, 'data[1].csv'), 'id\nfrom-brackets\n');
    await writeFile(path.join(dir, 'data1.csv'), 'id\nfrom-data1\n');
    const run = await upload(db.endpoint, ['data[1].csv', '--table', table, '--no-checkpoint'], { cwd: dir });
    assertExit(run, 0);
    assert.deepEqual(await scanSorted(db.endpoint, table, 'id'), [{ id: S('from-brackets') }]);
  });

  it('a glob through a folder that cannot be read is INPUT_UNREADABLE (exit 2), not "matched nothing"', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    await symlink('loop', path.join(dir, 'loop'));
    const run = await upload(db.endpoint, ['loop/*.csv', '--table', table, '--no-checkpoint'], { cwd: dir });
    assertExit(run, 2);
    assert.equal(run.summary.error?.code, 'INPUT_UNREADABLE');
    assert.match(run.summary.error?.message ?? '', /ELOOP/);
  });
});
