// The lean transport's response parser: framing by length, chunks and end of connection, split at
// every byte boundary, and the errors it must raise rather than guess.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type HttpAnswer, MAX_HEAD_BYTES, ResponseParser } from '../../src/dynamo/http1-response.js';

/** Feeds `pieces` one by one; returns the answer and the parser (for keepAlive and the hint). */
function parse(pieces: readonly Buffer[], end = false): { answer: HttpAnswer | undefined; parser: ResponseParser; after: number } {
  const parser = new ResponseParser();
  let answer: HttpAnswer | undefined;
  let after = 0;
  for (const piece of pieces) {
    if (answer !== undefined) after++;
    answer = parser.push(piece) ?? answer;
  }
  if (end && answer === undefined) answer = parser.end();
  return { answer, parser, after };
}

/** Every way of cutting `text` in two, and byte by byte. */
function splits(text: string): Buffer[][] {
  const bytes = Buffer.from(text, 'latin1');
  const ways: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i++) ways.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return ways;
}

const plain = (answer: HttpAnswer | undefined): unknown => answer && { status: answer.status, headers: answer.headers, body: answer.body.toString('utf8') };

describe('ResponseParser framing', () => {
  const cases: { label: string; text: string; status: number; body: string; headers?: Record<string, string>; keepAlive: boolean; end?: boolean }[] = [
    { label: 'a Content-Length body', text: 'HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 23\r\n\r\n{"UnprocessedItems":{}}', status: 200, body: '{"UnprocessedItems":{}}', keepAlive: true },
    { label: 'chunks with an extension and trailers', text: 'HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{"__t\r\n9\r\nype":"x"}\r\n0\r\nX-Trailer: 1\r\n\r\n', status: 400, body: '{"__type":"x"}', keepAlive: true },
    { label: 'chunks with no trailers', text: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', status: 200, body: '{}', keepAlive: true },
    { label: 'an interim 100 Continue first', text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}', status: 200, body: '{}', keepAlive: true },
    { label: 'a 204 with no body', text: 'HTTP/1.1 204 No Content\r\n\r\n', status: 204, body: '', keepAlive: true },
    { label: 'an empty Content-Length body', text: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', status: 200, body: '', keepAlive: true },
    { label: 'Connection: close', text: 'HTTP/1.1 503 Slow Down\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}', status: 503, body: '{}', keepAlive: false },
    { label: 'HTTP/1.0 without keep-alive', text: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}', status: 200, body: '{}', keepAlive: false },
    { label: 'HTTP/1.0 with keep-alive', text: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n{}', status: 200, body: '{}', keepAlive: true },
    { label: 'empty lines before the status line', text: '\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}', status: 200, body: '{}', keepAlive: true },
    { label: 'both Transfer-Encoding and Content-Length (chunks win, the connection closes)', text: 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', status: 200, body: '{}', keepAlive: false },
    { label: 'a body that runs to the end of the connection', text: 'HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>bad gateway</html>', status: 502, body: '<html>bad gateway</html>', keepAlive: false, end: true },
  ];
  for (const c of cases) {
    it(`reads ${c.label}, however the bytes are cut`, () => {
      for (const pieces of splits(c.text)) {
        const { answer, parser, after } = parse(pieces, c.end);
        assert.equal(after, 0, 'the answer completes with the last byte, not before');
        assert.ok(answer, `no answer from ${pieces.map((p) => p.length).join('+')} bytes`);
        assert.equal(answer.status, c.status);
        assert.equal(answer.body.toString('utf8'), c.body);
        assert.equal(parser.keepAlive, c.keepAlive);
      }
    });
  }

  it('is not complete before the end of the connection when the body runs to it', () => {
    const parser = new ResponseParser();
    assert.equal(parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n{"a"')), undefined);
    assert.equal(parser.push(Buffer.from(':1}')), undefined);
    assert.deepEqual(plain(parser.end()), { status: 200, headers: {}, body: '{"a":1}' });
    assert.equal(new ResponseParser().end(), undefined, 'nothing received: no answer');
  });

  it('lower-cases header names, trims values and joins repeated headers, keeping the first of those node:http keeps once', () => {
    const { answer } = parse([Buffer.from('HTTP/1.1 200 OK\r\nX-Amz-Crc32:  123 \r\nVia: a\r\nvia: b\r\nAge: 1\r\nAge: 2\r\nDate: d1\r\nDate: d2\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n')]);
    assert.deepEqual(answer?.headers, { 'x-amz-crc32': '123', via: 'a, b', age: '1', date: 'd1, d2', 'content-length': '0' });
  });

  it('keeps an answer followed by an empty line, and the connection with it', () => {
    const { answer, parser } = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}\r\n')]);
    assert.equal(answer?.body.toString(), '{}');
    assert.deepEqual([parser.keepAlive, parser.trailing], [true, false]);
    parser.push(Buffer.from('\r\n'));
    assert.equal(parser.trailing, false);
  });

  it('keeps an answer followed by other bytes, but marks the connection unfit for another request', () => {
    for (const pieces of [[Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}{}')], [Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'), Buffer.from('HTTP/1.1 200 OK\r\n')]]) {
      const { answer, parser } = parse(pieces);
      assert.equal(answer?.body.toString(), '{}');
      assert.equal(parser.trailing, true);
    }
  });

  it('reads the Keep-Alive timeout hint in milliseconds', () => {
    assert.equal(parse([Buffer.from('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n')]).parser.keepAliveHintMs, 5_000);
    assert.equal(parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')]).parser.keepAliveHintMs, undefined);
  });

  it('says whether any byte, and whether the body, has begun', () => {
    const parser = new ResponseParser();
    assert.deepEqual([parser.started, parser.inBody], [false, false]);
    parser.push(Buffer.from('HTTP/1.1 200'));
    assert.deepEqual([parser.started, parser.inBody], [true, false]);
    parser.push(Buffer.from(' OK\r\nContent-Length: 5\r\n\r\n{"'));
    assert.deepEqual([parser.started, parser.inBody], [true, true]);
  });
});

describe('ResponseParser errors', () => {
  const cases: [string, string, string][] = [
    ['a status line that is not HTTP/1.x', 'SSH-2.0-OpenSSH\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['an HTTP/2 status line', 'HTTP/2 200\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['a header line with no name', 'HTTP/1.1 200 OK\r\n: x\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a folded header line', 'HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a chunk without its CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX', 'HPE_STRICT'],
    ['two different Content-Length values', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['a switch of protocols', 'HTTP/1.1 101 Switching Protocols\r\n\r\n', 'HPE_UNEXPECTED_UPGRADE'],
  ];
  for (const [label, text, code] of cases) {
    it(`raises ${code} for ${label}`, () => {
      assert.throws(() => new ResponseParser().push(Buffer.from(text, 'latin1')), (error: Error & { code?: string }) => error.code === code && /^Parse Error: /.test(error.message));
    });
  }

  it(`raises HPE_HEADER_OVERFLOW past ${MAX_HEAD_BYTES} bytes of headers, complete or not`, () => {
    const long = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`;
    assert.throws(() => new ResponseParser().push(Buffer.from(long)), { code: 'HPE_HEADER_OVERFLOW' });
    assert.throws(() => new ResponseParser().push(Buffer.from(`${long}\r\n\r\n`)), { code: 'HPE_HEADER_OVERFLOW' });
    const parser = new ResponseParser();
    assert.equal(parser.push(Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES - 100)}`)), undefined, 'just under the limit waits for more');
  });
});
