import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

/**
 * A small HTTP proxy on 127.0.0.1:0, as HTTPS_PROXY / HTTP_PROXY name one: CONNECT tunnels and
 * absolute-URI forwarding. Every host name is sent to `targetPort` on 127.0.0.1 (and nowhere else),
 * so a client given an endpoint that does not resolve can only reach it through this proxy. The
 * `x-amz-target` of each request it carries is recorded (the tunnels carry plain HTTP in tests).
 */
export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** CONNECT requests answered, by `host:port` asked for. */
  tunnels: string[];
  /** Requests forwarded by absolute URI. */
  forwarded: number;
  /** The `x-amz-target` of every request seen, tunneled or forwarded, in order. */
  targets: string[];
  close(): Promise<void>;
}

const TARGET_HEADER = /^x-amz-target:[ \t]*(\S+)/gim;

export async function startConnectProxy(targetPort: number): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  const proxy: Omit<ConnectProxy, 'url' | 'close'> = { tunnels: [], forwarded: 0, targets: [] };
  const server = http.createServer((req, res) => {
    proxy.forwarded++;
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') proxy.targets.push(target);
    const url = new URL(req.url ?? '/');
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    proxy.tunnels.push(req.url ?? '');
    const upstream = net.connect(targetPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      let text = head.toString('latin1');
      client.on('data', (chunk: Buffer) => {
        // Whole head lines only: keep an unfinished last line for the next chunk.
        text += chunk.toString('latin1');
        const end = text.lastIndexOf('\n');
        for (const match of text.slice(0, end + 1).matchAll(TARGET_HEADER)) proxy.targets.push(match[1] as string);
        text = text.slice(end + 1);
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}
