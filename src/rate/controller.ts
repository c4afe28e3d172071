import type { RateLimiter } from './limiter.js';

/**
 * The main thread's side of the shared limiter: every TICK_MS it looks at what the workers sent
 * and what DynamoDB withheld or throttled, and sets each bucket's rate. Pure `nextRate` decides;
 * `RateController` only schedules it.
 *
 * AIMD with a learned background: when more is withheld than usual, the rate drops to just below
 * what got through (less the usual share), then climbs again slowly. If a drop did not make the withheld
 * fraction fall, the withholding has nothing to do with our rate (a hot partition, a proxy that
 * withholds at random): that fraction becomes the background, and the rate stops falling for it.
 * Otherwise a constant 20% withheld would drive the rate to zero.
 *
 * Capacity throttling always wins over what was learned: the background is at most MAX_BACKGROUND,
 * fades (BACKGROUND_HALF_LIFE_S) unless a back-off that did not help earns it again, and a back-off
 * is only judged on answers to requests sent after it took effect, with the table's goodput
 * falling along with the rate (at a capacity limit it stays flat).
 */
export const TICK_MS = 250;
/** The rate after a back-off, as a fraction of the goodput. */
export const BACKOFF = 0.95;
/** Additive increase per second, as a fraction of the cap (or of the current rate without one). */
export const INCREASE_PER_SECOND = 0.04;
/** Withheld fraction above the background that counts as throttling caused by our rate. */
export const TOLERANCE = 0.05;
/**
 * After a back-off, answers in the first 1.5x this long are to requests sent before it: left out,
 * where the answers' booking time is not told (with it, those answers are told apart exactly).
 */
export const COOLDOWN_MS = 250;
/** Below this many units (or, when the items are told, this many items), or this much time, the fraction is noise: decide nothing yet. */
export const MIN_SAMPLE = 200;
export const MIN_SAMPLE_ITEMS = 100;
/**
 * One tick, less a margin: setInterval's ticks, read on performance.now(), come a fraction of a
 * millisecond early about as often as late. At exactly TICK_MS, an early tick was not a full sample
 * and its decision waited for the next tick: a back-off's verdict came a tick late.
 */
export const MIN_SAMPLE_MS = TICK_MS - 10;
export const MIN_RATE = 1;
/** The recent peak goodput halves in about 20 s. */
export const PEAK_DECAY_PER_SECOND = 0.966;
/** The most that can be learned as background: beyond it, withholding counts as throttling whatever slowing down did. */
export const MAX_BACKGROUND = 0.5;
/** The learned background halves in this many seconds unless a back-off that did not help learns it again. */
export const BACKGROUND_HALF_LIFE_S = 60;
/** A back-off with no such sample within this long (or 3 minimum samples' time) is taken as having helped. */
export const JUDGE_WITHIN_MS = 2_000;
/**
 * After a deep back-off (the first one, or one with more than this share withheld beyond the
 * background), clean for ACCELERATE_AFTER_MS, the probe's step doubles every second, up to
 * ACCELERATE_MAX times.
 */
export const DEEP_BACKOFF = 0.5;
export const ACCELERATE_AFTER_MS = 2_000;
export const ACCELERATE_MAX = 8;

export interface BucketPolicy {
  /** `--max-wcu` (or the share of provisioned capacity): never above this. Undefined: no cap. */
  readonly cap: number | undefined;
  /** Back off on throttling and probe upward again. */
  readonly adaptive: boolean;
  /**
   * Where an adaptive rate starts when that is below the cap: what the tables are known to take (a
   * cap above a provisioned table's capacity). From there it probes upward, as after a back-off.
   */
  readonly start?: number;
}

export interface Observation {
  readonly sent: number;
  readonly throttled: number;
  /**
   * Of the answers, those to requests booked before the last rate change (not counted in
   * sent/throttled). Given (even as 0), the answers' booking time is known.
   */
  readonly staleSent?: number;
  readonly staleThrottled?: number;
  /** How many items the units were (absent or 0: not told, each unit taken as one item). */
  readonly items?: number;
  readonly staleItems?: number;
  readonly intervalMs: number;
  readonly now: number;
}

export interface BucketState {
  rate: number;
  lastDecreaseAt: number;
  /** Withheld fraction right before the last back-off, the rate it backed off from, and the rate then answered. */
  fractionAtDecrease: number;
  rateBeforeDecrease: number;
  sentAtDecrease: number;
  /** The most the table took per second lately (decaying by half in about 20 s): the scale of the probe's steps. */
  peakGoodput: number;
  /**
   * The probe's steps scale with peakGoodput, not with the cap: once the table pushed back, or from
   * the start when the policy knows what the table takes.
   */
  probeByPeak: boolean;
  /** A back-off happened and its effect has not been judged yet. */
  judgePending: boolean;
  /**
   * Back-offs in a row judged not to have helped. One is not enough to learn a background: a
   * back-off computed from answers that lagged the rate can be too small to help (it still sends
   * above the capacity); a second one, computed from answers at the lowered rate, is not.
   */
  strikes: number;
  /** The rate before the first back-off of those: where an undo returns to. */
  rateBeforeStrikes: number;
  /** Withheld fraction that is not caused by our rate (at most MAX_BACKGROUND, fading). */
  background: number;
  /** The background as last learned, before it faded: one back-off that does not help at up to it earns it again. */
  learned: number;
  /**
   * The last full sample had more withheld than the background allows while the table accepted
   * some: the loader itself sends more than the table takes. Its items' failures are then the
   * loader's own doing and do not count toward `--max-retries` (src/pipeline/write.ts).
   */
  overdrive: boolean;
  /**
   * The last full sample had everything withheld: the table accepts nothing, and slowing down
   * cannot be told from not. Then an item's `--max-retries` patience is also a time (the slowed rate
   * must not stretch it).
   */
  refusing: boolean;
  /** Units seen since the last decision (small intervals are pooled). */
  sent: number;
  throttled: number;
  sinceMs: number;
  /** Items those units were, when told. */
  items: number;
  /** Units per item in the last sample that told its items (1 until one does). */
  unitsPerItem: number;
  /**
   * How long the samples since the last back-off withheld no more than the background (within
   * noise): the longer, the less the table's limit is near, and the faster the probe climbs.
   */
  cleanMs: number;
  /** The last back-off was deep: computed from a sample that may have been distorted, it may have gone far too low. */
  deepBackoff: boolean;
  /** The climb since the last back-off was accelerated. */
  accelerated: boolean;
  /** The last sample was over the band while a background was known, and was not acted on yet. */
  suspect: boolean;
}

export function initialState(policy: BucketPolicy): BucketState {
  const cap = policy.cap ?? Number.POSITIVE_INFINITY;
  // Started below the cap at what the table takes, the probe steps as if the table had pushed back
  // there: stepping by 4% of the cap, a 200-unit table under a cap of 5,000 was overshot by a
  // quarter every tick, and with answers lagging the rate the throttling was learned as background.
  const start =
    policy.adaptive && policy.start !== undefined && policy.start < cap ? Math.max(MIN_RATE, policy.start) : undefined;
  return {
    rate: start ?? cap,
    lastDecreaseAt: Number.NEGATIVE_INFINITY,
    fractionAtDecrease: 0,
    rateBeforeDecrease: Number.POSITIVE_INFINITY,
    sentAtDecrease: Number.POSITIVE_INFINITY,
    peakGoodput: start ?? 0,
    probeByPeak: start !== undefined,
    judgePending: false,
    strikes: 0,
    rateBeforeStrikes: Number.POSITIVE_INFINITY,
    background: 0,
    learned: 0,
    overdrive: false,
    refusing: false,
    sent: 0,
    throttled: 0,
    sinceMs: 0,
    items: 0,
    unitsPerItem: 1,
    cleanMs: 0,
    deepBackoff: false,
    accelerated: false,
    suspect: false,
  };
}

/** Updates `state` with one interval's observation and returns the new rate. */
export function nextRate(policy: BucketPolicy, state: BucketState, seen: Observation): number {
  const { cap } = policy;
  if (!policy.adaptive) return cap ?? Number.POSITIVE_INFINITY;
  // The answers say when their requests were booked: those booked before the last change are told apart exactly.
  const bookingTold = seen.staleSent !== undefined;
  // Learned background must be earned again: it fades, so a fraction learned by mistake (or one
  // that is gone) stops shielding the rate, and a true one is learned again by the back-offs that
  // follow (small ones: only what faded is taken for throttling).
  if (state.background > 0) state.background *= 0.5 ** (seen.intervalMs / 1000 / BACKGROUND_HALF_LIFE_S);
  if (state.judgePending) {
    // Answers to requests booked before a back-off (at the old rate, in flight, or answered late on
    // a busy machine) say nothing about the new rate: a back-off is judged on the others only.
    // Judged on lagging answers, capacity throttling was learned as background and the rate ran
    // away (simulated: answers one to three intervals late, the rate held far above capacity).
    const sampleUnits = Math.max(MIN_SAMPLE, MIN_SAMPLE_ITEMS * state.unitsPerItem);
    const patience = Math.max(JUDGE_WITHIN_MS, (3 * sampleUnits * 1000) / Math.max(state.rate, MIN_RATE));
    if (seen.now - state.lastDecreaseAt > patience) {
      // Never judged: taken as having helped (the safe side), and the rate climbs from here.
      state.judgePending = false;
      state.strikes = 0;
    } else if (!bookingTold && seen.now - state.lastDecreaseAt < COOLDOWN_MS * 1.5) {
      // Without booking times, the first answers after a back-off are taken as booked before it.
      // With them, the answers booked after it are judged from the first tick: waiting out the
      // cooldown as well kept a run far away, with a fifth withheld at random, at its start's low
      // rate a tick longer for each of the two back-offs that learn the background.
      state.sent = state.throttled = state.sinceMs = state.items = 0;
      return state.rate;
    }
  }
  state.items += (seen.items ?? 0) + (state.judgePending ? 0 : (seen.staleItems ?? 0));
  const sent = seen.sent + (state.judgePending ? 0 : (seen.staleSent ?? 0));
  const lastRate = (sent * 1000) / Math.max(1, seen.intervalMs);
  state.sent += sent;
  state.throttled += seen.throttled + (state.judgePending ? 0 : (seen.staleThrottled ?? 0));
  state.sinceMs += seen.intervalMs;
  if (state.sent < MIN_SAMPLE || state.sinceMs < MIN_SAMPLE_MS || (state.items > 0 && state.items < MIN_SAMPLE_ITEMS))
    return state.rate;
  // Where the answers' booking time is not known, a sample answered nearer the old rate than the
  // new one is taken as lagging. The sample as a whole, not each interval: at a few hundred units
  // per second an interval holds one batch or three, and judged interval by interval no sample was
  // ever complete. Where it is known, every answer counted was booked after the back-off, at the
  // new rate (a lowered rate spends no idle credit banked before it, src/rate/limiter.ts): it is
  // never lag, and is judged. Left out as lagging, a sample a little above the new rate (ticks are
  // not exact) kept a run far away with a fifth withheld at its start's low rate a tick or two longer.
  if (state.judgePending && !bookingTold && (state.sent * 1000) / state.sinceMs > judgeableRate(state)) {
    state.sent = state.throttled = state.sinceMs = state.items = 0;
    return state.rate;
  }
  const fraction = Math.min(1, state.throttled / state.sent);
  // The pooled rate, or the last interval's when higher: while a run warms up its rate climbs, and
  // a back-off from the pooled average would undercut what the table took a moment ago.
  const sentRate = Math.max((state.sent * 1000) / state.sinceMs, lastRate);
  const pooledRate = (state.sent * 1000) / state.sinceMs;
  // Items are withheld one by one: a sample holds as many draws as items, not units. Counted in
  // units, a sample of 100 KB items (a hundred units each) looked a hundred times surer than it was,
  // random withholding looked like throttling every other sample, and the rate sank to a few items
  // per second.
  const draws = state.items > 0 ? state.items : state.sent;
  if (state.items > 0) state.unitsPerItem = state.sent / state.items;
  const sinceMs = state.sinceMs;
  const goodput = ((state.sent - state.throttled) * 1000) / sinceMs;
  state.peakGoodput = Math.max(goodput, state.peakGoodput * PEAK_DECAY_PER_SECOND ** (sinceMs / 1000));
  state.sent = state.throttled = state.sinceMs = state.items = 0;
  // The first full sample after a back-off judges it, however long that sample took to gather (at
  // a few hundred units per second, several intervals): judged by a time window instead, a slow
  // sample missed it, and 20% withheld at random drove the rate down to single digits.
  const judging = state.judgePending;
  state.judgePending = false;
  // A sample of a few hundred items withholds a background of 20% give or take 3%: the tolerance
  // widens by two of those standard deviations, or random withholding at a small table's rate
  // looked like throttling every other sample.
  const noise = 2 * Math.sqrt((Math.max(state.background, 0.01) * (1 - state.background)) / Math.max(1, draws));
  const over = fraction > state.background + TOLERANCE + noise;
  state.overdrive = over && goodput > 0;
  state.refusing = goodput <= 0;
  // Once a background is known, one sample over the band is not enough to back off: items
  // throttled a request at a time (ThrottlingException) come in clumps of 25, and a sample of a few
  // hundred items reads several points over the background one time in ten. Each such back-off
  // was then judged by the next sample, back near the mean, as having helped, and kept: 30%
  // withheld and 5% of requests throttled ratcheted the rate down to a few hundred items per
  // second. A second sample over the band in a row backs off. A back-off being judged is not held.
  if (over && !judging && state.learned > 0 && !state.suspect) {
    state.suspect = true;
    return state.rate;
  }
  state.suspect = false;
  if (over) {
    // Slowing down did not help when this much is still withheld at the lower rate and the
    // goodput fell with the rate: a fixed share is withheld whatever our rate. At a capacity limit
    // the goodput stays flat as the rate falls, and a share above MAX_BACKGROUND is throttling
    // whatever it looks like: the rate keeps falling.
    const helped =
      (fraction < state.fractionAtDecrease * 0.7 && fellSince(state, fraction, draws)) ||
      fraction > MAX_BACKGROUND ||
      goodputHeld(state, goodput, pooledRate);
    // Two back-offs in a row learn a background; one earns again a background that faded, at up
    // to what was learned before (re-earned at two back-offs each time, it cost the slow climb
    // after them every half minute).
    if (judging && !helped && (state.strikes >= 1 || fraction <= state.learned + TOLERANCE)) {
      // Learn it, and undo the back-offs, which only cost throughput.
      state.overdrive = false;
      state.strikes = 0;
      return learnBackground(state, fraction, fraction);
    }
    if (judging && !helped) state.strikes++;
    else {
      state.strikes = 0;
      state.rateBeforeStrikes = state.rate;
    }
    // Only the part above the background is ours: drop to what would have got through without it.
    const rate = Math.max(MIN_RATE, Math.min(state.rate, sentRate) * (1 - (fraction - state.background)) * BACKOFF);
    state.lastDecreaseAt = seen.now;
    state.cleanMs = 0;
    // An accelerated climb overshoots by design: its back-off is not taken as distorted.
    state.deepBackoff = !state.probeByPeak || (fraction - state.background > DEEP_BACKOFF && !state.accelerated);
    state.accelerated = false;
    state.judgePending = true;
    state.fractionAtDecrease = fraction;
    state.rateBeforeDecrease = state.rate;
    state.sentAtDecrease = sentRate;
    state.probeByPeak = true;
    return rate;
  }
  // The background only falls here, following what is withheld (a moving average); it rises only
  // when a back-off did not help. Raised by every sample within the tolerance, the small overshoots
  // of each probe fed it, which widened the tolerance, which allowed larger overshoots: under a cap
  // four times a 5,000-unit table's capacity, the rate crept to 9,650 with 24% of the writes
  // withheld (simulated, 60 s).
  state.strikes = 0;
  // A back-off judged by a sample just inside the band it left, with the fraction no lower and the
  // goodput fallen with the rate: slowing down did not help, the background has only faded to the
  // edge of what is withheld. That earns it again, as a back-off judged over the band does, and the
  // back-off is undone. Taken as having helped, every other sample backed off once more while the
  // fade kept the band at the fraction, and the rate ratcheted down (simulated, 30% withheld at
  // random: to a third of what the client sent within 10 s).
  if (
    judging &&
    fraction > state.background &&
    fraction <= state.learned + TOLERANCE &&
    !fellSince(state, fraction, draws) &&
    !goodputHeld(state, goodput, pooledRate)
  ) {
    return learnBackground(state, fraction, Math.max(state.learned, fraction));
  }
  // Only a fraction clearly below it pulls it down: pulled by every sample below it and by none
  // above, noise alone wore a true background away.
  if (fraction < state.background - noise) state.background = Math.max(0, state.background * 0.9 + fraction * 0.1);
  if (!Number.isFinite(state.rate)) return state.rate;
  // Once the table has pushed back, the probe's step scales with what it took lately, not with the
  // cap: under a cap four times a table's capacity, steps of 4% of the cap overshot the capacity by
  // a fifth every few seconds (21% of the writes withheld and sent again). The peak, not the last
  // goodput, so that after a short deep throttle the rate climbs back at the pace of the table.
  const scale = state.probeByPeak
    ? Math.min(cap ?? Number.POSITIVE_INFINITY, Math.max(state.peakGoodput, MIN_RATE))
    : (cap ?? state.rate);
  // A deep back-off, computed from one sample with most of it withheld, can land far below what the
  // table takes (on a busy machine, or at the start with a token bucket still empty), and the peak
  // with it: climbing by a few percent of that took most of a run. After one, once nothing beyond
  // the background has been withheld for a while, the step doubles every second (slow start). Not
  // after the usual shallow back-off near the limit: a table's burst credit keeps samples clean
  // above its capacity, and an accelerated climb there overshot further before the throttling
  // showed, wasting more writes.
  const clean = fraction <= state.background + noise;
  state.cleanMs = clean ? state.cleanMs + sinceMs : 0;
  const accelerate = state.deepBackoff
    ? Math.min(ACCELERATE_MAX, 2 ** Math.max(0, (state.cleanMs - ACCELERATE_AFTER_MS) / 1000))
    : 1;
  if (accelerate > 1) state.accelerated = true;
  const step = INCREASE_PER_SECOND * scale * (sinceMs / 1000) * accelerate;
  return Math.min(cap ?? Number.POSITIVE_INFINITY, state.rate + Math.max(step, MIN_RATE / 10));
}

/**
 * What the table withholds is the background learned, and nothing more: one is known, the last full
 * sample stayed within it, and no back-off is being judged or held in suspicion. Items coming back
 * then are not the loader's doing, and the in-flight window may grow as if none did.
 */
export function backgroundOnly(state: BucketState): boolean {
  return state.background > 0 && !state.overdrive && !state.refusing && !state.suspect && !state.judgePending;
}

/** Takes `fraction` as the background (what was learned becomes `learned`) and undoes the back-offs: returns the rate before them. */
function learnBackground(state: BucketState, fraction: number, learned: number): number {
  state.background = fraction;
  state.learned = learned;
  state.lastDecreaseAt = Number.NEGATIVE_INFINITY;
  return state.rateBeforeStrikes;
}

/**
 * The withheld fraction fell since the last back-off by more than the two samples' noise: with a
 * few dozen large items in each, 20% withheld at random reads anywhere from 10% to 30%.
 */
function fellSince(state: BucketState, fraction: number, draws: number): boolean {
  const mean = (fraction + state.fractionAtDecrease) / 2;
  return state.fractionAtDecrease - fraction > 2 * Math.sqrt((2 * mean * (1 - mean)) / Math.max(1, draws));
}

/**
 * The goodput did not fall with the rate after the last back-off (above the middle of what got
 * through before it and what the lowered rate lets through): the mark of a capacity limit.
 */
function goodputHeld(state: BucketState, goodput: number, pooledRate: number): boolean {
  const before = Math.min(state.rateBeforeDecrease, state.sentAtDecrease);
  return goodput > ((1 - state.fractionAtDecrease) * (before + pooledRate)) / 2;
}

/** The highest rate a sample may have been answered at to judge the last back-off: nearer the new rate than the old. */
function judgeableRate(state: BucketState): number {
  return (state.rate + Math.min(state.rateBeforeDecrease, state.sentAtDecrease)) / 2;
}

export class RateController {
  private readonly states: BucketState[];
  private timer: NodeJS.Timeout | undefined;
  private last = performance.now();
  /**
   * Per bucket: whether a tick has seen writes yet. The ticks until then, and the first tick with
   * writes, are not judged: workers start (and writes begin) part-way through, so those intervals
   * would make the rate sent look a fraction of the real one, and a back-off from it would drop the
   * rate to near zero for a second (measured: 1,304 units/s on a run doing 60,000).
   */
  private readonly started: boolean[];

  constructor(
    private readonly limiter: RateLimiter,
    private readonly policies: readonly BucketPolicy[],
    private readonly onChange?: (bucket: number, rate: number) => void,
  ) {
    this.started = policies.map(() => false);
    this.states = policies.map((policy, i) => {
      const state = initialState(policy);
      limiter.setRate(i, state.rate);
      return state;
    });
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  tick(now = performance.now()): void {
    const intervalMs = Math.max(1, now - this.last);
    this.last = now;
    this.policies.forEach((policy, i) => {
      const state = this.states[i] as BucketState;
      const before = state.rate;
      const counters = this.limiter.drainCounters(i);
      if (!this.started[i]) {
        this.started[i] = counters.sent + counters.staleSent > 0;
        return;
      }
      const rate = nextRate(policy, state, { ...counters, intervalMs, now });
      state.rate = rate;
      this.limiter.setPushback(i, state.refusing ? 'refusing' : state.overdrive ? 'overdrive' : undefined);
      this.limiter.setBackground(i, backgroundOnly(state));
      if (rate !== before) {
        this.limiter.setRate(i, rate);
        this.onChange?.(i, rate);
      }
    });
  }
}
