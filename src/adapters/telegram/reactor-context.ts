// What the Telegram reactor's steps share (into-topic.ts, to-client.ts, notices.ts): the Bot API,
// the support group and the waits, built once by reactor.ts.
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { Texts } from '../../texts/texts.ts';
import type { CsatOptions } from '../csat.ts';
import { refusal } from './errors.ts';
import type { StatusLook, TopicStatusBoard } from './topic-status.ts';

export interface TelegramReactorContext {
  readonly api: Api;
  readonly supportChatId: string;
  readonly titleTemplate: string;
  readonly logger: Logger;
  /** What the bot writes itself: to a client in their language, into the topic in LOCALE's. */
  readonly texts: Texts;
  /** How long after an album's first item the rest are waited for. */
  readonly albumWaitMs: number;
  /** How long after a message was recorded the ones its sender sent before it are waited for. */
  readonly orderWaitMs: number;
  /**
   * Client messages Telegram refused for good in this process (the topic was told): not carried
   * again when their own event comes after a burst carried them early. Nothing in the log says so,
   * so after a restart a replayed event may tell the topic once more.
   */
  readonly refusedMessages: Set<string>;
  /** How topics show their status (TOPIC_STATUS), and the board that makes the edits; absent when off. */
  readonly statusLook?: StatusLook;
  readonly statusBoard?: TopicStatusBoard;
  /**
   * Waits for a quiet moment of a chat in the limiter (`whenQuiet`): what the bot only tidies up (the
   * card's assignee line) lets client messages go first. Absent: made at once.
   */
  readonly quiet?: (chatId: string) => Promise<void>;
  /** Satisfaction (CSAT): whether a Telegram client is asked to rate after a closing. */
  readonly csat: CsatOptions;
}

/** The most refused client messages remembered; the oldest are forgotten first. */
const REFUSED_REMEMBERED = 10_000;

export const rememberRefused = (ctx: TelegramReactorContext, messageId: string): void => {
  ctx.refusedMessages.add(messageId);
  if (ctx.refusedMessages.size <= REFUSED_REMEMBERED) return;
  const oldest = ctx.refusedMessages.values().next().value;
  if (oldest !== undefined) ctx.refusedMessages.delete(oldest);
};

/** Follow-up calls Telegram refuses (a message since deleted, a chat that blocked the bot) are logged. */
export const ignoreRefused = (ctx: TelegramReactorContext, error: unknown): void => {
  if (!refusal(error)) throw error;
  ctx.logger.info({ err: error }, 'telegram refused a follow-up call');
};

export const replyParameters = (messageId: string | number) => ({
  reply_parameters: { message_id: Number(messageId), allow_sending_without_reply: true },
});
