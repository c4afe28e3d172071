/**
 * What passes between the bench runner and the processes it starts, typed in one place.
 *
 * Endpoint process (bench/endpoint.ts): argv[2] is an `EndpointSpec` as JSON. It prints one line
 * `{"endpoint": "http://127.0.0.1:<port>"}` on stdout once listening; when its stdin ends it prints
 * one line of `EndpointStats` and exits.
 *
 * Client processes (the CLI with `--json`, bench/baseline.ts) print one JSON line of `ClientReport`
 * on stdout.
 */

export type EndpointSpec =
  | { readonly kind: 'dynalite' }
  | {
      readonly kind: 'null';
      /** Fraction 0..1 of items returned as UnprocessedItems, drawn per item from a seeded PRNG. */
      readonly withhold?: number;
      readonly seed?: number;
      /** Write units per second admitted (token bucket); the rest is returned as UnprocessedItems. */
      readonly capacity?: number;
      /** Bucket size, in seconds of capacity. */
      readonly burstSeconds?: number;
      /** Weigh items and record units per second even without `capacity` (for `--max-wcu`). */
      readonly meter?: boolean;
      /** Every answer leaves this many ms after its request arrived: an endpoint far away (round-trip time). */
      readonly delayMs?: number;
    };

export interface EndpointStats {
  readonly kind: EndpointSpec['kind'];
  /** CPU of the endpoint process since it started listening, user + system, ms. */
  readonly cpuMs: number;
  readonly requests: number;
  readonly batchWriteRequests: number;
  /** BatchWriteItem requests answered with a 4xx (malformed, > 25 requests, duplicate keys, ...). */
  readonly invalidRequests: number;
  /** The first few validation messages, to show what the client got wrong. */
  readonly invalidSamples: readonly string[];
  readonly itemsAdmitted: number;
  /** Items sent but returned as UnprocessedItems: wasted attempts. */
  readonly itemsWithheld: number;
  /** Write units admitted; 0 when the endpoint does not weigh items. */
  readonly unitsAdmitted: number;
  /** Admitted write units per whole second since the first BatchWriteItem (when weighing). */
  readonly unitsPerSecond: readonly number[];
  /** ms from the first to the last BatchWriteItem. */
  readonly activeMs: number;
}

/** The fields both clients print; the CLI's `--json` summary (src/summary.ts) has more. */
export interface ClientReport {
  readonly rows?: number;
  readonly written?: number;
  readonly requests?: number;
  readonly unprocessedRetries?: number;
  readonly durationMs?: number;
  readonly rowsPerSecond?: number;
  readonly cpuMs?: number;
  readonly peakRssMb?: number;
  /** dynaload: requests in flight at the end, the round-trip and why the window stopped growing. */
  readonly window?: { readonly size: number; readonly rttMs: number | null; readonly reason: string } | null;
  readonly exitCode?: number;
  readonly error?: { readonly code: string; readonly message: string } | null;
}
