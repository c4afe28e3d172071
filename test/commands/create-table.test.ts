import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable, type CreateTableOptions } from '../../src/commands/create-table.js';
import { startDynalite, testClient, type Dynalite } from '../support/dynalite.js';

const tableName = () => `t_${randomBytes(6).toString('hex')}`;

describe('createTable against dynalite', () => {
  let server: Dynalite;
  let client: DynamoDBClient;
  before(async () => {
    server = await startDynalite();
    client = testClient(server.endpoint);
  });
  after(async () => {
    client.destroy();
    await server.close();
  });
  const describeTable = async (table: string) =>
    (await client.send(new DescribeTableCommand({ TableName: table }))).Table;

  test('on demand by default, key only', async () => {
    const table = tableName();
    assert.equal(await createTable(client, { table, key: { name: 'user', type: 'N' } }), 'created');
    const found = await describeTable(table);
    assert.equal(found?.TableStatus, 'ACTIVE');
    assert.equal(found?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(found?.KeySchema, [{ AttributeName: 'user', KeyType: 'HASH' }]);
    assert.deepEqual(found?.AttributeDefinitions, [{ AttributeName: 'user', AttributeType: 'N' }]);
  });

  const provisioned: Array<[label: string, options: Partial<CreateTableOptions>, wcu: number, rcu: number]> = [
    ['provisioned: rcu defaults to wcu', { billing: 'PROVISIONED', wcu: 25 }, 25, 25],
    ['provisioned with rcu', { billing: 'PROVISIONED', wcu: 25, rcu: 5 }, 25, 5],
  ];
  for (const [label, options, wcu, rcu] of provisioned) {
    test(label, async () => {
      const table = tableName();
      assert.equal(
        await createTable(client, {
          table,
          key: { name: 'user', type: 'N' },
          sortKey: { name: 'ts', type: 'S' },
          ...options,
        }),
        'created',
      );
      const found = await describeTable(table);
      assert.equal(found?.ProvisionedThroughput?.WriteCapacityUnits, wcu);
      assert.equal(found?.ProvisionedThroughput?.ReadCapacityUnits, rcu);
      assert.deepEqual(found?.KeySchema, [
        { AttributeName: 'user', KeyType: 'HASH' },
        { AttributeName: 'ts', KeyType: 'RANGE' },
      ]);
    });
  }

  test('an existing table with the same keys: `exists`, untouched', async () => {
    const table = tableName();
    const options: CreateTableOptions = { table, key: { name: 'user', type: 'N' }, sortKey: { name: 'ts', type: 'N' } };
    assert.equal(await createTable(client, options), 'created');
    assert.equal(await createTable(client, options), 'exists');
    // Billing is not part of the comparison: a re-run with other capacity flags still proceeds.
    assert.equal(await createTable(client, { ...options, billing: 'PROVISIONED', wcu: 5 }), 'exists');
    assert.equal((await describeTable(table))?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
  });

  const different: Array<
    [
      label: string,
      existing: Pick<CreateTableOptions, 'key' | 'sortKey'>,
      wanted: Pick<CreateTableOptions, 'key' | 'sortKey'>,
      message: string,
    ]
  > = [
    [
      'another key type',
      { key: { name: 'user', type: 'S' } },
      { key: { name: 'user', type: 'N' } },
      'to have key user:N and sort key none, but it already exists with key user:S and sort key none',
    ],
    [
      'another key name',
      { key: { name: 'id', type: 'N' } },
      { key: { name: 'user', type: 'N' } },
      'to have key user:N and sort key none, but it already exists with key id:N and sort key none',
    ],
    [
      'a sort key it lacks',
      { key: { name: 'user', type: 'N' } },
      { key: { name: 'user', type: 'N' }, sortKey: { name: 'ts', type: 'N' } },
      'to have key user:N and sort key ts:N, but it already exists with key user:N and sort key none',
    ],
    [
      'no sort key, but it has one',
      { key: { name: 'user', type: 'N' }, sortKey: { name: 'ts', type: 'N' } },
      { key: { name: 'user', type: 'N' } },
      'to have key user:N and sort key none, but it already exists with key user:N and sort key ts:N',
    ],
  ];
  for (const [label, existing, wanted, message] of different) {
    test(`an existing table with ${label}: TABLE_EXISTS_DIFFERENT`, async () => {
      const table = tableName();
      await createTable(client, { table, ...existing });
      await assert.rejects(
        createTable(client, { table, ...wanted }),
        (error: Error & { code: string; exitCode: number; context: Record<string, unknown> }) => {
          assert.equal(error.code, 'TABLE_EXISTS_DIFFERENT');
          assert.equal(error.exitCode, 1);
          assert.ok(error.message.startsWith(`Expected table \`${table}\` ${message}`), error.message);
          assert.equal(error.context.table, table);
          return true;
        },
      );
    });
  }

  const usage: Array<[label: string, options: Partial<CreateTableOptions>, code: string, message: RegExp]> = [
    [
      'provisioned without wcu',
      { billing: 'PROVISIONED' },
      'OPTION_REQUIRED',
      /^Expected `--wcu <n>` with `--billing provisioned`/,
    ],
    [
      'provisioned with wcu 0',
      { billing: 'PROVISIONED', wcu: 0 },
      'OPTION_INVALID',
      /^Expected `--wcu` to be a positive integer, got `0`$/,
    ],
    [
      'provisioned with rcu 1.5',
      { billing: 'PROVISIONED', wcu: 1, rcu: 1.5 },
      'OPTION_INVALID',
      /^Expected `--rcu` to be a positive integer, got `1.5`$/,
    ],
    [
      'on demand with wcu',
      { wcu: 10 },
      'OPTION_CONFLICT',
      /^Expected `--wcu` and `--rcu` only with `--billing provisioned`/,
    ],
  ];
  for (const [label, options, code, message] of usage) {
    test(`${label}: usage error, nothing created`, async () => {
      const table = tableName();
      await assert.rejects(createTable(client, { table, key: { name: 'user', type: 'N' }, ...options }), {
        code,
        exitCode: 2,
        message,
      });
      await assert.rejects(describeTable(table), { name: 'ResourceNotFoundException' });
    });
  }
});

describe('createTable waiting', () => {
  /** A client whose DescribeTable answers from a script (one status per call, the last repeated). */
  function scripted(statuses: Array<string | undefined>): { client: DynamoDBClient; calls: string[] } {
    const calls: string[] = [];
    let describes = 0;
    const send = async (command: { constructor: { name: string } }) => {
      calls.push(command.constructor.name);
      if (command.constructor.name === 'CreateTableCommand') return {};
      const status = statuses[Math.min(describes++, statuses.length - 1)];
      if (status === undefined) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
      return {
        Table: {
          TableStatus: status,
          KeySchema: [{ AttributeName: 'user', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'user', AttributeType: 'N' }],
        },
      };
    };
    return { client: { send } as unknown as DynamoDBClient, calls };
  }

  test('polls DescribeTable until ACTIVE (not visible at first, then CREATING)', async () => {
    const { client, calls } = scripted([undefined, undefined, 'CREATING', 'CREATING', 'ACTIVE']);
    assert.equal(await createTable(client, { table: 't', key: { name: 'user', type: 'N' }, pollMs: 1 }), 'created');
    assert.deepEqual(calls, [
      'DescribeTableCommand',
      'CreateTableCommand',
      'DescribeTableCommand',
      'DescribeTableCommand',
      'DescribeTableCommand',
      'DescribeTableCommand',
    ]);
  });

  test('an existing table still CREATING is waited for', async () => {
    const { client } = scripted(['CREATING', 'CREATING', 'ACTIVE']);
    assert.equal(await createTable(client, { table: 't', key: { name: 'user', type: 'N' }, pollMs: 1 }), 'exists');
  });

  const failing: Array<[label: string, statuses: Array<string | undefined>, message: RegExp]> = [
    [
      'never ACTIVE: a timeout',
      [undefined, 'CREATING'],
      /^Expected table `t` to become ACTIVE within 0 s, but it is still CREATING$/,
    ],
    ['being deleted', ['DELETING'], /^Expected table `t` to become ACTIVE, but it is being deleted$/],
  ];
  for (const [label, statuses, message] of failing) {
    test(`${label}: TABLE_NOT_ACTIVE`, async () => {
      const { client } = scripted(statuses);
      await assert.rejects(
        createTable(client, { table: 't', key: { name: 'user', type: 'N' }, pollMs: 1, timeoutMs: 30 }),
        { code: 'TABLE_NOT_ACTIVE', exitCode: 1, message },
      );
    });
  }
});
