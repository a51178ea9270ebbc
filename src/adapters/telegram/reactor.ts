// The Telegram reactor: carries what the log records to Telegram and records the outcomes.
// Client messages (from any channel) go into the conversation's forum topic — opening it, or a new
// one when Telegram says it is gone (into-topic.ts); managers' answers, edits and deletions go to
// Telegram clients (to-client.ts); notices tell either side what could not be done (notices.ts).
// Each step consults the conversation's state first, so a batch replayed after a crash repeats at
// most the one call whose outcome was not yet recorded.
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { CommandHandler } from '../../domain/command-handler.ts';
import {
  type ConversationState,
  currentCard,
  shownTopicStatus,
  topicStatusOf,
} from '../../domain/conversation-core.ts';
import type { Reactor } from '../../projections/reactor-runner.ts';
import { shippedTexts, type Texts } from '../../texts/texts.ts';
import { CSAT_OFF, type CsatOptions } from '../csat.ts';
import { reactWithTurns, type Turn } from '../reactor-kernel.ts';
import { recordOutcome } from '../reactor-outcomes.ts';
import { refreshCardButtons, refreshCardText } from './card.ts';
import { carryClientMessages, closeTopic, editTopicCopy, reopenTopic } from './into-topic.ts';
import type { OutgoingLimiter } from './limiter.ts';
import { automaticReplyNotice, banNotice, clientDeletedNotice, closeNotice } from './notices.ts';
import { commentThanks, ratingLine, ratingPrompt } from './rating.ts';
import type { TelegramReactorContext } from './reactor-context.ts';
import { carryAnswers, deleteAnswer, editAnswer } from './to-client.ts';
import { createTopicStatusBoard, type StatusLook, type StatusWant } from './topic-status.ts';

export interface TelegramReactorOptions {
  readonly api: Api;
  readonly handler: CommandHandler;
  readonly supportChatId: string;
  readonly titleTemplate: string;
  readonly logger: Logger;
  /** The texts as operators set them; the shipped English ones by default. */
  readonly texts?: Texts;
  /** Conversations handled at once within a batch; each conversation stays in order. */
  readonly concurrency?: number;
  /**
   * How long after an album's first item the reactor waits for the rest before copying them in one
   * call (Telegram sends an album as one update per item). Default 1000 ms.
   */
  readonly albumWaitMs?: number;
  /**
   * How long after a message was recorded the reactor waits for messages its sender sent before it
   * (delivered concurrently, recorded later) before carrying them all in the sender's order. Default 1000 ms.
   */
  readonly orderWaitMs?: number;
  /** Topic status at a glance (TOPIC_STATUS): how it is shown, and the limiter whose quiet moments it uses. */
  readonly topicStatus?: {
    readonly look: StatusLook;
    readonly limiter: Pick<OutgoingLimiter, 'whenQuiet'>;
    /** Tests: a status edit dropped because a later one replaced it, or the topic showed it already. */
    readonly onDropped?: (want: StatusWant) => void;
  };
  /** The limiter whose quiet moments the card's assignee edits wait for; absent: made at once. */
  readonly limiter?: Pick<OutgoingLimiter, 'whenQuiet'>;
  /** Satisfaction (CSAT=on): a Telegram client is asked to rate after a closing. Default off. */
  readonly csat?: CsatOptions;
}

/** The client's chat when the conversation is a Telegram one (other channels have their own reactors). */
const telegramClientChat = (state: ConversationState) =>
  state.channel === 'telegram' ? state.clientId : undefined;

/** The contact card's buttons follow a close, a reopening, a ban and an unban. */
const refreshCard = async (ctx: TelegramReactorContext, turn: Turn) => {
  const card = currentCard(turn.state);
  if (card) await refreshCardButtons(ctx, card, turn.conversationId, turn.state, ctx.logger);
};

/** Asks for the topic's status to follow the conversation (made later, at a quiet moment). */
const followStatus = (ctx: TelegramReactorContext, turn: Turn) => {
  const { topic } = turn.state;
  if (!ctx.statusBoard || !topic) return;
  ctx.statusBoard.want({
    conversationId: turn.conversationId,
    topicId: topic.topicId,
    title: topic.title,
    status: topicStatusOf(turn.state),
    shown: shownTopicStatus(turn.state),
    cause: turn.recorded,
  });
};

/** What the reactor does for one event. */
const step = async (ctx: TelegramReactorContext, turn: Turn): Promise<void> => {
  await carry(ctx, turn);
  switch (turn.event.type) {
    case 'ClientMessageReceived':
    case 'ManagerReplied':
    case 'ConversationClosed':
    case 'ConversationReopened':
      followStatus(ctx, turn);
      return;
    default:
      return;
  }
};

/** What the reactor carries to Telegram for one event. */
const carry = async (ctx: TelegramReactorContext, turn: Turn): Promise<void> => {
  const { event } = turn;
  const clientChat = telegramClientChat(turn.state);
  switch (event.type) {
    case 'ClientMessageReceived': {
      const m = turn.state.messages.get(event.data.messageId);
      if (!m) return;
      if (m.suppressed) {
        if (clientChat) await banNotice(ctx, turn, clientChat);
        return;
      }
      if (m.forwarded) return;
      await carryClientMessages(ctx, turn, m);
      return;
    }
    case 'ConversationReopened':
      await reopenTopic(ctx, turn);
      await refreshCard(ctx, turn);
      return;
    case 'ConversationClosed':
      await closeTopic(ctx, turn);
      await refreshCard(ctx, turn);
      if (clientChat) await closeNotice(ctx, turn, clientChat);
      if (clientChat && ctx.csat.enabled) await ratingPrompt(ctx, turn, clientChat);
      return;
    case 'ClientBanned':
    case 'ClientUnbanned':
      await refreshCard(ctx, turn);
      return;
    case 'ConversationAssigned':
    case 'ConversationUnassigned': {
      // The card names the assignee: its text follows, once client messages have gone
      // (docs/design.md, "The limiter's priorities").
      const card = currentCard(turn.state);
      if (!card) return;
      await ctx.quiet?.(card.chatId);
      await refreshCardText(ctx, card, turn.conversationId, turn.state, ctx.logger);
      return;
    }
    case 'ConversationRated':
      // The managers see every channel's rating in the topic (docs/design.md, "Satisfaction (CSAT)").
      await ratingLine(ctx, turn);
      return;
    case 'RatingCommented':
      await ratingLine(ctx, turn);
      if (clientChat) await commentThanks(ctx, turn, clientChat);
      return;
    case 'ClientMessageEdited': {
      const m = turn.state.messages.get(event.data.messageId);
      if (m) await editTopicCopy(ctx, m);
      return;
    }
    case 'ClientMessageDeleted': {
      const m = turn.state.messages.get(event.data.messageId);
      if (m) await clientDeletedNotice(ctx, turn, m);
      return;
    }
    case 'ManagerReplied': {
      const m = turn.state.messages.get(event.data.messageId);
      // The managers see in the topic what topicdesk told the client by itself, whatever the channel.
      if (m?.automatic) await automaticReplyNotice(ctx, turn, m);
      if (clientChat && m) await carryAnswers(ctx, turn, m, clientChat);
      return;
    }
    case 'ManagerReplyEdited': {
      const m = turn.state.messages.get(event.data.messageId);
      if (clientChat && m) await editAnswer(ctx, turn, m);
      return;
    }
    case 'ManagerReplyDeleted': {
      const m = turn.state.messages.get(event.data.messageId);
      if (clientChat && m) await deleteAnswer(ctx, turn, m);
      return;
    }
    case 'ConversationStarted':
    case 'TopicOpened':
    case 'TopicLost':
    case 'ClientMessageForwarded':
    case 'ReplyDelivered':
    case 'DeliveryFailed':
    case 'ClientNotified':
    case 'ContactCardPosted':
    case 'TopicStatusChanged':
    case 'NoteAdded':
    case 'NotePinned':
    case 'NoteUnpinned':
    case 'RatingRequested':
    // Posted by the reminders' own loop, which records it first (docs/design.md, "Reminders and the daily digest").
    case 'ReminderSent':
      return;
    default: {
      const never: never = event;
      return never;
    }
  }
};

export const createTelegramReactor = (options: TelegramReactorOptions): Reactor => {
  const { handler, concurrency = 16 } = options;
  const status = options.topicStatus;
  const limiter = options.limiter;
  const ctx: TelegramReactorContext = {
    api: options.api,
    supportChatId: options.supportChatId,
    titleTemplate: options.titleTemplate,
    logger: options.logger,
    texts: options.texts ?? shippedTexts(),
    albumWaitMs: options.albumWaitMs ?? 1000,
    orderWaitMs: options.orderWaitMs ?? 1000,
    refusedMessages: new Set(),
    csat: options.csat ?? CSAT_OFF,
    ...(limiter ? { quiet: (chatId: string) => limiter.whenQuiet(chatId) } : {}),
    ...(status
      ? {
          statusLook: status.look,
          statusBoard: createTopicStatusBoard({
            api: options.api,
            supportChatId: options.supportChatId,
            look: status.look,
            limiter: status.limiter,
            logger: options.logger,
            ...(status.onDropped ? { onDropped: status.onDropped } : {}),
            record: async (want) => {
              await recordOutcome(
                handler,
                'telegram',
                want.conversationId,
                want.cause,
                { type: 'RecordTopicStatus', topicId: want.topicId, status: want.status },
                `topic-status:${want.topicId}:${want.status}`,
              );
            },
          }),
        }
      : {}),
  };
  return {
    name: 'telegram',
    handle: reactWithTurns({
      name: 'telegram',
      handler,
      reader: handler.reader,
      concurrency,
      step: (turn) => step(ctx, turn),
    }),
  };
};
