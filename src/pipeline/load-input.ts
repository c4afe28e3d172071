import { open } from 'node:fs/promises';
import { openDecoded } from './csv-input.js';
import { detectFormat } from './formats.js';
import { loadCsv, loadJson, type LoadContext } from './load-file.js';
import { loadRejects } from './replay.js';
import { s3IsGzip } from './s3/s3-input.js';
import { isS3Url } from './s3/s3-url.js';

/**
 * Streams one input (a file, an S3 object, standard input or a rejects file to replay) through
 * read -> parse -> plan -> writer. Reading waits whenever the writer is
 * full, so memory stays bounded whatever the file's size. Returns true when the input was read to its
 * end (false when the run stopped reading it).
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
  return !context.stopping() && context.writer.failure === undefined;
}

async function isGzip(path: string): Promise<boolean> {
  if (path === '-') return false;
  if (isS3Url(path)) return s3IsGzip(path);
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
