import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * An embedded DynamoDB-compatible server (dynalite) on 127.0.0.1, a random port: in memory, or
 * persisted in `dir`. Tables become ACTIVE at once. Used by `--local`, the demo and the tests.
 */
export async function startLocalServer(options: { dir?: string } = {}): Promise<LocalServer> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dir ? { path: options.dir } : {}),
  });
  guardAbortedRequests(server);
  // Longer than the SDK keeps idle sockets, so a reused keep-alive socket is not closed under it.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        // dynalite's close() wraps http.Server#close and then closes its LevelDB store.
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * dynalite's handler does `req.on('error', err => { throw err })` (index.js, httpHandler), so a
 * client that disconnects mid-body (a killed process) would crash the process hosting it. Swap
 * that listener for one that just drops the response.
 */
function guardAbortedRequests(server: Server): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const on = req.on.bind(req);
    req.on = ((event: string | symbol, listener: (...args: unknown[]) => void) =>
      on(event, event === 'error' ? () => res.destroy() : listener)) as typeof req.on;
    for (const handler of handlers) handler.call(server, req, res);
  });
}
