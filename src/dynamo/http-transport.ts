/**
 * One POST over keep-alive node:http / node:https agents, with the SDK's timeouts and error shapes
 * (@smithy/node-http-handler), so the writer's classifier sees the same errors either way.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

export interface TransportOptions {
  maxSockets: number;
  /** No TCP/TLS connection within this time: TimeoutError (SDK: connectionTimeout). */
  connectionTimeoutMs: number;
  /** No bytes on the socket for this long: TimeoutError, code ETIMEDOUT (SDK: requestTimeout). */
  requestTimeoutMs: number;
  /** The whole HTTPS trust store when set (see caBundleOptions); Node's defaults otherwise. */
  ca?: string[];
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Transport {
  post(url: URL, headers: OutgoingHttpHeaders, body: Buffer): Promise<HttpAnswer>;
  destroy(): void;
}

// The SDK renames these socket errors to TimeoutError and keeps `code` (node-http-handler constants.ts).
const TIMEOUT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

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

export function createTransport(options: TransportOptions): Transport {
  // noDelay: a request is headers plus a body; with Nagle's algorithm the body can wait for the
  // server's delayed ACK (tens of ms) on every request.
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, noDelay: true };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent({ ...agentOptions, ...(options.ca === undefined ? {} : { ca: options.ca }) });

  const post = (url: URL, headers: OutgoingHttpHeaders, body: Buffer): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const isHttps = url.protocol === 'https:';
      const request = (isHttps ? https : http).request({
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers,
        agent: isHttps ? httpsAgent : httpAgent,
      });
      let connectTimer: NodeJS.Timeout | undefined;
      request.once('socket', (socket) => {
        // Only a new connection can hang while connecting; a reused keep-alive socket is ready.
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => {
          request.destroy(timeoutError(`the request socket did not establish a connection with the server within ${options.connectionTimeoutMs} ms`));
        }, options.connectionTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      request.setTimeout(options.requestTimeoutMs, () => {
        request.destroy(Object.assign(timeoutError(`no answer within the ${options.requestTimeoutMs} ms request timeout`), { code: 'ETIMEDOUT' }));
      });
      const fail = (error: NodeJS.ErrnoException): void => {
        clearTimeout(connectTimer);
        if (error.code !== undefined && TIMEOUT_CODES.has(error.code)) error.name = 'TimeoutError';
        reject(error);
      };
      request.on('error', fail);
      request.on('response', (response) => {
        clearTimeout(connectTimer);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        // A socket closed mid-body: Node says 'aborted' (ECONNRESET); settle even if no error came.
        response.on('close', () => {
          if (!response.complete) fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
        });
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
        });
      });
      request.end(body);
    });

  return {
    post,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(`dynaload lean writer - ${message}.`), { name: 'TimeoutError' });
}
