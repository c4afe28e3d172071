import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/cli.js';
import { assertExit, assertOrder, run } from './helpers.js';

const GOLDEN = path.join(REPO_ROOT, 'test', 'golden', 'upload-help.txt');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

describe('help and version (end to end)', () => {
  it('`dynaload upload --help` matches test/golden/upload-help.txt', async (t) => {
    // stdout is a pipe (80 columns) and the environment is minimal (no FORCE_COLOR), so the text is stable.
    const result = await run(['upload', '--help']);
    assertExit(result, 0);
    assert.equal(result.stderr, '', 'nothing on stderr');
    if (UPDATE) {
      await writeFile(GOLDEN, result.stdout);
      t.diagnostic(`updated ${path.relative(REPO_ROOT, GOLDEN)}`);
      return;
    }
    const golden = await readFile(GOLDEN, 'utf8').catch(() => '');
    assert.equal(
      result.stdout,
      golden,
      `\`dynaload upload --help\` differs from ${path.relative(REPO_ROOT, GOLDEN)}.\n` +
        'If the change is intended, review it and update the golden file with:\n' +
        '  npm run build && UPDATE_GOLDEN=1 node --import tsx --test test/e2e/help.test.ts\n',
    );
  });

  it('`dynaload --help` reads Usage, description, options, commands, then examples, and matches test/golden/help.txt', async (t) => {
    const golden = path.join(REPO_ROOT, 'test', 'golden', 'help.txt');
    const result = await run(['--help']);
    assertExit(result, 0);
    assertOrder(result.stdout, [
      'Usage: dynaload [options] [command]\n\nBulk-load',
      '\nOptions:\n',
      '\nCommands:\n',
      '\nExamples:\n',
    ]);
    assert.match(result.stdout, /\$ dynaload demo\n/);
    if (UPDATE) {
      await writeFile(golden, result.stdout);
      t.diagnostic(`updated ${path.relative(REPO_ROOT, golden)}`);
      return;
    }
    assert.equal(
      result.stdout,
      await readFile(golden, 'utf8').catch(() => ''),
      'update with: npm run build && UPDATE_GOLDEN=1 node --import tsx --test test/e2e/help.test.ts',
    );
  });

  it('`dynaload upload --help` shows its own examples after its options, and not the global ones', async () => {
    const { stdout } = await run(['upload', '--help']);
    assertOrder(stdout, ['Usage: dynaload upload [options] [files...]\n\nLoad CSV', '\nOptions:\n', '\nExamples:\n']);
    assert.match(stdout, /\$ dynaload upload 'shards\/part-\*'/);
    assert.doesNotMatch(stdout, /\$ dynaload demo\n/);
    assert.equal(stdout.match(/^Examples:$/gm)?.length, 1, 'one Examples section');
  });

  it('the help names the DynamoDB APIs, the exit codes and every documented flag', async () => {
    const { stdout } = await run(['upload', '--help']);
    for (const flag of [
      '--table',
      '--endpoint',
      '--region',
      '--workers',
      '--concurrency',
      '--types',
      '--no-header',
      '--columns',
      '--delimiter',
      '--empty',
      '--rejects',
      '--json',
      '--log-level',
      '--max-retries',
    ]) {
      assert.match(stdout, new RegExp(`\\s${flag}\\b`), `--help mentions ${flag}`);
    }
    assert.match(stdout, /DescribeTable/);
    assert.match(stdout, /BatchWriteItem/);
    assert.match(stdout, /Exit codes: 0 .* 1 .* 2 .* 3 /);
  });

  it('`dynaload --version` prints the version of package.json', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await run(['--version']);
    assertExit(result, 0);
    assert.equal(result.stdout, `${pkg.version}\n`);
    const short = await run(['-V']);
    assertExit(short, 0);
    assert.equal(short.stdout, `${pkg.version}\n`);
  });
});
