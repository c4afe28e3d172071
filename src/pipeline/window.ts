/**
 * How many BatchWriteItem requests one writer keeps in flight. Far from DynamoDB, throughput is
 * requests in flight / round-trip time (Little's law), so a fixed number that is plenty next to the
 * endpoint leaves most of the speed unused at 50-100 ms. The window therefore probes: it grows while
 * a wider window brings more items per second and answers stay about as fast as the fastest seen,
 * and holds (with the reason) once something else is the limit:
 *
 * - `rate`: requests wait for the shared write-rate limiter (a `--max-wcu` cap, or the capacity the
 *   adaptive rate found): a wider window would only hold more requests waiting.
 * - `throttled`: DynamoDB withholds or throttles; the rate controller slows down first, and the
 *   window does not move while it does (no shrink, no growth): the limiter's reservations pace
 *   what the window lets out, so a wide window never becomes a burst.
 * - `input`: the window is not full (reading and mapping, the CPU, cannot feed it).
 * - `no-gain`: the last step brought under MIN_GAIN more items/s; it is undone. The items/s of a
 *   round are read by Little's law (requests in flight / round-trip), not by counting answers over
 *   the round's clock: on a busy machine a round of a few dozen answers counted over a few hundred ms
 *   varied by half from one round to the next, so most steps looked as if they had not paid, and the
 *   window stayed near its start far from the table. The round-trip, averaged over every answer of
 *   the round, varies much less, and it is what rises when a wider window only queues.
 * - (none of these, answers about as fast as the fastest): the window doubles, as TCP's slow start;
 *   once answers slow down it grows by half, so it reaches what 100 ms needs in a few round-trips.
 * - `latency`: answers got much slower than the fastest (queueing at the endpoint or this CPU).
 * - `enough`: the window already holds ENOUGH_FACTOR times what the best items/s of the last rounds
 *   needs at the fastest round-trip (the bandwidth-delay product, as BBR keeps its congestion window
 *   at twice it). Past that, more in flight only waits: far away on a busy machine the CPU, not the
 *   window, is the limit, and a window grown until the answers slowed down held several times the
 *   requests it needed, with their sockets and their rows. After startup, no step goes past it.
 * - `memory`: the writer holds as many request bytes as it may (its byte bound).
 * - `ceiling`: this worker's share of the run's requests in flight (windowCeiling).
 *
 * A run starts in `startup`, as BBR does: the window doubles every round that brought STARTUP_GROWTH
 * more items/s than any before it (by half while items come back), up to STARTUP_FACTOR times the
 * bandwidth-delay product, and no single round undoes a step. Startup ends after STARTUP_FLAT_ROUNDS
 * rounds in a row that did not (BBR's "full pipe"), and the window goes back to the size of the
 * last round that grew; or after STARTUP_IDLE_ROUNDS rounds in a row that could not tell (the table
 * pushing back, the rate limiter or the reader the limit), where it stands (where the reader was
 * the limit, at most twice what it kept in flight). The steps above follow.
 * Judged one round against the one before from the start, a step far away was undone whenever its
 * round read slow, and early in a run (code still cold, heap still growing, the event loop held up
 * now and then) most did: each undone step was held for up to a second, and 50 ms away a window
 * took four to six seconds to reach what it needed. The cap is STARTUP_FACTOR, not ENOUGH_FACTOR: a
 * round-trip is the distance plus the time an answer waits for a busy event loop, often half as
 * much again, and with `enough` computed at the fastest round-trip the window grew by a fifth a
 * round.
 *
 * Pure and clocked by its caller, so it is tested with a simulated endpoint in simulated time.
 */

/** Where the window starts: the old fixed default, enough for an endpoint a few ms away. */
export const WINDOW_START = 16;
/**
 * The most requests in flight for the whole run, shared by the workers. undici keeps one connection
 * per request in flight (pipelining 1), so this is also the run's sockets: half the usual 1,024
 * open files, whatever the number of workers. Far away, answers also arrive later than the distance
 * alone says (the CPU that reads, maps and signs is busy): 512 requests of 25 items at a 160 ms
 * round-trip still carry 80,000 items/s, more than two cores map and sign.
 */
export const RUN_IN_FLIGHT_BUDGET = 512;
/**
 * A worker's share of RUN_IN_FLIGHT_BUDGET never goes past this: a worker's requests and the rows
 * read ahead for them live in its own heap, and one worker's CPU cannot use more.
 */
export const WINDOW_CEILING = 256;

/** The most requests in flight one of `workers` workers may reach by itself (never below WINDOW_START). */
export function windowCeiling(workers: number): number {
  return Math.max(WINDOW_START, Math.min(WINDOW_CEILING, Math.floor(RUN_IN_FLIGHT_BUDGET / Math.max(1, workers))));
}

/** A step must bring this much more items/s to be kept (or half its own width, for a last small step to the ceiling). */
export const MIN_GAIN = 0.1;
/** Answers slower than this many times the fastest round-trip (plus LATENCY_SLACK_MS) are queueing. */
export const LATENCY_FACTOR = 2;
export const LATENCY_SLACK_MS = 10;
/** A measuring round lasts at least this long and a round-trip, and sees a window's worth of answers. */
export const MIN_ROUND_MS = 100;
/** Answers within this factor of the fastest round-trip (plus LATENCY_SLACK_MS) are not queueing at all: the window doubles. */
export const FAST_FACTOR = 1.25;
/**
 * After a step that did not pay, wait this long before probing again, twice as long after each
 * further step in a row that did not pay, up to PROBE_AGAIN_MAX_MS. Early in a run the machine is
 * slower (code not yet optimised, heap still growing): a step that did not pay then may pay a
 * moment later, and a fixed 1 s hold after each such step kept a window far from the table below
 * what it needed for the first seconds while the CPU had time to spare. Once steps keep not paying
 * (the CPU is the limit), a probe costs one round at a wider window every second at most.
 */
export const PROBE_AGAIN_MS = 250;
export const PROBE_AGAIN_MAX_MS = 1_000;
/** Over this share of a round's requests waiting for the rate limiter, the rate is the limit. */
export const PACED_SHARE = 0.25;
/** The window holds at most this many times the bandwidth-delay product (BBR's congestion window gain). */
export const ENOUGH_FACTOR = 2;
/** The bandwidth-delay product uses the best items/s of this many last rounds. */
export const RATE_ROUNDS = 8;
/** During startup the window holds at most this many times the bandwidth-delay product (BBR's startup gain, 2/ln 2). */
export const STARTUP_FACTOR = 2.89;
/** Startup ends when the best items/s has not grown by this factor... */
export const STARTUP_GROWTH = 1.25;
/** ...for this many rounds in a row (BBR's full-pipe test). */
export const STARTUP_FLAT_ROUNDS = 3;
/**
 * Startup also ends after this many rounds in a row that cannot tell what a wider window brings:
 * enough for a table far away to have its usual share of withheld items learned as background.
 */
export const STARTUP_IDLE_ROUNDS = 8;

export type WindowReason =
  | 'fixed'
  | 'startup'
  | 'probing'
  | 'rate'
  | 'throttled'
  | 'input'
  | 'no-gain'
  | 'latency'
  | 'memory'
  | 'enough'
  | 'ceiling';

export interface WindowOptions {
  /** `--concurrency n`: a fixed window (reported as `fixed`). */
  readonly fixed?: number;
  readonly start?: number;
  readonly ceiling?: number;
}

export interface WindowReport {
  readonly size: number;
  /** Smoothed round-trip of BatchWriteItem (send to answer, not counting the limiter's wait), ms. */
  readonly rttMs: number | null;
  readonly minRttMs: number | null;
  /** Why the window is not growing (`startup`, `probing`: it still is). */
  readonly reason: WindowReason;
}

export interface Answer {
  /** Sent at (ms, the caller's clock): answers to requests sent before a round began are not counted in it. */
  readonly sentAt: number;
  readonly now: number;
  readonly items: number;
  /** Some of its items were withheld or throttled, and the rate controller says the loader sends too much. */
  readonly pushback: boolean;
  /**
   * Some of its items were withheld or throttled, whatever the rate controller says (it may not have
   * said yet); not when the controller has learned them as the table's background (withheld whatever the rate).
   */
  readonly withheld?: boolean;
  /** Requests in flight (this one included) when it was answered. */
  readonly inFlight: number;
}

export class InFlightWindow {
  size: number;
  reason: WindowReason;
  private readonly ceiling: number;
  private readonly adaptive: boolean;
  private srtt: number | undefined;
  private minRtt: number | undefined;
  /** The round: counts answers to requests sent from `roundStart` on. */
  private roundStart = 0;
  private measureFrom: number | undefined;
  private items = 0;
  private answers = 0;
  private full = 0;
  private pushbacks = 0;
  private withheld = 0;
  private launches = 0;
  private paced = 0;
  private rttSum = 0;
  private inFlightSum = 0;
  /** Items/s of the last round at the size before the current step, and that size. */
  private previousRate: number | undefined;
  private previousSize: number | undefined;
  private holdUntil = Number.NEGATIVE_INFINITY;
  /** Steps in a row that did not pay. */
  private misses = 0;
  private memoryFull = false;
  /** Items/s of the last RATE_ROUNDS rounds. */
  private readonly rates: number[] = [];
  /** In startup: the best items/s of a round so far, and the size that carried it. */
  private startup: boolean;
  private readonly start: number;
  private startupBest = 0;
  private startupBestSize: number;
  /** Items/s of the rounds since the best, none of which grew by STARTUP_GROWTH. */
  private readonly flatRates: number[] = [];
  /** Rounds in a row that could not tell what a wider window brings. */
  private idleRounds = 0;
  private readonly inputInFlight: number[] = [];

  constructor(options: WindowOptions = {}) {
    this.adaptive = options.fixed === undefined;
    this.ceiling = options.fixed ?? options.ceiling ?? WINDOW_CEILING;
    this.size = options.fixed ?? Math.min(this.ceiling, options.start ?? WINDOW_START);
    this.reason = this.adaptive ? 'startup' : 'fixed';
    this.startup = this.adaptive;
    this.start = this.size;
    this.startupBestSize = this.size;
  }

  report(): WindowReport {
    return { size: this.size, rttMs: round1(this.srtt), minRttMs: round1(this.minRtt), reason: this.reason };
  }

  /** A request got its slot; `paced`: it had to wait for the rate limiter. */
  launched(paced: boolean): void {
    this.launches++;
    if (paced) this.paced++;
  }

  /** The writer holds as many request bytes as it may: a wider window could not be fed. */
  memory(full: boolean): void {
    this.memoryFull = full;
  }

  answered(answer: Answer): void {
    const rtt = Math.max(0, answer.now - answer.sentAt);
    this.srtt = this.srtt === undefined ? rtt : this.srtt * 0.875 + rtt * 0.125;
    this.minRtt = this.minRtt === undefined ? rtt : Math.min(this.minRtt, rtt);
    if (!this.adaptive || answer.sentAt < this.roundStart) return;
    // The first round-trip after a step fills the wider window: measured from when it is full.
    this.measureFrom ??= answer.now;
    this.answers++;
    this.items += answer.items;
    this.rttSum += rtt;
    this.inFlightSum += answer.inFlight;
    if (answer.pushback) this.pushbacks++;
    if (answer.withheld === true) this.withheld++;
    if (answer.inFlight >= this.size) this.full++;
    const elapsed = answer.now - this.measureFrom;
    // A round with items coming back lasts two round-trips: the rate controller speaks first.
    const trips = this.withheld > 0 ? 2 : 1;
    if (elapsed >= Math.max(MIN_ROUND_MS, trips * (this.srtt ?? 0)) && this.answers >= this.size)
      this.decide(answer.now);
  }

  private decide(now: number): void {
    const pacedShare = this.launches === 0 ? 0 : this.paced / this.launches;
    const fullShare = this.full / this.answers;
    const rtt = this.rttSum / this.answers;
    // Little's law: items per answer x requests in flight / round-trip (a local endpoint may answer within the clock's 1 ms).
    const rate = (((this.items / this.answers) * (this.inFlightSum / this.answers)) / Math.max(0.1, rtt)) * 1000;
    this.rates.push(rate);
    if (this.rates.length > RATE_ROUNDS) this.rates.shift();
    // Requests the best recent items/s needs in flight at the fastest round-trip, twice over.
    const enough = this.requestsFor(Math.max(...this.rates));
    if (this.startup) {
      this.reason = this.startupStep(rate, enough, pacedShare, fullShare);
      this.startRound(now);
      return;
    }
    const previousRate = this.previousRate;
    const previousSize = this.previousSize;
    this.previousRate = undefined;
    this.previousSize = undefined;
    const missed =
      previousRate !== undefined &&
      previousSize !== undefined &&
      rate < previousRate * (1 + Math.min(MIN_GAIN, (this.size / previousSize - 1) / 2));
    if (previousRate !== undefined && !missed) this.misses = 0;
    let reason: WindowReason;
    if (this.pushbacks > 0) reason = 'throttled';
    else if (pacedShare > PACED_SHARE) reason = 'rate';
    else if (missed && previousSize !== undefined) {
      // The step did not pay: back to the size before it, and no new probe for a while.
      this.size = previousSize;
      this.holdUntil = now + Math.min(PROBE_AGAIN_MAX_MS, PROBE_AGAIN_MS * 2 ** this.misses);
      this.misses++;
      reason = 'no-gain';
    } else if (this.minRtt !== undefined && rtt > this.minRtt * LATENCY_FACTOR + LATENCY_SLACK_MS) reason = 'latency';
    else if (fullShare < 0.5) reason = 'input';
    else if (this.memoryFull) reason = 'memory';
    else if (this.size >= this.ceiling) reason = 'ceiling';
    else if (this.size >= enough) reason = 'enough';
    else if (now < this.holdUntil) reason = this.reason;
    else {
      this.previousRate = rate;
      this.previousSize = this.size;
      // Not while items come back: the table may be near its capacity and the rate controller may
      // not have said so yet; doubling before its first verdict sent a burst that a slow table's
      // lagging answers turned into a back-off to a few dozen items/s.
      const fast =
        this.withheld === 0 && this.minRtt !== undefined && rtt <= this.minRtt * FAST_FACTOR + LATENCY_SLACK_MS;
      this.size = Math.min(this.ceiling, enough, Math.ceil(this.size * (fast ? 2 : 1.5)));
      reason = 'probing';
    }
    this.reason = reason;
    this.startRound(now);
  }

  /**
   * One round of startup. A round that cannot tell what a wider window brings (the table pushed
   * back, requests waited for the rate limiter, or the reader could not fill the window) neither
   * steps nor counts toward the full pipe, as BBR leaves out rounds its sender could not fill; after
   * STARTUP_IDLE_ROUNDS of them in a row, the steps after startup take over where the window stands.
   */
  private startupStep(rate: number, enough: number, pacedShare: number, fullShare: number): WindowReason {
    const idle: WindowReason | undefined =
      this.pushbacks > 0 ? 'throttled' : pacedShare > PACED_SHARE ? 'rate' : fullShare < 0.5 ? 'input' : undefined;
    if (idle !== undefined) {
      // The requests the reader kept in flight in each round it could not fill the window.
      if (idle === 'input') this.inputInFlight.push(this.inFlightSum / this.answers);
      else this.inputInFlight.length = 0;
      if (++this.idleRounds < STARTUP_IDLE_ROUNDS) return idle;
      // Where the reader is the limit, twice what it kept in flight (the median round) is room
      // enough: startup may have grown the window while the code warmed up, and next to the table a
      // wide window only holds sockets and rows. A window the table or the rate limiter holds stays.
      if (this.inputInFlight.length > 0) {
        this.narrowTo(Math.ceil(ENOUGH_FACTOR * median(this.inputInFlight)));
      }
      this.endStartup();
      return idle;
    }
    this.idleRounds = 0;
    this.inputInFlight.length = 0;
    if (rate >= this.startupBest * STARTUP_GROWTH) {
      this.startupBest = rate;
      this.startupBestSize = this.size;
      this.flatRates.length = 0;
    } else {
      this.flatRates.push(rate);
      if (this.flatRates.length >= STARTUP_FLAT_ROUNDS) {
        // Back to the size of the last round that grew, and no more than twice what the flat
        // rounds' items/s needs at the fastest round-trip (their median: one round's items/s is noisy).
        this.narrowTo(Math.min(this.startupBestSize, this.requestsFor(median(this.flatRates))));
        this.endStartup();
        return this.size >= this.ceiling ? 'ceiling' : 'no-gain';
      }
    }
    if (this.memoryFull) return 'memory';
    if (this.size >= this.ceiling) return 'ceiling';
    const bound = Math.ceil((enough * STARTUP_FACTOR) / ENOUGH_FACTOR);
    if (this.size >= bound) return 'enough';
    // No step after a round that did not grow: the rounds that end startup are all at one size.
    if (this.flatRates.length > 0) return 'startup';
    // By half while items come back: the table may be near its capacity before the rate controller says so.
    this.size = Math.min(this.ceiling, bound, Math.ceil(this.size * (this.withheld === 0 ? 2 : 1.5)));
    return 'startup';
  }

  /** Requests in flight that ENOUGH_FACTOR times `rate` items/s needs at the fastest round-trip, with this round's items per answer. */
  private requestsFor(rate: number): number {
    return Math.ceil((ENOUGH_FACTOR * rate * (this.minRtt ?? 0)) / 1000 / Math.max(1, this.items / this.answers));
  }

  /** Narrows the window to `limit`, never below where it started (nor wider than it is). */
  private narrowTo(limit: number): void {
    this.size = Math.max(Math.min(this.start, this.size), Math.min(this.size, limit));
  }

  /**
   * Rounds of a window growing into a queue read high (their answers were sent when the queue was
   * shorter): after startup, `enough` starts afresh.
   */
  private endStartup(): void {
    this.startup = false;
    this.rates.length = 0;
  }

  private startRound(now: number): void {
    this.roundStart = now;
    this.measureFrom = undefined;
    this.items =
      this.answers =
      this.full =
      this.pushbacks =
      this.withheld =
      this.launches =
      this.paced =
      this.rttSum =
      this.inFlightSum =
        0;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function round1(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 10) / 10;
}
