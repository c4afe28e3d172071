import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { Readable } from 'node:stream';
import { detectFormat } from './formats.js';
import { readJsonLines } from './json-lines.js';
import { failure, mapInOrder, parseLine, readHeader, rowOrder, type LoadContext } from './load-context.js';
import type { RowPlan } from './plan.js';
import { rowRef, type RowRef } from './row.js';

/** Where a rejects line's row came from, and the row exactly as the rejects file keeps it. */
interface Kept {
  readonly origin: string;
  readonly at: { line: number; end: number; lines: number };
  /** Becomes the row of a new reject unchanged, so a row's text survives any number of replays. */
  readonly row: NonNullable<RowRef['fields']>;
}

/**
 * `--from-rejects`: each line of a rejects file is loaded again as the row it was, in the format of
 * the file it came from (`--format` as in the first run, else from its name). CSV rows kept by name
 * map through the same plan as CSV cells; raw cells and text (a broken line, fixed by hand, say) are
 * named by the header of the file they came from, or by `--columns` (always for standard input,
 * which has no header to read again). NDJSON and DynamoDB JSON rows are their line's text. A row
 * rejected again keeps its original file, line and row, whatever the new reason.
 */
export async function loadRejects(
  file: string,
  input: Readable,
  context: LoadContext,
  from: { offset: number; lines: number } | undefined,
  skipBelow: number,
): Promise<void> {
  const plans = new Map<string, RowPlan<readonly string[]>>();
  const headers = new Map<string, Promise<string[] | undefined>>();
  const csvPlan = (columns: readonly string[]): RowPlan<readonly string[]> => {
    const key = columns.join('\u0001');
    let plan = plans.get(key);
    if (plan === undefined) plans.set(key, (plan = context.plan.csv(columns, `the rejects file ${file}`)));
    return plan;
  };
  const jsonPlan = context.plan.json();
  const header = (origin: string): Promise<string[] | undefined> => {
    if (origin === '-') return Promise.resolve(undefined);
    let named = headers.get(origin);
    if (named === undefined) headers.set(origin, (named = readHeader(origin, context.options).catch(() => undefined)));
    return named;
  };
  // Rejections and rows go through one order, so rejects keep their lines' order under async transforms.
  const order = rowOrder(context);
  const reject = (kept: Kept, code: string, message: string): Promise<void> | undefined =>
    order.push(rowRef(kept.origin, kept.at, undefined, kept.row, context.tracker), failure({ code, message }));

  for await (const record of readJsonLines(input, 'ndjson', from)) {
    if (context.halted()) break;
    if (record.end <= skipBelow) continue;
    context.rowRead();
    const at = { line: record.line, end: record.end, lines: record.lines };
    if (record.kind === 'failure') {
      await reject({ origin: file, at, row: record.raw }, record.code, record.message);
      continue;
    }
    const origin = record.item.file?.S ?? file;
    const kept = keptRow(record.item.row);
    const where: Kept = {
      origin,
      at: { ...at, line: Number(record.item.line?.N ?? record.line) },
      row: kept ?? record.raw,
    };
    if (kept === undefined) {
      await reject(where, 'REPLAY_INVALID', 'Expected a rejects line with a `row` (object, array or text), got none');
      continue;
    }
    if (record.item.sha256 !== undefined) {
      // Only the head of a record past the cap was kept: loading it would write a cut row.
      await reject(
        where,
        'REPLAY_TRUNCATED',
        `Expected a whole row, got the first characters of a record of ${record.item.length?.N ?? 'unknown'} bytes (rejected as too long); fix it in its source file`,
      );
      continue;
    }
    if (record.item.code?.S === 'ENCODING_INVALID' && typeof kept === 'string' && /\\x[0-9A-F]{2}/.test(kept)) {
      await reject(
        where,
        'REPLAY_ENCODING',
        'Expected a row fixed by hand, got one still holding bytes that are not UTF-8 (shown as \\xHH); fix them, or load its file again with `--encoding`',
      );
      continue;
    }
    const format = detectFormat(origin, context.options.format);
    if (format === 'ndjson' || format === 'ddb-json') {
      if (typeof kept !== 'string') {
        await reject(
          where,
          'REPLAY_INVALID',
          `Expected the row of a ${format} line to be its text, got ${Array.isArray(kept) ? 'an array' : 'an object'}`,
        );
        continue;
      }
      const parsed = await jsonLine(kept, format);
      if (parsed === undefined || parsed.kind === 'failure') {
        await reject(where, parsed?.code ?? 'REPLAY_INVALID', parsed?.message ?? `Expected a ${format} line, got none`);
        continue;
      }
      const row = rowRef(origin, where.at, undefined, kept, context.tracker);
      const wait = mapInOrder(row, parsed.item, jsonPlan, order, context);
      if (wait) await wait;
      continue;
    }
    let columns: readonly string[] | undefined;
    let fields: readonly string[];
    if (typeof kept === 'object' && !Array.isArray(kept)) {
      columns = Object.keys(kept);
      fields = Object.values(kept);
    } else {
      if (typeof kept === 'string') {
        const parsed = await parseLine(kept, origin, context.options);
        if (parsed.kind === 'failure') {
          await reject(where, parsed.code, parsed.message);
          continue;
        }
        fields = parsed.fields;
      } else {
        fields = kept;
      }
      columns = context.options.columns ?? (await header(origin));
    }
    if (columns === undefined) {
      const why =
        origin === '-' ? 'rows from standard input have no header to read again' : 'its file has no readable header';
      await reject(
        where,
        'REPLAY_UNNAMED',
        `Expected column names for the row from ${origin} line ${where.at.line}: ${why}; give --columns`,
      );
      continue;
    }
    const row = rowRef(origin, where.at, columns, kept, context.tracker);
    const wait = mapInOrder(row, fields, csvPlan(columns), order, context);
    if (wait) await wait;
  }
  await order.idle();
}

/** The `row` of a rejects line as it was written: text, raw cells, or cells by name. */
function keptRow(value: AttributeValue | undefined): string | string[] | Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (value.S !== undefined) return value.S;
  if (value.L !== undefined && value.L.every((v) => v.S !== undefined)) return value.L.map((v) => v.S as string);
  if (value.M !== undefined && Object.values(value.M).every((v) => v.S !== undefined)) {
    return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, v.S as string]));
  }
  return undefined;
}

async function jsonLine(
  text: string,
  format: 'ndjson' | 'ddb-json',
): Promise<Awaited<ReturnType<ReturnType<typeof readJsonLines>['next']>>['value']> {
  for await (const record of readJsonLines(Readable.from([Buffer.from(text + '\n')]), format)) return record;
  return undefined;
}
