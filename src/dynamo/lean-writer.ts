/**
 * A lean BatchWriteItem: the SDK client's resolved config (credentials, region, endpoint, clock
 * offset) with our own serialization, SigV4 signing and undici's keep-alive HTTP/1.1 (http-transport.ts).
 * A small part of the CPU per request of `DynamoDBClient.send` (`bench/lean-vs-sdk.ts`). Same
 * contract as the SDK call the writer used: resolves to UnprocessedItems (an object, `{}` when
 * nothing was withheld), rejects with SDK-shaped errors.
 */
import type { DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import { resolveBatchWriteTarget, type ResolvedTarget } from './endpoint.js';
import {
  caBundleOptions,
  createTransport,
  type HttpAnswer,
  type Transport,
  type TransportOptions,
} from './http-transport.js';
import { answerError, crcError, deserializationError } from './lean-errors.js';
import { CLOCK_SKEW_THRESHOLD_MS, createSigner, updatedClockOffset } from './sign.js';
import { scanUnprocessed, type UnprocessedTexts } from './unprocessed-text.js';
import { parseBatchWriteOutput, serializeBatchWrite, type SerializedBatch } from './wire.js';

export interface LeanSend {
  send(items: Record<string, WriteRequest[]>): Promise<Record<string, WriteRequest[]>>;
  /**
   * The same for a body already serialized (the writer keeps each item's JSON); the
   * UnprocessedItems come back as the texts of the requests, to be matched with what was sent.
   */
  sendSerialized(batch: SerializedBatch): Promise<Record<string, WriteRequest[]> | UnprocessedTexts>;
  /** Closes the keep-alive sockets; the SDK client stays the caller's to destroy. */
  destroy(): void;
}

export interface LeanSendOptions {
  /** Sockets per agent: set together with the writer's in-flight limit (STYLE.md). */
  maxSockets: number;
  /** Defaults match src/dynamo/client.ts. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** The whole answer's deadline; default DYNALOAD_ANSWER_TIMEOUT_MS, else 90 s. */
  answerTimeoutMs?: number;
  /** Another HTTP client with the same contract: bench/lean-vs-sdk.ts measures the old one beside undici. */
  createTransport?: (options: TransportOptions) => Transport;
}

const DEFAULT_ANSWER_TIMEOUT_MS = 90_000;

/** DYNALOAD_ANSWER_TIMEOUT_MS, for a slow link (or a test) that needs another deadline than 90 s. */
export function answerTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DYNALOAD_ANSWER_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_ANSWER_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1)
    throw new RangeError(
      `Expected DYNALOAD_ANSWER_TIMEOUT_MS to be a whole number of milliseconds of at least 1, got \`${raw}\``,
    );
  return ms;
}

const TARGET = 'DynamoDB_20120810.BatchWriteItem';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/** The slice of the SDK's resolved config the lean path reads and writes. */
interface SkewConfig {
  systemClockOffset?: number;
  disableClockSkewCorrection?: () => Promise<boolean>;
}

export async function createLeanSend(client: DynamoDBClient, options: LeanSendOptions): Promise<LeanSend> {
  const config = client.config;
  const skew = config as unknown as SkewConfig;
  // Read once: the SDK reads its settings when the client is built, too.
  const noSkewCorrection = (await skew.disableClockSkewCorrection?.()) === true;
  const ca = caBundleOptions()?.ca;
  const transport = (options.createTransport ?? createTransport)({
    maxSockets: options.maxSockets,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 5_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    answerTimeoutMs: options.answerTimeoutMs ?? answerTimeoutFromEnv(),
    ...(ca === undefined ? {} : { ca }),
  });
  // config.credentials is the SDK's memoized provider (default chain or the caller's), refreshed
  // when within 5 minutes of expiring, so calling it per signature is cheap and keeps keys fresh.
  const signer = createSigner({ credentials: config.credentials, region: config.region, service: 'dynamodb' });
  // Endpoints differ only by the table set (ARNs) and the account id; cache per pair.
  const targets = new Map<string, Promise<ResolvedTarget>>();

  const targetFor = async (tables: string[]): Promise<ResolvedTarget> => {
    const identity = await config.credentials();
    const key = `${identity.accountId ?? ''}\n${tables.join('\n')}`;
    let target = targets.get(key);
    if (target === undefined) {
      target = resolveBatchWriteTarget(client, tables);
      target.catch(() => targets.delete(key));
      targets.set(key, target);
    }
    return target;
  };

  const post = async ({ tables, body }: SerializedBatch): Promise<HttpAnswer> => {
    const target = await targetFor(tables);
    const offset = skew.systemClockOffset ?? 0;
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: target.url.protocol,
        hostname: target.url.hostname,
        path: target.url.pathname,
        query: {},
        headers: {
          ...target.headers,
          'content-type': CONTENT_TYPE,
          'x-amz-target': TARGET,
          'content-length': String(body.length),
          host: target.host,
        },
        body,
      },
      {
        signingDate: noSkewCorrection ? new Date() : new Date(Date.now() + offset),
        signingRegion: target.signingRegion,
        signingService: target.signingService,
      },
    );
    const sentAt = Date.now();
    const answer = await transport.post(target.url, signed.headers, body);
    const skewCorrected = noSkewCorrection ? false : sampleClock(skew, answer, offset, sentAt);
    checkAnswer(answer, skewCorrected);
    return answer;
  };

  const send = async (items: Record<string, WriteRequest[]>): Promise<Record<string, WriteRequest[]>> =>
    readAnswer(await post({ tables: Object.keys(items), body: serializeBatchWrite(items) }));
  const sendSerialized = async (batch: SerializedBatch): Promise<Record<string, WriteRequest[]> | UnprocessedTexts> =>
    readAnswerTexts(await post(batch));
  return { send, sendSerialized, destroy: () => transport.destroy() };
}

/**
 * Every answer's Date header moves the shared offset (client.config.systemClockOffset, which the
 * SDK's own signer also reads), as AwsSdkSigV4Signer's successHandler and errorHandler do. Returns
 * whether this answer corrected a skew worth retrying for (SDK: $metadata.clockSkewCorrected).
 * https://github.com/aws/aws-sdk-js-v3/blob/main/packages/core/src/submodules/httpAuthSchemes/aws_sdk/AwsSdkSigV4Signer.ts
 */
function sampleClock(config: SkewConfig, answer: HttpAnswer, offsetUsed: number, sentAt: number): boolean {
  const previous = config.systemClockOffset ?? 0;
  const next = updatedClockOffset(answer.header('date'), answer.header('age'), previous, sentAt);
  config.systemClockOffset = next;
  return Math.abs(next) >= CLOCK_SKEW_THRESHOLD_MS && next !== offsetUsed;
}

function checkAnswer(answer: HttpAnswer, skewCorrected: boolean): void {
  // A body that does not match its checksum was damaged on the way: check before trusting any of it.
  const expected = answer.header('x-amz-crc32');
  if (expected !== undefined && Number(expected) !== answer.crc32) throw crcError(answer, Number(expected));
  if (answer.status < 200 || answer.status >= 300) throw answerError(answer, skewCorrected);
}

function readAnswer(answer: HttpAnswer): Record<string, WriteRequest[]> {
  try {
    return parseBatchWriteOutput(answer.body);
  } catch (error) {
    throw deserializationError(answer, error);
  }
}

/**
 * The UnprocessedItems as request texts. An answer the scan cannot read, or one without
 * UnprocessedItems, is parsed like `send`'s, which says what is wrong with it.
 */
function readAnswerTexts(answer: HttpAnswer): Record<string, WriteRequest[]> | UnprocessedTexts {
  const texts = scanUnprocessed(answer.body.toString('utf8'));
  return texts === null || texts === undefined ? readAnswer(answer) : { texts };
}
