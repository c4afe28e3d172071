import type { Logger } from '../log.js';
import type { Pool } from './pool.js';

/** First SIGINT/SIGTERM: stop reading and drain (bounded); a second one, or the timeout: stop at once. */
export function onStopSignals(
  pool: Pool,
  timeoutSeconds: number,
  log: Logger,
): { signal(): NodeJS.Signals | undefined; dispose(): void } {
  let received: NodeJS.Signals | undefined;
  let timer: NodeJS.Timeout | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    if (received === undefined) {
      received = signal;
      log.warn(
        { signal },
        `stopping: finishing the writes in flight (at most ${timeoutSeconds} s); ${signal === 'SIGINT' ? 'Ctrl-C again' : 'a second signal'} stops at once`,
      );
      process.stderr.write(
        `dynaload: ${signal}: stopping after the writes in flight (at most ${timeoutSeconds} s); press Ctrl-C again to stop at once\n`,
      );
      pool.stop();
      timer = setTimeout(() => pool.kill(), timeoutSeconds * 1000);
      timer.unref();
    } else {
      log.warn({ signal }, 'stopping at once');
      pool.kill();
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: () => received,
    dispose: () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** The command line that continues this run: the same arguments, plus --resume. */
export function resumeCommand(): string {
  const args = process.argv.slice(2).filter((a) => a !== '--resume');
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return ['dynaload', ...args, '--resume'].map(quote).join(' ');
}
