/**
 * POSTs of signed, serialized requests on undici (the client under Node's own fetch), through
 * `dispatch()` with a small handler: the cheapest of its APIs (no body stream, no promise per chunk).
 * One Agent holds a Pool per origin with `maxSockets` keep-alive connections, set with the writer's
 * concurrency. Errors take the SDK's shapes (@smithy/node-http-handler), so the writer's classifier
 * sees the same errors from either path.
 *
 * An answer is bounded twice: in size (`maxAnswerBytes`, far above DynamoDB's largest) and in time
 * (`answerTimeoutMs`, from the request's dispatch to its last byte), so an endless or trickling
 * answer from something between us and DynamoDB ends as an error instead of growing or hanging.
 * Proxies come from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case), as the AWS CLI reads them.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { Agent, type Dispatcher, EnvHttpProxyAgent } from '../packages/undici.js';

export interface HttpAnswer {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", " (RFC 9110 5.3). */
  readonly headers: Record<string, string>;
  body: Buffer;
  /** The CRC32 of `body`, computed as its parts arrived (DynamoDB sends it in x-amz-crc32). */
  crc32: number;
  /** One header, as `headers[name]` would give it (`name` in lower case), without building them all. */
  header(name: string): string | undefined;
}

export interface TransportOptions {
  maxSockets: number;
  /** No TCP/TLS connection within this time: TimeoutError (SDK: connectionTimeout). */
  connectionTimeoutMs: number;
  /** No answer head, or no body bytes, for this long: TimeoutError, code ETIMEDOUT (SDK: requestTimeout). */
  requestTimeoutMs: number;
  /** The whole answer must be in within this time of the request's dispatch: TimeoutError, code ETIMEDOUT. */
  answerTimeoutMs?: number;
  /** An answer body larger than this fails the request (ERR_ANSWER_TOO_LARGE). */
  maxAnswerBytes?: number;
  /** The whole HTTPS trust store when set (see caBundleOptions); Node's defaults otherwise. */
  ca?: string[];
  /** An idle keep-alive connection is closed after this long (default 20 s), or sooner if the server says so. */
  idleTimeoutMs?: number;
  /** Proxy variables are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface Transport {
  /** `headers` must hold host and content-length (the signed request has both). */
  post(url: URL, headers: Record<string, string>, body: Buffer): Promise<HttpAnswer>;
  /** Closes every connection; requests in flight fail with ERR_TRANSPORT_DESTROYED. */
  destroy(): void;
}

const DEFAULT_IDLE_TIMEOUT_MS = 20_000;
const DEFAULT_ANSWER_TIMEOUT_MS = 90_000;
/**
 * A BatchWriteItem answer holds at most the requests sent back (a request is at most 16 MB) as JSON,
 * plus ConsumedCapacity and ItemCollectionMetrics: 32 MiB is well above any answer DynamoDB can send,
 * and a runaway answer ends there, with its memory given back.
 */
export const DEFAULT_MAX_ANSWER_BYTES = 32 * 1024 * 1024;

// undici's codes for a connection that failed under a request; the SDK reports these as TimeoutError
// with code ECONNRESET (node-http-handler renames ECONNRESET, EPIPE and ETIMEDOUT).
const RESET_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNRESET', 'EPIPE']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * TLS options for AWS_CA_BUNDLE, the variable the AWS CLI and SDKs read for a private CA. Setting
 * `ca` replaces Node's trust store, so the defaults go in first: the bundled roots plus
 * NODE_EXTRA_CA_CERTS (or, where Node has it, `tls.getCACertificates('default')`, which also holds
 * the system store under --use-system-ca). Undefined when the variable is not set.
 * https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html#envvars-list-AWS_CA_BUNDLE
 */
export function caBundleOptions(env: NodeJS.ProcessEnv = process.env): { ca: string[] } | undefined {
  const path = env.AWS_CA_BUNDLE;
  if (path === undefined || path === '') return undefined;
  const getCACertificates = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  const defaults = getCACertificates ? getCACertificates('default') : [...tls.rootCertificates, ...extraCerts(env)];
  return { ca: [...defaults, readFileSync(path, 'utf8')] };
}

function extraCerts(env: NodeJS.ProcessEnv): string[] {
  const path = env.NODE_EXTRA_CA_CERTS;
  return path ? [readFileSync(path, 'utf8')] : [];
}

/** Whether any proxy variable is set, in either case (the AWS CLI and undici read both). */
export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((name) => (env[name] ?? '') !== '');
}

export interface DispatcherOptions {
  maxSockets: number;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs?: number;
  ca?: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * An undici dispatcher with a Pool of `maxSockets` keep-alive connections per origin, going through
 * the proxy that HTTPS_PROXY / HTTP_PROXY name unless NO_PROXY excludes the host. Without a proxy
 * variable it is a plain Agent: EnvHttpProxyAgent parses the origin of every request to decide.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const env = options.env ?? process.env;
  const tlsOptions = { timeout: options.connectionTimeoutMs, ...(options.ca === undefined ? {} : { ca: options.ca }) };
  const agentOptions = {
    connections: options.maxSockets,
    pipelining: 1,
    keepAliveTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    keepAliveMaxTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
    connect: tlsOptions,
  };
  if (!proxyConfigured(env)) return new Agent(agentOptions);
  const variable = (name: string): string | undefined => env[name.toLowerCase()] || env[name] || undefined;
  const httpProxy = variable('HTTP_PROXY');
  const httpsProxy = variable('HTTPS_PROXY');
  const noProxy = variable('NO_PROXY');
  return new EnvHttpProxyAgent({
    ...agentOptions,
    ...(httpProxy === undefined ? {} : { httpProxy }),
    ...(httpsProxy === undefined ? {} : { httpsProxy }),
    ...(noProxy === undefined ? {} : { noProxy }),
    // Through a tunnel, TLS to DynamoDB and to an https:// proxy each need the same trust store.
    requestTls: tlsOptions,
    proxyTls: tlsOptions,
  });
}

export function createTransport(options: TransportOptions): Transport {
  // A limit below 1 would make every request wait for ever.
  if (!Number.isInteger(options.maxSockets) || options.maxSockets < 1)
    throw new RangeError(`Expected maxSockets to be an integer of at least 1, got ${options.maxSockets}`);
  const dispatcher = createDispatcher(options);
  const deadlines = new Deadlines(options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS);
  const maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  // The writer posts to one URL object per endpoint: its origin and path are strings built on each read.
  let lastUrl: URL | undefined;
  let origin = '';
  let path = '';
  let destroyed = false;

  const post = (url: URL, headers: Record<string, string>, body: Buffer): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      if (destroyed) {
        reject(destroyedError());
        return;
      }
      if (url !== lastUrl) {
        origin = url.origin;
        path = url.pathname;
        lastUrl = url;
      }
      const exchange = new Exchange(resolve, reject, maxAnswerBytes, deadlines);
      deadlines.add(exchange);
      try {
        dispatcher.dispatch({ origin, path, method: 'POST', headers, body }, exchange as Dispatcher.DispatchHandler);
      } catch (error) {
        // Invalid headers are refused before anything is sent.
        exchange.fail(error as Error);
      }
    });

  return {
    post,
    destroy() {
      destroyed = true;
      // Requests in flight fail with this code: not a network error, which would be retried.
      deadlines.abortAll(destroyedError());
      void dispatcher.destroy().catch(() => undefined);
    },
  };
}

/**
 * The requests in flight and their whole-answer deadline. Every request gets the same time, so the
 * Set (in insertion order) is in deadline order, and one timer, armed for the oldest, serves them
 * all, instead of a timer set and cleared for each request.
 */
class Deadlines {
  private readonly pending = new Set<Exchange>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  add(exchange: Exchange): void {
    this.pending.add(exchange);
    if (this.ms <= 0) return;
    exchange.due = Date.now() + this.ms;
    if (this.timer === undefined) this.arm(this.ms);
  }

  delete(exchange: Exchange): void {
    this.pending.delete(exchange);
  }

  abortAll(error: Error): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const exchange of this.pending) exchange.abort(error);
  }

  private arm(delay: number): void {
    // Unreferenced: a request in flight holds its socket, which keeps the process alive.
    this.timer = setTimeout(() => this.expire(), delay).unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const exchange of this.pending) {
      if (exchange.due > now) {
        this.arm(exchange.due - now);
        return;
      }
      exchange.abort(
        Object.assign(timeoutError(`the answer was not complete within ${this.ms} ms`), { code: 'ETIMEDOUT' }),
      );
    }
  }
}

/**
 * One request's answer, gathered by undici's dispatch handler. The handler uses the callbacks that
 * take the raw header list (onHeaders ...): the newer controller API wraps each request in another
 * object and parses every header into one, which cost measurably more CPU per request (bench/lean-vs-sdk.ts).
 * The raw list is kept as it came, and read by name when asked (see Answer).
 */
class Exchange {
  due = 0;
  private abortRequest: ((error: Error) => void) | undefined;
  private status = 0;
  private rawHeaders: Buffer[] = [];
  private body: Buffer | undefined;
  private chunks: Buffer[] | undefined;
  private size = 0;
  private crc = 0;
  private settled = false;
  private reason: Error | undefined;

  constructor(
    private readonly resolve: (answer: HttpAnswer) => void,
    private readonly reject: (error: Error) => void,
    private readonly maxBytes: number,
    private readonly deadlines: Deadlines,
  ) {}

  /** Ends the exchange with `error`, and the request with it if it is on a connection. */
  abort(error: Error): void {
    this.reason ??= error;
    this.abortRequest?.(error);
    this.fail(error);
  }

  onConnect(abort: (error: Error) => void): void {
    this.abortRequest = abort;
    if (this.reason !== undefined) abort(this.reason);
  }

  onHeaders(statusCode: number, raw: Buffer[]): boolean {
    // 1xx answers come before the real one; only the last head counts.
    this.status = statusCode;
    this.rawHeaders = raw;
    const declared = Number(rawHeader(raw, 'content-length'));
    if (declared > this.maxBytes) this.abort(tooLargeError(this.maxBytes, `declares ${declared} bytes`));
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.abort(tooLargeError(this.maxBytes, 'went past it'));
      return false;
    }
    this.crc = zlib.crc32(chunk, this.crc);
    // Most answers come in one part, which is then the body as it is.
    if (this.body === undefined) this.body = chunk;
    else (this.chunks ??= [this.body]).push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.finish();
    const body = this.chunks !== undefined ? Buffer.concat(this.chunks, this.size) : (this.body ?? Buffer.alloc(0));
    this.resolve(new Answer(this.status, this.rawHeaders, body, this.crc));
  }

  onError(error: Error): void {
    this.fail(this.reason ?? sdkShaped(error));
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.finish();
    this.body = undefined;
    this.chunks = undefined;
    this.reject(error);
  }

  private finish(): void {
    this.settled = true;
    this.deadlines.delete(this);
  }
}

/** An answer whose headers stay undici's raw list until one is asked for: most are never read. */
class Answer implements HttpAnswer {
  private record: Record<string, string> | undefined;

  constructor(
    readonly status: number,
    private readonly raw: Buffer[],
    readonly body: Buffer,
    readonly crc32: number,
  ) {}

  get headers(): Record<string, string> {
    if (this.record === undefined) {
      const headers: Record<string, string> = {};
      for (let i = 0; i + 1 < this.raw.length; i += 2) {
        const name = (this.raw[i] as Buffer).toString('latin1').toLowerCase();
        const value = (this.raw[i + 1] as Buffer).toString('latin1');
        const previous = headers[name];
        headers[name] = previous === undefined ? value : `${previous}, ${value}`;
      }
      this.record = headers;
    }
    return this.record;
  }

  header(name: string): string | undefined {
    return this.record === undefined ? rawHeader(this.raw, name) : this.record[name];
  }
}

/** `name`'s value in undici's raw header list (values of a repeated name joined), comparing only names of its length. */
function rawHeader(raw: Buffer[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const candidate = raw[i] as Buffer;
    if (candidate.length !== name.length || candidate.toString('latin1').toLowerCase() !== name) continue;
    const value = (raw[i + 1] as Buffer).toString('latin1');
    found = found === undefined ? value : `${found}, ${value}`;
  }
  return found;
}

/**
 * undici's errors in the shapes @smithy/node-http-handler gives node:http's: timeouts and dropped
 * connections are TimeoutError with code ETIMEDOUT or ECONNRESET (which the writer retries), and
 * the original error is kept as `cause`.
 */
export function sdkShaped(error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return timeoutError(
      `the request socket did not establish a connection with the server in time (${error.message})`,
      error,
    );
  if (TIMEOUT_CODES.has(code))
    return Object.assign(timeoutError(`no answer in time (${error.message})`, error), { code: 'ETIMEDOUT' });
  if (RESET_CODES.has(code))
    return Object.assign(
      timeoutError(`the connection closed before the answer was complete (${error.message})`, error),
      { code: 'ECONNRESET' },
    );
  return error;
}

function destroyedError(): Error {
  return Object.assign(new Error('The transport was destroyed'), { code: 'ERR_TRANSPORT_DESTROYED' });
}

function timeoutError(message: string, cause?: Error): Error {
  return Object.assign(new Error(`dynaload lean writer - ${message}.`, cause === undefined ? {} : { cause }), {
    name: 'TimeoutError',
  });
}

/** Not a network fault: an answer this large is not DynamoDB's, and sending again would not help. */
function tooLargeError(limit: number, found: string): Error {
  return Object.assign(
    new Error(
      `Expected an answer of at most ${limit} bytes, got one that ${found}: it is not an answer DynamoDB sends.`,
    ),
    {
      name: 'AnswerTooLarge',
      code: 'ERR_ANSWER_TOO_LARGE',
    },
  );
}
