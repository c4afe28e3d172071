// Checks of the bench's own parts, run by `npm test`: the goals' verdicts are what the bench is read for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { itemUnits, PerSecond, TokenBucket, worstWindow } from './capacity.js';
import { startNullEndpoint } from './null-endpoint.js';
import { parseBenchOptions, type Scenario } from './options.js';
import { goalLines, goalSection, perRunLines } from './goals.js';
import { computeMetrics, median, medianRun, roundRatios, runOrder, times, type RunResult } from './report.js';

describe('capacity', () => {
  it('admits at most rate units per second from the first take, never more than the bucket', () => {
    const bucket = new TokenBucket(1000, 1);
    assert.equal(bucket.take(1, 0), false);
    assert.equal(bucket.take(1, 1), true);
    assert.equal(bucket.take(1, 1), false);
    let admitted = 0;
    for (let t = 1; t <= 10_001; t += 0.5) while (bucket.take(1, t)) admitted++;
    assert.ok(admitted >= 9_990 && admitted <= 10_000, String(admitted));
    assert.equal(bucket.take(2_000, 60_000), false);
  });

  it('weighs items by their wire JSON, ceil(bytes / 1024)', () => {
    assert.equal(itemUnits({ a: { S: 'x'.repeat(1010) } }), 1); // {"a":{"S":"..."}} is 1024 bytes
    assert.equal(itemUnits({ a: { S: 'x'.repeat(1011) } }), 2);
  });

  it('counts per second and finds the worst window after the warm-up, without the last partial second', () => {
    const perSecond = new PerSecond();
    for (const [value, at] of [
      [5, 100],
      [5, 1099],
      [3, 1100],
      [1, 3200],
    ] as const)
      perSecond.add(value, at);
    assert.deepEqual(perSecond.counts, [10, 3, 0, 1]);
    assert.equal(worstWindow([0, ...Array<number>(20).fill(100), 5], 100, 10, 1)?.worst, 0);
    assert.equal(worstWindow(Array<number>(12).fill(100), 100, 10, 10), undefined);
    const worst = worstWindow([100, 100, 90, 100, 100, 7], 100, 2, 0);
    assert.equal(worst?.at, 1);
    assert.ok(Math.abs((worst?.worst ?? 0) + 0.05) < 1e-9);
  });
});

describe('--repeat', () => {
  const scenario = parseBenchOptions(['--scenarios', 'null']).scenarios[0];
  const run = (rowsPerSecond: number | undefined, problem?: string): RunResult =>
    ({
      scenario,
      client: 'dynaload',
      report: rowsPerSecond === undefined ? undefined : { rowsPerSecond, written: 1 },
      stats: undefined,
      problem,
      target: undefined,
    }) as RunResult;

  it('shows the run with the median items/s (the lower middle one for an even count), with every run listed', () => {
    const odd = medianRun([run(90), run(110), run(100)]);
    assert.equal(odd.report?.rowsPerSecond, 100);
    assert.deepEqual(odd.runs, [90, 110, 100]);
    assert.equal(medianRun([run(90), run(120), run(100), run(110)]).report?.rowsPerSecond, 100);
  });

  it('shows a failed run rather than hiding it behind the others', () => {
    const shown = medianRun([run(90), run(undefined, 'timeout'), run(100)]);
    assert.equal(shown.problem, 'timeout');
    assert.deepEqual(shown.runs, [90, undefined, 100]);
  });

  it("runs each round in table order, but dynaload's fault-free and withheld runs back to back", () => {
    const order = (argv: string[]): string[] => {
      const o = parseBenchOptions(argv);
      return runOrder(o.scenarios.flatMap((s) => o.clients.map((client) => ({ scenario: s, client })))).map(
        (p) => `${p.scenario.key}/${p.client}`,
      );
    };
    assert.deepEqual(order([]), [
      'dynalite/baseline',
      'dynalite/dynaload',
      'null/baseline',
      'null/dynaload',
      'withhold20/dynaload',
      'withhold20/baseline',
      'capacity/baseline',
      'capacity/dynaload',
      's3/baseline',
      's3/dynaload',
    ]);
    assert.deepEqual(order(['--scenarios', 'withhold20,null']), [
      'withhold20/baseline',
      'withhold20/dynaload',
      'null/dynaload',
      'null/baseline',
    ]);
    assert.deepEqual(order(['--clients', 'dynaload,baseline', '--scenarios', 'null,withhold20']), [
      'null/dynaload',
      'withhold20/dynaload',
      'null/baseline',
      'withhold20/baseline',
    ]);
    assert.deepEqual(order(['--scenarios', 'null,dynalite,withhold20', '--clients', 'dynaload']), [
      'null/dynaload',
      'withhold20/dynaload',
      'dynalite/dynaload',
    ]);
    assert.deepEqual(order(['--scenarios', 'null,capacity']), [
      'null/baseline',
      'null/dynaload',
      'capacity/baseline',
      'capacity/dynaload',
    ]);
  });

  it('judges point 3 on the runs paired by round; a failed round is left out and said', () => {
    const [fastScenario, withheldScenario] = parseBenchOptions(['--scenarios', 'null,withhold20']).scenarios as [
      Scenario,
      Scenario,
    ];
    const runs = (s: Scenario, rates: (number | undefined)[]): RunResult =>
      medianRun(
        rates.map(
          (rowsPerSecond) =>
            ({
              scenario: s,
              client: 'dynaload',
              report: rowsPerSecond === undefined ? undefined : { rowsPerSecond, written: 1 },
              stats: undefined,
              problem: rowsPerSecond === undefined ? 'failed' : undefined,
              target: undefined,
            }) as RunResult,
        ),
      );
    const goal3 = (fast: (number | undefined)[], withheld: (number | undefined)[]): string | undefined =>
      goalLines(
        computeMetrics([runs(fastScenario, fast), runs(withheldScenario, withheld)], 10, 10),
        10,
        undefined,
      ).find((l) => l.startsWith('Goal 3'));
    // Paired by round: 0.80x, 0.81x, 0.88x, median 0.81x; the two median runs (100 and 80) would say 0.80x.
    assert.match(
      goal3([100, 110, 90], [80, 89, 79]) ?? '',
      /0\.81x its fault-free figure, the median of 3 rounds \(0\.80x, 0\.81x, 0\.88x; the two median runs: 0\.80x\).*: met$/,
    );
    assert.match(
      goal3([100, undefined, 100], [80, 85, 70]) ?? '',
      /0\.75x .*the median of 2 rounds \(0\.80x, 0\.70x; 1 failed\).*: NOT met$/,
    );
    assert.match(goal3([undefined, undefined], [85, 80]) ?? '', /n\/a/);
    // Just under the line reads as under it, not as "0.80x ... NOT met".
    assert.match(
      goal3([10_000], [7_997]) ?? '',
      /0\.7997x its fault-free figure, the median of 1 rounds \(0\.7997x; the two median runs: 0\.7997x\).*: NOT met$/,
    );
    assert.equal(median([0.9, 0.8, 0.85]), 0.85);
    assert.ok(Math.abs(median([0.8, 0.9]) - 0.85) < 1e-12);
    assert.ok(Number.isNaN(median([])));
    assert.deepEqual(roundRatios(undefined, [1]), []);
  });

  it('shows a ratio on the side of its goal line that it is on', () => {
    assert.equal(times(0.7997), '0.80x');
    assert.equal(times(0.7997, 0.8), '0.7997x');
    assert.equal(times(0.8, 0.8), '0.80x');
    assert.equal(times(0.5004, 0.5), '0.5004x');
    assert.equal(times(0.6951, 0.7), '0.695x');
    assert.equal(times(0.83, 0.8), '0.83x');
    assert.equal(times(undefined, 0.8), '');
  });

  it('takes 1 to 20 rounds, 1 by default', () => {
    assert.equal(parseBenchOptions([]).repeat, 1);
    assert.equal(parseBenchOptions(['--repeat', '3']).repeat, 3);
    assert.throws(() => parseBenchOptions(['--repeat', '0']), /--repeat/);
  });
});

describe('null endpoint', () => {
  const post = async (
    endpoint: string,
    target: string,
    body: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': `DynamoDB_20120810.${target}`, 'content-type': 'application/x-amz-json-1.0' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const put = (user: number): unknown => ({
    PutRequest: { Item: { user: { N: String(user) }, timestamp: { N: '1' }, moddt: { S: 'x' } } },
  });

  it('describes the table it created, the way the SDK reads it', async () => {
    const server = await startNullEndpoint({ kind: 'null' });
    const client = new DynamoDBClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    try {
      await client.send(
        new CreateTableCommand({
          TableName: 't',
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 5000 },
          AttributeDefinitions: [{ AttributeName: 'user', AttributeType: 'N' }],
          KeySchema: [{ AttributeName: 'user', KeyType: 'HASH' }],
        }),
      );
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 't' }));
      assert.deepEqual(Table?.KeySchema, [{ AttributeName: 'user', KeyType: 'HASH' }]);
      assert.equal(Table?.BillingModeSummary?.BillingMode, 'PROVISIONED');
      assert.equal(Table?.ProvisionedThroughput?.WriteCapacityUnits, 5000);
      await assert.rejects(client.send(new DescribeTableCommand({ TableName: 'nope' })), {
        name: 'ResourceNotFoundException',
      });
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('acknowledges well-formed batches and refuses malformed ones', async () => {
    const server = await startNullEndpoint({ kind: 'null' });
    try {
      await post(server.endpoint, 'CreateTable', {
        TableName: 't',
        KeySchema: [
          { AttributeName: 'user', KeyType: 'HASH' },
          { AttributeName: 'timestamp', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      });
      const ok = await post(server.endpoint, 'BatchWriteItem', {
        RequestItems: { t: Array.from({ length: 25 }, (_, i) => put(i)) },
      });
      assert.deepEqual(ok, { status: 200, body: { UnprocessedItems: {} } });
      for (const [body, message] of [
        [{ RequestItems: { t: Array.from({ length: 26 }, (_, i) => put(i)) } }, /less than or equal to 25/],
        [{ RequestItems: { t: [put(1), put(1)] } }, /duplicates/],
        [{ RequestItems: { t: [{ PutRequest: { Item: { user: { N: '1' } } } }] } }, /required keys/],
        ['{"RequestItems":', /JSON/],
      ] as const) {
        const answer = await post(server.endpoint, 'BatchWriteItem', body);
        assert.equal(answer.status, 400);
        assert.match(String(answer.body.message), message);
      }
      const stats = server.stats();
      assert.equal(stats.itemsAdmitted, 25);
      assert.equal(stats.invalidRequests, 4);
    } finally {
      await server.close();
    }
  });

  it('withholds a seeded fraction of items and returns them as UnprocessedItems', async () => {
    const server = await startNullEndpoint({ kind: 'null', withhold: 0.2, seed: 3 });
    try {
      await post(server.endpoint, 'CreateTable', {
        TableName: 't',
        KeySchema: [
          { AttributeName: 'user', KeyType: 'HASH' },
          { AttributeName: 'timestamp', KeyType: 'RANGE' },
        ],
      });
      let returned = 0;
      for (let b = 0; b < 40; b++) {
        const { body } = await post(server.endpoint, 'BatchWriteItem', {
          RequestItems: { t: Array.from({ length: 25 }, (_, i) => put(b * 25 + i)) },
        });
        returned += ((body.UnprocessedItems as Record<string, unknown[]>).t ?? []).length;
      }
      const stats = server.stats();
      assert.equal(stats.itemsWithheld, returned);
      assert.equal(stats.itemsAdmitted + stats.itemsWithheld, 1000);
      assert.ok(returned > 150 && returned < 250, String(returned));
    } finally {
      await server.close();
    }
  });
});

describe('hidden capacity and quick mode', () => {
  const [hidden] = parseBenchOptions(['--scenarios', 'hidden', '--capacity', '1000']).scenarios as [Scenario];
  const run = (unitsAdmitted: number, itemsWithheld: number, exitCode: number, written: number): RunResult => ({
    scenario: hidden,
    client: 'dynaload',
    problem: undefined,
    target: 1000,
    report: {
      written,
      exitCode,
      rowsPerSecond: 1,
      ...(exitCode === 0 ? {} : { error: { code: 'RETRIES_EXHAUSTED', message: 'x' } }),
    },
    stats: {
      kind: 'null',
      cpuMs: 0,
      requests: 1,
      batchWriteRequests: 1,
      invalidRequests: 0,
      invalidSamples: [],
      itemsAdmitted: unitsAdmitted,
      itemsWithheld,
      unitsAdmitted,
      unitsPerSecond: [],
      activeMs: unitsAdmitted,
    },
  });

  it('the hidden scenario describes an on-demand table, but its endpoint admits the capacity', () => {
    assert.equal(hidden.provisioned, undefined);
    assert.equal(hidden.capacity, 1000);
    assert.deepEqual(hidden.dynaloadArgs, []);
    assert.equal(
      parseBenchOptions([]).scenarios.some((s) => s.key === 'hidden'),
      false,
      'not in the default set',
    );
    assert.equal(parseBenchOptions(['--busy', '1']).busy, 1);
  });

  it('reports every run, and counts a failed or wasteful one against the goal (no median hides it)', () => {
    const runs = computeMetrics(
      [run(60_000, 1_200, 0, 60_000), run(60_000, 9_000, 0, 60_000), run(20_000, 90_000, 1, 20_000)],
      10,
      10,
    );
    const lines = perRunLines([{ label: 'hidden/dynaload', rows: 60_000, runs }], 1);
    assert.equal(lines.length, 4);
    assert.match(lines[0] ?? '', /run 1: 100\.0% of capacity, 2\.0% wasted, 60000 of 60000 rows, exit 0$/);
    assert.match(lines[1] ?? '', /run 2: .*15\.0% wasted/);
    assert.match(lines[2] ?? '', /run 3: .*20000 of 60000 rows, exit 1 RETRIES_EXHAUSTED$/);
    assert.match(lines[3] ?? '', /with 1 busy process\(es\): 1 of 3 runs .*: NOT met$/);
  });

  it('--quick prints no verdict, and says so', () => {
    const metrics = computeMetrics([run(60_000, 1_200, 0, 60_000)], 2, 5);
    const lines = goalSection(metrics, { quick: true, windowSeconds: 5, maxWcu: undefined });
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0] ?? '', /\bmet\b/);
    assert.match(lines[0] ?? '', /not judged in --quick mode/);
  });
});
