/**
 * Properties of the whole read path (file -> gunzip -> transcode -> parse -> plan -> writer) over
 * random bytes and mutations of valid CSV, TSV, NDJSON and DynamoDB JSON: a read never throws
 * (except a gzip stream that is not gzip, which fails the run cleanly), never hangs, settles every
 * row it reads as written, rejected or skipped, and never stores a replacement character the input
 * did not hold. In `npm test` a few dozen runs; DYNALOAD_PROPERTY_RUNS=5000 for a longer search.
 * (The same through the built binary and dynalite: test/e2e/read-property.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Mark } from '../../src/checkpoint/low-water.js';
import type { Encoding } from '../../src/pipeline/encoding.js';
import type { InputFormat } from '../../src/pipeline/formats.js';
import { parseCsvChunks, type CsvFailure, type CsvRecord } from '../../src/pipeline/parse.js';
import { hostileInput, propertyRuns, propertySeed } from '../support/read-inputs.js';
import { tablePlan, testShard } from '../support/shard-loader.js';

const RUNS = propertyRuns(40);

interface Counts {
  read: number;
  written: number;
  rejected: number;
  skipped: number;
  replaced: boolean;
  mark: Mark;
}

/** One file through the shard loader, as a worker reads it; every item acknowledged. */
async function load(file: string, format: InputFormat, encoding: Encoding, strictQuotes: boolean): Promise<Counts> {
  let replaced = false;
  const { shard } = testShard(
    (batch) => {
      for (const entry of batch) if (entry.json.includes('\uFFFD') || entry.json.includes('\\ufffd')) replaced = true;
      return Promise.resolve(undefined);
    },
    { encoding, strictQuotes, format, maxRetries: 3 },
  );
  assert.equal(await shard.loadFile(file, tablePlan()), true, 'read to its end');
  await shard.drain();
  const { rowsRead, rowsWritten, rowsRejected, rowsSkipped } = shard.snapshot();
  // Read to its end and drained: the file is complete, its mark past every row.
  const [progress] = shard.fileProgress();
  assert.ok(progress?.complete, 'every row settled');
  return {
    read: rowsRead,
    written: rowsWritten,
    rejected: rowsRejected,
    skipped: rowsSkipped,
    replaced,
    mark: progress.mark,
  };
}

describe('the read path under hostile input (property)', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dynaload-property-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test(
    `every row read settles as written, rejected or skipped, and nothing is replaced (${RUNS} runs)`,
    { timeout: 60_000 + RUNS * 2_000 },
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(hostileInput(), async ({ bytes, format, encoding, strictQuotes }) => {
          const file = path.join(dir, `input-${n++}.${format === 'tsv' ? 'tsv' : 'txt'}`);
          await writeFile(file, bytes);
          let result: Awaited<ReturnType<typeof load>>;
          try {
            result = await load(file, format, encoding, strictQuotes);
          } catch (error) {
            // Bytes that start like gzip but are not: the run fails (exit 1), it does not crash. A header
            // that cannot give the table's key (or names a column twice) is refused as a whole, before
            // any row of the file is routed: the header check a run makes before its first write.
            const code = (error as { code?: string }).code ?? '';
            const badGzip = bytes[0] === 0x1f && bytes[1] === 0x8b && code.startsWith('Z_');
            assert.ok(badGzip || code === 'HEADER_MISMATCH', `unexpected ${String(error)}`);
            return;
          } finally {
            await rm(file, { force: true });
          }
          const { read, written, rejected, skipped, mark } = result;
          assert.equal(written + rejected + skipped, read, 'each row read is written, rejected or skipped');
          assert.deepEqual(
            [mark.rows, mark.written, mark.rejected, mark.skipped],
            [read, written, rejected, skipped],
            'the checkpoint mark agrees',
          );
          const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
          const hadReplacement =
            plain.includes(Buffer.from('\uFFFD')) || plain.includes(Buffer.from('\\ufffd')) || encoding === 'utf-16le';
          assert.ok(hadReplacement || !result.replaced, 'no U+FFFD written that the input did not hold');
        }),
        { numRuns: RUNS, ...propertySeed() },
      );
    },
  );

  test(
    `CSV: any chunking reads the same records, and a read resumed at any record's end reads the same rest (${RUNS} runs)`,
    { timeout: 60_000 + RUNS * 500 },
    async () => {
      const parseWith = async (
        chunks: Buffer[],
        start?: { offset: number; lines: number },
      ): Promise<(CsvRecord | CsvFailure)[]> => {
        const out: (CsvRecord | CsvFailure)[] = [];
        for await (const records of parseCsvChunks(Readable.from(chunks), {
          delimiter: ',',
          ...(start ? { start } : {}),
        }))
          out.push(...records);
        return out;
      };
      await fc.assert(
        fc.asyncProperty(
          hostileInput('csv'),
          fc.array(fc.nat(), { maxLength: 8 }),
          fc.nat(),
          async ({ bytes }, cuts, pick) => {
            if (bytes[0] === 0x1f && bytes[1] === 0x8b) return; // gzip: not the parser's input
            const whole = await parseWith([bytes]);
            const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
            const chunks = [0, ...points]
              .map((from, i) => bytes.subarray(from, points[i] ?? bytes.length))
              .filter((c) => c.length > 0);
            assert.deepEqual(await parseWith(chunks), whole, `cut at ${points.join(',')}`);
            if (whole.length < 2) return;
            const at = whole[pick % (whole.length - 1)] as CsvRecord | CsvFailure;
            // A resume seeks past a row's end with its line count (the header is read apart).
            const rest = await parseWith([bytes.subarray(at.end)], { offset: at.end, lines: at.lines });
            assert.deepEqual(rest, whole.slice(whole.indexOf(at) + 1));
          },
        ),
        { numRuns: RUNS * 5, ...propertySeed() },
      );
    },
  );
});
