/**
 * A test double of DynamoDB's import from S3, behind one endpoint: ImportTable and DescribeImport
 * implemented as documented over a real S3-compatible server (s3rver) and dynalite, CloudWatch
 * Logs' FilterLogEvents over the error events it wrote, and every other DynamoDB call forwarded to
 * dynalite as is. The CLI reaches it by endpoint (--endpoint, --logs-endpoint), with the real SDK.
 *
 * What it does, from https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ImportTable.html,
 * API_DescribeImport.html, API_ImportTableDescription.html and developerguide/S3DataImport.Validation.html:
 * - ImportTable answers IN_PROGRESS at once; the table is created, the objects under S3KeyPrefix
 *   read (GZIP or NONE, DYNAMODB_JSON lines `{"Item":{...}}`), the items written; then COMPLETED with
 *   ProcessedItemCount, ImportedItemCount (distinct keys stored) and ErrorCount, or FAILED with
 *   FailureCode and FailureMessage.
 * - ClientToken: the same token with the same parameters gives back the first import (no second
 *   one); with other parameters, IdempotentParameterMismatchException. A table that exists:
 *   ResourceInUseException.
 * - An item that cannot be imported (no key, wrong key type, or chosen by the test) is counted in
 *   ErrorCount and logged to /aws-dynamodb/imports as
 *   {"itemS3Pointer":{"bucket","key","itemIndex"},"importArn","errorMessages":[...]}.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  waitUntilTableExists,
  type AttributeValue,
  type TableCreationParameters,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { testClient } from './dynalite.js';

type Item = Record<string, AttributeValue>;

interface ImportRecord {
  readonly token: string | undefined;
  readonly request: string;
  description: Record<string, unknown>;
}

interface LogEvent {
  readonly logGroupName: string;
  readonly message: string;
  readonly timestamp: number;
}

export interface ImportDouble {
  readonly endpoint: string;
  /** ImportTable requests received, and imports actually started (a known ClientToken starts none). */
  readonly calls: { importTable: number; importsStarted: number; describeImport: number; filterLogEvents: number };
  /** Items for which this returns a message are refused, with that message, in every later import. */
  failItems(rule: ((item: Item) => string | undefined) | undefined): void;
  /** The next import ends FAILED with this code and message, after processing half its items. */
  failNextImport(failure: { code: string; message: string } | undefined): void;
  /** FilterLogEvents answers AccessDeniedException. */
  denyLogs(deny: boolean): void;
  /** The next `reads` FilterLogEvents calls find no event yet (CloudWatch Logs delivers late). */
  delayLogs(reads: number): void;
  close(): Promise<void>;
}

export const IMPORT_LOG_GROUP = '/aws-dynamodb/imports';
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

export async function startImportDouble(options: { dynalite: string; s3: S3Client }): Promise<ImportDouble> {
  const dynalite = new URL(options.dynalite);
  const db = testClient(options.dynalite);
  const imports = new Map<string, ImportRecord>();
  const logs: LogEvent[] = [];
  const calls = { importTable: 0, importsStarted: 0, describeImport: 0, filterLogEvents: 0 };
  let rule: ((item: Item) => string | undefined) | undefined;
  let nextFailure: { code: string; message: string } | undefined;
  let logsDenied = false;
  let logsHidden = 0;
  const running = new Set<Promise<void>>();

  async function importTable(input: {
    ClientToken?: string;
    S3BucketSource: { S3Bucket: string; S3KeyPrefix?: string };
    InputFormat: string;
    InputCompressionType?: string;
    TableCreationParameters: TableCreationParameters;
  }): Promise<[number, unknown]> {
    calls.importTable++;
    const { ClientToken: token, ...rest } = input;
    const request = JSON.stringify(rest);
    const known = token === undefined ? undefined : [...imports.values()].find((r) => r.token === token);
    if (known) {
      if (known.request !== request)
        return [400, fault('IdempotentParameterMismatchException', 'ClientToken reused with other parameters')];
      return [200, { ImportTableDescription: known.description }];
    }
    if (input.InputFormat !== 'DYNAMODB_JSON')
      return [400, fault('ValidationException', `this double reads DYNAMODB_JSON only, got ${input.InputFormat}`)];
    const table = input.TableCreationParameters.TableName as string;
    try {
      await db.send(new DescribeTableCommand({ TableName: table }));
      return [400, fault('ResourceInUseException', `Table already exists: ${table}`)];
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    }
    calls.importsStarted++;
    const arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}/import/${Date.now()}-${randomBytes(4).toString('hex')}`;
    const record: ImportRecord = {
      token,
      request,
      description: {
        ImportArn: arn,
        ImportStatus: 'IN_PROGRESS',
        TableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`,
        ClientToken: token,
        S3BucketSource: input.S3BucketSource,
        InputFormat: input.InputFormat,
        InputCompressionType: input.InputCompressionType ?? 'NONE',
        TableCreationParameters: input.TableCreationParameters,
        StartTime: Date.now() / 1000,
        CloudWatchLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${IMPORT_LOG_GROUP}:*`,
        ProcessedItemCount: 0,
        ProcessedSizeBytes: 0,
        ImportedItemCount: 0,
        ErrorCount: 0,
      },
    };
    imports.set(arn, record);
    const failure = nextFailure;
    nextFailure = undefined;
    const work = runImport(record, input, failure).catch((error: unknown) => {
      Object.assign(record.description, {
        ImportStatus: 'FAILED',
        FailureCode: 'InternalError',
        FailureMessage: String(error),
        EndTime: Date.now() / 1000,
      });
    });
    running.add(work);
    void work.finally(() => running.delete(work));
    return [200, { ImportTableDescription: { ...record.description } }];
  }

  async function runImport(
    record: ImportRecord,
    input: Parameters<typeof importTable>[0],
    failure: { code: string; message: string } | undefined,
  ): Promise<void> {
    const d = record.description;
    const params = input.TableCreationParameters;
    await db.send(new CreateTableCommand(params as ConstructorParameters<typeof CreateTableCommand>[0]));
    await waitUntilTableExists(
      { client: db, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { TableName: params.TableName },
    );
    const hash = params.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName as string;
    const range = params.KeySchema?.find((k) => k.KeyType === 'RANGE')?.AttributeName;
    const types = new Map((params.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
    const { S3Bucket: bucket, S3KeyPrefix: prefix = '' } = input.S3BucketSource;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await options.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((c) => c.Key as string));
      token = page.NextContinuationToken;
    } while (token);
    const lines: { key: string; index: number; text: string }[] = [];
    for (const key of keys) {
      const object = await options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from(
        await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      const text = (input.InputCompressionType === 'GZIP' ? gunzipSync(bytes) : bytes).toString('utf8');
      text
        .split('\n')
        .filter((l) => l !== '')
        .forEach((line, index) => lines.push({ key, index, text: line }));
    }
    const stored = new Set<string>();
    let batch: { key: string; item: Item }[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await db.send(
        new BatchWriteItemCommand({
          RequestItems: { [params.TableName as string]: batch.map((b) => ({ PutRequest: { Item: b.item } })) },
        }),
      );
      for (const b of batch) stored.add(b.key);
      batch = [];
      d.ImportedItemCount = stored.size;
      // Let DescribeImport see the import in progress.
      await new Promise((resolve) => setTimeout(resolve, 5));
    };
    for (const [n, line] of lines.entries()) {
      if (failure && n >= lines.length / 2) {
        await flush();
        Object.assign(d, {
          ImportStatus: 'FAILED',
          FailureCode: failure.code,
          FailureMessage: failure.message,
          EndTime: Date.now() / 1000,
        });
        return;
      }
      d.ProcessedItemCount = (d.ProcessedItemCount as number) + 1;
      d.ProcessedSizeBytes = (d.ProcessedSizeBytes as number) + Buffer.byteLength(line.text) + 1;
      const problem = check(line.text, hash, range, types);
      if (typeof problem === 'string') {
        d.ErrorCount = (d.ErrorCount as number) + 1;
        logs.push({
          logGroupName: IMPORT_LOG_GROUP,
          timestamp: Date.now(),
          message: JSON.stringify({
            itemS3Pointer: { bucket, key: line.key, itemIndex: line.index },
            importArn: d.ImportArn,
            errorMessages: [problem],
          }),
        });
        continue;
      }
      const key = JSON.stringify([problem[hash], range === undefined ? null : problem[range]]);
      // One write per key per BatchWriteItem: a repeated key (overwritten, as documented) goes in the next one.
      if (batch.some((b) => b.key === key)) await flush();
      batch.push({ key, item: problem });
      if (batch.length === 25) await flush();
    }
    await flush();
    Object.assign(d, { ImportStatus: 'COMPLETED', ImportedItemCount: stored.size, EndTime: Date.now() / 1000 });
  }

  function check(
    text: string,
    hash: string,
    range: string | undefined,
    types: Map<string | undefined, string | undefined>,
  ): Item | string {
    let parsed: { Item?: Item };
    try {
      parsed = JSON.parse(text) as { Item?: Item };
    } catch {
      return 'Unexpected token: the line is not JSON';
    }
    const item = parsed.Item;
    if (item === undefined || typeof item !== 'object') return 'The line holds no Item';
    for (const name of range === undefined ? [hash] : [hash, range]) {
      const value = item[name] as Record<string, unknown> | undefined;
      if (value === undefined) return `One or more parameter values were invalid: Missing the key ${name} in the item`;
      if (!((types.get(name) as string) in value))
        return `One or more parameter values were invalid: Type mismatch for key ${name}`;
    }
    return rule?.(item) ?? item;
  }

  function filterLogEvents(input: {
    logGroupName: string;
    filterPattern?: string;
    nextToken?: string;
  }): [number, unknown] {
    calls.filterLogEvents++;
    if (logsDenied)
      return [400, fault('AccessDeniedException', 'User is not authorized to perform: logs:FilterLogEvents')];
    if (logsHidden > 0) {
      logsHidden--;
      return [200, { events: [] }];
    }
    const term = input.filterPattern === undefined ? '' : input.filterPattern.replace(/^"(.*)"$/, '$1');
    const matching = logs.filter((e) => e.logGroupName === input.logGroupName && e.message.includes(term));
    // Pages of 2 events, so the caller's paging is exercised.
    const start = input.nextToken === undefined ? 0 : Number(input.nextToken);
    const page = matching.slice(start, start + 2);
    const next = start + 2 < matching.length ? String(start + 2) : undefined;
    return [
      200,
      {
        events: page.map((e, i) => ({
          logStreamName: 'import',
          timestamp: e.timestamp,
          message: e.message,
          eventId: String(start + i),
        })),
        ...(next ? { nextToken: next } : {}),
      },
    ];
  }

  const server = http.createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const own = [
      'DynamoDB_20120810.ImportTable',
      'DynamoDB_20120810.DescribeImport',
      'Logs_20140328.FilterLogEvents',
    ].includes(target);
    if (!own) {
      const upstream = http.request(
        { host: dynalite.hostname, port: dynalite.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as never;
      const answer = async (): Promise<[number, unknown]> => {
        if (target.endsWith('.ImportTable')) return importTable(input);
        if (target.endsWith('.FilterLogEvents')) return filterLogEvents(input);
        calls.describeImport++;
        const record = imports.get((input as { ImportArn: string }).ImportArn);
        return record
          ? [200, { ImportTableDescription: { ...record.description } }]
          : [400, fault('ImportNotFoundException', 'no such import')];
      };
      answer().then(
        ([status, body]) => {
          res.writeHead(status, {
            'content-type': target.startsWith('Logs') ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0',
          });
          res.end(JSON.stringify(body));
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify(fault('InternalServerError', String(error))));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    failItems(next) {
      rule = next;
    },
    failNextImport(failure) {
      nextFailure = failure;
    },
    denyLogs(deny) {
      logsDenied = deny;
    },
    delayLogs(reads) {
      logsHidden = reads;
    },
    async close() {
      await Promise.allSettled([...running]);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      db.destroy();
    },
  };
}

function fault(type: string, message: string): { __type: string; message: string } {
  return { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message };
}
