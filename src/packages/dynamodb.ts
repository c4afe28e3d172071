// @aws-sdk/client-dynamodb, through require() (see ./commonjs.ts).
import type * as Sdk from '@aws-sdk/client-dynamodb';
import { requireCommonJs } from './commonjs.js';

const sdk = requireCommonJs('@aws-sdk/client-dynamodb') as typeof Sdk;

export const {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeImportCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ImportTableCommand,
} = sdk;
export type DynamoDBClient = Sdk.DynamoDBClient;
