import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../support/cli.js';
import { assertExit } from './helpers.js';

describe('--quiet (end to end)', () => {
  it('prints nothing but errors: the warning of a --max-wcu above a provisioned table is shown without it, not with it', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'rows.csv');
    await writeFile(file, 'id,v\na,1\nb,2\n');
    // An embedded server and a 5-unit provisioned table: a cap of 100 draws a warning.
    const args = [
      'upload',
      file,
      '--local',
      '--create-table',
      '--table',
      'quiet_t',
      '--key',
      'id:S',
      '--billing',
      'provisioned',
      '--wcu',
      '5',
      '--max-wcu',
      '100',
      '--no-checkpoint',
    ];
    const loud = await runCli(args, { cwd: dir });
    assertExit(loud, 0);
    assert.match(loud.stderr, /probing upward/, 'the warning is there without --quiet');
    const quiet = await runCli([...args, '--quiet'], { cwd: dir });
    assertExit(quiet, 0);
    assert.equal(quiet.stderr, '', 'nothing but errors on stderr');
    assert.equal(quiet.stdout, '', 'and no summary without --json');
    const failing = await runCli(
      [...args, '--quiet', '--endpoint', 'http://127.0.0.1:9', '--table', 'x'].filter((a) => a !== '--local'),
      { cwd: dir },
    );
    assert.notEqual(failing.code, 0);
    assert.match(failing.stderr, /dynaload: [A-Z_]+:/, 'errors still show');
  });
});
