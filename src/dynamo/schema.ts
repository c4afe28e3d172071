import type { DynamoDBClient, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { DescribeTableCommand } from '../packages/dynamodb.js';
import { DynaloadError } from '../errors.js';
import type { KeyType } from '../type-spec.js';
import { classifyError, errorMessage, errorName } from './classify.js';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

/** A key attribute of the table's secondary indexes (not one of the table's own keys). */
export interface IndexKeyAttribute extends KeyAttribute {
  /** The indexes it keys, by name. */
  readonly indexes: readonly string[];
  /** `sort` when it is some index's sort key (then at most 1024 bytes, else 2048). */
  readonly role: 'partition' | 'sort';
}

/** What the loader needs to know of a table, read with DescribeTable before any row is read. */
export interface TableSchema {
  readonly table: string;
  readonly hash: KeyAttribute;
  readonly range: KeyAttribute | undefined;
  /** Key attributes of its global and local secondary indexes; absent: none known. */
  readonly indexKeys?: readonly IndexKeyAttribute[];
  readonly billingMode: string;
  readonly writeCapacityUnits: number | undefined;
}

/** The table's key attributes and its secondary indexes', name -> type: the types their values must have. */
export function keyTypes(schema: TableSchema): Readonly<Record<string, KeyType>> {
  const types = Object.create(null) as Record<string, KeyType>;
  for (const key of [schema.hash, ...(schema.range ? [schema.range] : []), ...(schema.indexKeys ?? [])])
    types[key.name] = key.type;
  return types;
}

export async function describeTable(client: DynamoDBClient, table: string, where: string): Promise<TableSchema> {
  let output;
  try {
    output = await client.send(new DescribeTableCommand({ TableName: table }));
  } catch (error) {
    throw describeFailure(error, table, where);
  }
  const description = output.Table;
  const keySchema = description?.KeySchema ?? [];
  const definitions = new Map((description?.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
  const typeOf = (name: string): KeyType => {
    const type = definitions.get(name);
    if (type !== 'S' && type !== 'N' && type !== 'B') {
      throw new DynaloadError(
        'TABLE_SCHEMA',
        `Expected key attribute \`${name}\` of \`${table}\` to be of type S, N or B, got \`${String(type)}\``,
        { context: { table } },
      );
    }
    return type;
  };
  const key = (role: 'HASH' | 'RANGE'): KeyAttribute | undefined => {
    const element = keySchema.find((k) => k.KeyType === role);
    if (element?.AttributeName === undefined) return undefined;
    return { name: element.AttributeName, type: typeOf(element.AttributeName) };
  };
  const hash = key('HASH');
  if (hash === undefined) {
    throw new DynaloadError(
      'TABLE_SCHEMA',
      `Expected DescribeTable of \`${table}\` to name a partition (HASH) key, got none`,
      { context: { table } },
    );
  }
  return Object.freeze({
    table,
    hash,
    range: key('RANGE'),
    indexKeys: indexKeys(
      [...(description?.GlobalSecondaryIndexes ?? []), ...(description?.LocalSecondaryIndexes ?? [])],
      keySchema.map((k) => k.AttributeName),
      typeOf,
    ),
    billingMode:
      description?.BillingModeSummary?.BillingMode ??
      (description?.ProvisionedThroughput?.WriteCapacityUnits ? 'PROVISIONED' : 'PAY_PER_REQUEST'),
    writeCapacityUnits: description?.ProvisionedThroughput?.WriteCapacityUnits || undefined,
  });
}

/**
 * The key attributes of a table's secondary indexes, each once, with every index it keys. DynamoDB
 * refuses a whole batch when one item has an index key of the wrong type or an empty one; knowing
 * them lets the loader reject that item alone, before it joins a batch.
 */
function indexKeys(
  indexes: readonly { IndexName?: string | undefined; KeySchema?: readonly KeySchemaElement[] | undefined }[],
  tableKeys: readonly (string | undefined)[],
  typeOf: (name: string) => KeyType,
): IndexKeyAttribute[] {
  type Entry = { type: KeyType; indexes: string[]; role: 'partition' | 'sort' };
  const found = new Map<string, Entry>();
  for (const index of indexes) {
    for (const element of index.KeySchema ?? []) {
      const name = element.AttributeName;
      if (name === undefined || tableKeys.includes(name)) continue;
      const entry: Entry = found.get(name) ?? { type: typeOf(name), indexes: [], role: 'partition' };
      entry.indexes.push(index.IndexName ?? '?');
      if (element.KeyType === 'RANGE') entry.role = 'sort';
      found.set(name, entry);
    }
  }
  return [...found].map(([name, entry]) => Object.freeze({ name, ...entry, indexes: Object.freeze(entry.indexes) }));
}

function describeFailure(error: unknown, table: string, where: string): DynaloadError {
  const name = errorName(error);
  const context = { table, endpoint: where, awsError: name };
  if (name === 'ResourceNotFoundException') {
    return new DynaloadError(
      'TABLE_NOT_FOUND',
      `Expected table \`${table}\` to exist at ${where}, but DescribeTable found no such table`,
      { context, cause: error },
    );
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
    return new DynaloadError(
      'CREDENTIALS_MISSING',
      `Expected AWS credentials from the default provider chain (environment, AWS_PROFILE, SSO, instance role), found none: ${errorMessage(error)}`,
      { context, cause: error },
    );
  }
  if (
    [
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'ExpiredTokenException',
      'AccessDeniedException',
      'MissingAuthenticationTokenException',
    ].includes(name)
  ) {
    return new DynaloadError(
      'ACCESS_DENIED',
      `DescribeTable of \`${table}\` at ${where} was refused (${name}): ${errorMessage(error)}`,
      { context, cause: error },
    );
  }
  if (classifyError(error) === 'network') {
    return new DynaloadError(
      'ENDPOINT_UNREACHABLE',
      `Expected a DynamoDB endpoint at ${where}, but it could not be reached: ${errorMessage(error)}`,
      { context, cause: error },
    );
  }
  if (/region/i.test(errorMessage(error))) {
    return new DynaloadError(
      'REGION_MISSING',
      `Expected a region from \`--region\`, AWS_REGION or the AWS profile, found none`,
      { exitCode: 2, context, cause: error },
    );
  }
  return new DynaloadError(
    'DESCRIBE_FAILED',
    `DescribeTable of \`${table}\` at ${where} failed (${name}): ${errorMessage(error)}`,
    { context, cause: error },
  );
}
