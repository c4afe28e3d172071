/**
 * The recipes README shows for running on many machines (examples/kubernetes, examples/aws-batch,
 * examples/iam): parsed as Kubernetes and AWS read them, their command run through the CLI's own
 * option parsing and validation, and README checked to show them as they are.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { load } from 'js-yaml';
import { buildProgram } from '../../src/cli.js';
import { resolveUploadConfig, type RawUploadOptions, type UploadConfig } from '../../src/config.js';
import { listPrefix, parseS3Url } from '../../src/pipeline/s3/s3-url.js';
import { REPO_ROOT } from '../support/cli.js';

const read = (file: string): Promise<string> => readFile(path.join(REPO_ROOT, file), 'utf8');

interface Container {
  command: string[];
  args?: string[];
  env?: { name: string; value: string }[];
}

/** Parses `dynaload ...argv` as the CLI would and validates the options, under the given environment. */
async function accepted(t: TestContext, argv: string[], env: Record<string, string>): Promise<UploadConfig> {
  assert.equal(argv[0], 'dynaload');
  const program = buildProgram();
  let parsed: { files: string[]; options: RawUploadOptions } | undefined;
  for (const command of program.commands)
    command.action((files: string[], options: RawUploadOptions) => void (parsed = { files, options }));
  await program.parseAsync(argv.slice(1), { from: 'user' });
  assert.ok(parsed, 'the command ran a subcommand');
  assert.equal(argv[1], 'upload');
  const saved = { ...process.env };
  t.after(() => {
    for (const name of Object.keys(env)) delete process.env[name];
    Object.assign(process.env, saved);
  });
  Object.assign(process.env, env);
  return resolveUploadConfig(parsed.files, parsed.options);
}

async function assertPolicyCovers(url: string): Promise<void> {
  const policy = JSON.parse(await read('examples/iam/dynaload-policy.json')) as {
    Statement: { Action: string[]; Resource: string; Condition?: { StringLike?: Record<string, string[]> } }[];
  };
  const { bucket, key } = parseS3Url(url);
  const grants = (
    action: string,
  ): { Resource: string; Condition?: { StringLike?: Record<string, string[]> } } | undefined =>
    policy.Statement.find((s) => s.Action.includes(action));
  assert.equal(grants('s3:ListBucket')?.Resource, `arn:aws:s3:::${bucket}`);
  assert.ok(
    grants('s3:ListBucket')?.Condition?.StringLike?.['s3:prefix']?.some((p) => p === `${listPrefix(key)}*`),
    "listing allowed under the glob's prefix",
  );
  assert.equal(grants('s3:GetObject')?.Resource, `arn:aws:s3:::${bucket}/${listPrefix(key)}*`);
  assert.match(grants('dynamodb:BatchWriteItem')?.Resource ?? '', /:table\/watch_history$/);
  assert.ok(grants('dynamodb:DescribeTable'), 'DescribeTable (the key schema, once per run)');
}

describe('README recipes for running on many machines', () => {
  it('the Kubernetes Indexed Job runs `dynaload upload s3://... --shard auto` that the CLI accepts, one share per completion index', async (t) => {
    const job = load(await read('examples/kubernetes/dynaload-job.yaml')) as {
      kind: string;
      spec: {
        completionMode: string;
        completions: number;
        parallelism: number;
        template: { spec: { containers: Container[] } };
      };
    };
    assert.equal(job.kind, 'Job');
    assert.equal(job.spec.completionMode, 'Indexed');
    const [container] = job.spec.template.spec.containers;
    assert.ok(container);
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.DYNALOAD_SHARDS_TOTAL, String(job.spec.completions), 'DYNALOAD_SHARDS_TOTAL equals completions');
    const argv = [...container.command, ...(container.args ?? [])];
    const config = await accepted(t, argv, { ...env, JOB_COMPLETION_INDEX: String(job.spec.completions - 1) });
    assert.deepEqual(config.shard, { index: job.spec.completions - 1, count: job.spec.completions });
    assert.equal(config.maxWcu, 20_000);
    assert.match(config.inputs[0] ?? '', /^s3:\/\//);
    await assertPolicyCovers(config.inputs[0] as string);
  });

  it('the AWS Batch array job runs the same command, one share per array index', async (t) => {
    const definition = JSON.parse(await read('examples/aws-batch/job-definition.json')) as {
      containerProperties: { command: string[]; environment: { name: string; value: string }[] };
    };
    const submit = JSON.parse(await read('examples/aws-batch/submit-job.json')) as {
      jobDefinition: string;
      arrayProperties: { size: number };
    };
    const env = Object.fromEntries(definition.containerProperties.environment.map((e) => [e.name, e.value]));
    assert.equal(
      env.DYNALOAD_SHARDS_TOTAL,
      String(submit.arrayProperties.size),
      'DYNALOAD_SHARDS_TOTAL equals the array size',
    );
    const config = await accepted(t, definition.containerProperties.command, {
      ...env,
      AWS_BATCH_JOB_ARRAY_INDEX: '0',
    });
    assert.deepEqual(config.shard, { index: 0, count: submit.arrayProperties.size });
    await assertPolicyCovers(config.inputs[0] as string);
  });

  it('README shows every recipe file as it is', async () => {
    const readme = await read('README.md');
    for (const file of [
      'examples/kubernetes/dynaload-job.yaml',
      'examples/aws-batch/job-definition.json',
      'examples/aws-batch/submit-job.json',
      'examples/iam/dynaload-policy.json',
    ]) {
      assert.ok(readme.includes((await read(file)).trimEnd()), `README.md shows ${file} verbatim`);
    }
  });
});
