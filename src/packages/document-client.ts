// @aws-sdk/lib-dynamodb, through require() (see ./commonjs.ts).
import type * as Sdk from '@aws-sdk/lib-dynamodb';
import { requireCommonJs } from './commonjs.js';

const sdk = requireCommonJs('@aws-sdk/lib-dynamodb') as typeof Sdk;

export const { DynamoDBDocumentClient, NumberValue, ScanCommand } = sdk;
export type NumberValue = Sdk.NumberValue;
