import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { schemaOf, tableParameters } from '../../src/import/table-spec.js';

describe('tableParameters', () => {
  it('from flags: keys, on-demand billing, a GSI with projection ALL and its key types', async () => {
    const specs = await tableParameters(['T'], {
      key: 'user:N',
      sortKey: 'at:S',
      gsi: ['byEmail=email:S', 'bySeries=series:N,at:S'],
    });
    assert.deepEqual(specs.get('T'), {
      TableName: 'T',
      AttributeDefinitions: [
        { AttributeName: 'user', AttributeType: 'N' },
        { AttributeName: 'at', AttributeType: 'S' },
        { AttributeName: 'email', AttributeType: 'S' },
        { AttributeName: 'series', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'user', KeyType: 'HASH' },
        { AttributeName: 'at', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byEmail',
          KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'bySeries',
          KeySchema: [
            { AttributeName: 'series', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    assert.deepEqual(schemaOf(specs.get('T') as never), {
      table: 'T',
      hash: { name: 'user', type: 'N' },
      range: { name: 'at', type: 'S' },
      billingMode: 'PAY_PER_REQUEST',
      writeCapacityUnits: undefined,
    });
  });

  it('provisioned billing needs --wcu, and gives the GSIs the same throughput', async () => {
    await assert.rejects(tableParameters(['T'], { key: 'id:S', billing: 'provisioned' }), { code: 'OPTION_REQUIRED' });
    const spec = (
      await tableParameters(['T'], { key: 'id:S', billing: 'provisioned', wcu: '50', gsi: ['g1x=a:S'] })
    ).get('T');
    assert.deepEqual(spec?.ProvisionedThroughput, { WriteCapacityUnits: 50, ReadCapacityUnits: 50 });
    assert.deepEqual(spec?.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput, {
      WriteCapacityUnits: 50,
      ReadCapacityUnits: 50,
    });
  });

  it('refuses a table without keys, a bad --gsi, and a key type given two ways', async () => {
    await assert.rejects(tableParameters(['A', 'B'], { key: 'id:S' }), { code: 'OPTION_REQUIRED', message: /`A`/ });
    await assert.rejects(tableParameters(['T'], { key: 'id:S', gsi: ['nokeys'] }), { code: 'OPTION_INVALID' });
    await assert.rejects(tableParameters(['T'], { key: 'id:S', gsi: ['idx=id:N'] }), { code: 'OPTION_CONFLICT' });
  });

  it('from --table-spec: one TableCreationParameters per table of a fan-out; a spec without a HASH key is refused', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dynaload-spec-'));
    const file = path.join(dir, 'spec.json');
    const a = {
      TableName: 'A',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'N' }],
    };
    await writeFile(file, JSON.stringify([a, { ...a, TableName: 'B' }]));
    const specs = await tableParameters(['A', 'B'], { tableSpec: file });
    assert.deepEqual([...specs.keys()], ['A', 'B']);
    await writeFile(file, JSON.stringify({ ...a, KeySchema: [] }));
    await assert.rejects(tableParameters(['A'], { tableSpec: file }), { code: 'TABLE_SPEC_INVALID' });
  });
});
