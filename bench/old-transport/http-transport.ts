/**
 * MEASUREMENT FIXTURE, not used by dynaload: the hand-written HTTP/1.1 client that undici replaced,
 * as it was in src/dynamo/ at commit 8ba8da2 (AWS_CA_BUNDLE helpers left out: the bench is plain
 * HTTP). bench/lean-vs-sdk.ts passes it to the lean sender so both clients are measured in the same
 * run. Do not import it from src/.
 *
 * One POST at a time per keep-alive connection, over plain `net` / `tls` sockets, with the SDK's
 * timeouts and error shapes (@smithy/node-http-handler), so the writer's classifier sees the same
 * errors either way.
 *
 * Why not node:http: with the request already signed and serialized, ClientRequest, IncomingMessage
 * and the agent's bookkeeping were the largest part of a worker's CPU per request (measured then on
 * the bench machine). Here a request is one socket write of head and
 * body, and the answer is parsed by src/dynamo/http1-response.ts. Each origin keeps at most
 * `maxSockets` connections (set with the writer's concurrency), reuses the most recently freed one,
 * and closes idle ones after `idleTimeoutMs` or the server's Keep-Alive hint, whichever is shorter.
 */
import net from 'node:net';
import tls from 'node:tls';
import { type HttpAnswer, ResponseParser, TOKEN } from './http1-response.js';

export type { HttpAnswer } from './http1-response.js';

export interface TransportOptions {
  maxSockets: number;
  /** No TCP/TLS connection within this time: TimeoutError (SDK: connectionTimeout). */
  connectionTimeoutMs: number;
  /** No bytes on the socket for this long: TimeoutError, code ETIMEDOUT (SDK: requestTimeout). */
  requestTimeoutMs: number;
  /** The whole HTTPS trust store when set (see caBundleOptions); Node's defaults otherwise. */
  ca?: string[];
  /** An idle keep-alive connection is closed after this long (default 20 s), or sooner if the server says so. */
  idleTimeoutMs?: number;
}

export interface Transport {
  /** `headers` must hold host and content-length (the signed request has both). */
  post(url: URL, headers: Record<string, string>, body: Buffer): Promise<HttpAnswer>;
  /** Closes every connection; requests in flight or waiting for one fail. */
  destroy(): void;
}

// The SDK renames these socket errors to TimeoutError and keeps `code` (node-http-handler constants.ts).
const TIMEOUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

const DEFAULT_IDLE_TIMEOUT_MS = 20_000;
// node:http's rule for header values (ERR_INVALID_CHAR): tab, visible ASCII and latin1 only. The head
// is written as latin1, so a character above U+00FF would lose its high byte (U+010D would become CR).
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

interface Job {
  bytes: Buffer;
  resolve(answer: HttpAnswer): void;
  reject(error: Error): void;
}

interface Origin {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  /** Free connections, the most recently freed last (reused first: it is the least likely to have been closed). */
  readonly idle: Connection[];
  readonly waiting: Job[];
  count: number;
  /** The last TLS session, offered again so a new connection can resume it (as https.Agent does). */
  session: Buffer | undefined;
}

export function createTransport(options: TransportOptions): Transport {
  // A limit below 1 would make every request wait for ever.
  if (!Number.isInteger(options.maxSockets) || options.maxSockets < 1)
    throw new RangeError(`Expected maxSockets to be an integer of at least 1, got ${options.maxSockets}`);
  const origins = new Map<string, Origin>();
  // One secure context for every connection: built from the whole trust store, it is costly.
  const secureContext = options.ca === undefined ? undefined : tls.createSecureContext({ ca: options.ca });
  const open = new Set<Connection>();
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let destroyed = false;

  const originOf = (url: URL): Origin => {
    const key = `${url.protocol}//${url.host}`;
    let origin = origins.get(key);
    if (origin === undefined) {
      const secure = url.protocol === 'https:';
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      origin = {
        secure,
        host,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        idle: [],
        waiting: [],
        count: 0,
        session: undefined,
      };
      origins.set(key, origin);
    }
    return origin;
  };

  const connect = (origin: Origin, job: Job): void => {
    origin.count++;
    const socket = origin.secure
      ? tls.connect({
          host: origin.host,
          port: origin.port,
          // SNI takes a host name, never an address (RFC 6066 3).
          ...(net.isIP(origin.host) === 0 ? { servername: origin.host } : {}),
          ALPNProtocols: ['http/1.1'],
          ...(origin.session === undefined ? {} : { session: origin.session }),
          ...(secureContext === undefined ? {} : { secureContext }),
        })
      : net.connect({ host: origin.host, port: origin.port });
    socket.setNoDelay(true);
    // As node:http's keep-alive agent: TCP keep-alive probes find a peer that vanished while idle.
    socket.setKeepAlive(true, 1_000);
    if (origin.secure) socket.on('session', (session: Buffer) => (origin.session = session));
    const connection = new Connection(socket, origin, lifecycle, options.requestTimeoutMs);
    // 0: no connection timeout, as in the SDK.
    if (options.connectionTimeoutMs > 0) {
      const timer = setTimeout(() => {
        socket.destroy(
          timeoutError(
            `the request socket did not establish a connection with the server within ${options.connectionTimeoutMs} ms`,
          ),
        );
      }, options.connectionTimeoutMs);
      socket.once(origin.secure ? 'secureConnect' : 'connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    }
    connection.start(job);
  };

  const lifecycle: Lifecycle = {
    opened(connection) {
      open.add(connection);
    },
    freed(connection, hintMs) {
      const { origin } = connection;
      const next = origin.waiting.shift();
      if (next !== undefined) {
        connection.start(next);
        return;
      }
      // The server's Keep-Alive hint, less a second for the answer's travel (as node:http's agent does).
      const idleMs = hintMs === undefined ? idleTimeoutMs : Math.min(idleTimeoutMs, Math.max(hintMs - 1_000, 0));
      if (destroyed || idleMs === 0) {
        connection.close();
        return;
      }
      connection.rest(idleMs);
      origin.idle.push(connection);
    },
    closed(connection) {
      open.delete(connection);
      const { origin } = connection;
      origin.count--;
      const at = origin.idle.indexOf(connection);
      if (at >= 0) origin.idle.splice(at, 1);
      const next = origin.waiting.shift();
      if (next !== undefined) connect(origin, next);
    },
  };

  const post = (url: URL, headers: Record<string, string>, body: Buffer): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      if (destroyed) {
        reject(destroyedError());
        return;
      }
      let head = `POST ${url.pathname} HTTP/1.1\r\n`;
      for (const name of Object.keys(headers)) {
        const value = headers[name] as string;
        if (!TOKEN.test(name) || INVALID_VALUE.test(value)) {
          reject(
            Object.assign(new TypeError(`Invalid character in header content [${JSON.stringify(name)}]`), {
              code: 'ERR_INVALID_CHAR',
            }),
          );
          return;
        }
        head += `${name}: ${value}\r\n`;
      }
      head += '\r\n';
      // One write of head and body: one segment on the wire for a small request, and no writev.
      const bytes = Buffer.allocUnsafe(Buffer.byteLength(head, 'latin1') + body.length);
      const at = bytes.write(head, 0, 'latin1');
      body.copy(bytes, at);
      const job: Job = { bytes, resolve, reject };
      const origin = originOf(url);
      for (let connection = origin.idle.pop(); connection !== undefined; connection = origin.idle.pop()) {
        if (connection.usable) {
          connection.start(job);
          return;
        }
        connection.close();
      }
      if (origin.count < options.maxSockets) connect(origin, job);
      else origin.waiting.push(job);
    });

  return {
    post,
    destroy() {
      destroyed = true;
      for (const origin of origins.values()) {
        for (const job of origin.waiting.splice(0)) job.reject(destroyedError());
        for (const connection of origin.idle.splice(0)) connection.close();
      }
      // Requests in flight fail with the same code: not a network error, which would be retried.
      for (const connection of open) connection.close(destroyedError());
    },
  };
}

interface Lifecycle {
  opened(connection: Connection): void;
  /** The answer is in and the connection can carry another request. */
  freed(connection: Connection, keepAliveHintMs: number | undefined): void;
  /** The socket closed, for whatever reason. */
  closed(connection: Connection): void;
}

/** One keep-alive socket, carrying one request at a time. */
class Connection {
  private job: Job | undefined;
  private parser: ResponseParser | undefined;
  private error: Error | undefined;

  constructor(
    private readonly socket: net.Socket,
    readonly origin: Origin,
    private readonly lifecycle: Lifecycle,
    private readonly requestTimeoutMs: number,
  ) {
    lifecycle.opened(this);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('end', () => this.ended());
    socket.on('error', (error: Error) => (this.error ??= error));
    socket.on('timeout', () => this.timedOut());
    socket.on('close', () => this.closed());
  }

  get usable(): boolean {
    return !this.socket.destroyed && this.socket.writable && !this.socket.readableEnded;
  }

  start(job: Job): void {
    this.job = job;
    this.parser = new ResponseParser();
    this.socket.ref();
    // No bytes either way for this long: ETIMEDOUT (the SDK's requestTimeout, node:http's setTimeout).
    this.socket.setTimeout(this.requestTimeoutMs);
    this.socket.write(job.bytes);
  }

  /** Idle in the pool: the process may exit, and the socket closes after `idleMs`. */
  rest(idleMs: number): void {
    this.socket.unref();
    this.socket.setTimeout(idleMs);
  }

  close(error?: Error): void {
    this.socket.destroy(error);
  }

  private data(chunk: Buffer): void {
    const parser = this.parser;
    // Bytes nobody asked for: the connection's state is unknown, so it is not used again.
    if (parser === undefined) {
      this.socket.destroy();
      return;
    }
    let answer: HttpAnswer | undefined;
    try {
      answer = parser.push(chunk);
    } catch (error) {
      this.socket.destroy(error as Error);
      return;
    }
    if (answer !== undefined)
      this.complete(
        answer,
        parser.keepAlive && !parser.trailing && this.socket.writableLength === 0,
        parser.keepAliveHintMs,
      );
  }

  private ended(): void {
    // An answer framed by the end of the connection is complete now; any other is cut short ('close' says so).
    const answer = this.parser?.end();
    if (answer !== undefined) this.complete(answer, false, undefined);
  }

  private timedOut(): void {
    if (this.job === undefined) this.socket.destroy();
    else
      this.socket.destroy(
        Object.assign(timeoutError(`no answer within the ${this.requestTimeoutMs} ms request timeout`), {
          code: 'ETIMEDOUT',
        }),
      );
  }

  private complete(answer: HttpAnswer, reusable: boolean, keepAliveHintMs: number | undefined): void {
    const job = this.job as Job;
    this.job = undefined;
    this.parser = undefined;
    job.resolve(answer);
    if (reusable) this.lifecycle.freed(this, keepAliveHintMs);
    else this.socket.destroy();
  }

  private closed(): void {
    const job = this.job;
    if (job !== undefined) {
      this.job = undefined;
      // Node's wording: 'socket hang up' before any of the answer, 'aborted' once it had begun.
      const error =
        this.error ??
        Object.assign(new Error(this.parser?.started === true ? 'aborted' : 'socket hang up'), { code: 'ECONNRESET' });
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && TIMEOUT_CODES.has(code)) error.name = 'TimeoutError';
      job.reject(error);
    }
    this.parser = undefined;
    this.lifecycle.closed(this);
  }
}

function destroyedError(): Error {
  return Object.assign(new Error('The transport was destroyed'), { code: 'ERR_TRANSPORT_DESTROYED' });
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(`dynaload lean writer - ${message}.`), { name: 'TimeoutError' });
}
