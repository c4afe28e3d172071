// The lean path against small scripted servers: credentials refresh, clock skew, timeouts, CRC,
// the configured-endpoint variable and HTTPS with AWS_CA_BUNDLE, directly and through HTTPS_PROXY.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  BatchWriteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { classifyError } from '../../src/dynamo/classify.js';
import { createClient } from '../../src/dynamo/client.js';
import { createLeanSend, type LeanSendOptions } from '../../src/dynamo/lean-writer.js';
import { crc32 } from '../../src/dynamo/wire.js';
import { startConnectProxy } from '../support/connect-proxy.js';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

const json = (res: ServerResponse, status: number, data: unknown, headers: http.OutgoingHttpHeaders = {}): void => {
  const body = Buffer.from(JSON.stringify(data));
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-crc32': String(crc32(body)),
    'x-amzn-requestid': 'REQ1',
    ...headers,
  });
  res.end(body);
};
const ok: Handler = (_req, res) => json(res, 200, { UnprocessedItems: {} });

/** An HTTP(S) server on 127.0.0.1:0 that records every request and answers through `handler`. */
async function recorder(
  t: TestContext,
  handler: Handler,
  tlsOptions?: https.ServerOptions,
): Promise<{ endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(entry);
      handler(req, res, entry);
    });
  };
  const server = tlsOptions ? https.createServer(tlsOptions, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { endpoint: `${tlsOptions ? 'https' : 'http'}://${tlsOptions ? 'localhost' : '127.0.0.1'}:${port}`, seen };
}

async function lean(t: TestContext, config: DynamoDBClientConfig, options: Partial<LeanSendOptions> = {}) {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    ...config,
  });
  const sender = await createLeanSend(client, { maxSockets: 2, ...options });
  t.after(() => {
    sender.destroy();
    client.destroy();
  });
  return { client, sender };
}

const ITEMS = { t: [{ PutRequest: { Item: { id: { S: 'a' } } } }] };

async function failure(
  promise: Promise<unknown>,
): Promise<Error & Record<string, unknown> & { $metadata?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('lean request', () => {
  it('sends the headers DynamoDB expects, signed, with the body as JSON', async (t) => {
    const server = await recorder(t, ok);
    const { sender } = await lean(t, { endpoint: `${server.endpoint}/base` });
    assert.deepEqual(await sender.send(ITEMS), {});
    const [request] = server.seen;
    assert.equal(request?.url, '/base/');
    assert.equal(request?.headers['content-type'], 'application/x-amz-json-1.0');
    assert.equal(request?.headers['x-amz-target'], 'DynamoDB_20120810.BatchWriteItem');
    assert.equal(request?.headers.host, server.endpoint.replace('http://', ''));
    assert.match(
      String(request?.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/dynamodb\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    assert.equal(request?.headers['x-amz-security-token'], undefined);
    assert.deepEqual(JSON.parse(request?.body ?? ''), { RequestItems: ITEMS });
  });

  for (const path of ['', '/', '/base', '/a/b/', '/a/b?x=1']) {
    it(`posts to the same path as the SDK for the endpoint path ${JSON.stringify(path)}`, async (t) => {
      const server = await recorder(t, ok);
      const { client, sender } = await lean(t, { endpoint: `${server.endpoint}${path}` });
      await client.send(new BatchWriteItemCommand({ RequestItems: ITEMS }));
      await sender.send(ITEMS);
      assert.equal(server.seen[1]?.url, server.seen[0]?.url);
    });
  }

  it('sends to AWS_ENDPOINT_URL_DYNAMODB when no endpoint is given', async (t) => {
    const server = await recorder(t, ok);
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    });
    t.after(() => {
      for (const key of ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    });
    const { sender } = await lean(t, {});
    await sender.send(ITEMS);
    assert.equal(server.seen.length, 1);
  });

  it('sends the session token when the credentials have one', async (t) => {
    const server = await recorder(t, ok);
    const { sender } = await lean(t, {
      endpoint: server.endpoint,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'TOKEN' },
    });
    await sender.send(ITEMS);
    assert.equal(server.seen[0]?.headers['x-amz-security-token'], 'TOKEN');
    assert.match(String(server.seen[0]?.headers.authorization), /x-amz-security-token/);
  });

  it('asks the credentials provider again once the credentials near expiry, and signs with the new keys', async (t) => {
    const server = await recorder(t, ok);
    let calls = 0;
    // The SDK refreshes credentials that expire within 5 minutes (memoizeIdentityProvider, EXPIRATION_MS).
    const provider = async () => {
      calls++;
      const soon = Date.now() + 300_000 + 300;
      return {
        accessKeyId: `KEY${calls}`,
        secretAccessKey: 'secret',
        expiration: new Date(calls === 1 ? soon : Date.now() + 3_600_000),
      };
    };
    const { sender } = await lean(t, { endpoint: server.endpoint, credentials: provider });
    await sender.send(ITEMS);
    await sender.send(ITEMS);
    assert.equal(calls, 1, 'memoized while fresh');
    await new Promise((resolve) => setTimeout(resolve, 400));
    await sender.send(ITEMS);
    await sender.send(ITEMS);
    assert.equal(calls, 2);
    const keys = server.seen.map((s) => /Credential=(\w+)\//.exec(String(s.headers.authorization))?.[1]);
    assert.deepEqual(keys, ['KEY1', 'KEY1', 'KEY2', 'KEY2']);
  });
});

describe('lean clock skew', () => {
  it('corrects the shared clock offset from an error answer and signs the next request with it', async (t) => {
    const ahead = 3_600_000;
    const server = await recorder(t, (_req, res, seen) => {
      const skewed = new Date(Date.now() + ahead);
      const signedAt = String(seen.headers['x-amz-date']);
      const signedMs = Date.parse(
        `${signedAt.slice(0, 4)}-${signedAt.slice(4, 6)}-${signedAt.slice(6, 11)}:${signedAt.slice(11, 13)}:${signedAt.slice(13)}`,
      );
      if (Math.abs(signedMs - skewed.getTime()) > 300_000) {
        json(
          res,
          400,
          {
            __type: 'com.amazon.coral.service#InvalidSignatureException',
            message: `Signature expired: ${signedAt} is now earlier than ...`,
          },
          { date: skewed.toUTCString() },
        );
      } else {
        json(res, 200, { UnprocessedItems: {} }, { date: skewed.toUTCString() });
      }
    });
    const { client, sender } = await lean(t, { endpoint: server.endpoint });
    const error = await failure(sender.send(ITEMS));
    assert.equal(error.name, 'InvalidSignatureException');
    assert.equal(error.$metadata?.clockSkewCorrected, true);
    const offset = (client.config as unknown as { systemClockOffset: number }).systemClockOffset;
    assert.ok(Math.abs(offset - ahead) < 2_000, `offset ${offset}`);
    assert.deepEqual(await sender.send(ITEMS), {});
  });
});

describe('lean transport faults', () => {
  it('times out a request with no answer: TimeoutError, ETIMEDOUT, classified network', async (t) => {
    const server = await recorder(t, () => undefined);
    const { sender } = await lean(t, { endpoint: server.endpoint }, { requestTimeoutMs: 200 });
    const error = await failure(sender.send(ITEMS));
    assert.equal(error.name, 'TimeoutError');
    assert.equal(error.code, 'ETIMEDOUT');
    assert.equal(classifyError(error), 'network');
  });

  it('rejects an answer whose body does not match x-amz-crc32', async (t) => {
    const server = await recorder(t, (_req, res) => {
      res.writeHead(200, { 'x-amz-crc32': '12345', 'x-amzn-requestid': 'REQ2' });
      res.end('{}');
    });
    const { sender } = await lean(t, { endpoint: server.endpoint });
    const error = await failure(sender.send(ITEMS));
    assert.equal(error.name, 'CrcMismatch');
    assert.equal(error.code, 'ERR_CRC32_MISMATCH');
    assert.deepEqual([error.$metadata?.httpStatusCode, error.$metadata?.requestId], [200, 'REQ2']);
  });

  it('classifies a CRC mismatch as a network fault', async (t) => {
    const server = await recorder(t, (_req, res) => {
      res.writeHead(200, { 'x-amz-crc32': '12345' });
      res.end('{}');
    });
    const { sender } = await lean(t, { endpoint: server.endpoint });
    assert.equal(classifyError(await failure(sender.send(ITEMS))), 'network');
  });

  for (const [label, status, body, headers] of [
    ['a 200 that is not JSON', 200, '<html>', {}],
    ['a 502 page from a proxy', 502, 'Bad gateway', {}],
    [
      'an error type only in the x-amzn-ErrorType header',
      400,
      '{"message":"bad token"}',
      { 'x-amzn-errortype': 'UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/' },
    ],
    ['an error without a type', 400, '{}', {}],
    ['a 429 from a gateway (throttled, on either path)', 429, '{"message":"Too Many Requests"}', {}],
  ] as const) {
    it(`shapes ${label} like the SDK`, async (t) => {
      const server = await recorder(t, (_req, res) => {
        res.writeHead(status, headers);
        res.end(body);
      });
      const { client, sender } = await lean(t, { endpoint: server.endpoint });
      const viaSdk = await failure(client.send(new BatchWriteItemCommand({ RequestItems: ITEMS })));
      const viaLean = await failure(sender.send(ITEMS));
      const shape = (e: typeof viaLean): unknown => ({
        name: e.name,
        status: e.$metadata?.httpStatusCode,
        fault: e.$fault,
        kind: classifyError(e),
      });
      assert.deepEqual(shape(viaLean), shape(viaSdk));
    });
  }
});

describe('lean HTTPS', () => {
  const openssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it(
    'trusts a private CA only through AWS_CA_BUNDLE',
    { skip: openssl ? false : 'openssl is not on PATH: cannot make a self-signed certificate' },
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'dynaload-ca-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      const server = await recorder(t, ok, { key: readFileSync(key), cert: readFileSync(cert) });
      const saved = process.env.AWS_CA_BUNDLE;
      t.after(() => {
        if (saved === undefined) delete process.env.AWS_CA_BUNDLE;
        else process.env.AWS_CA_BUNDLE = saved;
      });

      delete process.env.AWS_CA_BUNDLE;
      const untrusted = await lean(t, { endpoint: server.endpoint });
      const error = await failure(untrusted.sender.send(ITEMS));
      assert.match(String(error.code), /SELF_SIGNED|UNABLE_TO_VERIFY/);

      process.env.AWS_CA_BUNDLE = cert;
      const trusted = await lean(t, { endpoint: server.endpoint });
      assert.deepEqual(await trusted.sender.send(ITEMS), {});
      assert.equal(server.seen.length, 1);

      // The same endpoint through a CONNECT tunnel that HTTPS_PROXY names: TLS to the endpoint inside
      // it, trusting the same bundle, for the lean path and the SDK client dynaload builds alike.
      const proxy = await startConnectProxy(Number(new URL(server.endpoint).port));
      t.after(() => proxy.close());
      // createClient takes credentials from the SDK's default chain, as dynaload does.
      const vars = { HTTPS_PROXY: proxy.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' };
      const savedVars = Object.keys(vars).map((name) => [name, process.env[name]] as const);
      t.after(() => {
        for (const [name, value] of savedVars) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      });
      Object.assign(process.env, vars);
      const viaTunnel = await lean(t, { endpoint: server.endpoint });
      assert.deepEqual(await viaTunnel.sender.send(ITEMS), {});
      const viaSdk = createClient({ region: 'us-east-1', endpoint: server.endpoint, maxSockets: 2, maxAttempts: 1 });
      t.after(() => viaSdk.destroy());
      await viaSdk.send(new DescribeTableCommand({ TableName: 't' }));
      assert.equal(server.seen.length, 3);
      assert.deepEqual(proxy.tunnels, [new URL(server.endpoint).host, new URL(server.endpoint).host]);
    },
  );
});
