/**
 * One memory budget for the whole run (`--memory`), split among the workers and, within a worker,
 * among the buffers that grow with the input. Every bound is in bytes: counted in rows or items
 * alone, a few hundred items near DynamoDB's 400 KB limit held a gigabyte.
 */

export interface MemoryBounds {
  /** Request bytes a writer holds (queued, waiting to retry, parked behind a key, in flight). */
  readonly writerBytes: number;
  /** Bytes of rows held in input order while async transforms settle. */
  readonly orderBytes: number;
  /** Rows read but not yet below the checkpoint mark (each costs the mark a few bytes). */
  readonly openRows: number;
  /** Bytes of rejected rows sent to the main thread and not yet written to the rejects file. */
  readonly rejectBytes: number;
}

const MIB = 1024 * 1024;

/** What the mark keeps per open row: an offset and a line count (Float64) and an outcome (Uint8). */
export const OPEN_ROW_BYTES = 17;

/**
 * Rows the mark may hold open, whatever the budget: past a million the mark alone would need
 * 17 MiB, and a row in a long backoff stalls nothing before then.
 */
const MAX_OPEN_ROWS = 1_000_000;

/**
 * The smallest share of a worker, however many workers share the budget: its writer still holds
 * ten items near DynamoDB's 400 KB limit, enough to keep several requests in flight. (No bound
 * stalls a run: a writer at its bound sends what it holds, part-filled batches included.)
 */
export const MIN_WORKER_MIB = 16;

/**
 * A worker's bounds for a run of `memoryMib` MiB shared by `workers` workers. A written item lives
 * in the heap about three times over while it is held (the row's text, its request JSON, and the
 * request body on the wire), so the writer counts a quarter of the share in request bytes; the
 * row order (async transforms only) a quarter; the mark and the rejects the rest.
 */
export function memoryBounds(memoryMib: number, workers: number): MemoryBounds {
  const share = Math.max(MIN_WORKER_MIB, memoryMib / Math.max(1, workers)) * MIB;
  return {
    writerBytes: Math.floor(share / 4),
    orderBytes: Math.floor(share / 4),
    openRows: Math.min(MAX_OPEN_ROWS, Math.floor(share / 8 / OPEN_ROW_BYTES)),
    rejectBytes: Math.floor(share / 8),
  };
}
