/**
 * MEASUREMENT FIXTURE (see http-transport.ts here): the old client's response parser, as at 8ba8da2.
 * One change: an answer also carries the body's crc32 and a header() lookup, the two things the lean
 * sender now takes from the transport; the old sender computed the same crc32 and read the same record.
 *
 * A synchronous HTTP/1.1 response parser for the old lean transport: bytes in, one answer
 * out. It reads what a DynamoDB endpoint, a proxy or a local server may send: a status line,
 * headers, and a body framed by Content-Length, chunked transfer coding, or the end of the
 * connection; 1xx interim answers are skipped. RFC 9112 sections 4-7.
 * Errors carry llhttp's codes (HPE_*), as node:http's parser errors do.
 */
import zlib from 'node:zlib';

export interface HttpAnswer {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", " (RFC 9110 5.3). */
  headers: Record<string, string>;
  body: Buffer;
  crc32: number;
  header(name: string): string | undefined;
}

// Node's default --max-http-header-size.
export const MAX_HEAD_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/;
/** An RFC 9110 token: a header name. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,8})[ \t]*(?:;.*)?$/;
// Headers node:http keeps the first of when repeated (its IncomingMessage matchKnownFields).
const SINGLE = new Set([
  'age',
  'authorization',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

type Mode = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'close' | 'done';

export function parseError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`Parse Error: ${message}`), { code });
}

export class ResponseParser {
  private pending: Buffer | undefined;
  private mode: Mode = 'head';
  private status = 0;
  private headers: Record<string, string> = {};
  private remaining = 0;
  private readonly chunks: Buffer[] = [];
  /** HTTP/1.1 without `Connection: close`, or 1.0 with `Connection: keep-alive`. */
  keepAlive = false;
  /** The `Keep-Alive: timeout=N` hint, in ms, when the server sent one. */
  keepAliveHintMs: number | undefined;
  /** Whether any byte of the answer has arrived. */
  started = false;
  /**
   * Bytes other than CR/LF came after the complete answer. The answer stands (node:http delivers it
   * too), but the connection is in an unknown state and must not carry another request.
   */
  trailing = false;

  /** Feeds bytes; returns the answer once it is complete. Bytes past the answer are an error: requests are not pipelined. */
  push(chunk: Buffer): HttpAnswer | undefined {
    if (this.mode === 'done') {
      if (!onlyLineEnds(chunk)) this.trailing = true;
      return undefined;
    }
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    for (;;) {
      switch (this.mode) {
        case 'head': {
          // Empty lines before a status line are skipped, as llhttp does (RFC 9112 2.2): some
          // servers end a body with an extra CRLF.
          let skip = 0;
          while (skip < data.length && (data[skip] === 13 || data[skip] === 10)) skip++;
          if (skip > 0) data = data.subarray(skip);
          if (data.length === 0) return undefined;
          this.started = true;
          const end = data.indexOf(HEAD_END);
          if (end < 0) {
            if (data.length > MAX_HEAD_BYTES) throw overflow('Header');
            return this.keep(data);
          }
          if (end > MAX_HEAD_BYTES) throw overflow('Header');
          this.readHead(data.toString('latin1', 0, end));
          data = data.subarray(end + HEAD_END.length);
          break;
        }
        case 'length':
          data = this.body(data);
          if (this.remaining > 0) return undefined;
          return this.finish(data);
        case 'chunk-size': {
          const end = data.indexOf(CRLF);
          if (end < 0) {
            if (data.length > 1024)
              throw parseError('HPE_INVALID_CHUNK_SIZE', 'Chunk size line longer than 1024 bytes');
            return this.keep(data);
          }
          const match = CHUNK_SIZE.exec(data.toString('latin1', 0, end));
          if (match === null) throw parseError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size');
          this.remaining = Number.parseInt(match[1] as string, 16);
          this.mode = this.remaining === 0 ? 'trailers' : 'chunk-data';
          data = data.subarray(end + CRLF.length);
          break;
        }
        case 'chunk-data':
          data = this.body(data);
          if (this.remaining > 0) return undefined;
          this.mode = 'chunk-end';
          break;
        case 'chunk-end': {
          if (data.length < CRLF.length) return this.keep(data);
          if (data[0] !== 13 || data[1] !== 10) throw parseError('HPE_STRICT', 'Expected CRLF after chunk');
          data = data.subarray(CRLF.length);
          this.mode = 'chunk-size';
          break;
        }
        case 'trailers': {
          // Trailer fields end with an empty line; they are read past, not kept.
          if (data.length >= CRLF.length && data[0] === 13 && data[1] === 10)
            return this.finish(data.subarray(CRLF.length));
          const end = data.indexOf(HEAD_END);
          if (end < 0) {
            if (data.length > MAX_HEAD_BYTES) throw overflow('Trailer');
            return this.keep(data);
          }
          return this.finish(data.subarray(end + HEAD_END.length));
        }
        case 'close':
          if (data.length > 0) this.chunks.push(data);
          return undefined;
      }
    }
  }

  /** The connection ended: completes an answer framed by the end of the connection, else undefined. */
  end(): HttpAnswer | undefined {
    if (this.mode !== 'close') return undefined;
    return this.finish(Buffer.alloc(0));
  }

  /** Whether the headers are in and the body is on its way. */
  get inBody(): boolean {
    return this.mode !== 'head' && this.mode !== 'done';
  }

  /** Keeps up to `remaining` body bytes from the front of `data`; returns the bytes after them. */
  private body(data: Buffer): Buffer {
    const take = Math.min(this.remaining, data.length);
    if (take > 0) this.chunks.push(data.subarray(0, take));
    this.remaining -= take;
    return data.subarray(take);
  }

  private keep(data: Buffer): undefined {
    if (data.length > 0) this.pending = Buffer.from(data);
    return undefined;
  }

  private finish(rest: Buffer): HttpAnswer {
    if (!onlyLineEnds(rest)) this.trailing = true;
    this.mode = 'done';
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const headers = this.headers;
    return { status: this.status, headers, body, crc32: zlib.crc32(body), header: (name) => headers[name] };
  }

  private readHead(head: string): void {
    const lines = head.split('\r\n');
    const match = STATUS_LINE.exec(lines[0] ?? '');
    if (match === null)
      throw parseError(
        'HPE_INVALID_CONSTANT',
        `Expected an HTTP/1.x status line, got ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`,
      );
    const status = Number(match[2]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name))
        throw parseError('HPE_INVALID_HEADER_TOKEN', `Invalid header line ${JSON.stringify(line.slice(0, 40))}`);
      const key = name.toLowerCase();
      const value = line.slice(colon + 1).trim();
      const previous = headers[key];
      if (previous === undefined) headers[key] = value;
      else if (key === 'content-length') {
        if (value !== previous)
          throw parseError(
            'HPE_UNEXPECTED_CONTENT_LENGTH',
            `Two different Content-Length values: ${JSON.stringify(previous)} and ${JSON.stringify(value)}`,
          );
      } else if (!SINGLE.has(key)) headers[key] = `${previous}, ${value}`;
    }
    if (status >= 100 && status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): the real one follows.
      if (status === 101) throw parseError('HPE_UNEXPECTED_UPGRADE', 'Unexpected 101 Switching Protocols');
      return;
    }
    this.status = status;
    this.headers = headers;
    const connection = (headers.connection ?? '').toLowerCase();
    this.keepAlive = match[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const hint = /\btimeout=(\d+)/i.exec(headers['keep-alive'] ?? '');
    this.keepAliveHintMs = hint === null ? undefined : Number(hint[1]) * 1000;
    const coding = headers['transfer-encoding'];
    const length = headers['content-length'];
    if (status === 204 || status === 304) {
      this.mode = 'length';
      this.remaining = 0;
    } else if (coding !== undefined) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(coding)) {
        // Not ending in chunked: the body runs to the end of the connection (RFC 9112 6.3).
        this.mode = 'close';
        this.keepAlive = false;
      } else {
        this.mode = 'chunk-size';
        // Both framings given: Transfer-Encoding wins, and the connection is closed after (RFC 9112 6.3).
        if (length !== undefined) this.keepAlive = false;
      }
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length))
        throw parseError('HPE_INVALID_CONTENT_LENGTH', `Invalid Content-Length ${JSON.stringify(length)}`);
      this.mode = 'length';
      this.remaining = Number(length);
    } else {
      this.mode = 'close';
      this.keepAlive = false;
    }
  }
}

function overflow(section: string): Error {
  return parseError('HPE_HEADER_OVERFLOW', `${section} section longer than ${MAX_HEAD_BYTES} bytes`);
}

function onlyLineEnds(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 13 && byte !== 10) return false;
  return true;
}
