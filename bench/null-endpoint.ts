/**
 * A "null" DynamoDB endpoint for the bench: enough of the JSON protocol for the CLI (CreateTable,
 * DescribeTable), and a BatchWriteItem that validates the request and acknowledges it at once
 * without storing anything, so a bench against it measures the client. Optionally it withholds a
 * seeded random fraction of the items, or admits only `capacity` write units per second (token
 * bucket), returning the rest as UnprocessedItems as DynamoDB does; or answers `delayMs` late, as a
 * table in another region does.
 *
 * Kept cheap on purpose (it shares the machine's cores with the client it measures): one
 * JSON.parse per request, a static answer when nothing is withheld, items weighed only when metering.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { itemUnits, PerSecond, TokenBucket } from './capacity.js';
import type { EndpointSpec, EndpointStats } from './protocol.js';
import { mulberry32 } from '../src/random.js';

type NullSpec = Extract<EndpointSpec, { kind: 'null' }>;
type Json = Record<string, unknown>;

interface TableState {
  readonly description: Json;
  readonly hash: string;
  readonly range: string | undefined;
}

export interface NullEndpoint {
  readonly endpoint: string;
  stats(): EndpointStats;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
const JSON_TYPE = 'application/x-amz-json-1.0';
const ALL_PROCESSED = Buffer.from('{"UnprocessedItems":{}}');
const MAX_BATCH = 25;

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const validation = (message: string): ApiError =>
  new ApiError('com.amazon.coral.validate#ValidationException', message);

export async function startNullEndpoint(spec: NullSpec): Promise<NullEndpoint> {
  const tables = new Map<string, TableState>();
  const random = mulberry32(spec.seed ?? 1);
  const withhold = spec.withhold ?? 0;
  const delayMs = spec.delayMs ?? 0;
  const bucket = spec.capacity === undefined ? undefined : new TokenBucket(spec.capacity, spec.burstSeconds ?? 1);
  const weigh = bucket !== undefined || spec.meter === true;
  const perSecond = new PerSecond();
  const cpuAtStart = process.cpuUsage();
  const counters = {
    requests: 0,
    batchWriteRequests: 0,
    invalidRequests: 0,
    itemsAdmitted: 0,
    itemsWithheld: 0,
    unitsAdmitted: 0,
  };
  const invalidSamples: string[] = [];
  let firstAt: number | undefined;
  let lastAt = 0;

  const batchWrite = (body: Json): Buffer => {
    const requestItems = body.RequestItems;
    if (!isObject(requestItems)) throw validation('Expected RequestItems to be a map of table names to write requests');
    // Validate the whole request before admitting any of it, as DynamoDB does: a refused batch writes nothing.
    const entries: { name: string; request: unknown; item: Json }[] = [];
    for (const [name, requests] of Object.entries(requestItems)) {
      const table = tables.get(name);
      if (table === undefined)
        throw new ApiError(
          'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
          `Requested resource not found: Table: ${name} not found`,
        );
      if (!Array.isArray(requests) || requests.length === 0)
        throw validation(`Expected a non-empty list of write requests for table ${name}`);
      if (entries.length + requests.length > MAX_BATCH)
        throw validation(
          `1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must have length less than or equal to ${MAX_BATCH}`,
        );
      const keys = new Set<string>();
      for (const request of requests as unknown[]) {
        const item = isObject(request)
          ? isObject(request.PutRequest)
            ? request.PutRequest.Item
            : isObject(request.DeleteRequest)
              ? request.DeleteRequest.Key
              : undefined
          : undefined;
        if (!isObject(item))
          throw validation('Expected each write request to hold PutRequest.Item or DeleteRequest.Key');
        const key = keyOf(table, item);
        if (keys.has(key)) throw validation('Provided list of item keys contains duplicates');
        keys.add(key);
        entries.push({ name, request, item });
      }
    }
    if (entries.length === 0) throw validation('Expected RequestItems to hold at least one write request');
    const now = performance.now();
    firstAt ??= now;
    lastAt = now;
    let unprocessed: Record<string, unknown[]> | undefined;
    for (const { name, request, item } of entries) {
      const units = weigh ? itemUnits(item) : 0;
      if ((withhold > 0 && random() < withhold) || (bucket !== undefined && !bucket.take(units, now))) {
        counters.itemsWithheld++;
        ((unprocessed ??= {})[name] ??= []).push(request);
      } else {
        counters.itemsAdmitted++;
        if (weigh) {
          counters.unitsAdmitted += units;
          perSecond.add(units, now);
        }
      }
    }
    return unprocessed === undefined ? ALL_PROCESSED : Buffer.from(JSON.stringify({ UnprocessedItems: unprocessed }));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    counters.requests++;
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    if (operation === 'BatchWriteItem') counters.batchWriteRequests++;
    try {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ApiError('com.amazon.coral.service#SerializationException', 'Expected the request body to be JSON');
      }
      if (!isObject(body))
        throw new ApiError(
          'com.amazon.coral.service#SerializationException',
          'Expected the request body to be a JSON object',
        );
      if (operation === 'BatchWriteItem') return send(res, 200, batchWrite(body));
      if (operation === 'DescribeTable')
        return send(res, 200, Buffer.from(JSON.stringify({ Table: existing(tables, body.TableName).description })));
      if (operation === 'CreateTable')
        return send(res, 200, Buffer.from(JSON.stringify({ TableDescription: createTable(tables, body).description })));
      throw new ApiError(
        'com.amazon.coral.service#UnknownOperationException',
        `The null endpoint does not implement ${target || 'requests without X-Amz-Target'}`,
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (operation === 'BatchWriteItem') {
        counters.invalidRequests++;
        if (invalidSamples.length < 5) invalidSamples.push(error.message);
      }
      send(res, 400, Buffer.from(JSON.stringify({ __type: error.type, message: error.message })));
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    const answer = (): void => handle(req, res, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    // Delayed before it is handled, so a capacity bucket sees the writes when they would reach a far table.
    req.on('end', delayMs > 0 ? () => setTimeout(answer, delayMs) : answer);
    req.on('error', () => res.destroy());
  });
  // Longer than the SDK keeps idle sockets, so a reused keep-alive socket is not closed under it.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => {
      const cpu = process.cpuUsage(cpuAtStart);
      return {
        kind: 'null',
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        ...counters,
        invalidSamples: [...invalidSamples],
        unitsPerSecond: [...perSecond.counts],
        activeMs: firstAt === undefined ? 0 : Math.round(lastAt - firstAt),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const ALL_PROCESSED_CRC = zlib.crc32(ALL_PROCESSED);
let requestId = 0;

/** Answers with DynamoDB's headers; the SDK checks `x-amz-crc32` against the body, as it would with DynamoDB. */
function send(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': body.length,
    'x-amz-crc32': body === ALL_PROCESSED ? ALL_PROCESSED_CRC : zlib.crc32(body),
    'x-amzn-requestid': `null-${++requestId}`,
  });
  res.end(body);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keyOf(table: TableState, item: Json): string {
  return table.range === undefined
    ? keyPart(item, table.hash)
    : `${keyPart(item, table.hash)}\u0000${keyPart(item, table.range)}`;
}

// Not a closure inside keyOf: run through tsx, every closure created is wrapped in a naming call,
// which cost the endpoint about 8% of its CPU (it shares the cores with the client it measures).
function keyPart(item: Json, name: string): string {
  const value = item[name];
  // A key attribute is {"S": ...}, {"N": ...} or {"B": ...}: its one value identifies it.
  const scalar = isObject(value) ? (value.S ?? value.N ?? value.B) : undefined;
  if (typeof scalar !== 'string') throw validation('One of the required keys was not given a value');
  return scalar;
}

function existing(tables: Map<string, TableState>, name: unknown): TableState {
  const table = typeof name === 'string' ? tables.get(name) : undefined;
  if (table === undefined)
    throw new ApiError(
      'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
      `Requested resource not found: Table: ${String(name)} not found`,
    );
  return table;
}

/** Stores the table as described by CreateTable; DescribeTable then answers with the same shape DynamoDB does. */
function createTable(tables: Map<string, TableState>, body: Json): TableState {
  const name = body.TableName;
  if (typeof name !== 'string' || name === '') throw validation('Expected TableName');
  if (tables.has(name))
    throw new ApiError('com.amazonaws.dynamodb.v20120810#ResourceInUseException', `Table already exists: ${name}`);
  const keySchema = Array.isArray(body.KeySchema) ? (body.KeySchema as Json[]) : [];
  const nameOf = (role: string): string | undefined => {
    const element = keySchema.find((k) => isObject(k) && k.KeyType === role);
    return typeof element?.AttributeName === 'string' ? element.AttributeName : undefined;
  };
  const hash = nameOf('HASH');
  if (hash === undefined) throw validation('Expected KeySchema to name a HASH key');
  const billingMode = body.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
  const throughput = isObject(body.ProvisionedThroughput) ? body.ProvisionedThroughput : {};
  const now = Date.now() / 1000;
  const description: Json = {
    TableName: name,
    TableStatus: 'ACTIVE',
    TableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${name}`,
    TableId: '00000000-0000-0000-0000-000000000000',
    CreationDateTime: now,
    KeySchema: keySchema,
    AttributeDefinitions: Array.isArray(body.AttributeDefinitions) ? body.AttributeDefinitions : [],
    BillingModeSummary: { BillingMode: billingMode, LastUpdateToPayPerRequestDateTime: now },
    ProvisionedThroughput: {
      NumberOfDecreasesToday: 0,
      ReadCapacityUnits: billingMode === 'PROVISIONED' ? Number(throughput.ReadCapacityUnits ?? 0) : 0,
      WriteCapacityUnits: billingMode === 'PROVISIONED' ? Number(throughput.WriteCapacityUnits ?? 0) : 0,
    },
    ItemCount: 0,
    TableSizeBytes: 0,
  };
  const table = { description, hash, range: nameOf('RANGE') };
  tables.set(name, table);
  return table;
}
