import { SignatureV4 } from '../packages/smithy.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeSha256 } from '../dynamo/sign.js';

/**
 * The import's error log events from CloudWatch Logs. DynamoDB writes one event per item it could
 * not import to the log group named in the import's CloudWatchLogGroupArn (`/aws-dynamodb/imports`),
 * a JSON message naming the object and the item's place in it:
 *   {"itemS3Pointer":{"bucket":"...","key":"...","itemIndex":10},"importArn":"...","errorMessages":["..."]}
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.Validation.html
 *
 * FilterLogEvents is one signed JSON POST; it is made here with the SDK's own signer and the
 * DynamoDB client's credentials, as @aws-sdk/client-cloudwatch-logs is not among this project's
 * dependencies. https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 */
export interface ImportLogEvent {
  readonly bucket: string;
  readonly key: string;
  readonly itemIndex: number;
  readonly messages: readonly string[];
}

export type LogsResult =
  { readonly ok: true; readonly events: ImportLogEvent[] } | { readonly ok: false; readonly reason: string };

export const DEFAULT_LOG_GROUP = '/aws-dynamodb/imports';

/** `arn:aws:logs:region:account:log-group:NAME:*` -> NAME. */
export function logGroupName(arn: string | undefined): string {
  const match = arn === undefined ? null : /:log-group:(.+?)(?::\*)?$/.exec(arn);
  return match?.[1] ?? DEFAULT_LOG_GROUP;
}

/** Parses one event's message; undefined when it is not an item error of this import. */
export function parseImportLogMessage(message: string, importArn: string): ImportLogEvent | undefined {
  let parsed: {
    itemS3Pointer?: { bucket?: unknown; key?: unknown; itemIndex?: unknown };
    importArn?: unknown;
    errorMessages?: unknown;
  };
  try {
    parsed = JSON.parse(message) as typeof parsed;
  } catch {
    return undefined;
  }
  const pointer = parsed.itemS3Pointer;
  if (
    parsed.importArn !== importArn ||
    typeof pointer?.bucket !== 'string' ||
    typeof pointer.key !== 'string' ||
    typeof pointer.itemIndex !== 'number'
  )
    return undefined;
  const messages = Array.isArray(parsed.errorMessages) ? parsed.errorMessages.map(String) : [];
  return { bucket: pointer.bucket, key: pointer.key, itemIndex: pointer.itemIndex, messages };
}

export async function readImportErrors(
  client: DynamoDBClient,
  options: {
    importArn: string;
    logGroupArn: string | undefined;
    endpoint: string | undefined;
    startTime: number | undefined;
  },
): Promise<LogsResult> {
  const region = await client.config.region();
  const endpoint = new URL(options.endpoint ?? `https://logs.${region}.amazonaws.com`);
  const signer = new SignatureV4({
    credentials: client.config.credentials,
    region,
    service: 'logs',
    sha256: NodeSha256,
  });
  const group = logGroupName(options.logGroupArn);
  const events: ImportLogEvent[] = [];
  let nextToken: string | undefined;
  do {
    const body = JSON.stringify({
      logGroupName: group,
      // A quoted term matches the events that hold the import's ARN.
      filterPattern: JSON.stringify(options.importArn),
      ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
      ...(nextToken === undefined ? {} : { nextToken }),
    });
    const request = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: endpoint.pathname,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Logs_20140328.FilterLogEvents',
      },
      body,
    });
    let answer: Response;
    try {
      answer = await fetch(endpoint, { method: 'POST', headers: request.headers, body });
    } catch (error) {
      return {
        ok: false,
        reason: `FilterLogEvents on ${group} could not be sent: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const text = await answer.text();
    if (!answer.ok) {
      const type = /"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(text)?.[1] ?? `HTTP ${answer.status}`;
      return { ok: false, reason: `FilterLogEvents on ${group} was refused: ${type}` };
    }
    const page = JSON.parse(text) as { events?: { message?: string }[]; nextToken?: string };
    for (const event of page.events ?? []) {
      const parsed = event.message === undefined ? undefined : parseImportLogMessage(event.message, options.importArn);
      if (parsed) events.push(parsed);
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return { ok: true, events };
}
