import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynaloadError } from '../errors.js';
import type { KeyType } from '../type-spec.js';
import { classifyError, errorMessage, errorName } from './classify.js';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

/** What the loader needs to know of a table, read with DescribeTable before any row is read. */
export interface TableSchema {
  readonly table: string;
  readonly hash: KeyAttribute;
  readonly range: KeyAttribute | undefined;
  readonly billingMode: string;
  readonly writeCapacityUnits: number | undefined;
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
  const key = (role: 'HASH' | 'RANGE'): KeyAttribute | undefined => {
    const element = keySchema.find((k) => k.KeyType === role);
    if (element?.AttributeName === undefined) return undefined;
    const type = definitions.get(element.AttributeName);
    if (type !== 'S' && type !== 'N' && type !== 'B') {
      throw new DynaloadError('TABLE_SCHEMA', `Expected key attribute \`${element.AttributeName}\` of \`${table}\` to be of type S, N or B, got \`${String(type)}\``, { context: { table } });
    }
    return { name: element.AttributeName, type };
  };
  const hash = key('HASH');
  if (hash === undefined) {
    throw new DynaloadError('TABLE_SCHEMA', `Expected DescribeTable of \`${table}\` to name a partition (HASH) key, got none`, { context: { table } });
  }
  return Object.freeze({
    table,
    hash,
    range: key('RANGE'),
    billingMode: description?.BillingModeSummary?.BillingMode ?? (description?.ProvisionedThroughput?.WriteCapacityUnits ? 'PROVISIONED' : 'PAY_PER_REQUEST'),
    writeCapacityUnits: description?.ProvisionedThroughput?.WriteCapacityUnits || undefined,
  });
}

function describeFailure(error: unknown, table: string, where: string): DynaloadError {
  const name = errorName(error);
  const context = { table, endpoint: where, awsError: name };
  if (name === 'ResourceNotFoundException') {
    return new DynaloadError('TABLE_NOT_FOUND', `Expected table \`${table}\` to exist at ${where}, but DescribeTable found no such table`, { context, cause: error });
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
    return new DynaloadError('CREDENTIALS_MISSING', `Expected AWS credentials from the default provider chain (environment, AWS_PROFILE, SSO, instance role), found none: ${errorMessage(error)}`, { context, cause: error });
  }
  if (['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'AccessDeniedException', 'MissingAuthenticationTokenException'].includes(name)) {
    return new DynaloadError('ACCESS_DENIED', `DescribeTable of \`${table}\` at ${where} was refused (${name}): ${errorMessage(error)}`, { context, cause: error });
  }
  if (classifyError(error) === 'network') {
    return new DynaloadError('ENDPOINT_UNREACHABLE', `Expected a DynamoDB endpoint at ${where}, but it could not be reached: ${errorMessage(error)}`, { context, cause: error });
  }
  if (/region/i.test(errorMessage(error))) {
    return new DynaloadError('REGION_MISSING', `Expected a region from \`--region\`, AWS_REGION or the AWS profile, found none`, { exitCode: 2, context, cause: error });
  }
  return new DynaloadError('DESCRIBE_FAILED', `DescribeTable of \`${table}\` at ${where} failed (${name}): ${errorMessage(error)}`, { context, cause: error });
}
