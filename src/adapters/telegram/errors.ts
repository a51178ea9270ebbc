// What a failed Bot API call means. grammY throws a GrammyError when Telegram answered
// `{ok: false, error_code, description, parameters?}` and an HttpError when it could not be reached
// (a reset, a timeout, a page that is not JSON, or a local upload that could not be read). Telegram's
// error codes are coarse (most refusals are 400): which refusal it is, only `description` says.
import { GrammyError, HttpError } from 'grammy';
import type { ApiError } from 'grammy/types';

export type TelegramFailureKind =
  /** The forum topic (message thread) is gone: deleted by hand, or never there. */
  | 'topic-gone'
  /** The edit changes nothing: the message (or the topic) already reads so. */
  | 'not-modified'
  /** The message to copy, edit, delete, reply or react to is gone, or may no longer be changed. */
  | 'message-gone'
  /** The client blocked the bot. */
  | 'blocked'
  /** Any other chat the bot cannot write to: a deactivated user, one who never started the bot, no such chat. */
  | 'unreachable'
  /** The bot token is wrong (401). */
  | 'unauthorized'
  /** Any other refusal of this call: it fails the same way every time. */
  | 'refused'
  /** 429: Telegram asks for quiet for `retryAfterMs`. */
  | 'rate-limited'
  /** 5xx: Telegram's own trouble. */
  | 'server'
  /** Telegram could not be reached, or its answer was lost. */
  | 'network'
  /** A local file to upload could not be read: trying again reads it no better. */
  | 'unreadable-upload';

export interface TelegramFailure {
  readonly kind: TelegramFailureKind;
  /** Whether the same call may go through later (429, 5xx, the network); else it is refused for good. */
  readonly retry: boolean;
  /** Telegram's description, or grammY's line for a call that failed on the way ("Network request for …"). */
  readonly reason: string;
  /** Telegram's error code, when Telegram answered. */
  readonly code?: number;
  /** How long to wait before the next call, for a 429 (1 s when Telegram names no time). */
  readonly retryAfterMs?: number;
}

const TOPIC_GONE = /message thread not found|TOPIC_ID_INVALID|TOPIC_DELETED/i;
const NOT_MODIFIED = /message is not modified|TOPIC_NOT_MODIFIED/i;
const MESSAGE_GONE =
  /message to (?:copy|edit|delete|forward|be replied|reply|react) not found|message can't be \w+|message not found|MESSAGE_ID_INVALID/i;
const BLOCKED = /bot was blocked by the user/i;
// Telegram's 403s all start "Forbidden:"; a chat it does not know is a 400.
const UNREACHABLE = /^Forbidden\b|chat not found|user is deactivated/i;

/** What Telegram's error answer means (a GrammyError is one, and so is a raw answer a transformer sees). */
export const answerFailure = (answer: Pick<ApiError, 'error_code' | 'description' | 'parameters'>) => {
  const { error_code: code, description: reason } = answer;
  const failure = (kind: TelegramFailureKind, retry = false): TelegramFailure => ({
    kind,
    retry,
    reason,
    code,
  });
  if (code === 429) {
    return { ...failure('rate-limited', true), retryAfterMs: (answer.parameters?.retry_after ?? 1) * 1000 };
  }
  if (code >= 500) return failure('server', true);
  if (code === 401) return failure('unauthorized');
  // The order matters: "message thread not found" is about the topic, not a message.
  if (TOPIC_GONE.test(reason)) return failure('topic-gone');
  if (NOT_MODIFIED.test(reason)) return failure('not-modified');
  if (BLOCKED.test(reason)) return failure('blocked');
  if (code === 403 || UNREACHABLE.test(reason)) return failure('unreachable');
  if (MESSAGE_GONE.test(reason)) return failure('message-gone');
  return failure('refused');
};

// A local upload that cannot be read (a missing file, a stream already consumed by an earlier try)
// fails the same way every time: grammY wraps it in an HttpError too.
const isUnreadableUpload = (e: HttpError): boolean => {
  const inner = e.error as { code?: unknown; message?: unknown } | undefined;
  return (
    ['ENOENT', 'EACCES', 'EISDIR'].includes(String(inner?.code)) || /InputFile/.test(String(inner?.message))
  );
};

/** What a Bot API call's failure means; undefined for anything else (an abort, a bug): not Telegram's. */
export const telegramFailure = (e: unknown): TelegramFailure | undefined => {
  if (e instanceof GrammyError) return answerFailure(e);
  if (e instanceof HttpError) {
    const kind = isUnreadableUpload(e) ? 'unreadable-upload' : 'network';
    return { kind, retry: kind === 'network', reason: e.message };
  }
  return undefined;
};

/** The failure when Telegram answered and refused this call for good (a 4xx other than 429); else undefined. */
export const refusal = (e: unknown): TelegramFailure | undefined => {
  const failure = e instanceof GrammyError ? answerFailure(e) : undefined;
  return failure && !failure.retry ? failure : undefined;
};

export const isTopicGone = (e: unknown): boolean => refusal(e)?.kind === 'topic-gone';
export const isNotModified = (e: unknown): boolean => refusal(e)?.kind === 'not-modified';

/** Whether a refusal says the client's chat cannot be written to (blocked, deactivated, unknown). */
export const isUnreachable = (failure: TelegramFailure | undefined): boolean =>
  failure?.kind === 'blocked' || failure?.kind === 'unreachable';

/** The same, for a refusal's description as recorded (DeliveryFailed.reason). */
export const isUnreachableReason = (reason: string | undefined): boolean =>
  reason !== undefined && (BLOCKED.test(reason) || UNREACHABLE.test(reason));
