import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import { classifyError, errorMessage, errorName } from '../dynamo/classify.js';
import type { UnprocessedTexts } from '../dynamo/unprocessed-text.js';
import { parseWriteRequestText } from '../dynamo/wire.js';
import { DynaloadError } from '../errors.js';
import { backoffDelay, maxFailingMs, type BackoffOptions } from './backoff.js';
import { MAX_BATCH_ITEMS, WriteQueue, type QueueEntry } from './batch.js';
import type { InFlightWindow } from './window.js';
import { reaskDelay, RESERVE_HORIZON_MS, type WriteLimiter } from '../rate/reservation.js';

export type RequestItems = Record<string, WriteRequest[]>;

/** Sends one BatchWriteItem of these writes; resolves with its UnprocessedItems (possibly empty). */
export type SendBatch<E extends WriteEntry = WriteEntry> = (
  batch: readonly E[],
) => Promise<RequestItems | UnprocessedTexts | undefined>;

export interface WriteEntry extends QueueEntry {
  readonly table: string;
  /**
   * The WriteRequest as JSON (`{"PutRequest":{"Item":...}}`, src/dynamo/wire.ts), made once when
   * the row is mapped and sent as is by every attempt. Only the text is kept, not the item's
   * objects: a write waiting in the queue is one string for the GC to carry (peak RSS).
   */
  readonly json: string;
  /** Write capacity units this write costs, as DynamoDB bills it (1 per started KB). */
  readonly units: number;
  /** Failures in a row that count toward `--max-retries` (set by the writer; not those of its own overdrive). */
  failures?: number;
  /** When the counted failures began (ms, the writer's clock); cleared by a failure of the loader's own overdrive. */
  failingSince?: number | undefined;
}

/** What one request came to: items acknowledged, and whether the table pushed back (throttled, or withheld in overdrive). */
interface Outcome {
  readonly written: number;
  readonly pushback: boolean;
  /** Some items came back (withheld or throttled), more than the background the rate controller learned. */
  readonly withheld?: boolean;
}

export interface WriterStats {
  /** BatchWriteItem requests answered (any outcome). */
  requests: number;
  itemsWritten: number;
  /** Items DynamoDB returned in UnprocessedItems, each time it did (so: items resent for that reason). */
  unprocessedRetries: number;
  throttledRequests: number;
  serverErrors: number;
  networkErrors: number;
  /** Requests split in two to find the item DynamoDB refused. */
  validationSplits: number;
}

export function emptyWriterStats(): WriterStats {
  return {
    requests: 0,
    itemsWritten: 0,
    unprocessedRetries: 0,
    throttledRequests: 0,
    serverErrors: 0,
    networkErrors: 0,
    validationSplits: 0,
  };
}

export interface WriterOptions<E extends WriteEntry> {
  readonly send: SendBatch<E>;
  /** Key identity of a request DynamoDB handed back, to find its entry (same form as QueueEntry.key). */
  readonly keyOf: (table: string, request: WriteRequest) => string;
  /** Requests in flight; with `window`, its most (the window moves below it). */
  readonly concurrency: number;
  /** Requests in flight that follow the round-trip time (src/pipeline/window.ts); absent: `concurrency`. */
  readonly window?: InFlightWindow;
  readonly maxRetries: number;
  readonly backoff: BackoffOptions;
  /**
   * While a table accepts nothing, the longest an item may go on failing (ms since its first
   * counted failure): the rate's slowdown must not stretch `--max-retries`. Default: the sum of
   * the backoff ceilings of `maxRetries` attempts (maxFailingMs).
   */
  readonly patienceMs?: number;
  readonly written: (entry: E) => void;
  readonly rejected: (entry: E, error: DynaloadError) => void;
  /** How long a part-filled batch may wait for more items while the reader is still reading. */
  readonly lingerMs?: number;
  /** Entries held (queued, parked, waiting or in flight) before `add` makes the reader wait. */
  readonly highWater?: number;
  /** The same, in request bytes: 800 items of 400 KB would otherwise hold 320 MB. */
  readonly highWaterBytes?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly limiter?: WriteLimiter;
}

/** Batches held ready beyond the window: about what the reader parses from one chunk of a file, and then some. */
export const READ_AHEAD_BATCHES = 32;
/** Batches held at least, however narrow the window (as many as the fixed default's window held before). */
export const MIN_HELD_BATCHES = 64;

/** Request bytes a writer holds before the reader waits: bounds a worker's heap whatever the item size. */
export const WRITER_HIGH_WATER_BYTES = 64 * 1024 * 1024;

/**
 * Writes entries with BatchWriteItem: at most `concurrency` requests in flight, full batches while
 * reading, UnprocessedItems and retryable errors resent with backoff and jitter alongside fresh
 * items, a refused batch split until the refused item is found. Fails (and stops sending) when an
 * entry has failed `maxRetries` times in a row or DynamoDB answers a non-retryable error.
 */
export class BatchWriter<E extends WriteEntry> {
  readonly stats: WriterStats = emptyWriterStats();
  failure: DynaloadError | undefined;

  private readonly queue = new WriteQueue<E>();
  private readonly options: WriterOptions<E>;
  private readonly fixedHighWater: number | undefined;
  private readonly highWaterBytes: number;
  private readonly now: () => number;
  private readonly patienceMs: number;
  private requests = 0;
  private draining = false;
  /** Graceful stop: the requests in flight finish; nothing more is sent. */
  private stopped = false;
  private lingerExpired = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private capacityWaiter: (() => void) | undefined;
  private drainWaiters: (() => void)[] = [];

  constructor(options: WriterOptions<E>) {
    this.options = options;
    this.fixedHighWater = options.highWater;
    this.highWaterBytes = options.highWaterBytes ?? WRITER_HIGH_WATER_BYTES;
    this.now = options.now ?? Date.now;
    this.patienceMs = options.patienceMs ?? maxFailingMs(options.maxRetries, options.backoff);
  }

  /** Requests allowed in flight now. */
  private get inFlightLimit(): number {
    return this.options.window?.size ?? this.options.concurrency;
  }

  /**
   * Entries held before the reader waits: the window's batches plus READ_AHEAD_BATCHES ready to go
   * as answers come back (at least MIN_HELD_BATCHES). A second window's worth read ahead, as it
   * was, held thousands of rows a wide window never needed: the reader refills a few dozen batches
   * between answers, and every row held costs heap for as long as it waits.
   */
  private get highWater(): number {
    return this.fixedHighWater ?? Math.max(MIN_HELD_BATCHES, this.inFlightLimit + READ_AHEAD_BATCHES) * MAX_BATCH_ITEMS;
  }

  /** Entries not yet written or rejected. */
  get pending(): number {
    return this.queue.size;
  }

  private get full(): boolean {
    return this.queue.size >= this.highWater || this.queue.bytes >= this.highWaterBytes;
  }

  /** Queues an entry. Returns a promise only when the reader must wait for room (backpressure). */
  add(entry: E): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    this.queue.add(entry);
    // With every request slot busy, pump could launch nothing; a finished request pumps again.
    if (this.requests < this.inFlightLimit) this.pump();
    if (!this.full) return undefined;
    return new Promise((resolve) => {
      this.capacityWaiter = resolve;
    });
  }

  /**
   * Graceful stop (Ctrl-C): the requests in flight are answered, nothing more is sent (not what is
   * queued, nor a retry, nor a request still waiting for the rate limiter), and `drain` resolves
   * once nothing is in flight. What was not sent stays unwritten, below the checkpoint's marks.
   * Sending the queue too took seconds at a low `--max-wcu`.
   */
  stop(): void {
    this.stopped = true;
    this.pump();
  }

  /** Sends everything still queued; resolves when nothing is pending, or after a failure or a stop once nothing is in flight. */
  drain(): Promise<void> {
    this.draining = true;
    const settled = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.pump();
    return settled;
  }

  private pump(): void {
    const now = this.now();
    if (!this.failure && !this.stopped) {
      while (this.requests < this.inFlightLimit) {
        const available = this.queue.available(now);
        if (available === 0) break;
        const force = this.draining || this.lingerExpired || this.capacityWaiter !== undefined;
        if (available < MAX_BATCH_ITEMS && !force) break;
        this.lingerExpired = false;
        this.launch(this.queue.take(now));
      }
    }
    this.schedule(now);
    if (this.capacityWaiter && (!this.full || this.failure || this.stopped)) {
      const resolve = this.capacityWaiter;
      this.capacityWaiter = undefined;
      resolve();
    }
    if (this.draining && this.requests === 0 && (this.queue.size === 0 || this.failure || this.stopped)) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  /** One timer: the next due retry, or the linger deadline of a part-filled batch. */
  private schedule(now: number): void {
    let at = Number.POSITIVE_INFINITY;
    if (!this.failure && !this.stopped) {
      const due = this.queue.nextDue();
      if (due !== undefined) at = due;
      if (this.queue.available(now) > 0 && this.requests < this.inFlightLimit)
        at = Math.min(at, now + (this.options.lingerMs ?? 20));
    }
    // A pending timer that fires no later is kept: firing early is harmless (pump re-checks), and
    // re-arming a timer for every item added costs more than the pump itself.
    if (this.timer && this.timerAt <= at) return;
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Number.POSITIVE_INFINITY) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.lingerExpired = true;
        this.pump();
      },
      Math.max(0, at - now),
    );
  }

  private launch(batch: E[]): void {
    this.requests++;
    const limiter = this.options.limiter;
    // Weighed once: the limiter reserves these units, and is told of them again with the answer.
    const units = limiter === undefined ? undefined : unitsByTable(batch);
    let bookedAt: number | undefined;
    const window = this.options.window;
    const send = (): void => {
      const sentAt = this.now();
      void this.sendBatch(batch, units, bookedAt)
        .then(
          (outcome) => {
            window?.answered({
              sentAt,
              now: this.now(),
              items: outcome.written,
              pushback: outcome.pushback,
              withheld: outcome.withheld === true,
              inFlight: this.requests,
            });
          },
          () => undefined,
        )
        .finally(() => {
          this.requests--;
          this.pump();
        });
    };
    if (window) window.memory(this.queue.bytes >= this.highWaterBytes / 2);
    if (limiter === undefined || units === undefined) {
      window?.launched(false);
      send();
      return;
    }
    // The request holds its slot while it waits for the rate limiter, so `concurrency` still bounds
    // it. It books a time to send no more than RESERVE_HORIZON_MS ahead (src/rate/reservation.ts).
    let paced = false;
    const reserve = (): void => {
      // An item of a table that accepts nothing gives up after the patience, however slow the rate
      // has become: waiting here for a rate slowed to a trickle stretched it tenfold.
      if (!this.failure && (batch[0] as E).failingSince !== undefined && limiter.pushback?.(units) === 'refusing') {
        const now = this.now();
        for (const entry of batch) this.outOfPatience(entry, now, undefined, true);
      }
      // A run that failed or stopped while this request waited sends nothing more: the batch goes back unsent.
      if (this.failure || this.stopped) {
        for (const entry of batch) this.queue.retry(entry, Number.POSITIVE_INFINITY);
        this.requests--;
        this.pump();
        return;
      }
      bookedAt = limiter.mark?.();
      const wait = limiter.reserve(units, RESERVE_HORIZON_MS);
      // Refused: ask again when the slot is near (reaskDelay). Never later than the slot: the cap stays exact.
      // Counted once, when the request goes out or waits: a window wider than the rate needs shows here.
      if (wait !== 0 && !paced) {
        paced = true;
        window?.launched(true);
      } else if (wait === 0 && !paced) window?.launched(false);
      if (wait < 0) setTimeout(reserve, reaskDelay(wait, (this.options.random ?? Math.random)()));
      else if (wait > 0) setTimeout(() => (this.failure || this.stopped ? reserve() : send()), wait);
      else send();
    };
    reserve();
  }

  /** `units`: the batch's units by table, when the caller weighed them already; `bookedAt`: the limiter's mark when it was booked. */
  private async sendBatch(batch: E[], units?: Map<string, number>, bookedAt?: number): Promise<Outcome> {
    let unprocessed: RequestItems | UnprocessedTexts | undefined;
    try {
      unprocessed = await this.options.send(batch);
    } catch (error) {
      this.stats.requests++;
      return this.failed(batch, error, bookedAt);
    }
    this.stats.requests++;
    const withheld = this.withheld(batch, unprocessed);
    const weighed = units ?? unitsByTable(batch);
    this.options.limiter?.answered(
      weighed,
      withheld && withheld.size > 0 ? unitsByTable(withheld) : undefined,
      bookedAt,
      itemsByTable(batch),
    );
    const pushback = withheld && withheld.size > 0 ? this.options.limiter?.pushback?.(weighed) : undefined;
    for (const entry of batch) {
      if (withheld?.has(entry)) {
        this.stats.unprocessedRetries++;
        this.retry(entry, undefined, pushback);
      } else {
        this.queue.done(entry);
        this.stats.itemsWritten++;
        this.options.written(entry);
      }
    }
    // Only the rate controller's verdict counts as pushback: a background withheld at random says
    // nothing of the window. Until the controller has learned that background, items coming back
    // keep the window's steps small; once it has, they are not the loader's doing.
    const back = (withheld?.size ?? 0) > 0 && this.options.limiter?.backgroundOnly?.(weighed) !== true;
    return { written: batch.length - (withheld?.size ?? 0), pushback: pushback !== undefined, withheld: back };
  }

  private withheld(batch: E[], unprocessed: RequestItems | UnprocessedTexts | undefined): Set<E> | undefined {
    if (unprocessed === undefined) return undefined;
    const withheld = new Set<E>();
    // Never count an item as written when DynamoDB said it was not: stop instead.
    const unmatched = (table: string): Set<E> => {
      this.fail(
        new DynaloadError(
          'UNPROCESSED_UNMATCHED',
          `Expected every UnprocessedItems entry to match a sent item, got one for table \`${table}\` that matches none`,
          { context: { table } },
        ),
      );
      return new Set(batch);
    };
    // At most 25 entries: a scan costs less than building a map for every answer.
    const byKey = (table: string, request: WriteRequest): E | undefined => {
      const key = this.options.keyOf(table, request);
      return batch.find((candidate) => candidate.key === key);
    };
    if ('texts' in unprocessed && unprocessed.texts instanceof Map) {
      // DynamoDB sends withheld requests back in the order they were sent, so the search for the
      // next one starts after the last match (any order still matches: the search wraps around).
      let from = 0;
      for (const [table, texts] of unprocessed.texts) {
        for (const text of texts) {
          // Sent back as sent (the usual case): the same text. Otherwise by its key.
          const at = sentAs(batch, table, text, from);
          let entry = at < 0 ? undefined : batch[at];
          if (at >= 0) from = at + 1;
          if (entry === undefined) {
            let request: WriteRequest;
            try {
              request = parseWriteRequestText(text);
            } catch {
              return unmatched(table);
            }
            entry = byKey(table, request);
          }
          if (entry === undefined) return unmatched(table);
          withheld.add(entry);
        }
      }
      return withheld;
    }
    const items = unprocessed as RequestItems;
    for (const table of Object.keys(items)) {
      const requests = items[table];
      if (!Array.isArray(requests)) return unmatched(table);
      for (const request of requests) {
        const entry = byKey(table, request);
        if (entry === undefined) return unmatched(table);
        withheld.add(entry);
      }
    }
    return withheld;
  }

  private async failed(batch: E[], error: unknown, bookedAt?: number): Promise<Outcome> {
    const kind = classifyError(error);
    if (kind === 'validation') {
      if (batch.length > 1) {
        this.stats.validationSplits++;
        const half = Math.ceil(batch.length / 2);
        // One half after the other, within the refused request's slot: never over `concurrency`.
        const first = await this.sendBatch(batch.slice(0, half));
        const second = await this.sendBatch(batch.slice(half));
        const withheld = first.withheld === true || second.withheld === true;
        return { written: first.written + second.written, pushback: first.pushback || second.pushback, withheld };
      }
      const entry = batch[0] as E;
      this.queue.done(entry);
      this.options.rejected(
        entry,
        new DynaloadError(
          'DYNAMODB_REJECTED',
          `DynamoDB refused the item (${errorName(error)}): ${errorMessage(error)}`,
          { context: { awsError: errorName(error) } },
        ),
      );
      return { written: 0, pushback: false };
    }
    if (kind === 'fatal') {
      for (const entry of batch) this.queue.retry(entry, Number.POSITIVE_INFINITY);
      this.fail(fatalError(error, batch[0]?.table));
      return { written: 0, pushback: false };
    }
    let pushback: 'overdrive' | 'refusing' | undefined;
    if (kind === 'throttled') {
      this.stats.throttledRequests++;
      const units = unitsByTable(batch);
      this.options.limiter?.answered(units, units, bookedAt, itemsByTable(batch));
      pushback = this.options.limiter?.pushback?.(units);
    } else if (kind === 'server') this.stats.serverErrors++;
    else this.stats.networkErrors++;
    for (const entry of batch) this.retry(entry, error, pushback);
    return { written: 0, pushback: kind === 'throttled', withheld: kind === 'throttled' };
  }

  /**
   * `pushback`: for an item withheld or throttled, how its table pushes back. While the loader
   * itself sends more than the table accepts (`overdrive`), the failure is the loader's to fix
   * (the rate controller slows it down), not the table's: it does not count toward `--max-retries`.
   * Counted, they failed runs that had only to slow down (a hidden-capacity table, a busy machine).
   */
  private retry(entry: E, error?: unknown, pushback?: 'overdrive' | 'refusing'): void {
    const now = this.now();
    // The wait grows with every attempt, counted or not.
    const delay = backoffDelay(entry.attempts + 1, this.options.backoff, this.options.random);
    this.queue.retry(entry, now + delay);
    if (pushback === 'overdrive') {
      entry.failingSince = undefined;
      return;
    }
    entry.failures = (entry.failures ?? 0) + 1;
    entry.failingSince ??= now;
    this.outOfPatience(entry, now, error, pushback === 'refusing');
  }

  /** Fails the run when `entry` failed more than `--max-retries` times, or (`refusing`) for longer than the patience. */
  private outOfPatience(entry: E, now: number, error: unknown, refusing: boolean): void {
    if (this.failure || entry.failingSince === undefined) return;
    const failures = entry.failures ?? 0;
    const failingMs = now - entry.failingSince;
    const overTime = refusing && failingMs > this.patienceMs;
    if (failures <= this.options.maxRetries && !overTime) return;
    const reason =
      error === undefined ? 'returned in UnprocessedItems' : `failed with ${errorName(error)}: ${errorMessage(error)}`;
    const time = overTime
      ? ` over ${(failingMs / 1000).toFixed(1)} s while the table accepted nothing (the retries allow about ${(this.patienceMs / 1000).toFixed(1)} s)`
      : '';
    this.fail(
      new DynaloadError(
        'RETRIES_EXHAUSTED',
        `Expected an item of table \`${entry.table}\` to be written within ${this.options.maxRetries} retries (\`--max-retries\`), but it was ${reason} ${failures} times in a row${time}`,
        { context: { table: entry.table, attempts: failures } },
      ),
    );
  }

  private fail(error: DynaloadError): void {
    if (!this.failure) this.failure = error;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}

/** Index of the entry of `table` sent as exactly `text`, searching from `from` round to it; -1 if none. */
function sentAs(batch: readonly WriteEntry[], table: string, text: string, from: number): number {
  for (let n = 0; n < batch.length; n++) {
    const i = (from + n) % batch.length;
    const candidate = batch[i] as WriteEntry;
    if (candidate.json === text && candidate.table === table) return i;
  }
  return -1;
}

function unitsByTable(entries: Iterable<WriteEntry>): Map<string, number> {
  const units = new Map<string, number>();
  for (const entry of entries) units.set(entry.table, (units.get(entry.table) ?? 0) + entry.units);
  return units;
}

function itemsByTable(entries: readonly WriteEntry[]): Map<string, number> {
  const first = entries[0]?.table;
  // A batch is usually one table's.
  if (entries.every((entry) => entry.table === first)) return new Map([[first as string, entries.length]]);
  const items = new Map<string, number>();
  for (const entry of entries) items.set(entry.table, (items.get(entry.table) ?? 0) + 1);
  return items;
}

function fatalError(error: unknown, table: string | undefined): DynaloadError {
  const name = errorName(error);
  const context = { table, awsError: name };
  if (name === 'ResourceNotFoundException') {
    return new DynaloadError(
      'TABLE_NOT_FOUND',
      `BatchWriteItem found no table \`${table}\` (was it deleted during the run?): ${errorMessage(error)}`,
      { context, cause: error },
    );
  }
  if (
    /AccessDenied|UnrecognizedClient|InvalidSignature|ExpiredToken|MissingAuthenticationToken|Credentials/i.test(name)
  ) {
    return new DynaloadError('ACCESS_DENIED', `BatchWriteItem was refused (${name}): ${errorMessage(error)}`, {
      context,
      cause: error,
    });
  }
  return new DynaloadError(
    'WRITE_FAILED',
    `BatchWriteItem failed with a non-retryable error (${name}): ${errorMessage(error)}`,
    { context, cause: error },
  );
}
