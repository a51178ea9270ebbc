// The one way to make a logger (`npm start`, the CLI, the tests): pino writing JSON lines to stdout,
// stderr or a stream the caller holds, each line scrubbed of secrets as it is written.
import pino, { type DestinationStream, type Logger } from 'pino';
import { createRedactor } from './redact.ts';

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

/**
 * pino's error serializer (message and stack with their causes, the error's own fields) with raw
 * bytes logged as their size: Node hands a malformed request's bytes, its headers included, to
 * the error (`rawPacket`), and as JSON they would be a list of numbers no text search sees.
 */
const serializeError = (err: unknown): unknown => {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (typeof out !== 'object' || out === null) return out;
  for (const [key, value] of Object.entries(out)) {
    if (value instanceof Uint8Array) out[key] = `<${value.byteLength} bytes>`;
  }
  return out;
};

export const createLogger = (options: LoggerOptions): Logger => {
  const redact = createRedactor(options.secrets);
  const settings = {
    level: options.level,
    ...(options.base !== undefined ? { base: options.base } : {}),
    serializers: { err: serializeError },
    // The finished line: whatever carried a secret into it (a message, a stack, a cause, a URL, a
    // header a library logged), it is found there.
    hooks: { streamWrite: redact },
  };
  const { destination } = options;
  if (destination === undefined) return pino(settings);
  return pino(settings, typeof destination === 'number' ? pino.destination(destination) : destination);
};
