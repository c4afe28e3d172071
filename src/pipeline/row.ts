/**
 * One row read from an input, from its reference in its file's low-water mark until it settles
 * (src/pipeline/shard.ts decides when), and how the rejects file shows it.
 */
import type { LowWater, Outcome } from '../checkpoint/low-water.js';
import type { RejectRecord } from '../rejects.js';
import type { WriteEntry } from './write.js';

/** A row read from a file, alive while any of its items is unresolved. */
export interface RowRef {
  readonly file: string;
  readonly line: number;
  /** The row's number in its file's low-water mark, which holds where the row ends. */
  readonly seq: number;
  /** Set once the row is written, rejected or skipped; then the file's low-water mark may move. */
  outcome: Outcome | undefined;
  readonly tracker: LowWater;
  /** Column names and cells as read; named only when the row is rejected (rare), not for every row. */
  readonly columns: readonly string[] | undefined;
  /** Dropped (null) once the row settles: the mark may keep a settled row for a while. */
  fields: readonly string[] | string | Record<string, unknown> | null;
  pending: number;
  rejected: boolean;
}

/** One of a row's items, on its way through the writer. */
export interface RowEntry extends WriteEntry {
  readonly row: RowRef;
}

/** Registers a row just read in its file's mark (open until it settles). */
export function rowRef(
  file: string,
  at: { line: number; end: number; lines: number },
  columns: readonly string[] | undefined,
  fields: RowRef['fields'],
  tracker: LowWater,
): RowRef {
  return {
    file,
    line: at.line,
    seq: tracker.add(at.end, at.lines),
    outcome: undefined,
    tracker,
    columns,
    fields,
    pending: 0,
    rejected: false,
  };
}

/** Settles a row: once every row before it has settled too, the file's mark moves past it. */
export function settle(row: RowRef, outcome: Outcome): void {
  if (row.outcome !== undefined) return;
  row.outcome = outcome;
  row.fields = null;
  row.tracker.settle(row.seq, outcome);
}

/** The size of a row's text as held (characters), for the bounds in bytes. */
export function fieldsBytes(fields: RowRef['fields']): number {
  if (fields === null) return 0;
  if (typeof fields === 'string') return fields.length;
  if (Array.isArray(fields)) return fields.reduce((sum: number, cell: string) => sum + cell.length, 0);
  return 1024; // an NDJSON row is held as its line (a string); this is a guess for any other shape
}

/** The row as the rejects file shows it: cells by column name, or the raw cells when they cannot be named. */
export function rowForReject(row: RowRef): RejectRecord['row'] {
  const { columns, fields } = row;
  if (fields === null || typeof fields === 'string') return fields;
  if (!Array.isArray(fields)) return fields as Record<string, string>;
  if (columns === undefined || columns.length !== fields.length) return [...fields];
  const named: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) named[columns[i] as string] = fields[i] as string;
  return named;
}
