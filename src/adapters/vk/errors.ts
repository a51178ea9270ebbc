// Which VK failures are worth another try. VK answers errors inside a 200 response
// (`{error: {error_code, error_msg}}`); vk-io raises them as APIError with `code`. Upload servers and
// the network fail as plain errors.
import { APIError, UploadError } from 'vk-io';
import { redactSecrets } from '../logging/redact.ts';
import { telegramFailure } from '../telegram/errors.ts';

export type FailureKind =
  /** Worth retrying with backoff: rate limits, VK's internal errors, the network. */
  | 'transient'
  /** The client cannot be written to (no permission, privacy, blacklist): permanent, told once. */
  | 'unreachable'
  /** VK (or Telegram, for the file) refuses this one for good. */
  | 'permanent';

export interface Failure {
  readonly kind: FailureKind;
  /** Recorded in DeliveryFailed.reason. */
  readonly reason: string;
  readonly code?: number;
}

/** 1 unknown, 6 too many requests per second, 9 flood control, 10 internal server error, 29 rate limit. */
const TRANSIENT_CODES = new Set([1, 6, 9, 10, 29, 603]);
/** 900 blacklisted, 901 no permission to message the user, 902 the user's privacy settings. */
const UNREACHABLE_CODES = new Set([900, 901, 902]);

const errorCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;

const NETWORK = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR_\w+)$/;

export const vkReason = (e: APIError): string =>
  `VK error ${e.code}: ${e.message.replace(/^Code №\d+ - /, '')}`;

/**
 * What a failure means, its reason scrubbed: reasons are logged and recorded for good, and a
 * network error's message quotes the address it failed on (an upload server's carries the upload's
 * signature).
 */
export const classify = (e: unknown): Failure => {
  const failure = classifyRaw(e);
  return { ...failure, reason: redactSecrets(failure.reason) };
};

const classifyRaw = (e: unknown): Failure => {
  if (e instanceof APIError) {
    const code = Number(e.code);
    const kind: FailureKind = TRANSIENT_CODES.has(code)
      ? 'transient'
      : UNREACHABLE_CODES.has(code)
        ? 'unreachable'
        : 'permanent';
    return { kind, reason: vkReason(e), code };
  }
  // Downloading a manager's file from Telegram: 429/5xx and the network pass, "file is too big" does not.
  const telegram = telegramFailure(e);
  if (telegram?.code !== undefined) {
    return { kind: telegram.retry ? 'transient' : 'permanent', reason: `Telegram: ${telegram.reason}` };
  }
  if (telegram) return { kind: 'transient', reason: `Telegram unreachable: ${telegram.reason}` };
  if (e instanceof UploadError) return { kind: 'permanent', reason: `VK upload: ${e.message}` };
  if (e instanceof DownloadError) {
    return { kind: e.status >= 500 || e.status === 429 ? 'transient' : 'permanent', reason: e.message };
  }
  if (e instanceof UploadServerError) return { kind: 'transient', reason: e.message };
  // Fetch failures, timeouts, resets: the network. Anything else is a bug and is thrown on.
  const name = e instanceof Error ? e.name : '';
  const code = errorCode(e) ?? errorCode((e as { cause?: unknown })?.cause);
  if (
    name === 'AbortError' ||
    name === 'FetchError' ||
    name === 'TimeoutError' ||
    (e instanceof TypeError && /fetch failed/i.test(e.message)) ||
    (code !== undefined && NETWORK.test(code))
  ) {
    return { kind: 'transient', reason: `network: ${e instanceof Error ? e.message : String(e)}` };
  }
  throw e;
};

/** A file could not be downloaded (from VK's CDN or Telegram's file server). */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * An upload server failed outside VK's error format (vk-io reports only the HTTP status text, or the
 * connection broke): worth another try. A file VK does not accept comes back as an APIError instead.
 */
export class UploadServerError extends Error {
  override readonly name = 'UploadServerError';
}

/** Exponential backoff with a cap: base, 2·base, 4·base… */
export const backoffMs = (attempt: number, baseMs: number, maxMs: number): number =>
  Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
