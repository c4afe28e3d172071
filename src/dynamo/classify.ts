/**
 * Sorts an error from a DynamoDB call into what the writer does with it. Matches on the error's
 * name/code (AWS error types), never on classes.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
export type ErrorKind = 'throttled' | 'server' | 'network' | 'validation' | 'fatal';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const VALIDATION = new Set([
  'ValidationException',
  'ItemCollectionSizeLimitExceededException',
  'SerializationException',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
// CrcMismatch: the answer was damaged in transit; puts and deletes are safe to send again.
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'AbortError', 'CrcMismatch']);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; clockSkewCorrected?: boolean };
  $fault?: string;
}

export function classifyError(error: unknown): ErrorKind {
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = e.name ?? '';
  if (THROTTLING.has(name)) return 'throttled';
  if (VALIDATION.has(name)) return 'validation';
  const status = e.$metadata?.httpStatusCode;
  // A gateway or proxy in front of DynamoDB says "slow down" with 429 and a body of its own.
  if (status === 429) return 'throttled';
  if (status !== undefined && status >= 500) return 'server';
  if (name === 'InternalServerError' || name === 'ServiceUnavailable' || name === 'InternalFailure') return 'server';
  if ((e.code !== undefined && NETWORK_CODES.has(e.code)) || NETWORK_NAMES.has(name)) return 'network';
  if (
    status === undefined &&
    e.$fault === undefined &&
    /socket hang up|ECONNRESET|EPIPE|network/i.test(e.message ?? '')
  )
    return 'network';
  // The clock offset was corrected from the answer's Date header: the SDK retries these, so do we.
  if (e.$metadata?.clockSkewCorrected) return 'network';
  return 'fatal';
}

export function errorName(error: unknown): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  return e.name ?? e.code ?? 'Error';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
