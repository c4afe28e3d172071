// The lean transport (undici) against raw TCP servers that answer byte by byte as scripted: keep-alive
// reuse, the socket limit, connections the server closes, the bounds on an answer, and the errors of
// broken answers in the SDK's shapes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { classifyError } from '../../src/dynamo/classify.js';
import { createTransport, type Transport, type TransportOptions } from '../../src/dynamo/http-transport.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}';

interface Script {
  /** Answers one complete request on `socket` (the request's bytes as text, the connection's number). */
  (socket: net.Socket, request: string, connection: number): void;
}

/** A TCP server on 127.0.0.1:0 that reads each request (head and Content-Length body) and runs `script`. */
async function server(
  t: TestContext,
  script: Script,
): Promise<{ url: URL; connections: () => number; requests: string[] }> {
  let count = 0;
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    const connection = ++count;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const request = buffered.slice(0, end + 4 + length);
        buffered = buffered.slice(request.length);
        requests.push(request);
        script(socket, request, connection);
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return {
    url: new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`),
    connections: () => count,
    requests,
  };
}

function transport(t: TestContext, options: Partial<TransportOptions> = {}): Transport {
  const made = createTransport({ maxSockets: 2, connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000, ...options });
  t.after(() => made.destroy());
  return made;
}

const headers = (url: URL, body: Buffer): Record<string, string> => ({
  host: url.host,
  'content-length': String(body.length),
  'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
});

async function post(
  transport: Transport,
  url: URL,
  text = '{"RequestItems":{}}',
): Promise<{ status: number; body: string }> {
  const body = Buffer.from(text);
  const answer = await transport.post(url, headers(url, body), body);
  return { status: answer.status, body: answer.body.toString('utf8') };
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('lean transport connections', () => {
  it('sends the head and body as HTTP/1.1, and reuses one connection for requests one after another', async (t) => {
    const srv = await server(t, (socket) => socket.write(OK));
    const lean = transport(t, { maxSockets: 1 });
    for (let i = 0; i < 5; i++) assert.deepEqual(await post(lean, srv.url, `{"n":${i}}`), { status: 200, body: '{}' });
    assert.equal(srv.connections(), 1);
    assert.equal(srv.requests.length, 5);
    assert.match(
      srv.requests[4] as string,
      /^POST \/ HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\nconnection: keep-alive\r\nx-amz-target: DynamoDB_20120810\.BatchWriteItem\r\ncontent-length: 7\r\n\r\n\{"n":4\}$/,
    );
  });

  it('never opens more than maxSockets connections, and answers every request waiting for one', async (t) => {
    let open = 0;
    let most = 0;
    const srv = await server(t, (socket) => {
      // Answer later, so requests pile up while connections are busy.
      setTimeout(() => socket.write(OK), 5);
    });
    const lean = transport(t, { maxSockets: 3 });
    const answers = await Promise.all(
      Array.from({ length: 40 }, async () => {
        open++;
        most = Math.max(most, open);
        const answer = await post(lean, srv.url);
        open--;
        return answer.status;
      }),
    );
    assert.deepEqual(answers, Array(40).fill(200));
    assert.equal(srv.connections(), 3);
    assert.equal(most, 40, 'all 40 were asked for at once');
  });

  it('opens a new connection after an answer with Connection: close', async (t) => {
    const srv = await server(t, (socket, _request, connection) => {
      if (connection === 1) socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}');
      else socket.write(OK);
    });
    const lean = transport(t);
    assert.equal((await post(lean, srv.url)).status, 200);
    assert.equal((await post(lean, srv.url)).status, 200);
    assert.equal(srv.connections(), 2);
  });

  it('drops an idle connection the server closed, and sends the next request on a new one', async (t) => {
    const srv = await server(t, (socket) => socket.end(OK));
    const lean = transport(t);
    assert.equal((await post(lean, srv.url)).status, 200);
    // Let the server's FIN arrive, as it would during a pause between batches.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await post(lean, srv.url)).status, 200);
    assert.equal(srv.connections(), 2);
  });

  it('closes an idle connection after the idle timeout, or the shorter Keep-Alive hint less a second', async (t) => {
    for (const [label, answer, options, closesWithin] of [
      ['idle timeout', OK, { idleTimeoutMs: 100 }, 1_000],
      [
        'Keep-Alive hint',
        'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\n{}',
        { idleTimeoutMs: 60_000 },
        1_000,
      ],
    ] as const) {
      let closedAt = 0;
      const srv = await server(t, (socket) => {
        socket.once('close', () => (closedAt = performance.now()));
        socket.write(answer);
      });
      const lean = transport(t, options);
      const start = performance.now();
      await post(lean, srv.url);
      await new Promise((resolve) => setTimeout(resolve, closesWithin));
      assert.ok(closedAt > 0, `${label}: the idle connection was not closed within ${closesWithin} ms`);
      assert.ok(closedAt - start < closesWithin, label);
    }
  });

  it('does not keep the process alive with an idle connection', async (t) => {
    const srv = await server(t, (socket) => socket.write(OK));
    const code = `import { createTransport } from './src/dynamo/http-transport.ts';
      const url = new URL(${JSON.stringify(srv.url.href)});
      const body = Buffer.from('{}');
      const lean = createTransport({ maxSockets: 2, connectionTimeoutMs: 2000, requestTimeoutMs: 5000 });
      const answer = await lean.post(url, { host: url.host, 'content-length': '2' }, body);
      console.log(answer.status);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const killer = setTimeout(() => child.kill(), 10_000);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exit = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    assert.equal(out.trim(), '200');
    assert.equal(exit, 0, 'the child had to be killed: an idle socket kept it alive');
    assert.equal(srv.connections(), 1);
  });
});

describe('lean transport answers', () => {
  it('reads an answer that arrives a byte at a time', async (t) => {
    const answer = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n';
    const srv = await server(t, (socket) => {
      let i = 0;
      const next = (): void => {
        if (i < answer.length) socket.write(answer[i++] as string, next);
      };
      next();
    });
    assert.deepEqual(await post(transport(t), srv.url), { status: 200, body: '{}' });
  });

  for (const [label, script] of [
    ['closed before any answer', (socket: net.Socket) => socket.end()],
    ['reset before any answer', (socket: net.Socket) => socket.resetAndDestroy()],
    [
      'closed part-way through the body',
      (socket: net.Socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"a"'),
    ],
  ] as const) {
    it(`fails a request whose connection was ${label}: ECONNRESET, a TimeoutError, classified network, and the next request works`, async (t) => {
      let first = true;
      const srv = await server(t, (socket) => {
        if (first) script(socket);
        else socket.write(OK);
        first = false;
      });
      const lean = transport(t);
      const error = await failure(post(lean, srv.url));
      assert.equal(error.code, 'ECONNRESET');
      assert.equal(error.name, 'TimeoutError');
      assert.match(error.message, /the connection closed before the answer was complete/);
      assert.equal(classifyError(error), 'network');
      assert.equal((await post(lean, srv.url)).status, 200);
    });
  }

  it('fails a request answered with bytes that are not HTTP (not retried), and does not reuse that connection', async (t) => {
    let first = true;
    const srv = await server(t, (socket) => {
      socket.write(first ? 'SSH-2.0-OpenSSH_9\r\n\r\n' : OK);
      first = false;
    });
    const lean = transport(t, { maxSockets: 1 });
    const error = await failure(post(lean, srv.url));
    assert.equal(error.name, 'HTTPParserError');
    assert.equal(classifyError(error), 'fatal');
    assert.equal((await post(lean, srv.url)).status, 200);
    assert.equal(srv.connections(), 2);
  });

  it('fails with ECONNREFUSED, classified network, when nothing listens', async (t) => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await failure(post(transport(t), new URL(`http://127.0.0.1:${port}/`)));
    assert.equal(error.code, 'ECONNREFUSED');
    assert.equal(classifyError(error), 'network');
  });

  it('times out a TLS connection whose handshake never completes: TimeoutError, classified network', async (t) => {
    const srv = await server(t, () => undefined);
    const url = new URL(srv.url.href.replace('http:', 'https:'));
    const started = performance.now();
    const error = await failure(post(transport(t, { connectionTimeoutMs: 150 }), url));
    assert.equal(error.name, 'TimeoutError');
    assert.match(error.message, /did not establish a connection with the server in time/);
    assert.equal(classifyError(error), 'network');
    assert.ok(performance.now() - started < 3_000);
  });

  // U+010D and U+010A: written as latin1 they would become CR and LF.
  for (const value of ['a\r\nx-injected: 1', 'a\u010Dx-injected: 1\u010D\u010A', 'a\u0000b']) {
    it(`refuses the header value ${JSON.stringify(value)}, which would break the head, before connecting`, async (t) => {
      const srv = await server(t, (socket) => socket.write(OK));
      const lean = transport(t);
      const body = Buffer.from('{}');
      const error = await failure(
        lean.post(srv.url, { host: srv.url.host, 'content-length': '2', 'x-evil': value }, body),
      );
      assert.equal(error.code, 'UND_ERR_INVALID_ARG');
      assert.equal(srv.connections(), 0);
    });
  }

  it('keeps an answer followed by a stray CRLF, and reuses the connection', async (t) => {
    const srv = await server(t, (socket) => socket.write(`${OK}\r\n`));
    const lean = transport(t, { maxSockets: 1 });
    assert.deepEqual(await post(lean, srv.url), { status: 200, body: '{}' });
    assert.deepEqual(await post(lean, srv.url), { status: 200, body: '{}' });
    assert.equal(srv.connections(), 1);
  });

  it('reads answers framed by the end of the connection, each on a new connection', async (t) => {
    const srv = await server(t, (socket) =>
      socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"UnprocessedItems":{}}'),
    );
    const lean = transport(t, { maxSockets: 1 });
    assert.deepEqual(await post(lean, srv.url), { status: 200, body: '{"UnprocessedItems":{}}' });
    assert.deepEqual(await post(lean, srv.url), { status: 200, body: '{"UnprocessedItems":{}}' });
    assert.equal(srv.connections(), 2);
  });

  for (const [label, head] of [
    ['declares a length over the cap', 'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n'],
    ['goes past the cap in chunks', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ] as const) {
    it(`fails an answer that ${label}, without reading it all: ERR_ANSWER_TOO_LARGE, fatal`, async (t) => {
      let written = 0;
      const srv = await server(t, (socket) => {
        socket.write(head);
        // Chunks until the client hangs up (bounded, in case it never does).
        const pump = (): void => {
          while (!socket.destroyed && written < 10_000_000) {
            written += 100;
            if (!socket.write(`64\r\n${' '.repeat(100)}\r\n`)) return void socket.once('drain', pump);
          }
        };
        pump();
      });
      const error = await failure(post(transport(t, { maxAnswerBytes: 1_000 }), srv.url));
      assert.equal(error.code, 'ERR_ANSWER_TOO_LARGE');
      assert.match(error.message, /at most 1000 bytes/);
      assert.equal(classifyError(error), 'fatal');
      assert.ok(written < 10_000_000, 'the client read on to the end');
    });
  }

  it('fails an answer that trickles past its deadline: TimeoutError, ETIMEDOUT, classified network', async (t) => {
    let timer: NodeJS.Timeout | undefined;
    const srv = await server(t, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      timer = setInterval(() => socket.write(' '), 20);
      socket.on('close', () => clearInterval(timer));
    });
    t.after(() => clearInterval(timer));
    // Each byte comes well within the idle timeout, so only the whole-answer deadline can end it.
    const error = await failure(post(transport(t, { requestTimeoutMs: 10_000, answerTimeoutMs: 300 }), srv.url));
    assert.equal(error.name, 'TimeoutError');
    assert.equal(error.code, 'ETIMEDOUT');
    assert.match(error.message, /not complete within 300 ms/);
    assert.equal(classifyError(error), 'network');
  });

  it('refuses a socket limit below 1, which would make every request wait for ever', () => {
    for (const maxSockets of [0, -1, 1.5, Number.NaN])
      assert.throws(() => createTransport({ maxSockets, connectionTimeoutMs: 1, requestTimeoutMs: 1 }), RangeError);
  });

  it('fails requests in flight and waiting when destroyed, and refuses new ones', async (t) => {
    const srv = await server(t, () => undefined);
    const lean = createTransport({ maxSockets: 1, connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    const inFlight = failure(post(lean, srv.url));
    const waiting = failure(post(lean, srv.url));
    await new Promise((resolve) => setTimeout(resolve, 50));
    lean.destroy();
    // Not ECONNRESET: the writer would take that for a network error and retry.
    assert.equal((await inFlight).code, 'ERR_TRANSPORT_DESTROYED');
    assert.equal((await waiting).code, 'ERR_TRANSPORT_DESTROYED');
    assert.equal((await failure(post(lean, srv.url))).code, 'ERR_TRANSPORT_DESTROYED');
  });
});
