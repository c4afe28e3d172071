import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, test } from 'node:test';
import { DEFAULTS, resolveUploadConfig, type RawUploadOptions } from '../src/config.js';

// Messages follow STYLE.md: "Expected `--concurrency` to be `auto` or an integer from 1 to 50, got `abc`";
// usage errors exit 2. Ranges: --concurrency is capped by the SDK's 50 sockets (STYLE.md).
const resolve = (raw: RawUploadOptions, inputs: string[] = ['a.csv']) =>
  resolveUploadConfig(inputs, { table: 't', ...raw });

describe('resolveUploadConfig defaults', () => {
  test('only --table and an input: every default', () => {
    const config = resolve({});
    assert.deepEqual(config, {
      kind: 'put',
      inputs: ['a.csv'],
      table: 't',
      transform: undefined,
      mapping: undefined,
      infer: false,
      format: undefined,
      endpoint: undefined,
      region: undefined,
      workers: Math.max(1, os.availableParallelism()),
      concurrency: DEFAULTS.concurrency,
      types: {},
      header: true,
      columns: undefined,
      delimiter: undefined,
      escape: '"',
      encoding: 'utf-8',
      strictQuotes: false,
      empty: 'drop',
      rejectsPath: undefined,
      force: false,
      json: false,
      logLevel: DEFAULTS.logLevel,
      maxRetries: DEFAULTS.maxRetries,
      maxWcu: undefined,
      capacityShare: DEFAULTS.capacityShare,
      adaptive: true,
      checkpoint: undefined,
      replay: [],
      resume: false,
      dryRun: false,
      stopTimeout: DEFAULTS.stopTimeout,
      transformConcurrency: DEFAULTS.transformConcurrency,
      transformTimeout: DEFAULTS.transformTimeout,
      memory: 128,
      s3Endpoint: undefined,
      shard: undefined,
      createTable: undefined,
      skipBadFiles: false,
      quiet: false,
      progress: true,
      color: true,
      pricePerMillionWru: 0.625,
    });
    assert.equal(DEFAULTS.concurrency, 'auto');
    assert.equal(resolve({ concurrency: 'auto' }).concurrency, 'auto');
    assert.equal(resolve({ concurrency: '8' }).concurrency, 8);
    assert.ok(Object.isFrozen(DEFAULTS));
  });

  test('the result is frozen, and so are its lists and type spec', () => {
    const config = resolve({ columns: 'a,b', types: 'a:N', header: false });
    for (const part of [config, config.inputs, config.columns, config.types]) assert.ok(Object.isFrozen(part));
    assert.throws(() => {
      (config as { table: string }).table = 'other';
    }, TypeError);
  });

  test('the inputs array is copied, not shared with the caller', () => {
    const inputs = ['a.csv'];
    const config = resolveUploadConfig(inputs, { table: 't' });
    inputs.push('b.csv');
    assert.deepEqual(config.inputs, ['a.csv']);
  });
});

describe('resolveUploadConfig values', () => {
  const good: Array<[label: string, raw: RawUploadOptions, expected: Record<string, unknown>]> = [
    ['table trimmed', { table: '  watch_history ' }, { table: 'watch_history' }],
    ['workers 1', { workers: '1' }, { workers: 1 }],
    ['workers 64', { workers: '64' }, { workers: 64 }],
    ['concurrency 1', { concurrency: '1' }, { concurrency: 1 }],
    ['concurrency 50', { concurrency: '50' }, { concurrency: 50 }],
    ['concurrency with spaces', { concurrency: ' 7 ' }, { concurrency: 7 }],
    ['max-retries 0', { maxRetries: '0' }, { maxRetries: 0 }],
    ['max-retries 100', { maxRetries: '100' }, { maxRetries: 100 }],
    ['delimiter `\\t` as typed in a shell', { delimiter: '\\t' }, { delimiter: '\t' }],
    ['delimiter tab', { delimiter: 'tab' }, { delimiter: '\t' }],
    ['delimiter a real tab', { delimiter: '\t' }, { delimiter: '\t' }],
    ['delimiter ;', { delimiter: ';' }, { delimiter: ';' }],
    ['delimiter |', { delimiter: '|' }, { delimiter: '|' }],
    ['empty string', { empty: 'string' }, { empty: 'string' }],
    ['empty null', { empty: 'null' }, { empty: 'null' }],
    ['log level debug', { logLevel: 'debug' }, { logLevel: 'debug' }],
    ['endpoint http', { endpoint: 'http://127.0.0.1:8000' }, { endpoint: 'http://127.0.0.1:8000' }],
    [
      'endpoint https',
      { endpoint: 'https://dynamodb.eu-west-1.amazonaws.com' },
      { endpoint: 'https://dynamodb.eu-west-1.amazonaws.com' },
    ],
    ['region', { region: 'eu-west-1' }, { region: 'eu-west-1' }],
    [
      'no header with columns, names trimmed',
      { header: false, columns: ' user , series,moddt' },
      { header: false, columns: ['user', 'series', 'moddt'] },
    ],
    ['columns replace a header', { columns: 'a,b' }, { header: true, columns: ['a', 'b'] }],
    // parseTypeSpec returns a map without a prototype (so `__proto__` is an ordinary column name).
    [
      'types',
      { types: 'user:N,series:N,moddt:S' },
      { types: Object.assign(Object.create(null), { user: 'N', series: 'N', moddt: 'S' }) },
    ],
    ['backslash escape', { escape: '\\' }, { escape: '\\' }],
    ['rejects and json', { rejects: 'bad.jsonl', json: true }, { rejectsPath: 'bad.jsonl', json: true }],
    [
      'display switches',
      { quiet: true, progress: false, color: false, skipBadFiles: true },
      { quiet: true, progress: false, color: false, skipBadFiles: true },
    ],
    ['wru-price', { wruPrice: '1.25' }, { pricePerMillionWru: 1.25 }],
    [
      'create-table on demand, keys parsed',
      { createTable: true, key: 'user:n', sortKey: 'at:S' },
      {
        createTable: {
          key: { name: 'user', type: 'N' },
          sortKey: { name: 'at', type: 'S' },
          billing: 'PAY_PER_REQUEST',
          wcu: undefined,
          rcu: undefined,
        },
      },
    ],
    [
      'create-table provisioned',
      { createTable: true, key: 'id:S', billing: 'provisioned', wcu: '200', rcu: '50' },
      {
        createTable: {
          key: { name: 'id', type: 'S' },
          sortKey: undefined,
          billing: 'PROVISIONED',
          wcu: 200,
          rcu: 50,
        },
      },
    ],
    // A dry run against a table that exists needs no --key: its absence is an error only when creating.
    [
      'create-table without --key',
      { createTable: true },
      {
        createTable: { key: undefined, sortKey: undefined, billing: 'PAY_PER_REQUEST', wcu: undefined, rcu: undefined },
      },
    ],
    // Without --create-table, the options of the table to create are not read (as before).
    ['key and wcu without create-table', { key: 'bad', wcu: 'abc' }, { createTable: undefined }],
  ];
  for (const [label, raw, expected] of good) {
    test(label, () => {
      const config = resolve(raw) as unknown as Record<string, unknown>;
      for (const [name, value] of Object.entries(expected)) assert.deepEqual(config[name], value, name);
    });
  }

  test('several inputs in order', () => {
    assert.deepEqual(resolve({}, ['b.csv', '-', 'a.csv']).inputs, ['b.csv', '-', 'a.csv']);
  });
});

describe('resolveUploadConfig usage errors', () => {
  const integer = (option: string, min: number, max: number, value: string): string =>
    `Expected \`${option}\` to be an integer from ${min} to ${max}, got \`${value}\``;
  const bad: Array<[label: string, raw: RawUploadOptions, code: string, message: string, inputs?: string[]]> = [
    ['no table', { table: undefined }, 'OPTION_REQUIRED', 'Expected `--table <name>`: the DynamoDB table to write to'],
    ['blank table', { table: '   ' }, 'OPTION_REQUIRED', 'Expected `--table <name>`: the DynamoDB table to write to'],
    [
      'no input',
      {},
      'INPUT_REQUIRED',
      'Expected at least one input file, glob or `-` for standard input, got none',
      [],
    ],
    [
      'no header, no columns',
      { header: false },
      'OPTION_REQUIRED',
      'Expected `--columns a,b,c` with `--no-header`: without a header line the columns need names',
    ],
    ...(['abc', '0', '51', '-1', '1.5', '1e1', '0x10', '', '+5', '99999999999999999999'] as const).map(
      (v): [string, RawUploadOptions, string, string] => [
        `concurrency \`${v}\``,
        { concurrency: v },
        'OPTION_INVALID',
        `Expected \`--concurrency\` to be \`auto\` or an integer from 1 to 50, got \`${v}\``,
      ],
    ),
    ['workers 0', { workers: '0' }, 'OPTION_INVALID', integer('--workers', 1, 64, '0')],
    ['workers 65', { workers: '65' }, 'OPTION_INVALID', integer('--workers', 1, 64, '65')],
    ['workers many', { workers: 'many' }, 'OPTION_INVALID', integer('--workers', 1, 64, 'many')],
    [
      'transform-concurrency 0',
      { transformConcurrency: '0' },
      'OPTION_INVALID',
      integer('--transform-concurrency', 1, 1024, '0'),
    ],
    ['memory 15', { memory: '15' }, 'OPTION_INVALID', integer('--memory', 16, 65_536, '15')],
    [
      'transform-timeout 1.5',
      { transformTimeout: '1.5' },
      'OPTION_INVALID',
      integer('--transform-timeout', 1, 86400, '1.5'),
    ],
    ['max-retries -1', { maxRetries: '-1' }, 'OPTION_INVALID', integer('--max-retries', 0, 100, '-1')],
    ['max-retries 101', { maxRetries: '101' }, 'OPTION_INVALID', integer('--max-retries', 0, 100, '101')],
    [
      'empty keep',
      { empty: 'keep' },
      'OPTION_INVALID',
      'Expected `--empty` to be one of drop, string, null, got `keep`',
    ],
    [
      'log level loud',
      { logLevel: 'loud' },
      'OPTION_INVALID',
      'Expected `--log-level` to be one of trace, debug, info, warn, error, fatal, silent, got `loud`',
    ],
    [
      'log level upper case',
      { logLevel: 'INFO' },
      'OPTION_INVALID',
      'Expected `--log-level` to be one of trace, debug, info, warn, error, fatal, silent, got `INFO`',
    ],
    ...(['', ',,', '"', '\n', '\r', '\\n'] as const).map((v): [string, RawUploadOptions, string, string] => [
      `delimiter ${JSON.stringify(v)}`,
      { delimiter: v },
      'OPTION_INVALID',
      `Expected \`--delimiter\` to be one character other than a quote or newline (\`\\t\` for tab), got \`${v}\``,
    ]),
    ...(['localhost:8000', '127.0.0.1:8000', 'ftp://host', 'not a url'] as const).map(
      (v): [string, RawUploadOptions, string, string] => [
        `endpoint ${v}`,
        { endpoint: v },
        'OPTION_INVALID',
        `Expected \`--endpoint\` to be an http(s) URL such as http://127.0.0.1:8000, got \`${v}\``,
      ],
    ),
    ...(['a,,b', 'a,a', ',', 'a, a'] as const).map((v): [string, RawUploadOptions, string, string] => [
      `columns ${v}`,
      { columns: v, header: false },
      'OPTION_INVALID',
      `Expected \`--columns\` to be distinct non-empty names separated by commas, got \`${v}\``,
    ]),
    [
      'escape of two characters',
      { escape: '\\\\' },
      'OPTION_INVALID',
      'Expected `--escape` to be one character, such as `"` or `\\`, got `\\\\`',
    ],
    [
      'wru-price abc',
      { wruPrice: 'abc' },
      'OPTION_INVALID',
      'Expected `--wru-price` to be US dollars per million write request units, such as 0.625, got `abc`',
    ],
    [
      'create-table key without type',
      { createTable: true, key: 'user' },
      'OPTION_INVALID',
      'Expected `--key` like `name:S|N|B`, got `user`',
    ],
    [
      'create-table sort key BOOL',
      { createTable: true, key: 'user:N', sortKey: 'at:BOOL' },
      'OPTION_INVALID',
      'Expected `--sort-key` like `name:S|N|B`, got `at:BOOL`',
    ],
    [
      'create-table wcu 0',
      { createTable: true, key: 'id:S', billing: 'provisioned', wcu: '0' },
      'OPTION_INVALID',
      integer('--wcu', 1, 1_000_000, '0'),
    ],
    [
      'create-table rcu abc',
      { createTable: true, key: 'id:S', billing: 'provisioned', wcu: '5', rcu: 'abc' },
      'OPTION_INVALID',
      integer('--rcu', 1, 1_000_000, 'abc'),
    ],
    [
      'bad types',
      { types: 'user:INT' },
      'TYPES_INVALID',
      'Expected `--types` entries like `column:TYPE` with TYPE one of S, N, B, BOOL, NULL, JSON, L, M, SS, NS, BS, got `user:INT`',
    ],
  ];
  for (const [label, raw, code, message, inputs] of bad) {
    test(label, () => {
      assert.throws(
        () => resolve(raw, inputs),
        (error: unknown) => {
          const e = error as { code: string; message: string; exitCode: number };
          assert.deepEqual([e.code, e.message, e.exitCode], [code, message, 2]);
          return true;
        },
      );
    });
  }

  test('an invalid option names itself and its value in the context', () => {
    assert.throws(() => resolve({ concurrency: 'abc' }), { context: { option: '--concurrency', value: 'abc' } });
  });
});
