// What the Telegram inbound modules share (inbound.ts, inbound-commands.ts, inbound-presses.ts): the
// options, the texts, and the steps every update takes — read the conversation, run a command, take
// a domain refusal for an answer, answer in the topic.
import type { Api } from 'grammy';
import type { Message } from 'grammy/types';
import type { Logger } from 'pino';
import type { CommandHandler, CommandResult } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { DomainError } from '../../domain/errors.ts';
import type { LogPosition } from '../../domain/event-log.ts';
import type { Actor } from '../../domain/events.ts';
import type { TemplatesState } from '../../domain/settings/templates.ts';
import type { TextKey } from '../../texts/catalogue.ts';
import { shippedTexts, type Texts } from '../../texts/texts.ts';
import type { AutoReplies } from '../auto-replies/auto-replies.ts';
import { CSAT_OFF, type CsatOptions } from '../csat.ts';
import type { CallbackRouter, ClientCallbackHandler } from './callbacks.ts';
import type { ComposedAnswerDeps } from './composed-answers.ts';
import type { MemberDirectory } from './members.ts';
import type { WaitingPage } from './waiting.ts';

export type InboundOutcome = 'recorded' | 'duplicate' | 'ignored';

/** The update refers to a topic the read model does not know yet: let Telegram deliver it again. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  readonly code = 'retry_later';
}

export interface TelegramInboundOptions {
  readonly handler: CommandHandler;
  readonly api: Api;
  readonly botId: number;
  readonly botUsername: string;
  readonly supportChatId: string;
  /** Topic → conversation, from the conversations read model. */
  readonly findConversationByTopic: (chatId: string, topicId: string) => Promise<string | undefined>;
  /** The log's newest committed event (null: the log is empty). */
  readonly logHead: () => Promise<LogPosition | null>;
  /** How far the conversations read model has applied the log (null: not at all yet). */
  readonly readModelPosition: () => Promise<LogPosition | null>;
  /** Handlers of inline-button presses, by callback_data prefix. */
  readonly callbacks: CallbackRouter;
  /** Handlers of a client's presses in their private chat (the rating's buttons), by prefix. */
  readonly clientCallbacks?: CallbackRouter<ClientCallbackHandler>;
  /** Satisfaction (CSAT): a client's next message after rating may be its comment. Default off. */
  readonly csat?: CsatOptions;
  /** Whether a user is a member of the support group (asked for every press; cached by the caller). */
  readonly isMember: (userId: number) => Promise<boolean>;
  readonly logger: Logger;
  /** The saved answers as the log has them now (`/t`). */
  readonly templates: () => Promise<TemplatesState>;
  /** A topic message starting with this is an internal note (NOTE_PREFIX); '' turns it off. Default `//`. */
  readonly notePrefix?: string;
  /**
   * What the bot answers managers in the topic (LOCALE's language, also the one saved answers fall
   * back to); the shipped English by default.
   */
  readonly texts?: Texts;
  /** The welcome and off-hours answers a client's message calls for; none by default. */
  readonly autoReplies?: AutoReplies;
  /** The members seen writing in the group (`/assign @username`); without it, a reply names the member. */
  readonly members?: MemberDirectory;
  /** The conversations whose client waits, oldest first (`/waiting`); without it the command says none. */
  readonly waiting?: () => Promise<WaitingPage>;
}

export interface InboundContext {
  readonly options: TelegramInboundOptions;
  readonly texts: Texts;
  readonly notePrefix: string;
  readonly csat: CsatOptions;
  readonly composing: ComposedAnswerDeps;
  /** What the bot writes into a topic, from the catalogue, in the managers' language. */
  readonly topicText: (key: TextKey, vars?: Record<string, string | number>) => Promise<string>;
}

export const inboundContext = (options: TelegramInboundOptions): InboundContext => {
  const texts = options.texts ?? shippedTexts();
  return {
    options,
    texts,
    notePrefix: options.notePrefix ?? '//',
    csat: options.csat ?? CSAT_OFF,
    composing: {
      handler: options.handler,
      api: options.api,
      supportChatId: options.supportChatId,
      logger: options.logger,
      templates: options.templates,
      texts,
    },
    topicText: (key, vars = {}) => texts.topic(key, vars),
  };
};

export const managerActor = (m: Pick<Message, 'from'>): Actor => ({
  kind: 'manager',
  id: String(m.from?.id ?? 'unknown'),
  name: [m.from?.first_name, m.from?.last_name].filter(Boolean).join(' ') || 'manager',
});

export const outcomeOf = (result: CommandResult): InboundOutcome =>
  result.alreadyHandled ? 'duplicate' : result.events.length > 0 ? 'recorded' : 'ignored';

/** The conversation as the stream has it, with `refs` (a reply's target) looked up. */
export const stateOf = async (ctx: InboundContext, conversationId: string, refs: readonly string[] = []) =>
  (await ctx.options.handler.reader.read(conversationId, { refs, fresh: true })).state;

export const run = async (
  ctx: InboundContext,
  conversationId: string,
  command: ConversationCommand,
  commandId: string,
  actor: Actor,
  occurredAt: Date,
): Promise<InboundOutcome> => {
  const result = await ctx.options.handler.execute(conversationId, command, {
    commandId,
    actor,
    occurredAt: occurredAt.toISOString(),
  });
  return outcomeOf(result);
};

/** Refusals by the domain (an edit of a deleted message…) are answers, not failures. */
export const tolerant = async (
  ctx: InboundContext,
  work: () => Promise<InboundOutcome>,
): Promise<InboundOutcome> => {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError) {
      ctx.options.logger.info({ code: error.code }, `telegram update ignored: ${error.message}`);
      return 'ignored';
    }
    throw error;
  }
};

export const say = async (ctx: InboundContext, m: Message, text: string) => {
  await ctx.options.api
    .sendMessage(m.chat.id, text, {
      message_thread_id: m.message_thread_id,
      reply_parameters: { message_id: m.message_id, allow_sending_without_reply: true },
    })
    .catch((err: unknown) => ctx.options.logger.warn({ err }, 'could not answer a manager command'));
};
