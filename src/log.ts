import { pino, type Logger } from './packages/pino.js';

/**
 * pino to fd 2, synchronously: logs never share stdout with the result, and nothing buffered is
 * lost when the process ends.
 */
export function createLogger(level: string): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
}

export type { Logger };
