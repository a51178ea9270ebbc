// The app's logger in the tests: the same factory as `npm start`, silent unless TEST_LOG_LEVEL says
// otherwise, or kept in memory line by line for a test that reads what the app logged.
import type { Logger } from 'pino';
import { createLogger } from '../../src/adapters/logging/logger.ts';
import type { Config } from '../../src/app/config.ts';
import { configuredSecrets } from '../../src/app/config-secrets.ts';

export interface LogCapture {
  readonly level: string;
  /** The lines written, as written (only when capturing). */
  readonly lines: string[];
  loggerFor(config: Config): Logger;
}

/** `capture`: keep the lines at this level in `lines`; otherwise TEST_LOG_LEVEL (default silent) to stdout. */
export const testLogger = (capture?: string): LogCapture => {
  const lines: string[] = [];
  const level = capture ?? process.env.TEST_LOG_LEVEL ?? 'silent';
  return {
    level,
    lines,
    loggerFor: (config) =>
      createLogger({
        level,
        secrets: configuredSecrets(config),
        ...(capture ? { destination: { write: (line: string) => void lines.push(line) } } : {}),
      }),
  };
};
