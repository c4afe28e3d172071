/**
 * A DynamoDB endpoint for the benchmark, in its own process so it does not share an event loop
 * with what is measured: dynalite, optionally behind the fault proxy. Prints `{"endpoint": ...}`
 * on stdout once listening; runs until stdin closes.
 */
import { startLocalServer } from '../src/local/server.js';
import { startFaultProxy, type Faults } from '../test/support/fault-proxy.js';

const faults = JSON.parse(process.argv[2] ?? '{}') as Faults & { proxy?: boolean };
const server = await startLocalServer();
const proxy = faults.proxy ? await startFaultProxy(server.endpoint, faults) : undefined;
process.stdout.write(JSON.stringify({ endpoint: proxy?.endpoint ?? server.endpoint }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void (async () => {
    process.stderr.write(JSON.stringify({ proxyStats: proxy?.stats ?? null }) + '\n');
    await proxy?.close();
    await server.close();
  })();
});
