// Answers topicdesk gives by itself after a client's message is recorded (docs/design.md,
// "Automatic replies"): a welcome on a conversation's first message (and on Telegram's /start), and
// one off-hours answer per off-period. Each is a command of its own, recorded with the actor
// system:auto-reply, and carried to the client like any answer by the channel's reactor. The inbound
// adapters call this before they answer their channel, so a crash in between is repaired by the
// channel's re-delivery: the ids are derived from the client's message, so nothing is sent twice.
import type { Logger } from 'pino';
import type { CommandHandler, CommandResult } from '../../domain/command-handler.ts';
import type { SendAutomaticReply } from '../../domain/conversation-commands.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Actor, AutomaticReason } from '../../domain/events.ts';
import type { HoursCommand, HoursEvent, HoursState } from '../../domain/settings/hours.ts';
import type { TextKey } from '../../texts/catalogue.ts';
import type { Texts, Vars } from '../../texts/texts.ts';
import { commandIdOf, idOfParts } from '../ids.ts';
import { formatOpening, hoursAt } from '../settings/schedule.ts';
import type { SettingsStore } from '../settings/store.ts';

export const AUTO_REPLY_ACTOR: Actor = { kind: 'system', id: 'auto-reply' };

export interface AutoRepliesOptions {
  readonly handler: CommandHandler;
  readonly texts: Texts;
  /** The working hours; absent: never off hours. */
  readonly hours?: SettingsStore<HoursCommand, HoursEvent, HoursState>;
  /** WELCOME=on. */
  readonly welcome: boolean;
  readonly logger: Logger;
}

export interface ReceivedMessage {
  readonly conversationId: string;
  /** The client's message just recorded (or found recorded: a re-delivery). */
  readonly messageId: string;
  /** When the client sent it: the instant working hours are judged at. */
  readonly sentAt: Date;
  /** Telegram's /start: a welcome is due even if this is not the conversation's first message. */
  readonly start?: boolean;
}

export interface AutoReplies {
  /** Records the automatic replies a recorded client message calls for (none, a welcome, an off-hours answer). */
  afterReceived(received: ReceivedMessage, result: Pick<CommandResult, 'state' | 'events'>): Promise<void>;
}

/** The automatic reply to one client message, for one reason: the same id however often it is decided. */
export const automaticReplyId = (conversationId: string, reason: AutomaticReason, clientMessageId: string) =>
  idOfParts(['auto-reply', conversationId, reason, clientMessageId]);

export const createAutoReplies = (options: AutoRepliesOptions): AutoReplies => {
  const { handler, texts, logger } = options;

  const send = async (received: ReceivedMessage, reason: AutomaticReason, text: string, period?: string) => {
    const command: SendAutomaticReply = {
      type: 'SendAutomaticReply',
      reason,
      messageId: automaticReplyId(received.conversationId, reason, received.messageId),
      content: { text, attachments: [] },
      ...(period === undefined ? {} : { period }),
    };
    try {
      await handler.execute(received.conversationId, command, {
        commandId: commandIdOf('auto-reply', reason, received.messageId),
        actor: AUTO_REPLY_ACTOR,
      });
    } catch (error) {
      // A refusal is no reason to refuse the client's message, which is recorded already.
      if (!(error instanceof DomainError)) throw error;
      logger.warn(
        { err: error, conversationId: received.conversationId, reason },
        'automatic reply not sent',
      );
    }
  };

  return {
    async afterReceived(received, result) {
      const { state } = result;
      if (!state.started || state.banned) return;
      const message = state.messages.get(received.messageId);
      if (message?.direction !== 'incoming' || message.suppressed) return;
      const channel = state.channel;
      const language = state.language;
      // The conversation's first message is the one recorded right after it started.
      const first =
        message.recordedRevision === 1 || result.events.some((e) => e.type === 'ConversationStarted');
      if (options.welcome && !state.welcomed && (first || received.start)) {
        await send(received, 'welcome', await texts.client('client.welcome', language, {}, channel));
      }
      const schedule = options.hours ? await options.hours.current() : undefined;
      const hours = schedule?.state.hours;
      if (!schedule || !hours) return;
      const now = hoursAt(hours, received.sentAt);
      if (now.open) return;
      // A schedule that has not opened within its horizon names its off-period by its own revision.
      const period = now.since?.toISOString() ?? `schedule-${schedule.revision}`;
      if (state.offHoursAnswered === period) return;
      const key: TextKey = now.opensAt ? 'client.off_hours' : 'client.off_hours_no_opening';
      const vars: Vars = now.opensAt
        ? { opens_at: formatOpening(now.opensAt, hours, texts.localeFor(language)) }
        : {};
      await send(received, 'off_hours', await texts.client(key, language, vars, channel), period);
    },
  };
};
