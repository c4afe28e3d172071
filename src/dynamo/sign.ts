/**
 * SigV4 for the lean BatchWriteItem path: the SDK's own signer (@smithy/signature-v4) on a
 * node:crypto SHA-256, plus the SDK's clock-skew bookkeeping so a machine with a wrong clock still
 * signs requests DynamoDB accepts.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Checksum, Provider, SourceData } from '@smithy/types';

/**
 * SHA-256 / HMAC-SHA256 on node:crypto, the `Checksum` interface SignatureV4 wants. Same as the SDK's
 * Node runtime hash (@smithy/core serde/hash-node/hash-node.ts), without the deep import.
 */
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }

  update(data: Uint8Array | string): void {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }

  reset(): void {
    this.hash = this.create();
  }

  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(this.secret));
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

export interface SignerOptions {
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  region: string | Provider<string>;
  service: string;
}

/**
 * A SignatureV4 set up as the SDK sets up DynamoDB's (@aws-sdk/core httpAuthSchemes
 * resolveAwsSdkSigV4Config): URI path escaping on, payload hash sent as x-amz-content-sha256.
 * It calls the credentials provider on every signature; the SDK's provider is memoized and
 * refreshes credentials within 5 minutes of their expiration.
 */
export function createSigner(options: SignerOptions): SignatureV4 {
  return new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: options.service,
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: true,
  });
}

/** Where the SDK stops trusting a server's clock (AwsSdkSigV4Signer: 240 s, 15 min request age). */
export const CLOCK_SKEW_THRESHOLD_MS = 240_000;
const MAX_REQUEST_AGE_MS = 900_000;

/**
 * The new clock offset from a response's Date header, exactly like @aws-sdk/core
 * httpAuthSchemes/utils/getUpdatedSystemClockOffset.ts: skipped for cached answers (an Age header),
 * for an unparsable date, and when the request took longer than 15 minutes.
 * https://github.com/aws/aws-sdk-js-v3/blob/main/packages/core/src/submodules/httpAuthSchemes/utils/getUpdatedSystemClockOffset.ts
 */
export function updatedClockOffset(
  dateHeader: string | undefined,
  ageHeader: string | undefined,
  currentOffset: number,
  requestSentAt: number,
  now: number = Date.now(),
): number {
  if (dateHeader === undefined || ageHeader !== undefined) return currentOffset;
  const serverTime = Date.parse(dateHeader);
  if (Number.isNaN(serverTime)) return currentOffset;
  if (now - requestSentAt > MAX_REQUEST_AGE_MS) return currentOffset;
  return serverTime - now;
}
