import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DescribeTableCommandOutput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describeTable, keyTypes } from '../../src/dynamo/schema.js';

// Parsing of a DescribeTable answer (the shape DynamoDB documents); the end-to-end tests read real
// answers from dynalite.
function answering(table: DescribeTableCommandOutput['Table']): DynamoDBClient {
  return { send: async () => ({ Table: table, $metadata: {} }) } as unknown as DynamoDBClient;
}

describe('describeTable: secondary-index keys', () => {
  test("GSI and LSI key attributes, each once with every index it keys, without the table's keys", async () => {
    const schema = await describeTable(
      answering({
        TableName: 'T',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
          { AttributeName: 'g', AttributeType: 'N' },
          { AttributeName: 'at', AttributeType: 'S' },
          { AttributeName: 'l', AttributeType: 'B' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'by_g',
            KeySchema: [
              { AttributeName: 'g', KeyType: 'HASH' },
              { AttributeName: 'at', KeyType: 'RANGE' },
            ],
          },
          {
            IndexName: 'by_at',
            KeySchema: [
              { AttributeName: 'at', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
          },
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: 'by_l',
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'l', KeyType: 'RANGE' },
            ],
          },
        ],
      }),
      'T',
      'here',
    );
    assert.deepEqual(schema.indexKeys, [
      { name: 'g', type: 'N', indexes: ['by_g'], role: 'partition' },
      { name: 'at', type: 'S', indexes: ['by_g', 'by_at'], role: 'sort' },
      { name: 'l', type: 'B', indexes: ['by_l'], role: 'sort' },
    ]);
    assert.deepEqual({ ...keyTypes(schema) }, { pk: 'S', sk: 'N', g: 'N', at: 'S', l: 'B' });
  });

  test('a table without indexes has none', async () => {
    const schema = await describeTable(
      answering({
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      }),
      'T',
      'here',
    );
    assert.deepEqual(schema.indexKeys, []);
  });

  test('an index key without a scalar definition is TABLE_SCHEMA', async () => {
    await assert.rejects(
      describeTable(
        answering({
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          GlobalSecondaryIndexes: [{ IndexName: 'x', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }] }],
        }),
        'T',
        'here',
      ),
      { code: 'TABLE_SCHEMA' },
    );
  });
});
