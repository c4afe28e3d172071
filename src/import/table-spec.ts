import { readFile } from 'node:fs/promises';
import type { GlobalSecondaryIndex, TableCreationParameters } from '@aws-sdk/client-dynamodb';
import { parseCapacity } from '../config.js';
import type { KeyAttribute, TableSchema } from '../dynamo/schema.js';
import { usageError } from '../errors.js';
import { parseKeySpec } from '../table-options.js';

/** The flags that describe the table an import creates. */
export interface TableFlags {
  table?: string;
  key?: string;
  sortKey?: string;
  billing?: string;
  wcu?: string | number;
  rcu?: string | number;
  /** `--gsi name=pk:S[,sk:N]`, repeatable. */
  gsi?: readonly string[] | undefined;
  /** `--table-spec file.json`: TableCreationParameters (one, or an array for a fan-out). */
  tableSpec?: string | undefined;
}

/** Each target table's TableCreationParameters, from `--table-spec` or from the flags. */
export async function tableParameters(
  tables: readonly string[],
  flags: TableFlags,
): Promise<Map<string, TableCreationParameters>> {
  const specs = new Map<string, TableCreationParameters>();
  if (flags.tableSpec !== undefined) {
    for (const spec of await readSpecFile(flags.tableSpec)) specs.set(spec.TableName as string, spec);
  } else if (flags.key !== undefined && tables.length === 1) {
    specs.set(tables[0] as string, fromFlags(tables[0] as string, flags));
  }
  for (const table of tables) {
    if (!specs.has(table)) {
      throw usageError(
        'OPTION_REQUIRED',
        `Expected the key schema of new table \`${table}\`: give \`--key name:S|N|B\` (one table) or \`--table-spec file.json\` naming it`,
        { option: '--key', table },
      );
    }
  }
  return new Map(tables.map((t) => [t, specs.get(t) as TableCreationParameters]));
}

function fromFlags(table: string, flags: TableFlags): TableCreationParameters {
  const hash = parseKeySpec(flags.key as string);
  const range = flags.sortKey === undefined ? undefined : parseKeySpec(flags.sortKey, '--sort-key');
  const provisioned = flags.billing === 'provisioned';
  const throughput = provisioned ? capacity(flags) : undefined;
  const attributes = new Map<string, string>([[hash.name, hash.type]]);
  if (range) attributes.set(range.name, range.type);
  const indexes: GlobalSecondaryIndex[] = (flags.gsi ?? []).map((text) => {
    const match = /^([A-Za-z0-9_.-]{3,255})=(.+)$/.exec(text);
    if (match === null)
      throw usageError(
        'OPTION_INVALID',
        `Expected \`--gsi\` like \`name=pk:S\` or \`name=pk:S,sk:N\`, got \`${text}\``,
        { option: '--gsi', value: text },
      );
    const [pk, sk, extra] = (match[2] as string).split(',');
    if (extra !== undefined)
      throw usageError(
        'OPTION_INVALID',
        `Expected \`--gsi\` to name at most a partition and a sort key, got \`${text}\``,
        { option: '--gsi', value: text },
      );
    const keys = [parseKeySpec(pk as string, '--gsi'), ...(sk === undefined ? [] : [parseKeySpec(sk, '--gsi')])];
    for (const key of keys) {
      const known = attributes.get(key.name);
      if (known !== undefined && known !== key.type)
        throw usageError(
          'OPTION_CONFLICT',
          `Expected \`--gsi\` key \`${key.name}\` to have the type it has elsewhere (${known}), got ${key.type}`,
          { option: '--gsi', value: text },
        );
      attributes.set(key.name, key.type);
    }
    return {
      IndexName: match[1],
      KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      Projection: { ProjectionType: 'ALL' },
      ...(throughput ? { ProvisionedThroughput: throughput } : {}),
    };
  });
  return {
    TableName: table,
    AttributeDefinitions: [...attributes].map(([name, type]) => ({
      AttributeName: name,
      AttributeType: type as 'S' | 'N' | 'B',
    })),
    KeySchema: [
      { AttributeName: hash.name, KeyType: 'HASH' },
      ...(range ? [{ AttributeName: range.name, KeyType: 'RANGE' as const }] : []),
    ],
    BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    ...(throughput ? { ProvisionedThroughput: throughput } : {}),
    ...(indexes.length ? { GlobalSecondaryIndexes: indexes } : {}),
  };
}

function capacity(flags: TableFlags): { ReadCapacityUnits: number; WriteCapacityUnits: number } {
  if (flags.wcu === undefined)
    throw usageError(
      'OPTION_REQUIRED',
      'Expected `--wcu n` with `--billing provisioned`: the write capacity of the new table',
      { option: '--wcu' },
    );
  const wcu = parseCapacity('--wcu', flags.wcu);
  return {
    WriteCapacityUnits: wcu,
    ReadCapacityUnits: flags.rcu === undefined ? wcu : parseCapacity('--rcu', flags.rcu),
  };
}

async function readSpecFile(file: string): Promise<TableCreationParameters[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw usageError(
      'TABLE_SPEC_INVALID',
      `Expected \`--table-spec\` to name a readable JSON file, got ${file}: ${error instanceof Error ? error.message : String(error)}`,
      { file },
    );
  }
  const list = Array.isArray(json) ? json : [json];
  return list.map((spec, i) => {
    const s = spec as TableCreationParameters;
    if (typeof s?.TableName !== 'string' || !Array.isArray(s.KeySchema) || !Array.isArray(s.AttributeDefinitions)) {
      throw usageError(
        'TABLE_SPEC_INVALID',
        `Expected entry ${i} of ${file} to be TableCreationParameters with TableName, KeySchema and AttributeDefinitions, got ${JSON.stringify(spec)?.slice(0, 120)}`,
        { file },
      );
    }
    schemaOf(s);
    return s;
  });
}

/** The key schema the rows are checked against, from the parameters the table will be created with. */
export function schemaOf(spec: TableCreationParameters): TableSchema {
  const table = spec.TableName as string;
  const types = new Map((spec.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
  const key = (role: 'HASH' | 'RANGE'): KeyAttribute | undefined => {
    const name = spec.KeySchema?.find((k) => k.KeyType === role)?.AttributeName;
    if (name === undefined) return undefined;
    const type = types.get(name);
    if (type !== 'S' && type !== 'N' && type !== 'B')
      throw usageError(
        'TABLE_SPEC_INVALID',
        `Expected key \`${name}\` of \`${table}\` to have an AttributeDefinition of type S, N or B, got ${String(type)}`,
        { table },
      );
    return { name, type };
  };
  const hash = key('HASH');
  if (hash === undefined)
    throw usageError('TABLE_SPEC_INVALID', `Expected the KeySchema of \`${table}\` to name a HASH key, got none`, {
      table,
    });
  return {
    table,
    hash,
    range: key('RANGE'),
    billingMode: spec.BillingMode ?? 'PAY_PER_REQUEST',
    writeCapacityUnits: undefined,
  };
}
