import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command, Option } from 'commander';
import {
  knownOptions,
  loadConfigFile,
  mergeOptions,
  parseConfigFile,
  syntaxErrorOffset,
  type KnownOption,
  type OptionSource,
} from '../src/config-file.js';

const KNOWN: KnownOption[] = [
  { name: 'table', flag: false },
  { name: 'maxWcu', flag: false },
  { name: 'workers', flag: false },
  { name: 'types', flag: false },
  { name: 'columns', flag: false },
  { name: 'map', flag: false },
  { name: 'rejects', flag: false },
  { name: 'json', flag: true },
  { name: 'header', flag: true },
];
const FILE = '/project/conf/dynaload.json';
const parse = (json: unknown) => parseConfigFile(JSON.stringify(json), FILE, KNOWN, ['map', 'rejects']);

describe('parseConfigFile values', () => {
  const cases: Array<[label: string, json: Record<string, unknown>, expected: Record<string, unknown>]> = [
    ['camelCase keys', { table: 'watch_history', maxWcu: 500 }, { table: 'watch_history', maxWcu: '500' }],
    [
      'kebab-case keys, as on the command line',
      { 'max-wcu': 'auto', '--workers': 4 },
      { maxWcu: 'auto', workers: '4' },
    ],
    ['numbers become the text commander would give', { workers: 8, maxWcu: 2.5 }, { workers: '8', maxWcu: '2.5' }],
    ['switches', { json: true, header: false }, { json: true, header: false }],
    ['`no-header: true` is `header: false`', { 'no-header': true }, { header: false }],
    ['`noHeader: false` is `header: true`', { noHeader: false }, { header: true }],
    ['types as an object', { types: { user: 'N', series: 'N', moddt: 'S' } }, { types: 'user:N,series:N,moddt:S' }],
    ['types as a list', { types: ['user:N', 'series:N'] }, { types: 'user:N,series:N' }],
    ['types as a string', { types: 'user:N' }, { types: 'user:N' }],
    ['columns as a list', { columns: ['a', 'b', 'c'] }, { columns: 'a,b,c' }],
    [
      'file options relative to the config file',
      { map: 'mapping.json', rejects: '../out/r.ndjson' },
      { map: '/project/conf/mapping.json', rejects: '/project/out/r.ndjson' },
    ],
    ['absolute paths and `-` stay', { map: '/m.json', rejects: '-' }, { map: '/m.json', rejects: '-' }],
    ['an empty object', {}, {}],
  ];
  for (const [label, json, expected] of cases) test(label, () => assert.deepEqual(parse(json), expected));

  test('a byte-order mark is ignored', () =>
    assert.deepEqual(parseConfigFile('\uFEFF{"table":"t"}', FILE, KNOWN), { table: 't' }));
});

describe('parseConfigFile errors', () => {
  const known = 'table, maxWcu, workers, types, columns, map, rejects, json, header';
  const cases: Array<[label: string, text: string, code: string, message: string, context: Record<string, unknown>]> = [
    [
      'an unknown option lists the known ones',
      '{"table": "t", "max_wcu": 5}',
      'CONFIG_UNKNOWN_OPTION',
      `Expected the options of ${FILE} to be among ${known}, got \`max_wcu\``,
      { file: FILE, option: 'max_wcu' },
    ],
    [
      'the same option twice',
      '{"max-wcu": 5, "maxWcu": 6}',
      'CONFIG_INVALID',
      `Expected each option once in ${FILE}, got \`max-wcu\` and \`maxWcu\``,
      { file: FILE, option: 'maxWcu' },
    ],
    [
      'a switch with a value',
      '{"json": "yes"}',
      'CONFIG_INVALID',
      `Expected \`json\` in ${FILE} to be true or false, got "yes"`,
      { file: FILE, option: 'json' },
    ],
    [
      '`no-` on an option that is not a switch',
      '{"no-table": true}',
      'CONFIG_UNKNOWN_OPTION',
      `Expected the options of ${FILE} to be among ${known}, got \`no-table\``,
      { file: FILE, option: 'no-table' },
    ],
    [
      'null',
      '{"table": null}',
      'CONFIG_INVALID',
      `Expected \`table\` in ${FILE} to be a string, a number, or a non-empty list of them, got null`,
      { file: FILE, option: 'table' },
    ],
    [
      'an object for a plain option',
      '{"columns": {"a": 1}}',
      'CONFIG_INVALID',
      `Expected \`columns\` in ${FILE} to be a string, a number, or a non-empty list of them, got {"a":1}`,
      { file: FILE, option: 'columns' },
    ],
    [
      'a type that is not a string',
      '{"types": {"user": 1}}',
      'CONFIG_INVALID',
      `Expected \`types\` in ${FILE} to be an object of column types, such as {"user": "N"}, got {"user":1}`,
      { file: FILE, option: 'types' },
    ],
    [
      'an empty list',
      '{"columns": []}',
      'CONFIG_INVALID',
      `Expected \`columns\` in ${FILE} to be a string, a number, or a non-empty list of them, got []`,
      { file: FILE, option: 'columns' },
    ],
    [
      'not an object',
      '["table"]',
      'CONFIG_INVALID',
      `Expected ${FILE} to hold a JSON object of options, such as {"table": "watch_history", "max-wcu": 500}`,
      { file: FILE },
    ],
    [
      'a syntax error V8 gives no position for',
      '{\n  "table": "t",\n  "json": tru\n}',
      'CONFIG_INVALID',
      `Expected ${FILE} to be JSON, got a syntax error at line 3, column 11: unexpected "tru"`,
      { file: FILE, line: 3, column: 11 },
    ],
    [
      'a trailing comma',
      '{\n  "table": "t",\n}',
      'CONFIG_INVALID',
      `Expected ${FILE} to be JSON, got a syntax error at line 3, column 1: unexpected "}"`,
      { file: FILE, line: 3, column: 1 },
    ],
    [
      'an empty file',
      '',
      'CONFIG_INVALID',
      `Expected ${FILE} to be JSON, got a syntax error at line 1, column 1: the text ends too early`,
      { file: FILE, line: 1, column: 1 },
    ],
  ];
  for (const [label, text, code, message, context] of cases) {
    test(label, () => assert.throws(() => parseConfigFile(text, FILE, KNOWN), { code, exitCode: 2, message, context }));
  }
});

describe('syntaxErrorOffset', () => {
  // Node 20, 22 and 24 give these positions in JSON.parse's message; the first two and the bad
  // literal have none, so the exact JSON reader of cells finds them.
  const cases: Array<[string, number]> = [
    ['{"a": }', 6],
    ['{"a": x}', 6],
    ['{"a": [true, nul]}', 13],
    ['{\n  "table": "t",\n  "workers": ]\n}', 31],
    ['{"a": 1,}', 8],
    ['{"a" 1}', 5],
    ['[1, 2', 5],
    ['{"a": "x\ny"}', 8],
    ['"\\q"', 2],
    ['[01]', 2],
    ['{} x', 3],
    ['  ', 2],
    ['{"a": -}', 7],
    ['{"a": "\\u12g4"}', 11],
  ];
  for (const [text, offset] of cases) {
    test(JSON.stringify(text), () => {
      let message = '';
      assert.throws(() => {
        try {
          JSON.parse(text);
        } catch (error) {
          message = (error as Error).message;
          throw error;
        }
      });
      assert.equal(syntaxErrorOffset(text, message), offset);
    });
  }
});

describe('loadConfigFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dynaload-config-'));
    await mkdir(path.join(dir, 'empty'));
    await writeFile(path.join(dir, '.dynaloadrc.json'), '{"table": "from_rc"}');
    await writeFile(path.join(dir, 'other.json'), '{"table": "from_other", "map": "m.json"}');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('.dynaloadrc.json in the working directory', async () => {
    assert.deepEqual(await loadConfigFile({ cwd: dir, known: KNOWN }), {
      path: path.join(dir, '.dynaloadrc.json'),
      values: { table: 'from_rc' },
    });
  });
  test('--config wins over .dynaloadrc.json, relative to cwd', async () => {
    assert.deepEqual(
      await loadConfigFile({ cwd: dir, explicitPath: 'other.json', known: KNOWN, pathOptions: ['map'] }),
      {
        path: path.join(dir, 'other.json'),
        values: { table: 'from_other', map: path.join(dir, 'm.json') },
      },
    );
  });
  test('no file: no values', async () => {
    assert.deepEqual(await loadConfigFile({ cwd: path.join(dir, 'empty'), known: KNOWN }), {
      path: undefined,
      values: {},
    });
  });
  test('a missing --config file is a usage error', async () => {
    await assert.rejects(loadConfigFile({ cwd: dir, explicitPath: 'nope.json', known: KNOWN }), {
      code: 'CONFIG_NOT_FOUND',
      exitCode: 2,
      message: 'Expected `--config` to name a readable JSON file, got `nope.json` (ENOENT)',
    });
  });
  test('a directory named by --config is a usage error', async () => {
    await assert.rejects(loadConfigFile({ cwd: dir, explicitPath: 'empty', known: KNOWN }), {
      code: 'CONFIG_NOT_FOUND',
      exitCode: 2,
    });
  });
});

describe('knownOptions and mergeOptions with commander', () => {
  function program(): Command {
    return new Command('upload')
      .exitOverride()
      .addOption(new Option('--config <file>'))
      .addOption(new Option('-t, --table <name>'))
      .addOption(new Option('--region <region>').env('DYNALOAD_TEST_REGION'))
      .addOption(new Option('-c, --concurrency <n>').default(8))
      .addOption(new Option('--max-wcu <n>'))
      .addOption(new Option('--no-header'))
      .addOption(new Option('--json'))
      .addOption(new Option('--checkpoint <file>'))
      .addOption(new Option('--no-checkpoint'))
      .addOption(new Option('--local [dir]'))
      .action(() => {});
  }

  test('knownOptions: attribute names, switches, values, never --config; --x <v> and --no-x are one option', () => {
    assert.deepEqual(knownOptions(program()), [
      { name: 'table', flag: false, value: true },
      { name: 'region', flag: false, value: true },
      { name: 'concurrency', flag: false, value: true },
      { name: 'maxWcu', flag: false, value: true },
      { name: 'header', flag: true, value: false },
      { name: 'json', flag: true, value: false },
      { name: 'checkpoint', flag: true, value: true },
      { name: 'local', flag: true, value: true },
    ]);
  });

  test('a file takes a path or false for an option with a value and a --no- form, and true or a folder for an optional value', () => {
    const known = knownOptions(program());
    const parse = (json: object) => parseConfigFile(JSON.stringify(json), '/cfg/load.json', known, ['checkpoint']);
    assert.deepEqual(parse({ checkpoint: 'cp.json', local: true }), { checkpoint: '/cfg/cp.json', local: true });
    assert.deepEqual(parse({ checkpoint: false, local: './data' }), { checkpoint: false, local: './data' });
    assert.deepEqual(parse({ 'no-checkpoint': true }), { checkpoint: false });
    assert.throws(() => parse({ json: 'yes' }), /Expected `json` in \/cfg\/load.json to be true or false, got "yes"/);
    assert.throws(
      () => parse({ local: 3 }),
      /Expected `local` in \/cfg\/load.json to be true, false or a string, got 3/,
    );
  });

  const file = { table: 'file_table', region: 'eu-west-1', concurrency: '4', maxWcu: '100', header: false, json: true };
  const cases: Array<[label: string, argv: string[], env: Record<string, string>, expected: Record<string, unknown>]> =
    [
      [
        'nothing typed: the file over the defaults',
        [],
        {},
        { table: 'file_table', region: 'eu-west-1', concurrency: '4', maxWcu: '100', header: false, json: true },
      ],
      [
        'typed flags win',
        ['--table', 'cli_table', '-c', '16', '--max-wcu', 'auto'],
        {},
        { table: 'cli_table', region: 'eu-west-1', concurrency: '16', maxWcu: 'auto', header: false, json: true },
      ],
      [
        'the environment wins',
        [],
        { DYNALOAD_TEST_REGION: 'us-west-2' },
        { table: 'file_table', region: 'us-west-2', concurrency: '4', maxWcu: '100', header: false, json: true },
      ],
    ];
  for (const [label, argv, env, expected] of cases) {
    test(label, () => {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const command = program();
        command.parse(argv, { from: 'user' });
        const merged = mergeOptions(file, command.opts(), (name) => command.getOptionValueSource(name) as OptionSource);
        assert.deepEqual(merged, expected);
      } finally {
        for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
      }
    });
  }

  test('defaults stay when the file does not set them', () => {
    const command = program();
    command.parse([], { from: 'user' });
    assert.deepEqual(
      mergeOptions({ table: 't' }, command.opts(), (name) => command.getOptionValueSource(name) as OptionSource),
      { table: 't', concurrency: 8, header: true },
    );
  });
});
