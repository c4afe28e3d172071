/**
 * One error class with a stable string `code` (callers match on the code, never on `instanceof`:
 * errors that cross `worker_threads` are structured-cloned and lose their class), the process exit
 * code it implies, and the context a user needs to find the cause (file, line, column, key, ...).
 */

export const EXIT = Object.freeze({
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  REJECTED: 3,
  SIGINT: 130,
  SIGTERM: 143,
});

export type ErrorContext = Record<string, string | number | boolean | undefined>;

export interface DynaloadErrorOptions {
  exitCode?: number;
  context?: ErrorContext;
  cause?: unknown;
}

export class DynaloadError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly context: ErrorContext;

  constructor(code: string, message: string, options: DynaloadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DynaloadError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT.FAILED;
    this.context = options.context ?? {};
  }
}

/** A usage error: bad flags or configuration, exit code 2. */
export function usageError(code: string, message: string, context?: ErrorContext): DynaloadError {
  return new DynaloadError(code, message, { exitCode: EXIT.USAGE, ...(context ? { context } : {}) });
}

/** The form an error takes in a `postMessage` between threads. */
export interface WireError {
  code: string;
  message: string;
  exitCode: number;
  context: ErrorContext;
  cause?: string;
}

export function toWire(error: unknown): WireError {
  if (isDynaloadError(error)) {
    const cause = error.cause === undefined ? undefined : describeCause(error.cause);
    return {
      code: error.code,
      message: error.message,
      exitCode: error.exitCode,
      context: error.context,
      ...(cause ? { cause } : {}),
    };
  }
  return { code: 'EINTERNAL', message: describeCause(error), exitCode: EXIT.FAILED, context: {} };
}

export function fromWire(wire: WireError): DynaloadError {
  return new DynaloadError(wire.code, wire.message, {
    exitCode: wire.exitCode,
    context: wire.context,
    ...(wire.cause === undefined ? {} : { cause: wire.cause }),
  });
}

export function isDynaloadError(error: unknown): error is DynaloadError {
  return (
    error instanceof DynaloadError ||
    (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'DynaloadError')
  );
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
