import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { tempDir } from '../support/cli.js';
import { createTable, scanAll } from '../support/dynalite.js';
import { hostileInput, propertyRuns, propertySeed } from '../support/read-inputs.js';
import { upload, useDynalite } from './helpers.js';

// The read path's property (test/pipeline/read-property.test.ts) through the built binary and
// dynalite, where the summary, the exit code and the rejects file are what a user sees. Each run
// spawns a process, so `npm test` makes only a few; DYNALOAD_PROPERTY_RUNS makes more.

const db = useDynalite();
const RUNS = propertyRuns(3);
const NAMES = { csv: 'input.csv', tsv: 'input.tsv', ndjson: 'input.ndjson', 'ddb-json': 'input.json' } as const;

describe('the read path under hostile input (end to end, property)', () => {
  it(
    `every row counts as written, rejected, skipped or not written; exit 0, 3, 1 for a broken gzip stream, or 2 for a header refused before the first write (${RUNS} runs)`,
    { timeout: 120_000 + RUNS * 20_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(hostileInput(), async ({ bytes, format, encoding, strictQuotes }) => {
          const dir = await tempDir();
          const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
          const file = path.join(dir, NAMES[format]);
          await writeFile(file, bytes);
          const rejects = path.join(dir, 'rejects.ndjson');
          const args = [
            file,
            '--table',
            table,
            '--rejects',
            rejects,
            '--workers',
            '1',
            '--no-checkpoint',
            '--format',
            format,
            '--encoding',
            encoding,
            ...(strictQuotes ? ['--strict-quotes'] : []),
          ];
          const run = await upload(db.endpoint, args, { cwd: dir, timeoutMs: 60_000 });
          const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
          if (run.code === 2) {
            // A header that cannot give the key (or names a column twice) is refused before the first
            // write: nothing written, no rejects file.
            assert.match(run.stderr, /HEADER_MISMATCH/, `exit 2\n${run.stderr}`);
            assert.deepEqual(await scanAll(db.endpoint, table), []);
            await assert.rejects(readFile(rejects, 'utf8'), { code: 'ENOENT' });
            return;
          }
          const { summary } = run;
          assert.ok(
            run.code === 0 || run.code === 3 || (gzip && run.code === 1),
            `exit ${String(run.code)}\n${run.stderr}`,
          );
          if (run.code === 1) assert.match(run.stderr, /INPUT_FAILED/);
          assert.equal(summary.rows, summary.written + summary.rejected + summary.skipped + summary.notWritten);
          if (run.code !== 1) assert.equal(summary.notWritten, 0);
          const rejectLines =
            summary.rejected === 0 ? [] : (await readFile(rejects, 'utf8')).split('\n').filter((l) => l !== '');
          assert.equal(rejectLines.length, summary.rejected, 'one rejects line per rejected row');
          const items = await scanAll(db.endpoint, table);
          assert.ok(items.length <= summary.written, 'no more items than rows written (later rows may share a key)');
          const plain = gzip && run.code !== 1 ? gunzipSync(bytes) : bytes;
          if (
            encoding !== 'utf-16le' &&
            !plain.includes(Buffer.from('\uFFFD')) &&
            !plain.includes(Buffer.from('\\ufffd'))
          ) {
            assert.ok(!JSON.stringify(items).includes('\uFFFD'), 'no U+FFFD stored that the input did not hold');
          }
        }),
        { numRuns: RUNS, ...propertySeed() },
      );
    },
  );
});
