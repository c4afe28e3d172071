/** The config file takes what README says it does, and the summary says which file and which endpoint source won. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, tempDir } from '../support/cli.js';
import { createTable, scanAll, TEST_REGION } from '../support/dynalite.js';
import { assertExit, parseSummary, useDynalite } from './helpers.js';

const db = useDynalite();

describe('config file and endpoint sources (end to end)', () => {
  it('a config file may give `checkpoint` as a path and `local`; the summary names the file and the endpoint source', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'rows.csv'), 'id\na\nb\n');
    const config = path.join(dir, 'load.json');
    await writeFile(
      config,
      JSON.stringify({
        table: 'cfg_t',
        local: true,
        'create-table': true,
        key: 'id:S',
        checkpoint: 'state/../cp.json',
        json: true,
      }),
    );
    const run = await runCli(['upload', 'rows.csv', '--config', config], { cwd: dir });
    assertExit(run, 0);
    const summary = parseSummary(run);
    assert.equal(summary.written, 2);
    assert.equal(summary.checkpointFile, path.join(dir, 'cp.json'), "taken from the config file's folder");
    assert.equal(summary.configFile, config);
    assert.equal(summary.endpoint.source, '--local');
  });

  it('precedence: the command line, then the environment, then the file; the summary says which set the endpoint', async () => {
    const dir = await tempDir();
    const table = await createTable(db.endpoint, { hash: ['id', 'S'] });
    await writeFile(path.join(dir, 'rows.csv'), 'id\na\n');
    // Nothing listens on port 9 (discard): a run that used the file's endpoint would fail.
    await writeFile(
      path.join(dir, '.dynaloadrc.json'),
      JSON.stringify({ endpoint: 'http://127.0.0.1:9', table, region: TEST_REGION, json: true, checkpoint: false }),
    );
    const fromEnv = await runCli(['upload', 'rows.csv'], { cwd: dir, env: { AWS_ENDPOINT_URL_DYNAMODB: db.endpoint } });
    assertExit(fromEnv, 0);
    assert.deepEqual(parseSummary(fromEnv).endpoint, { url: db.endpoint, source: 'AWS_ENDPOINT_URL_DYNAMODB' });
    assert.equal(parseSummary(fromEnv).configFile, path.join(dir, '.dynaloadrc.json'));
    const fromFlag = await runCli(['upload', 'rows.csv', '--endpoint', db.endpoint], {
      cwd: dir,
      env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' },
    });
    assertExit(fromFlag, 0);
    assert.deepEqual(parseSummary(fromFlag).endpoint, { url: db.endpoint, source: '--endpoint' });
    const fromFile = await runCli(['upload', 'rows.csv', '--max-retries', '0'], { cwd: dir });
    assert.notEqual(fromFile.code, 0, "the file's endpoint is used when nothing else sets one");
    assert.match(fromFile.stdout + fromFile.stderr, /127\.0\.0\.1:9/);
    assert.equal((await scanAll(db.endpoint, table)).length, 1);
  });
});
