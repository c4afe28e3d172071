import type { RateLimiter } from './rate-limit.js';

/**
 * The main thread's side of the shared limiter: every TICK_MS it looks at what the workers sent
 * and what DynamoDB withheld or throttled, and sets each bucket's rate (AIMD: back off by a factor
 * at once, probe upward slowly). Pure `nextRate` decides; `RateController` only schedules it.
 */
export const TICK_MS = 250;
/** Multiplicative decrease on throttling. Gentle, since each decrease already costs capacity. */
export const DECREASE = 0.9;
/** Additive increase per second, as a fraction of the cap (or of the current rate without one). */
export const INCREASE_PER_SECOND = 0.04;
/** After a decrease, throttling already in flight is not counted again for this long. */
export const COOLDOWN_MS = 1_000;
export const MIN_RATE = 1;

export interface BucketPolicy {
  /** `--max-wcu` (or the share of provisioned capacity): never above this. Undefined: no cap. */
  readonly cap: number | undefined;
  /** Back off on throttling and probe upward again. */
  readonly adaptive: boolean;
}

export interface Observation {
  readonly sent: number;
  readonly throttled: number;
  readonly intervalMs: number;
  readonly now: number;
}

export interface BucketState {
  rate: number;
  lastDecreaseAt: number;
}

export function initialRate(policy: BucketPolicy): number {
  return policy.cap ?? Number.POSITIVE_INFINITY;
}

export function nextRate(policy: BucketPolicy, state: BucketState, seen: Observation): number {
  const { cap } = policy;
  if (!policy.adaptive) return initialRate(policy);
  if (seen.throttled > 0) {
    if (seen.now - state.lastDecreaseAt < COOLDOWN_MS) return state.rate;
    // With no rate set yet, start from what was actually sent: that was too much.
    const base = Number.isFinite(state.rate) ? state.rate : Math.max(MIN_RATE, (seen.sent * 1000) / seen.intervalMs);
    state.lastDecreaseAt = seen.now;
    return Math.max(MIN_RATE, base * DECREASE);
  }
  if (!Number.isFinite(state.rate)) return state.rate;
  const step = INCREASE_PER_SECOND * (cap ?? state.rate) * (seen.intervalMs / 1000);
  return Math.min(cap ?? Number.POSITIVE_INFINITY, state.rate + Math.max(step, MIN_RATE / 10));
}

export class RateController {
  private readonly states: BucketState[];
  private timer: NodeJS.Timeout | undefined;
  private last = performance.now();

  constructor(private readonly limiter: RateLimiter, private readonly policies: readonly BucketPolicy[], private readonly onChange?: (bucket: number, rate: number) => void) {
    this.states = policies.map((policy, i) => {
      const rate = initialRate(policy);
      limiter.setRate(i, rate);
      return { rate, lastDecreaseAt: Number.NEGATIVE_INFINITY };
    });
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Current rate of each bucket, units per second (Infinity: unlimited). */
  rates(): number[] {
    return this.states.map((s) => s.rate);
  }

  tick(now = performance.now()): void {
    const intervalMs = Math.max(1, now - this.last);
    this.last = now;
    this.policies.forEach((policy, i) => {
      const state = this.states[i] as BucketState;
      const seen = { ...this.limiter.drainCounters(i), intervalMs, now };
      const rate = nextRate(policy, state, seen);
      if (rate !== state.rate) {
        state.rate = rate;
        this.limiter.setRate(i, rate);
        this.onChange?.(i, rate);
      }
    });
  }
}
