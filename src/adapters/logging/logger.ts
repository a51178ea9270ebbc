// The one way to make a logger (`npm start`, the CLI, the tests): pino writing JSON lines to stdout,
// stderr or a stream the caller holds.
import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  /** A pino level, or 'silent'. */
  readonly level: string;
  /** Fields on every line; null: none (not even pino's pid and hostname). Default: pino's. */
  readonly base?: Record<string, unknown> | null;
  /** Where lines go: a file descriptor (1 stdout, 2 stderr) or a stream. Default: stdout. */
  readonly destination?: number | DestinationStream;
  /** The configured secrets (tokens, passwords): no line carries them. */
  readonly secrets?: readonly string[];
}

export const createLogger = (options: LoggerOptions): Logger => {
  const settings = {
    level: options.level,
    ...(options.base !== undefined ? { base: options.base } : {}),
  };
  const { destination } = options;
  if (destination === undefined) return pino(settings);
  return pino(settings, typeof destination === 'number' ? pino.destination(destination) : destination);
};
