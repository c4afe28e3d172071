import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { crc32 } from '../../src/dynamo/wire.js';
import { mulberry32 } from '../../src/random.js';

/**
 * Faults injected into `DynamoDB_20120810.BatchWriteItem` requests (fractions 0..1 drawn per
 * request from a seeded PRNG). Every other request passes through untouched, except once
 * `failAfter` has tripped.
 */
export interface Faults {
  /** Fraction of the put/delete requests in each batch returned as UnprocessedItems, not forwarded. */
  withhold?: number;
  /** Fraction of requests answered 400 with a throttling error (nothing written). */
  throttle?: number;
  throttleType?: ThrottleType;
  /** Fraction of requests answered 500 InternalServerError (nothing written). */
  serverError?: number;
  /** Fraction of requests answered 200 with an empty body, as a broken proxy might (nothing written). */
  emptyAnswer?: number;
  /** Fraction of requests answered 200 `{}`, without UnprocessedItems, as a broken gateway might (nothing written). */
  emptyObject?: number;
  /** Fraction of requests forwarded, and DynamoDB's answer relayed with chunked transfer coding (written). */
  chunkedAnswer?: number;
  /** Fraction of requests forwarded, and the answer relayed without a length, ended by closing the connection (written). */
  closeDelimitedAnswer?: number;
  /** Fraction of requests answered 200 with a chunked body that never ends, until the client hangs up (nothing written). */
  endlessAnswer?: number;
  /** Fraction of requests answered 200 whose body then trickles, a byte every `trickleMs`, never complete (nothing written). */
  trickleAnswer?: number;
  /** Milliseconds between the bytes of a trickling answer (default 200). */
  trickleMs?: number;
  /** Fraction of requests answered 429 Too Many Requests by a gateway, with its own body (nothing written). */
  tooManyRequests?: number;
  /** Fraction of requests whose client socket is destroyed before forwarding (nothing written). */
  resetBefore?: number;
  /** Fraction of requests forwarded, then the client socket destroyed (written, client sees an error). */
  resetAfter?: number;
  /** Delay every BatchWriteItem answer (including injected errors) by this many ms. */
  delayMs?: number;
  /** After this many BatchWriteItem requests (counted from when these faults were set), fail everything. */
  failAfter?: number;
  /** Error type for `failAfter`, e.g. 'UnrecognizedClientException' or a full `namespace#Name`. */
  failWith?: string;
  /** PRNG seed (mulberry32); a random seed when absent. */
  seed?: number;
}

export type ThrottleType = 'ProvisionedThroughputExceededException' | 'ThrottlingException' | 'RequestLimitExceeded';

export interface ProxyStats {
  requests: number;
  batchWriteRequests: number;
  itemsForwarded: number;
  itemsWithheld: number;
  throttled: number;
  serverErrors: number;
  emptyAnswers: number;
  emptyObjects: number;
  chunkedAnswers: number;
  closeDelimitedAnswers: number;
  endlessAnswers: number;
  /** Bytes of endless answers written, all requests together. */
  endlessBytes: number;
  trickledAnswers: number;
  tooManyRequests: number;
  resetsBefore: number;
  resetsAfter: number;
  failed: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Live counters, updated as requests arrive. */
  stats: ProxyStats;
  /** Replaces all faults; restarts the `failAfter` count; reseeds when `seed` is given. */
  setFaults(faults: Faults): void;
  close(): Promise<void>;
}

type WriteRequest = Record<string, unknown>;
type RequestItems = Record<string, WriteRequest[]>;

const BATCH_WRITE = 'DynamoDB_20120810.BatchWriteItem';
const JSON_TYPE = 'application/x-amz-json-1.0';
// Headers that describe one hop, or the body we may rewrite; recomputed on each side.
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection']);

// Namespaces as DynamoDB sends them in `__type`; the SDK keeps only the part after '#'.
const ERROR_NAMESPACES: Record<string, string> = {
  ThrottlingException: 'com.amazon.coral.availability',
  UnrecognizedClientException: 'com.amazon.coral.service',
  AccessDeniedException: 'com.amazon.coral.service',
  InvalidSignatureException: 'com.amazon.coral.service',
  MissingAuthenticationTokenException: 'com.amazon.coral.service',
  ExpiredTokenException: 'com.amazon.coral.service',
  ValidationException: 'com.amazon.coral.validate',
};

export function startFaultProxy(target: string, faults: Faults = {}): Promise<FaultProxy> {
  const agent = new http.Agent({ keepAlive: true });
  const targetUrl = new URL(target);
  const stats: ProxyStats = {
    requests: 0,
    batchWriteRequests: 0,
    itemsForwarded: 0,
    itemsWithheld: 0,
    throttled: 0,
    serverErrors: 0,
    emptyAnswers: 0,
    emptyObjects: 0,
    chunkedAnswers: 0,
    closeDelimitedAnswers: 0,
    endlessAnswers: 0,
    endlessBytes: 0,
    trickledAnswers: 0,
    tooManyRequests: 0,
    resetsBefore: 0,
    resetsAfter: 0,
    failed: 0,
  };
  let current: Faults = {};
  let random = mulberry32(0);
  let batchWritesSinceSet = 0;
  const setFaults = (next: Faults): void => {
    if (next.seed !== undefined || current.seed === undefined) random = mulberry32(next.seed ?? randomSeed());
    current = { ...next };
    batchWritesSinceSet = 0;
  };
  setFaults(faults);
  const hit = (fraction: number | undefined): boolean => fraction !== undefined && fraction > 0 && random() < fraction;

  const timers = new Set<NodeJS.Timeout>();
  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const forward = (req: IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = copyHeaders(req.headers);
      headers['content-length'] = body.length;
      const upstream = http.request(
        {
          protocol: targetUrl.protocol,
          hostname: targetUrl.hostname,
          port: targetUrl.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    stats.requests++;
    const isBatchWrite = req.headers['x-amz-target'] === BATCH_WRITE;
    const f = current;
    // Counted before this request: with failAfter N, BatchWriteItem number N+1 is the first to fail.
    const tripped = f.failAfter !== undefined && batchWritesSinceSet >= f.failAfter;
    if (isBatchWrite) {
      stats.batchWriteRequests++;
      batchWritesSinceSet++;
    }
    if (tripped) {
      stats.failed++;
      const type = f.failWith ?? 'UnrecognizedClientException';
      return answerError(res, 400, type, `Injected by the fault proxy after ${f.failAfter} BatchWriteItem requests.`);
    }
    if (!isBatchWrite) return relay(res, await forward(req, body));

    if (f.delayMs) await delay(f.delayMs);
    if (hit(f.resetBefore)) {
      stats.resetsBefore++;
      req.socket.destroy();
      return;
    }
    if (hit(f.throttle)) {
      stats.throttled++;
      const type = f.throttleType ?? 'ProvisionedThroughputExceededException';
      return answerError(res, 400, type, THROTTLE_MESSAGES[type]);
    }
    if (hit(f.serverError)) {
      stats.serverErrors++;
      return answerError(res, 500, 'InternalServerError', 'Internal server error');
    }
    if (hit(f.emptyAnswer)) {
      stats.emptyAnswers++;
      res.writeHead(200, {
        'content-type': JSON_TYPE,
        'content-length': 0,
        'x-amz-crc32': String(crc32(Buffer.alloc(0))),
        'x-amzn-requestid': requestId(),
      });
      return void res.end();
    }

    if (hit(f.emptyObject)) {
      stats.emptyObjects++;
      return answer(res, 200, {});
    }
    if (hit(f.tooManyRequests)) {
      stats.tooManyRequests++;
      // A gateway's answer, not DynamoDB's: no __type, no crc32.
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      return void res.end('{"message":"Too Many Requests"}');
    }
    if (hit(f.endlessAnswer)) {
      stats.endlessAnswers++;
      return endless(res, (bytes) => (stats.endlessBytes += bytes));
    }
    if (hit(f.trickleAnswer)) {
      stats.trickledAnswers++;
      return trickle(res, f.trickleMs ?? 200, timers);
    }
    const shape = hit(f.chunkedAnswer) ? 'chunked' : hit(f.closeDelimitedAnswer) ? 'closeDelimited' : 'length';
    if (shape === 'chunked') stats.chunkedAnswers++;
    if (shape === 'closeDelimited') stats.closeDelimitedAnswers++;

    const parsed = parseBatch(body);
    const withheld: RequestItems = {};
    let forwarded = 0;
    let withheldCount = 0;
    if (parsed) {
      const kept: RequestItems = {};
      for (const [table, requests] of Object.entries(parsed.RequestItems)) {
        for (const request of requests) {
          if (hit(f.withhold)) {
            (withheld[table] ??= []).push(request);
            withheldCount++;
          } else {
            (kept[table] ??= []).push(request);
            forwarded++;
          }
        }
      }
      if (withheldCount > 0) parsed.RequestItems = kept;
    }
    stats.itemsWithheld += withheldCount;
    if (parsed && withheldCount > 0 && forwarded === 0) {
      // DynamoDB rejects an empty RequestItems, so answer for the server.
      return answer(res, 200, { UnprocessedItems: withheld });
    }
    const sent = parsed && withheldCount > 0 ? Buffer.from(JSON.stringify(parsed)) : body;
    const upstream = await forward(req, sent);
    stats.itemsForwarded += forwarded;
    if (hit(f.resetAfter)) {
      stats.resetsAfter++;
      req.socket.destroy();
      return;
    }
    if (withheldCount > 0 && upstream.status === 200) {
      const result = JSON.parse(upstream.body.toString('utf8')) as { UnprocessedItems?: RequestItems };
      const merged: RequestItems = { ...(result.UnprocessedItems ?? {}) };
      for (const [table, requests] of Object.entries(withheld)) merged[table] = [...(merged[table] ?? []), ...requests];
      result.UnprocessedItems = merged;
      return answer(res, 200, result, upstream.headers, shape);
    }
    relay(res, upstream, shape);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    // The client may abort mid-request; drop it quietly.
    req.on('error', () => res.destroy());
    res.on('error', () => undefined);
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch(() => {
        // The target failed (or closed): the client sees a dropped connection, like a network fault.
        req.socket.destroy();
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        stats,
        setFaults,
        close() {
          closing ??= new Promise<void>((done) => {
            for (const timer of timers) clearTimeout(timer);
            timers.clear();
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
            agent.destroy();
          });
          return closing;
        },
      });
    });
  });
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const THROTTLE_MESSAGES: Record<ThrottleType, string> = {
  ProvisionedThroughputExceededException:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  ThrottlingException: 'Rate of requests exceeds the allowed throughput.',
  RequestLimitExceeded:
    'Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase',
};

function parseBatch(body: Buffer): { RequestItems: RequestItems } | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const items = (parsed as { RequestItems?: unknown }).RequestItems;
    if (typeof items !== 'object' || items === null) return undefined;
    if (!Object.values(items).every(Array.isArray)) return undefined;
    return parsed as { RequestItems: RequestItems };
  } catch {
    // Not ours to judge: forward it and let the server answer.
    return undefined;
  }
}

function copyHeaders(headers: IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_HEADERS.has(name)) out[name] = value;
  }
  return out;
}

/** How an answer's body is framed: a length, chunked transfer coding, or the end of the connection. */
type Shape = 'length' | 'chunked' | 'closeDelimited';

function relay(res: ServerResponse, upstream: Upstream, shape: Shape = 'length'): void {
  send(res, upstream.status, copyHeaders(upstream.headers), upstream.body, shape);
}

function answer(
  res: ServerResponse,
  status: number,
  data: unknown,
  base?: IncomingHttpHeaders,
  shape: Shape = 'length',
): void {
  const body = Buffer.from(JSON.stringify(data));
  const headers = base ? copyHeaders(base) : {};
  headers['content-type'] = JSON_TYPE;
  headers['x-amzn-requestid'] ??= requestId();
  headers['x-amz-crc32'] = String(crc32(body));
  send(res, status, headers, body, shape);
}

function send(
  res: ServerResponse,
  status: number,
  headers: http.OutgoingHttpHeaders,
  body: Buffer,
  shape: Shape,
): void {
  if (shape === 'length') {
    headers['content-length'] = body.length;
    res.writeHead(status, headers);
    res.end(body);
    return;
  }
  if (shape === 'chunked') {
    // node:http chunks a body written in parts when no length is set.
    res.writeHead(status, headers);
    const third = Math.ceil(body.length / 3);
    for (let at = 0; at < body.length; at += third) res.write(body.subarray(at, at + third));
    res.end();
    return;
  }
  // HTTP/1.0 framing on a 1.1 connection: no length, no chunks, the body ends with the connection.
  const socket = res.socket;
  if (socket === null) return;
  const head = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${String(value)}`),
  ];
  res.detachSocket(socket);
  socket.end(Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), body]));
}

// An endless answer stops by itself after this much, whether or not the client ever hangs up.
const ENDLESS_LIMIT = 1024 * 1024 * 1024;

/** A 200 whose chunked body goes on (with backpressure) until the client closes the connection. */
function endless(res: ServerResponse, sent: (bytes: number) => void): void {
  res.writeHead(200, { 'content-type': JSON_TYPE, 'x-amzn-requestid': requestId() });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let total = 0;
  const pump = (): void => {
    while (!res.destroyed && total < ENDLESS_LIMIT) {
      total += chunk.length;
      sent(chunk.length);
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.destroy();
  };
  res.write('{"UnprocessedItems":{');
  pump();
}

// A trickling answer stops by itself after this long.
const TRICKLE_LIMIT_MS = 120_000;

/** A 200 that promises a body and sends it a byte every `everyMs`, never all of it. */
function trickle(res: ServerResponse, everyMs: number, timers: Set<NodeJS.Timeout>): void {
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': 1_000_000, 'x-amzn-requestid': requestId() });
  const started = Date.now();
  const timer = setInterval(() => {
    if (res.destroyed || Date.now() - started > TRICKLE_LIMIT_MS) {
      clearInterval(timer);
      timers.delete(timer);
      res.destroy();
      return;
    }
    res.write(' ');
  }, everyMs);
  timers.add(timer);
  res.on('close', () => {
    clearInterval(timer);
    timers.delete(timer);
  });
}

function answerError(res: ServerResponse, status: number, type: string, message: string): void {
  const fullType = type.includes('#')
    ? type
    : `${ERROR_NAMESPACES[type] ?? 'com.amazonaws.dynamodb.v20120810'}#${type}`;
  answer(res, status, { __type: fullType, message });
}

function requestId(): string {
  // DynamoDB request ids are 52 upper-case base32-ish characters.
  return randomBytes(39).toString('base64').toUpperCase().replace(/[+/=]/g, '0').slice(0, 52);
}

function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

export { crc32 } from '../../src/dynamo/wire.js';
export { mulberry32 } from '../../src/random.js';
