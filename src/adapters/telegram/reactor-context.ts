// What the Telegram reactor's steps share (into-topic.ts, to-client.ts, notices.ts): the Bot API,
// the support group and the waits, built once by reactor.ts.
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import { refusal } from './errors.ts';

export interface TelegramReactorContext {
  readonly api: Api;
  readonly supportChatId: string;
  readonly titleTemplate: string;
  readonly logger: Logger;
  /** How long after an album's first item the rest are waited for. */
  readonly albumWaitMs: number;
  /** How long after a message was recorded the ones its sender sent before it are waited for. */
  readonly orderWaitMs: number;
}

/** Follow-up calls Telegram refuses (a message since deleted, a chat that blocked the bot) are logged. */
export const ignoreRefused = (ctx: TelegramReactorContext, error: unknown): void => {
  if (!refusal(error)) throw error;
  ctx.logger.info({ err: error }, 'telegram refused a follow-up call');
};

export const replyParameters = (messageId: string | number) => ({
  reply_parameters: { message_id: Number(messageId), allow_sending_without_reply: true },
});
