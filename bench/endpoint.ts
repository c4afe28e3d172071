/**
 * A DynamoDB endpoint for the bench, in its own process so it does not share an event loop with
 * what is measured: dynalite, or the null endpoint (optionally withholding items or limiting write
 * capacity). Protocol in bench/protocol.ts: argv[2] is the EndpointSpec; prints `{"endpoint": ...}`
 * once listening, and its stats as one JSON line when stdin ends (also when the runner dies).
 */
import { startLocalServer } from '../src/local/server.js';
import { startNullEndpoint } from './null-endpoint.js';
import type { EndpointSpec, EndpointStats } from './protocol.js';

const spec = JSON.parse(process.argv[2] ?? '{"kind":"null"}') as EndpointSpec;
const cpuAtStart = process.cpuUsage();
const nullEndpoint = spec.kind === 'null' ? await startNullEndpoint(spec) : undefined;
const server = nullEndpoint ?? (await startLocalServer());

const stats = (): EndpointStats => {
  if (nullEndpoint) return nullEndpoint.stats();
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    kind: 'dynalite',
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    requests: 0,
    batchWriteRequests: 0,
    invalidRequests: 0,
    invalidSamples: [],
    itemsAdmitted: 0,
    itemsWithheld: 0,
    unitsAdmitted: 0,
    unitsPerSecond: [],
    activeMs: 0,
  };
};

process.stdout.write(JSON.stringify({ endpoint: server.endpoint }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => {
  // The runner waits for this line, then for the process to end (and kills it if it lingers).
  process.stdout.write(JSON.stringify(stats()) + '\n', () => void server.close());
});
