import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DynaloadError } from '../errors.js';
import { csvOptions, openDecoded } from './csv-input.js';
import { detectFormat } from './formats.js';
import { readJsonLines } from './json-lines.js';
import { failure, mapInOrder, readHeader, rowOrder, type LoadContext } from './load-context.js';
import { parseCsvChunks } from './parse.js';
import type { RowPlan } from './plan.js';
import { loadRejects } from './replay.js';
import { rowRef } from './row.js';
import { isS3Url } from './s3/s3-url.js';

/**
 * Streams one input through read -> parse -> plan -> the shard loader's route (to the writer).
 * Reading waits whenever the writer is full, so memory stays bounded whatever the file's size.
 * Returns true when the input was read to its end (false when the run stopped reading it).
 */
export async function loadFile(path: string, context: LoadContext): Promise<boolean> {
  const format = detectFormat(path, context.options.format);
  const start = context.tracker.mark;
  // A resumed file seeks past its mark. A gzip file cannot seek, nor a transcoded one (its marks
  // count UTF-8 bytes, not the file's): it is read from the start and the rows below the mark are
  // parsed but not sent again.
  const seek = start.offset > 0 && context.options.encoding === 'utf-8' && !(await isGzip(path));
  // A rejects file is written in UTF-8 whatever the inputs were.
  const replay = context.options.replay.includes(path);
  const input = await openDecoded(
    path,
    replay ? 'utf-8' : context.options.encoding,
    seek ? start.offset : 0,
    context.bytesRead,
  );
  const from = seek ? { offset: start.offset, lines: start.lines } : undefined;
  const skipBelow = seek ? 0 : start.offset;
  if (replay) await loadRejects(path, input, context, from, skipBelow);
  else if (format === 'csv' || format === 'tsv') await loadCsv(path, input, context, from, skipBelow);
  else await loadJson(path, input, format, context, from, skipBelow);
  return !context.halted();
}

async function isGzip(path: string): Promise<boolean> {
  if (path === '-') return false;
  if (isS3Url(path)) return (await import('./s3/s3-input.js')).s3IsGzip(path);
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

async function loadCsv(
  file: string,
  input: Readable,
  context: LoadContext,
  from: { offset: number; lines: number } | undefined,
  skipBelow: number,
): Promise<void> {
  const { options, plan } = context;
  let columns = options.header ? undefined : options.columns;
  if (from !== undefined && options.header) {
    // Resumed past the header: read it from the top of the file first.
    const header = await readHeader(file, options);
    columns = options.columns ?? header;
  }
  let mapRow: RowPlan<readonly string[]> | undefined =
    columns === undefined
      ? undefined
      : plan.csv(columns, options.header && !options.columns ? `the header of ${file}` : '`--columns`');
  const chunks = parseCsvChunks(input, { ...csvOptions(file, options), ...(from ? { start: from } : {}) });
  const order = rowOrder(context);
  for await (const records of chunks)
    for (const record of records) {
      if (context.halted()) return;
      if (record.end <= skipBelow && mapRow !== undefined) continue; // done by an earlier run
      if (record.kind === 'failure') {
        if (record.end <= skipBelow) continue;
        context.rowRead();
        const wait = order.push(rowRef(file, record, undefined, record.raw, context.tracker), failure(record));
        if (wait) await wait;
        if (mapRow === undefined) {
          // The header line itself is broken: no row of this file can be named.
          const message = `Expected a readable header line at line ${record.line} of ${file}, got a broken record; no row of this file can be mapped`;
          mapRow = () => [{ table: '', error: new DynaloadError('HEADER_INVALID', message) }];
        }
        continue;
      }
      if (mapRow === undefined) {
        // The header line: names come from it, or from --columns when both are given.
        columns = options.columns ?? record.fields;
        plan.checkColumns(columns, file);
        mapRow = plan.csv(columns, options.columns ? '`--columns`' : `the header of ${file}`);
        continue;
      }
      context.rowRead();
      const wait = mapInOrder(
        rowRef(file, record, columns, record.fields, context.tracker),
        record.fields,
        mapRow,
        order,
        context,
      );
      if (wait) await wait;
    }
  await order.idle();
}

async function loadJson(
  file: string,
  input: Readable,
  format: 'ndjson' | 'ddb-json',
  context: LoadContext,
  from: { offset: number; lines: number } | undefined,
  skipBelow: number,
): Promise<void> {
  const mapItem = context.plan.json(format);
  const order = rowOrder(context);
  for await (const record of readJsonLines(input, format, from)) {
    if (context.halted()) break;
    if (record.end <= skipBelow) continue; // done by an earlier run
    context.rowRead();
    const row = rowRef(file, record, undefined, record.raw, context.tracker);
    const wait =
      record.kind === 'failure'
        ? order.push(row, failure(record))
        : mapInOrder(row, record.item, mapItem, order, context);
    if (wait) await wait;
  }
  await order.idle();
}
