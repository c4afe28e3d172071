import type { UploadConfig } from '../config.js';
import type { TableSchema } from '../dynamo/schema.js';
import type { Logger } from '../log.js';
import { shareOfRate } from '../pipeline/shard-split.js';
import type { WriteCap } from '../summary.js';
import { RateController, type BucketPolicy } from './controller.js';
import { createRateState, RateLimiter, type BucketSpec, type SharedRateState } from './limiter.js';

/**
 * How `--max-wcu`, `--capacity-share`, `--no-adaptive` and the tables' provisioned capacity become
 * the run's write-rate buckets, and the controller that sets their rates while the run lasts.
 */
export interface RateLimits {
  readonly state: SharedRateState;
  readonly policies: BucketPolicy[];
}

/**
 * The run's write-rate buckets: one for every table (`*`: `--max-wcu n`, adaptive), and with
 * `--max-wcu auto` (the default when a table is provisioned) one per provisioned table at
 * `--capacity-share` of its write capacity.
 */
export function rateLimits(config: UploadConfig, schemas: readonly TableSchema[]): RateLimits {
  const buckets: BucketSpec[] = [];
  const policies: BucketPolicy[] = [];
  const explicit = typeof config.maxWcu === 'number' ? config.maxWcu : undefined;
  const provisioned = schemas.filter((s) => s.billingMode === 'PROVISIONED' && s.writeCapacityUnits !== undefined);
  if (explicit !== undefined || config.adaptive) {
    buckets.push({ table: '*' });
    // A cap above what every table is provisioned for starts at their capacity, and probes upward
    // from there: started at the cap, the first second went out at it (measured: on a 200-unit table
    // under --max-wcu 5000, about 30% of a 10,000-row run's writes withheld, and the table's other
    // writers throttled meanwhile). An on-demand table has no known capacity: the cap it is.
    const total =
      provisioned.length === schemas.length && schemas.length > 0
        ? provisioned.reduce((sum, s) => sum + (s.writeCapacityUnits as number), 0)
        : undefined;
    // With --shard, this copy's part of that capacity, as --max-wcu is already its part of the cap.
    const known = total !== undefined && config.shard ? shareOfRate(total, config.shard) : total;
    const start =
      config.adaptive && explicit !== undefined && known !== undefined && known < explicit ? known : undefined;
    policies.push({ cap: explicit, adaptive: config.adaptive, ...(start === undefined ? {} : { start }) });
  }
  if (config.maxWcu === 'auto' || (config.maxWcu === undefined && provisioned.length > 0)) {
    for (const schema of provisioned) {
      buckets.push({ table: schema.table });
      policies.push({
        cap: Math.max(1, Math.floor((schema.writeCapacityUnits as number) * config.capacityShare)),
        adaptive: config.adaptive,
      });
    }
  }
  return { state: createRateState(buckets), policies };
}

/**
 * The write caps a run holds, for the summary: `--max-wcu n` on every table, or `auto`'s share of
 * each provisioned table's capacity. `maxWcu` is the one figure for the whole run (the time
 * estimate's rate): the explicit cap, else the sum of the tables' automatic caps when every table has one.
 */
export function capsInForce(
  config: UploadConfig,
  limits: RateLimits,
  tables: number,
): { maxWcu: number | undefined; caps: WriteCap[] } {
  const caps: WriteCap[] = [];
  limits.policies.forEach((policy, i) => {
    const table = limits.state.buckets[i]?.table ?? '*';
    if (policy.cap === undefined) return;
    caps.push(
      table === '*'
        ? { table, wcu: policy.cap, source: '--max-wcu' }
        : { table, wcu: policy.cap, source: 'auto', capacityShare: config.capacityShare },
    );
  });
  const explicit = caps.find((c) => c.table === '*');
  const auto = caps.filter((c) => c.table !== '*');
  const maxWcu =
    explicit?.wcu ?? (auto.length > 0 && auto.length >= tables ? auto.reduce((sum, c) => sum + c.wcu, 0) : undefined);
  return { maxWcu, caps };
}

/** The run's write rate: the caps it holds, and the state workers share while the controller runs. */
export interface WriteRate {
  readonly caps: { maxWcu: number | undefined; caps: WriteCap[] };
  /** What the workers' limiters share; undefined: nothing is limited. */
  readonly shared: SharedRateState | undefined;
  stop(): void;
}

/** Plans the buckets, logs them, and starts the controller (none for a dry run, which sends nothing). */
export function startWriteRate(config: UploadConfig, schemas: readonly TableSchema[], log: Logger): WriteRate {
  // A dry run sends nothing, so nothing is limited (the time at the cap is computed instead).
  const planned = rateLimits(config, schemas);
  const caps = capsInForce(config, planned, schemas.length);
  const limits = config.dryRun ? { state: createRateState([]), policies: [] } : planned;
  for (const [i, policy] of limits.policies.entries()) {
    log.info(
      {
        bucket: limits.state.buckets[i]?.table,
        cap: policy.cap ?? null,
        adaptive: policy.adaptive,
        start: policy.start ?? null,
      },
      'write rate',
    );
    if (policy.start !== undefined)
      log.warn(
        { maxWcu: policy.cap, provisioned: policy.start },
        `--max-wcu ${policy.cap} is above the ${policy.start} write units the table${schemas.length > 1 ? 's are' : ' is'} provisioned for: starting at ${policy.start} and probing upward`,
      );
  }
  const controller =
    limits.policies.length === 0
      ? undefined
      : new RateController(new RateLimiter(limits.state), limits.policies, (bucket, rate) =>
          log.info({ bucket: limits.state.buckets[bucket]?.table, rate: Math.round(rate) }, 'write rate changed'),
        );
  controller?.start();
  return { caps, shared: controller ? limits.state : undefined, stop: () => controller?.stop() };
}
