import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { caBundleOptions } from './http-transport.js';

export interface ClientOptions {
  region: string | undefined;
  endpoint: string | undefined;
  /** Sockets per client: set together with the writer's in-flight limit (STYLE.md). */
  maxSockets: number;
  /** SDK-level attempts. The writer retries itself (and counts it), so it passes 1. */
  maxAttempts: number;
}

/**
 * A DynamoDB client with keep-alive agents sized to the caller's concurrency. Credentials come only
 * from the SDK's default provider chain; region and endpoint fall back to the SDK's own resolution
 * (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB, ...).
 */
export function createClient(options: ClientOptions): DynamoDBClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  return new DynamoDBClient({
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    maxAttempts: options.maxAttempts,
    requestHandler: {
      httpAgent: new http.Agent(agentOptions),
      // The SDK does not read AWS_CA_BUNDLE in Node; the lean path does, and so does this agent.
      httpsAgent: new https.Agent({ ...agentOptions, ...caBundleOptions() }),
      connectionTimeout: 5_000,
      requestTimeout: 60_000,
    },
  });
}
