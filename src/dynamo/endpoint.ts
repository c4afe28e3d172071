/**
 * Where a BatchWriteItem goes and how it is signed, decided by the SDK client's own endpoint
 * machinery, so the lean path honours everything the SDK does: `endpoint` (dynaload's --endpoint),
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL and `endpoint_url` in the profile, FIPS and dual-stack
 * settings, and account-based endpoints (https://<account>.ddb.<region>.amazonaws.com) when the
 * credentials carry an account id.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteItemCommand } from '../packages/dynamodb.js';
import { getEndpointFromInstructions } from '../packages/smithy.js';

export interface ResolvedTarget {
  url: URL;
  /** Value of the Host header: hostname, plus the port when it is not the scheme's default. */
  host: string;
  signingRegion: string;
  signingService: string;
  /** Extra headers an endpoint rule or custom endpoint asks for (rare). */
  headers: Record<string, string>;
}

interface AuthScheme {
  name?: string;
  signingRegion?: string;
  signingName?: string;
}

type EndpointConfig = Parameters<typeof getEndpointFromInstructions>[2];

/**
 * Runs the same steps as the SDK's endpoint middleware (@smithy/core endpoints/middleware-endpoint
 * endpointMiddleware.ts): BatchWriteItemCommand's parameter instructions (Region, UseFIPS,
 * UseDualStack, Endpoint, AccountId, AccountIdEndpointMode, ResourceArnList from the table names)
 * fed to the client's endpointProvider. The config is copied, as the middleware does, because
 * getEndpointFromInstructions writes a configured endpoint (AWS_ENDPOINT_URL_DYNAMODB) into it.
 */
export async function resolveBatchWriteTarget(client: DynamoDBClient, tables: string[]): Promise<ResolvedTarget> {
  const config = client.config;
  const endpoint = await getEndpointFromInstructions(
    { RequestItems: Object.fromEntries(tables.map((table) => [table, []])) },
    BatchWriteItemCommand,
    { ...config } as unknown as EndpointConfig,
  );
  const url = new URL(endpoint.url.href);
  // What the SDK puts on the wire for a custom endpoint with a path: the path with a trailing slash,
  // no query (endpoint rules' parseURL normalizedPath; checked against the SDK in the tests).
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  const scheme = (endpoint.properties?.authSchemes as AuthScheme[] | undefined)?.find((s) => s.name === 'sigv4');
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(endpoint.headers ?? {})) headers[name.toLowerCase()] = values.join(',');
  return {
    url,
    // URL drops a default port, so `host` is "hostname[:port]" exactly as the SDK's host-header middleware writes it.
    host: url.host,
    signingRegion: scheme?.signingRegion ?? (await config.region()),
    signingService: scheme?.signingName ?? 'dynamodb',
    headers,
  };
}
