import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT } from '../src/errors.js';
import { checkOutputFiles, temporaryPath } from '../src/output-files.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dynaload-outputs-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const base = { resume: false, force: false, checkpoint: undefined };

describe('checkOutputFiles', () => {
  test('a checkpoint whose temporary file would be an input is refused, naming the temporary file', async () => {
    const checkpoint = path.join(dir, 'cp.json');
    const input = temporaryPath(checkpoint);
    await writeFile(input, 'id\n1\n');
    await assert.rejects(
      checkOutputFiles({ ...base, inputs: [input], rejects: path.join(dir, 'r.ndjson'), checkpoint }),
      (error: { code: string; exitCode: number; message: string }) => {
        assert.equal(error.code, 'OUTPUT_IS_INPUT');
        assert.equal(error.exitCode, EXIT.USAGE);
        assert.match(error.message, /temporary file/);
        return true;
      },
    );
  });

  test('modes: new for a new file or a default name; append with --resume; replace with --force', async () => {
    const existing = path.join(dir, 'old.ndjson');
    await writeFile(existing, '');
    const cases = [
      [{ rejects: path.join(dir, 'new.ndjson') }, 'new'],
      [{ rejects: existing, resume: true }, 'append'],
      [{ rejects: existing, force: true }, 'replace'],
      [{ rejects: '-' }, 'new'],
    ] as const;
    for (const [over, mode] of cases) {
      const files = await checkOutputFiles({ ...base, inputs: [], ...over });
      assert.equal(files.rejectsMode, mode, JSON.stringify(over));
    }
  });

  test('the checkpoint and its temporary file are returned together', async () => {
    const checkpoint = path.join(dir, 'c.json');
    const files = await checkOutputFiles({ ...base, inputs: ['-'], rejects: '-', checkpoint });
    assert.deepEqual(files.checkpoint, { file: checkpoint, temporary: temporaryPath(checkpoint) });
  });
});
