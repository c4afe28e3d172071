/**
 * Errors of the lean BatchWriteItem path, shaped like the SDK's (name = AWS error type, message,
 * $fault, $metadata) so src/dynamo/classify.ts treats both paths alike.
 */
import type { HttpAnswer } from './http-transport.js';

export interface ResponseMetadata {
  httpStatusCode: number;
  requestId: string | undefined;
  extendedRequestId: string | undefined;
  cfId: string | undefined;
  attempts: number;
  totalRetryDelay: number;
  /** Set when this answer moved the clock offset past the skew threshold: a retry will sign right. */
  clockSkewCorrected?: true;
}

export type LeanError = Error & { $metadata: ResponseMetadata; $fault?: 'client' | 'server'; code?: string };

/** SDK: HttpProtocol.deserializeMetadata (@smithy/core protocols). The writer retries, so attempts is 1. */
function metadata(answer: HttpAnswer): ResponseMetadata {
  const h = answer.headers;
  const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);
  return {
    httpStatusCode: answer.status,
    requestId: first(h['x-amzn-requestid']) ?? first(h['x-amzn-request-id']) ?? first(h['x-amz-request-id']),
    extendedRequestId: first(h['x-amz-id-2']),
    cfId: first(h['x-amz-cf-id']),
    attempts: 1,
    totalRetryDelay: 0,
  };
}

/**
 * A non-2xx answer. The type comes from `__type`, then a `code` member, then the x-amzn-ErrorType
 * header, cleaned of namespace and URI like the SDK's loadJsonRpcErrorCode/sanitizeErrorCode
 * (@smithy/core protocols/json/parseJsonBody.ts). A body that is not JSON gives a SyntaxError with
 * the status, as the SDK throws (so a 5xx HTML page from a proxy still counts as a server error).
 */
export function answerError(answer: HttpAnswer, skewCorrected: boolean): LeanError {
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = answer.body.length === 0 ? {} : JSON.parse(answer.body.toString('utf8'));
    data = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch (error) {
    return deserializationError(answer, error);
  }
  const codeKey = Object.keys(data).find((k) => k.toLowerCase() === 'code');
  const headerType = answer.headers['x-amzn-errortype'];
  const raw =
    data.__type ??
    (codeKey === undefined ? undefined : data[codeKey]) ??
    (Array.isArray(headerType) ? headerType[0] : headerType);
  const name = raw === undefined || raw === null ? 'Unknown' : sanitizeErrorCode(String(raw));
  const message = data.message ?? data.Message ?? 'UnknownError';
  const meta = metadata(answer);
  if (skewCorrected) meta.clockSkewCorrected = true;
  return Object.assign(new Error(String(message)), {
    name,
    $fault: answer.status < 500 ? ('client' as const) : ('server' as const),
    $metadata: meta,
  });
}

function sanitizeErrorCode(value: string): string {
  let clean = value;
  if (clean.includes(',')) clean = clean.split(',')[0] as string;
  if (clean.includes(':')) clean = clean.split(':')[0] as string;
  if (clean.includes('#')) clean = clean.split('#')[1] as string;
  return clean;
}

/** An answer body that is not the JSON it claims to be; name SyntaxError, like the SDK's. */
export function deserializationError(answer: HttpAnswer, cause: unknown): LeanError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const meta = metadata(answer);
  const id = meta.requestId === undefined ? 'no request id' : `request id ${meta.requestId}`;
  return Object.assign(
    new Error(
      `${reason}\n  Deserialization error: the answer (HTTP ${answer.status}, ${id}) is not the JSON expected.`,
      { cause },
    ),
    {
      name: 'SyntaxError',
      $metadata: meta,
    },
  );
}

/**
 * The body does not match x-amz-crc32: damaged or cut short on the way, so the write may or may not
 * have happened and a retry is safe (BatchWriteItem puts/deletes are idempotent). Classified as a
 * network fault by name. No $fault: the service did not say anything went wrong.
 */
export function crcError(answer: HttpAnswer, expected: number): LeanError {
  return Object.assign(
    new Error(
      `The answer's CRC32 does not match its x-amz-crc32 header (${expected}): the body was damaged in transit.`,
    ),
    {
      name: 'CrcMismatch',
      code: 'ERR_CRC32_MISMATCH',
      $metadata: metadata(answer),
    },
  );
}
