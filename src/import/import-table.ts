import type { DynamoDBClient, ImportTableDescription, TableCreationParameters } from '@aws-sdk/client-dynamodb';
import { DescribeImportCommand, ImportTableCommand } from '../packages/dynamodb.js';
import { errorMessage, errorName } from '../dynamo/classify.js';
import { DynaloadError } from '../errors.js';
import type { StagedTable, StageLocation } from './stage.js';

export const FINAL_STATUSES = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * ImportTable of a staged table: DynamoDB JSON, GZIP, the key prefix of this staging only, and a
 * ClientToken digested from the parameters and the staged bytes, so a rerun of the same load
 * within DynamoDB's idempotency window gets the first import back instead of starting a second.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ImportTable.html
 */
export async function startImport(
  client: DynamoDBClient,
  staged: StagedTable,
  stage: StageLocation,
  parameters: TableCreationParameters,
): Promise<ImportTableDescription> {
  try {
    const output = await client.send(
      new ImportTableCommand({
        ClientToken: staged.clientToken,
        S3BucketSource: { S3Bucket: stage.bucket, S3KeyPrefix: staged.keyPrefix },
        InputFormat: 'DYNAMODB_JSON',
        InputCompressionType: 'GZIP',
        TableCreationParameters: parameters,
      }),
    );
    if (output.ImportTableDescription?.ImportArn === undefined) throw new Error('the answer holds no ImportArn');
    return output.ImportTableDescription;
  } catch (error) {
    throw importError(error, staged.table, 'ImportTable');
  }
}

export interface FollowOptions {
  readonly pollMs: number;
  readonly update: (description: ImportTableDescription) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** DescribeImport until the import is COMPLETED, FAILED or CANCELLED. */
export async function followImport(
  client: DynamoDBClient,
  importArn: string,
  table: string,
  options: FollowOptions,
): Promise<ImportTableDescription> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (;;) {
    let description: ImportTableDescription | undefined;
    try {
      description = (await client.send(new DescribeImportCommand({ ImportArn: importArn }))).ImportTableDescription;
    } catch (error) {
      throw importError(error, table, 'DescribeImport');
    }
    if (description === undefined)
      throw new DynaloadError(
        'IMPORT_FAILED',
        `Expected DescribeImport of ${importArn} to describe the import, got no ImportTableDescription`,
        { context: { table, importArn } },
      );
    options.update(description);
    if (FINAL_STATUSES.has(description.ImportStatus ?? '')) return description;
    await sleep(options.pollMs);
  }
}

function importError(error: unknown, table: string, api: string): DynaloadError {
  const name = errorName(error);
  const context = { table, awsError: name, api };
  const detail = errorMessage(error);
  if (name === 'ResourceInUseException' || name === 'TableAlreadyExistsException') {
    return new DynaloadError(
      'TABLE_EXISTS',
      `Expected \`${table}\` to be a new table (ImportTable creates it), got ${name}: ${detail}. A finished import of the same rows is found again only within DynamoDB's 8-hour ClientToken window`,
      { context, cause: error },
    );
  }
  if (name === 'IdempotentParameterMismatchException') {
    return new DynaloadError(
      'IMPORT_TOKEN_MISMATCH',
      `Expected the ClientToken of these staged rows to belong to an import with the same parameters, got ${name}: ${detail}`,
      { context, cause: error },
    );
  }
  if (name === 'ImportConflictException' || name === 'LimitExceededException') {
    return new DynaloadError('IMPORT_REFUSED', `${api} of \`${table}\` was refused: ${name}: ${detail}`, {
      context,
      cause: error,
    });
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
    return new DynaloadError(
      'IMPORT_ACCESS_DENIED',
      `Expected dynamodb:${api} to be allowed for \`${table}\`, got ${name}: ${detail} (README lists the IAM actions an import needs)`,
      { context, cause: error },
    );
  }
  return new DynaloadError('IMPORT_FAILED', `${api} of \`${table}\` failed: ${name ? `${name}: ` : ''}${detail}`, {
    context,
    cause: error,
  });
}
