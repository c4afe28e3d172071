import type { Logger } from './log.js';

/**
 * The progress display: one status line on stderr, redrawn a few times per second when
 * stderr is a terminal; a pino info line every few seconds otherwise; nothing with `--quiet`.
 * Never writes to stdout, which carries only the result.
 *
 * `formatProgress` is pure: counters in, one line out. Rates come from a sliding window of recent
 * samples (`advanceProgress`), so they are smooth although workers report every 250 ms.
 */

/** Cumulative counters, as `WorkerCounters` plus the bytes of input read (any superset fits). */
export interface ProgressSnapshot {
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly rowsRejected: number;
  readonly rowsSkipped: number;
  readonly itemsWritten: number;
  readonly unitsWritten: number;
  readonly unprocessedRetries: number;
  readonly throttledRequests: number;
  readonly serverErrors: number;
  readonly networkErrors: number;
  /** Bytes of input read so far (as stored: compressed bytes for .gz files). */
  readonly bytesRead?: number;
  /** Sum of the input files' sizes; absent when unknown (standard input). */
  readonly bytesTotal?: number;
  /** Requests in flight, every worker's together, the round-trip and why the window holds (src/pipeline/counters.ts RunWindow). */
  readonly window?: { readonly size: number; readonly rttMs: number | null; readonly reason: string } | null;
}

interface Sample {
  readonly atMs: number;
  readonly items: number;
  readonly units: number;
  /** Rows done: written, rejected or skipped (what the percentage and the ETA follow). */
  readonly done: number;
}

/** What the formatter remembers between two calls: the samples of the last `RATE_WINDOW_MS`. */
export interface ProgressState {
  readonly samples: readonly Sample[];
}

export interface FormatOptions {
  /** Columns available; the line never exceeds it. */
  readonly width: number;
  /** ANSI colors for retries and rejects (never for the TTY's line-clearing codes). Default off. */
  readonly color?: boolean;
}

/** Rates average over this window: long enough to hide the workers' 250 ms reporting, short enough to follow a slowdown. */
export const RATE_WINDOW_MS = 5_000;
export const PROGRESS_DEFAULTS = Object.freeze({ intervalMs: 200, logIntervalMs: 10_000, width: 80 });

const CLEAR_LINE = '\r\x1b[2K';
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[39m';

/** Adds a sample taken at `nowMs`, keeping the window plus one older sample as its anchor. */
export function advanceProgress(
  previous: ProgressState | undefined,
  snapshot: ProgressSnapshot,
  nowMs: number,
): ProgressState {
  const sample: Sample = {
    atMs: nowMs,
    items: snapshot.itemsWritten,
    units: snapshot.unitsWritten,
    done: rowsDone(snapshot),
  };
  const samples = [...(previous?.samples ?? []), sample];
  let first = 0;
  while (first + 1 < samples.length - 1 && (samples[first + 1] as Sample).atMs <= nowMs - RATE_WINDOW_MS) first += 1;
  return { samples: samples.slice(first) };
}

/** One status line for `snapshot` at `nowMs`, rates taken over the window `previous` holds. */
export function formatProgress(
  snapshot: ProgressSnapshot,
  previous: ProgressState | undefined,
  nowMs: number,
  options: FormatOptions,
): string {
  const state = advanceProgress(previous, snapshot, nowMs);
  const rates = ratesOf(state);
  const total = snapshot.bytesTotal;
  const retries =
    snapshot.unprocessedRetries + snapshot.throttledRequests + snapshot.serverErrors + snapshot.networkErrors;

  // Display order; `keep` ranks what survives a narrow terminal (0 is dropped last).
  const segments: { text: string; keep: number; color?: string }[] = [];
  const rowsTotal = estimatedRows(snapshot);
  const done = rowsDone(snapshot);
  if (rowsTotal !== undefined) {
    segments.push({
      text: `${formatCount(done)} of ~${formatCount(rowsTotal)} rows done (${Math.floor(Math.min(1, done / Math.max(1, rowsTotal)) * 100)}%)`,
      keep: 0,
    });
  } else {
    segments.push({ text: `${formatCount(snapshot.rowsRead)} rows`, keep: 0 });
  }
  segments.push({ text: `${formatCount(snapshot.itemsWritten)} items`, keep: 4 });
  segments.push({ text: `${formatRate(rates?.items)} items/s`, keep: 2 });
  segments.push({ text: `${formatRate(rates?.units)} WCU/s`, keep: 5 });
  segments.push({ text: `${formatCount(retries)} retries`, keep: 6, ...(retries > 0 ? { color: YELLOW } : {}) });
  segments.push({
    text: `${formatCount(snapshot.rowsRejected)} rejected`,
    keep: 3,
    ...(snapshot.rowsRejected > 0 ? { color: RED } : {}),
  });
  if (total !== undefined && total > 0) {
    const eta = etaSeconds(snapshot, rates);
    segments.push({ text: `ETA ${eta === undefined ? '-' : formatDuration(eta)}`, keep: 1 });
  }

  const separator = ' · ';
  let shown = segments;
  const length = (list: typeof segments) =>
    list.reduce((sum, s) => sum + s.text.length, 0) + separator.length * (list.length - 1);
  while (shown.length > 1 && length(shown) > options.width) {
    const drop = Math.max(...shown.map((s) => s.keep));
    shown = shown.filter((s) => s.keep !== drop);
  }
  if (length(shown) > options.width) return (shown[0] as { text: string }).text.slice(0, Math.max(0, options.width));
  return shown.map((s) => (options.color && s.color ? `${s.color}${s.text}${RESET}` : s.text)).join(separator);
}

function ratesOf(state: ProgressState): { items: number; units: number; done: number } | undefined {
  const first = state.samples[0];
  const last = state.samples[state.samples.length - 1];
  if (first === undefined || last === undefined || last.atMs <= first.atMs) return undefined;
  const seconds = (last.atMs - first.atMs) / 1000;
  return {
    items: (last.items - first.items) / seconds,
    units: (last.units - first.units) / seconds,
    done: (last.done - first.done) / seconds,
  };
}

/** Rows written, rejected or skipped: what is finished, not just read (reading runs far ahead of a slow table). */
function rowsDone(snapshot: ProgressSnapshot): number {
  return snapshot.rowsWritten + snapshot.rowsRejected + snapshot.rowsSkipped;
}

/** The rows the inputs hold, estimated from the rows read per byte; undefined while unknown. */
function estimatedRows(snapshot: ProgressSnapshot): number | undefined {
  const total = snapshot.bytesTotal;
  const bytesRead = snapshot.bytesRead ?? 0;
  if (total === undefined || total <= 0 || bytesRead <= 0) return undefined;
  const fraction = Math.min(1, bytesRead / total);
  return Math.max(snapshot.rowsRead, Math.round(snapshot.rowsRead / fraction));
}

/** Seconds until every row is done, at the rate rows got done lately; 0 when done, undefined while unknown. */
function etaSeconds(snapshot: ProgressSnapshot, rates: { done: number } | undefined): number | undefined {
  const total = estimatedRows(snapshot);
  if (total === undefined) return undefined;
  const remaining = Math.max(0, total - rowsDone(snapshot));
  if (remaining === 0 && (snapshot.bytesRead ?? 0) >= (snapshot.bytesTotal ?? 0)) return 0;
  return rates && rates.done > 0 ? remaining / rates.done : undefined;
}

function formatRate(rate: number | undefined): string {
  return rate === undefined ? '-' : formatCount(Math.round(rate));
}

/** `999`, `123,456`, then three significant digits: `1.23M`, `45.6M`, `1.20B`. */
export function formatCount(n: number): string {
  if (n < 1_000_000) return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const millions = (n / 1e6).toPrecision(3);
  return Number(millions) < 1000 ? `${millions}M` : `${(n / 1e9).toPrecision(3)}B`;
}

/** `45s`, `3m05s`, `2h07m`; rounded up to the second. */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The stream the TTY line goes to: process.stderr in the CLI, a fake in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly columns?: number;
}

export interface Clock {
  now(): number;
  setInterval(tick: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface ProgressOptions {
  readonly stream: ProgressStream;
  /** Whether `stream` is a terminal (`process.stderr.isTTY`). */
  readonly isTTY: boolean;
  /** `--no-color`; the NO_COLOR environment variable (https://no-color.org) is read as well. */
  readonly noColor?: boolean;
  /** `--quiet` or `--no-progress`: show nothing. */
  readonly quiet?: boolean;
  /** TTY redraw interval (default 200 ms). */
  readonly intervalMs?: number;
  /** Interval of the info lines when not on a TTY (default 10 s). */
  readonly logIntervalMs?: number;
  readonly log: Pick<Logger, 'info'>;
  /** Sum of the input sizes, when the snapshots do not carry it. */
  readonly bytesTotal?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
}

export interface Progress {
  /** The latest cumulative counters (cheap: drawing happens on a timer). */
  update(snapshot: ProgressSnapshot): void;
  /** Stops the timer and clears the line; safe to call twice. */
  done(): void;
}

const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setInterval: (tick, ms) => setInterval(tick, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export function createProgress(options: ProgressOptions): Progress {
  if (options.quiet) return { update() {}, done() {} };
  const clock = options.clock ?? REAL_CLOCK;
  const env = options.env ?? process.env;
  const color = !options.noColor && !env.NO_COLOR;
  let latest: ProgressSnapshot | undefined;
  let state: ProgressState | undefined;
  let drawn = '';
  let timer: unknown;
  let finished = false;

  const withTotal = (s: ProgressSnapshot): ProgressSnapshot =>
    s.bytesTotal === undefined && options.bytesTotal !== undefined ? { ...s, bytesTotal: options.bytesTotal } : s;

  const draw = () => {
    if (latest === undefined) return;
    const now = clock.now();
    // One column short of the width: writing the last column makes some terminals wrap.
    const width = Math.max(1, (options.stream.columns || PROGRESS_DEFAULTS.width) - 1);
    const line = formatProgress(latest, state, now, { width, color });
    state = advanceProgress(state, latest, now);
    if (line !== drawn) options.stream.write(CLEAR_LINE + line);
    drawn = line;
  };

  const logLine = () => {
    if (latest === undefined) return;
    const now = clock.now();
    state = advanceProgress(state, latest, now);
    options.log.info(progressFields(latest, state), 'progress');
  };

  return {
    update(snapshot) {
      if (finished) return;
      const first = latest === undefined;
      latest = withTotal(snapshot);
      if (!first) return;
      if (options.isTTY) {
        draw();
        timer = clock.setInterval(draw, options.intervalMs ?? PROGRESS_DEFAULTS.intervalMs);
      } else {
        state = advanceProgress(undefined, latest, clock.now());
        timer = clock.setInterval(logLine, options.logIntervalMs ?? PROGRESS_DEFAULTS.logIntervalMs);
      }
    },
    done() {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clock.clearInterval(timer);
      if (drawn !== '') options.stream.write(CLEAR_LINE);
    },
  };
}

/** The fields of a non-TTY progress log line (rates over the window; null while unknown). */
export function progressFields(
  snapshot: ProgressSnapshot,
  state: ProgressState,
): Record<string, number | string | null> {
  const rates = ratesOf(state);
  const rowsTotal = estimatedRows(snapshot);
  const eta = snapshot.bytesTotal === undefined ? undefined : etaSeconds(snapshot, rates);
  return {
    rows: snapshot.rowsRead,
    done: rowsDone(snapshot),
    items: snapshot.itemsWritten,
    rejected: snapshot.rowsRejected,
    retries: snapshot.unprocessedRetries + snapshot.throttledRequests + snapshot.serverErrors + snapshot.networkErrors,
    itemsPerSecond: rates ? Math.round(rates.items) : null,
    wcuPerSecond: rates ? Math.round(rates.units) : null,
    percent:
      rowsTotal === undefined ? null : Math.floor(Math.min(1, rowsDone(snapshot) / Math.max(1, rowsTotal)) * 100),
    etaSeconds: eta === undefined ? null : Math.ceil(eta),
    ...(snapshot.window
      ? { inFlight: snapshot.window.size, rttMs: snapshot.window.rttMs, window: snapshot.window.reason }
      : {}),
  };
}
