// The worker thread's side of startDynalite (./dynalite.ts): the embedded server, then its endpoint.
import { parentPort } from 'node:worker_threads';
import { startLocalServer } from '../../src/local/server.js';

const port = parentPort;
if (port === null) throw new Error('Expected to run in a worker thread (startDynalite), found the main thread');
const server = await startLocalServer();
port.postMessage({ endpoint: server.endpoint });
port.once('message', () => {
  server.close().then(
    () => port.postMessage({ closed: true }),
    (error: unknown) => port.postMessage({ closed: false, error: String(error) }),
  );
});
