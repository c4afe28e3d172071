/**
 * One worker's loader: its writer, and the life of every row it reads. A row is read (load-file.ts),
 * routed here in input order (its items to the writer, its errors to the rejects), counted, settled
 * once every item is written or rejected, and then its file's low-water mark moves past it.
 * It knows nothing of threads: the worker (src/pool/worker.ts) and the import's reader
 * (src/import/read-items.ts) give it a send function and two callbacks.
 */
import { LowWater, type FileProgress, type Mark } from '../checkpoint/low-water.js';
import type { TableSchema } from '../dynamo/schema.js';
import type { DynaloadError } from '../errors.js';
import type { RejectRecord } from '../rejects.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { emptyCounters, type TableCounters, type WorkerCounters } from './counters.js';
import { keyOf } from './item-check.js';
import type { LoadContext, LoadOptions } from './load-context.js';
import { loadFile } from './load-file.js';
import type { MemoryBounds } from './memory-budget.js';
import type { Output, Plan } from './plan.js';
import { fieldsBytes, rowForReject, settle, type RowEntry, type RowRef } from './row.js';
import type { InFlightWindow } from './window.js';
import type { WriteLimiter } from '../rate/reservation.js';
import { BatchWriter, type SendBatch } from './write.js';

/** What the loader reads of the run's config (the run's `UploadConfig` fits), and what the thread gives it. */
export interface ShardConfig extends LoadOptions {
  readonly schemas: ReadonlyMap<string, TableSchema>;
  readonly maxRetries: number;
  /** Requests in flight: the most, or with `window` the window's ceiling. */
  readonly concurrency: number;
  /** Requests in flight that follow the round-trip time; absent: `concurrency`. */
  readonly window?: InFlightWindow;
  /** The run's shared write-rate limiter (absent: no limit). */
  readonly limiter?: WriteLimiter;
  /** How long a part-filled batch waits for more items (absent: the writer's default). */
  readonly lingerMs?: number;
  /** This worker's share of `--memory` (absent: the writer's and reader's defaults, rejects unbounded). */
  readonly bounds?: MemoryBounds;
}

export interface ShardEvents {
  /**
   * A row rejected, at its first reason, for the rejects file. `bytes` count toward the rejects'
   * bound until `rejectsWritten(bytes)` says they are in the file.
   */
  readonly reject: (reject: RejectRecord, bytes: number) => void;
  /** The counters, and the files whose marks moved (see `fileProgress`), at every `reportEvery` tick. */
  readonly progress: (counters: WorkerCounters, files: readonly FileProgress[]) => void;
}

/** What a rejects line carries besides the row: the table and column, or where the bytes broke a rule. */
export interface RejectExtra {
  readonly table?: string;
  readonly column?: string;
  readonly offset?: number;
  readonly length?: number;
  readonly sha256?: string;
}

/**
 * Rows read but not yet below the mark, per file, before reading waits, when no budget is given.
 * One row retried for long (or a key written over and over) holds the mark back while later rows
 * settle; without this bound the rows kept for the mark would grow with the file. The mark keeps
 * 17 bytes a row; settled rows are not kept. At 50,000 an item withheld 7 times in a row stalled
 * reading often enough to cost 10% of the throughput with 20% withheld.
 */
export const MAX_OPEN_ROWS = 1_000_000;

/** How often a reader held at a bound looks again (the mark and the rejects move without an event). */
const ROOM_POLL_MS = 20;

export class ShardLoader {
  private readonly counters: WorkerCounters = emptyCounters();
  private readonly writer: BatchWriter<RowEntry>;
  /** Files read whose rows have not all settled (or whose last mark is unreported). */
  private readonly files = new Map<string, { tracker: LowWater; readDone: boolean }>();
  /** Bytes of rejected rows handed to `events.reject` and not yet in the rejects file. */
  private rejectBytes = 0;
  private stopping = false;
  /** What every file's LoadContext shares. */
  private readonly reading: Omit<LoadContext, 'tracker' | 'plan'>;

  constructor(
    private readonly config: ShardConfig,
    send: SendBatch<RowEntry>,
    private readonly events: ShardEvents,
  ) {
    const { schemas, bounds } = config;
    this.writer = new BatchWriter<RowEntry>({
      send,
      keyOf: (name, request) => {
        const tableSchema = schemas.get(name);
        const item = request.PutRequest?.Item ?? request.DeleteRequest?.Key;
        return tableSchema && item ? keyOf(tableSchema, item) : '';
      },
      concurrency: config.concurrency,
      ...(config.window ? { window: config.window } : {}),
      ...(bounds ? { highWaterBytes: bounds.writerBytes } : {}),
      maxRetries: config.maxRetries,
      backoff: DEFAULT_BACKOFF,
      ...(config.lingerMs === undefined ? {} : { lingerMs: config.lingerMs }),
      ...(config.limiter ? { limiter: config.limiter } : {}),
      written: (entry) => this.written(entry),
      rejected: (entry, error) => {
        this.reject(entry.row, error.code, error.message, { table: entry.table });
        if (--entry.row.pending === 0) settle(entry.row, 'rejected');
      },
    });
    this.reading = {
      options: config,
      halted: () => this.halted,
      rowRead: () => this.counters.rowsRead++,
      bytesRead: (n) => (this.counters.bytesRead += n),
      route: (row, outputs) => this.route(row, outputs),
      ...(bounds ? { orderBytes: bounds.orderBytes } : {}),
    };
  }

  /** True once the loader stops reading: a stop, or the writer failed. */
  get halted(): boolean {
    return this.stopping || this.writer.failure !== undefined;
  }

  /** The writer's failure (a write DynamoDB refused for good, retries spent): the run stops. */
  get failure(): DynaloadError | undefined {
    return this.writer.failure;
  }

  /**
   * Reads one input through `plan` to the writer, from `start` when resuming. Returns true when it
   * was read to its end (false when the run stopped reading it); throws when it cannot be read.
   */
  async loadFile(path: string, plan: Plan, start?: Mark): Promise<boolean> {
    const file = { tracker: new LowWater(start), readDone: false };
    this.files.set(path, file);
    file.readDone = await loadFile(path, { ...this.reading, tracker: file.tracker, plan });
    this.counters.filesRead++;
    return file.readDone;
  }

  /** Reading ends (the current file, and no other is read); the writer still writes what is queued. */
  stopReading(): void {
    this.stopping = true;
  }

  /** Graceful stop: reading ends, the requests in flight are answered, nothing more is sent. */
  stop(): void {
    this.stopping = true;
    this.writer.stop();
  }

  /** Writes what is queued (or, stopped or failed, waits for what is in flight). */
  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** Rejected rows of `bytes` (as counted in `events.reject`) are in the rejects file. */
  rejectsWritten(bytes: number): void {
    this.rejectBytes -= bytes;
  }

  /** The counters as they stand, with the writer's and the window's. */
  snapshot(): WorkerCounters {
    const { window } = this.config;
    return {
      ...this.counters,
      ...this.writer.stats,
      tables: { ...this.counters.tables },
      ...(window ? { window: window.report() } : {}),
    };
  }

  /** Marks that moved since the last call; a file settled completely is reported once, then dropped. */
  fileProgress(): FileProgress[] {
    const out: FileProgress[] = [];
    for (const [path, file] of this.files) {
      const complete = file.readDone && file.tracker.open === 0;
      if (!file.tracker.changed && !complete) continue;
      file.tracker.changed = false;
      out.push({ path, mark: { ...file.tracker.mark }, complete });
      if (complete) this.files.delete(path);
    }
    return out;
  }

  /** Calls `events.progress` every `ms` until the function returned is called. */
  reportEvery(ms: number): () => void {
    const timer = setInterval(() => this.events.progress(this.snapshot(), this.fileProgress()), ms);
    return () => clearInterval(timer);
  }

  private table(name: string): TableCounters {
    return (this.counters.tables[name] ??= { written: 0, rejected: 0 });
  }

  private written(entry: RowEntry): void {
    this.table(entry.table).written++;
    this.counters.unitsWritten += entry.units;
    const { row } = entry;
    if (--row.pending > 0) return;
    if (!row.rejected) this.counters.rowsWritten++;
    settle(row, row.rejected ? 'rejected' : 'written');
  }

  /** Rejects a row (for one table, or for all when `table` is absent); the first rejection counts the row. */
  private reject(row: RowRef, code: string, message: string, extra: RejectExtra = {}): void {
    if (extra.table !== undefined) this.table(extra.table).rejected++;
    if (row.rejected) return;
    row.rejected = true;
    this.counters.rowsRejected++;
    const bytes = fieldsBytes(row.fields) + message.length;
    this.rejectBytes += bytes;
    this.events.reject({ file: row.file, line: row.line, code, message, ...extra, row: rowForReject(row) }, bytes);
  }

  /** The rows held for the mark, or the rejected rows not yet in the rejects file, are at their bound. */
  private held(tracker: LowWater): boolean {
    const { bounds } = this.config;
    return (
      tracker.open > (bounds?.openRows ?? MAX_OPEN_ROWS) ||
      (bounds !== undefined && this.rejectBytes > bounds.rejectBytes)
    );
  }

  private async waitForRoom(tracker: LowWater): Promise<void> {
    while (this.held(tracker) && !this.halted) {
      await new Promise((resolve) => setTimeout(resolve, ROOM_POLL_MS));
    }
  }

  /**
   * Sends a row's items to the writer and its rejections to the rejects file, in input order.
   * Returns a promise only when routing must wait (a full writer, the mark too far behind): most
   * rows go through without one.
   */
  private route(row: RowRef, outputs: Output[]): Promise<void> | undefined {
    // After the wait, a run that is stopping (or failed) leaves the row unrouted: it stays open, below
    // no mark, so a resume reads it again. Routing anyway would wait again, at once, for ever.
    if (this.held(row.tracker))
      return this.waitForRoom(row.tracker).then(() => (this.halted ? undefined : this.route(row, outputs)));
    let items = 0;
    for (const output of outputs) {
      if (output.error) {
        const { column, offset, length, sha256 } = output.error.context;
        this.reject(row, output.error.code, output.error.message, {
          ...(output.table ? { table: output.table } : {}),
          ...(typeof column === 'string' ? { column } : {}),
          ...(typeof offset === 'number' ? { offset } : {}),
          ...(typeof length === 'number' ? { length, sha256: sha256 as string } : {}),
        });
      } else {
        items++;
      }
    }
    if (items === 0) {
      if (!row.rejected) this.counters.rowsSkipped++;
      settle(row, row.rejected ? 'rejected' : 'skipped');
      return;
    }
    row.pending = items;
    return this.add(outputs, 0, row);
  }

  /** Queues the items of `outputs` from `from` on, waiting whenever the writer is full. */
  private add(outputs: Output[], from: number, row: RowRef): Promise<void> | undefined {
    for (let i = from; i < outputs.length; i++) {
      const { item } = outputs[i] as Output;
      if (!item) continue;
      // DynamoDB bills a put 1 write unit per started KB; a delete is billed by the size of the item
      // it removes, which is not known here: count 1.
      const units = this.config.kind === 'put' ? Math.max(1, Math.ceil(item.size / 1024)) : 1;
      const entry: RowEntry = {
        key: item.key,
        wire: item.wire,
        json: item.json,
        attempts: 0,
        notBefore: 0,
        table: item.table,
        row,
        units,
      };
      const wait = this.writer.add(entry);
      if (wait) return wait.then(() => this.add(outputs, i + 1, row));
    }
    return undefined;
  }
}
