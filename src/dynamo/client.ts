import { DynamoDBClient } from '../packages/dynamodb.js';
import { caBundleOptions, createDispatcher } from './http-transport.js';
import { createSdkHttpHandler } from './sdk-http-handler.js';

export interface ClientOptions {
  region: string | undefined;
  endpoint: string | undefined;
  /** Sockets per client: set together with the writer's in-flight limit (STYLE.md). */
  maxSockets: number;
  /** SDK-level attempts. The writer retries itself (and counts it), so it passes 1. */
  maxAttempts: number;
}

const CONNECTION_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A DynamoDB client on an undici pool sized to the caller's concurrency, through the proxy that
 * HTTPS_PROXY / HTTP_PROXY name (NO_PROXY), trusting AWS_CA_BUNDLE (the SDK reads neither in Node).
 * Credentials come only from the SDK's default provider chain; region and endpoint fall back to the
 * SDK's own resolution (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB, ...).
 */
export function createClient(options: ClientOptions): DynamoDBClient {
  const ca = caBundleOptions()?.ca;
  const dispatcher = createDispatcher({
    maxSockets: options.maxSockets,
    connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    ...(ca === undefined ? {} : { ca }),
  });
  return new DynamoDBClient({
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    maxAttempts: options.maxAttempts,
    requestHandler: createSdkHttpHandler(dispatcher, REQUEST_TIMEOUT_MS),
  });
}
