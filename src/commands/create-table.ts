import { setTimeout as sleep } from 'node:timers/promises';
import type { AttributeDefinition, DynamoDBClient, KeySchemaElement, TableDescription } from '@aws-sdk/client-dynamodb';
import { CreateTableCommand, DescribeTableCommand } from '../packages/dynamodb.js';
import { errorMessage, errorName } from '../dynamo/classify.js';
import type { KeyAttribute } from '../dynamo/schema.js';
import { DynaloadError, usageError } from '../errors.js';
import type { KeyType } from '../type-spec.js';

/**
 * `--create-table`: creates the table with CreateTable, then waits with DescribeTable
 * until it is ACTIVE. Never called unless asked. A table that already exists with the same key
 * schema is fine (re-running a load must not fail); one with another key schema is an error.
 */

export type BillingMode = 'PAY_PER_REQUEST' | 'PROVISIONED';

export interface CreateTableOptions {
  readonly table: string;
  readonly key: KeyAttribute;
  readonly sortKey?: KeyAttribute | undefined;
  /** Default PAY_PER_REQUEST (on demand). */
  readonly billing?: BillingMode;
  /** Required with PROVISIONED. */
  readonly wcu?: number | undefined;
  /**
   * With PROVISIONED; defaults to `wcu`, so the table can be read back at the rate it was loaded
   * (read units cost a fifth of write units; pass a smaller `rcu` to pay less).
   */
  readonly rcu?: number | undefined;
  /** How long to wait for ACTIVE (default 5 minutes; AWS usually takes seconds). */
  readonly timeoutMs?: number;
  /** DescribeTable polling interval (default 1 s). */
  readonly pollMs?: number;
}

export type CreateTableResult = 'created' | 'exists';

export async function createTable(client: DynamoDBClient, options: CreateTableOptions): Promise<CreateTableResult> {
  const billing = options.billing ?? 'PAY_PER_REQUEST';
  const throughput = capacity(billing, options);
  const existing = await describe(client, options.table);
  if (existing !== undefined) {
    checkSameKeys(options, existing);
    await waitUntilActive(client, options);
    return 'exists';
  }
  const attributes: AttributeDefinition[] = [{ AttributeName: options.key.name, AttributeType: options.key.type }];
  const schema: KeySchemaElement[] = [{ AttributeName: options.key.name, KeyType: 'HASH' }];
  if (options.sortKey) {
    attributes.push({ AttributeName: options.sortKey.name, AttributeType: options.sortKey.type });
    schema.push({ AttributeName: options.sortKey.name, KeyType: 'RANGE' });
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: options.table,
        AttributeDefinitions: attributes,
        KeySchema: schema,
        BillingMode: billing,
        ...(throughput ? { ProvisionedThroughput: throughput } : {}),
      }),
    );
  } catch (error) {
    // Created by someone else since our DescribeTable: judge it like any existing table.
    if (errorName(error) !== 'ResourceInUseException')
      throw failure('CREATE_TABLE_FAILED', `CreateTable of \`${options.table}\` failed`, options.table, error);
    const raced = await describe(client, options.table);
    if (raced === undefined)
      throw failure('CREATE_TABLE_FAILED', `CreateTable of \`${options.table}\` failed`, options.table, error);
    checkSameKeys(options, raced);
    await waitUntilActive(client, options);
    return 'exists';
  }
  await waitUntilActive(client, options);
  return 'created';
}

function capacity(
  billing: BillingMode,
  options: CreateTableOptions,
): { WriteCapacityUnits: number; ReadCapacityUnits: number } | undefined {
  if (billing === 'PAY_PER_REQUEST') {
    if (options.wcu !== undefined || options.rcu !== undefined) {
      throw usageError(
        'OPTION_CONFLICT',
        'Expected `--wcu` and `--rcu` only with `--billing provisioned`: on-demand tables have no provisioned capacity',
        { option: options.wcu !== undefined ? '--wcu' : '--rcu' },
      );
    }
    return undefined;
  }
  if (options.wcu === undefined) {
    throw usageError(
      'OPTION_REQUIRED',
      'Expected `--wcu <n>` with `--billing provisioned`: the write capacity units of the new table',
      { option: '--wcu' },
    );
  }
  for (const [option, value] of [
    ['--wcu', options.wcu],
    ['--rcu', options.rcu],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw usageError('OPTION_INVALID', `Expected \`${option}\` to be a positive integer, got \`${value}\``, {
        option,
        value,
      });
    }
  }
  return { WriteCapacityUnits: options.wcu, ReadCapacityUnits: options.rcu ?? options.wcu };
}

/** The table's description, or undefined when there is no such table. */
async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw failure('DESCRIBE_FAILED', `DescribeTable of \`${table}\` failed`, table, error);
  }
}

function checkSameKeys(options: CreateTableOptions, existing: TableDescription): void {
  const types = new Map((existing.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
  const key = (role: 'HASH' | 'RANGE'): KeyAttribute | undefined => {
    const name = existing.KeySchema?.find((k) => k.KeyType === role)?.AttributeName;
    return name === undefined ? undefined : { name, type: types.get(name) as KeyType };
  };
  const wanted = describeKeys(options.key, options.sortKey);
  const found = describeKeys(key('HASH'), key('RANGE'));
  if (wanted !== found) {
    throw new DynaloadError(
      'TABLE_EXISTS_DIFFERENT',
      `Expected table \`${options.table}\` to have ${wanted}, but it already exists with ${found}: choose another table name, or drop \`--create-table\` and match its keys`,
      {
        context: { table: options.table, wanted, found },
      },
    );
  }
}

function describeKeys(key: KeyAttribute | undefined, sortKey: KeyAttribute | undefined): string {
  const part = (k: KeyAttribute | undefined) => (k === undefined ? 'none' : `${k.name}:${k.type}`);
  return `key ${part(key)} and sort key ${part(sortKey)}`;
}

async function waitUntilActive(client: DynamoDBClient, options: CreateTableOptions): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  for (;;) {
    // Right after CreateTable, DescribeTable may not see the table yet (eventual consistency): keep asking.
    const status = (await describe(client, options.table))?.TableStatus;
    if (status === 'ACTIVE') return;
    if (status === 'DELETING') {
      throw new DynaloadError(
        'TABLE_NOT_ACTIVE',
        `Expected table \`${options.table}\` to become ACTIVE, but it is being deleted`,
        { context: { table: options.table, status } },
      );
    }
    if (Date.now() >= deadline) {
      throw new DynaloadError(
        'TABLE_NOT_ACTIVE',
        `Expected table \`${options.table}\` to become ACTIVE within ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s, but it is still ${status ?? 'not visible'}`,
        {
          context: { table: options.table, status: status ?? 'missing' },
        },
      );
    }
    await sleep(options.pollMs ?? 1000);
  }
}

function failure(code: string, what: string, table: string, error: unknown): DynaloadError {
  return new DynaloadError(code, `${what} (${errorName(error)}): ${errorMessage(error)}`, {
    context: { table, awsError: errorName(error) },
    cause: error,
  });
}
