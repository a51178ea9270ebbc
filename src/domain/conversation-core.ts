// A conversation's state apart from the fold: the message and core types, the initial state, and the
// small readers of a state (topic status, current card, which message a chat message stands for).
// The state is a small core plus a message window (docs/design.md, "The conversation's state").
import type {
  AutomaticReply,
  Channel,
  ChannelMessageRef,
  ClientProfile,
  DeliveryOperation,
  MessageContent,
  TemplateUse,
  TopicStatus,
} from './events.ts';
import { channelKey, groupKey, MessageWindow } from './message-window.ts';

/** incoming: written by the client; outgoing: written by a manager. */
export type MessageDirection = 'incoming' | 'outgoing';

/** The message's standing as the API shows it. */
export type DeliveryStatus = 'received' | 'forwarded' | 'delivered' | 'failed';

export type DeliveryOutcome =
  | { readonly outcome: 'delivered' }
  | {
      readonly outcome: 'failed';
      readonly reason: string;
      readonly permanent: boolean;
      readonly attempt: number;
      readonly nextAttemptAt?: string;
    };

export interface ConversationMessage {
  readonly messageId: string;
  readonly direction: MessageDirection;
  /** The current content, after every edit. The history is the stream itself. */
  readonly content: MessageContent;
  readonly replyTo?: string;
  readonly mediaGroupId?: string;
  /** Incoming: the client's own numbering, where it is not the channel message id (see sender-order.ts). */
  readonly sentOrder?: number;
  readonly deleted: boolean;
  readonly editCount: number;
  /** Incoming from a banned client: recorded, never carried to the topic. */
  readonly suppressed: boolean;
  readonly managerId?: string;
  readonly managerName?: string;
  /** Outgoing: the saved answer it was sent from. */
  readonly template?: TemplateUse;
  /** Outgoing: set when topicdesk answered by itself (a welcome, an off-hours answer). */
  readonly automatic?: AutomaticReply;
  /** Client side: the client's original (incoming) or the delivered copy (outgoing). */
  readonly channelMessage?: ChannelMessageRef;
  /** Support group side: the topic copy (incoming) or the manager's original (outgoing). */
  readonly groupMessage?: ChannelMessageRef;
  /** Incoming: the further topic messages the copy took (a source's message with several files). */
  readonly moreGroupMessages?: ReadonlyArray<ChannelMessageRef>;
  /** The topic the incoming message was copied into. */
  readonly topicId?: string;
  readonly forwarded: boolean;
  /** incoming: received → forwarded; outgoing: received → delivered | failed (by the `send` outcome). */
  readonly status: DeliveryStatus;
  /**
   * Last outcome per operation. An `edit` outcome is cleared by the next edit, because that edit
   * has to be carried again.
   */
  readonly deliveries: Readonly<Partial<Record<DeliveryOperation, DeliveryOutcome>>>;
  /** When its writer says it was sent, last edited, deleted (the events' occurredAt), where known. */
  readonly sentAt?: string;
  /** The revision of the event that recorded it, where known: a reader of its history starts there. */
  readonly recordedRevision?: number;
  readonly editedAt?: string;
  readonly deletedAt?: string;
}

export interface ConversationTopic {
  readonly topicId: string;
  readonly chatId: string;
  readonly title: string;
}

/** The note pinned to the client (`/pin`), shown under the contact card. */
export interface PinnedNote {
  readonly text: string;
  readonly managerName: string;
}

/** An answer's latest send outcome, for notices told once (a blocked bot, an unreachable client). */
export interface SendOutcome {
  readonly messageId: string;
  readonly outcome: DeliveryOutcome;
}

/** What the conversation is, apart from its messages: small, whatever the conversation's length. */
export interface ConversationCore {
  readonly started: boolean;
  readonly conversationId?: string;
  readonly channel?: Channel;
  readonly source?: string;
  readonly clientId?: string;
  readonly profile?: ClientProfile;
  /** null before the first topic and after TopicLost, until the next TopicOpened. */
  readonly topic: ConversationTopic | null;
  readonly closed: boolean;
  readonly banned: boolean;
  /** Reset by each ban: the client is told once per ban. */
  readonly banNoticeSent: boolean;
  /** Reset by each close. */
  readonly closeNoticeSent: boolean;
  /** Messages recorded so far, both ways. */
  readonly messageCount: number;
  /** Client messages not yet in the topic (nor suppressed), in the order recorded; the oldest kept. */
  readonly waitingIncoming: readonly string[];
  /**
   * Answers not yet delivered, given up or deleted, in the order recorded; always empty for an external
   * source, whose answers the webhook queue carries (or the source polls).
   */
  readonly waitingOutgoing: readonly string[];
  /** The latest send outcomes, one per answer, newest last. */
  readonly sendOutcomes: readonly SendOutcome[];
  /** The client wrote last (a message carried to the topic), no manager has answered since. */
  readonly awaitingAnswer: boolean;
  /** The contact card at the top of the current topic, whose buttons follow the state; absent before. */
  readonly card?: { readonly topicId: string; readonly groupMessage: ChannelMessageRef };
  /** What the current topic's title or icon shows, as last recorded (TopicStatusChanged). */
  readonly topicStatus?: { readonly topicId: string; readonly status: TopicStatus };
  /** Absent when nothing is pinned (and in cores stored before notes existed). */
  readonly pinnedNote?: PinnedNote;
  /** The client's latest language tag, as the channel reported it (the bot writes to them in it). */
  readonly language?: string;
  /** Whether the client was welcomed (once per conversation). */
  readonly welcomed: boolean;
  /** The off-period the client was last answered in (one off-hours answer per period). */
  readonly offHoursAnswered?: string;
  /** The member of the support group the conversation is assigned to; absent when nobody (and before). */
  readonly assignee?: Assignee;
  /** The latest request to rate the conversation and what the client answered; absent before any. */
  readonly rating?: RatingCore;
  /**
   * When the client's wait began: the occurredAt of their first carried message with no manager's
   * answer after it; absent when nobody waits, and cleared by closing (docs/design.md, "Reminders and
   * the daily digest").
   */
  readonly waitingSince?: string;
  /** The last reminder recorded (ReminderSent): of which wait, which number, when. */
  readonly reminded?: Reminded;
}

/** A request to rate (docs/design.md, "Satisfaction (CSAT)"): one per closing, the latest kept. */
export interface RatingCore {
  readonly requestId: string;
  /** Still answerable: the conversation has stayed closed since the request. */
  readonly open: boolean;
  /** The client's rating (1–5), once given. */
  readonly rating?: number;
  /** When it was given (the event's occurredAt): a comment is taken for a while after it. */
  readonly ratedAt?: string;
  /** What the client wrote about it, once they did (at most RATING_COMMENT_MAX characters). */
  readonly comment?: string;
}

/** The last reminder of a conversation: its wait, its number (from 1), when it was recorded. */
export interface Reminded {
  readonly waitingSince: string;
  readonly number: number;
  readonly at?: string;
}

/** Who a conversation is assigned to: a Telegram user id and the name shown on the card. */
export interface Assignee {
  readonly id: string;
  readonly name: string;
}

/**
 * "Unassigned waiting": open, the client waits for an answer, and nobody has the conversation
 * (docs/design.md, "Assignment").
 */
export const isUnassignedWaiting = (core: ConversationCore): boolean =>
  topicStatusOf(core) === 'waiting' && core.assignee === undefined;

export interface ConversationState extends ConversationCore {
  readonly messages: MessageWindow;
}

/** A started conversation, whose identity fields are known. */
export type StartedConversationState = ConversationState & {
  readonly started: true;
  readonly conversationId: string;
  readonly channel: Channel;
  readonly source: string;
  readonly clientId: string;
  readonly profile: ClientProfile;
};

export const isStarted = (state: ConversationState): state is StartedConversationState => state.started;

export const initialConversationCore: ConversationCore = {
  started: false,
  topic: null,
  closed: false,
  banned: false,
  banNoticeSent: false,
  closeNoticeSent: false,
  messageCount: 0,
  waitingIncoming: [],
  waitingOutgoing: [],
  sendOutcomes: [],
  awaitingAnswer: false,
  welcomed: false,
};

/** A conversation no event has touched: complete, since there is nothing to load. */
export const initialConversationState: ConversationState = {
  ...initialConversationCore,
  messages: MessageWindow.empty(true),
};

/** The core of a state (what the store keeps in one row). */
export const coreOf = (state: ConversationState): ConversationCore => {
  const { messages: _messages, ...core } = state;
  return core;
};

/**
 * What the topic should show at a glance: closed, else waiting while the client's last message has no
 * answer, else answered (docs/design.md, "Topic status"). Derived, so a replay derives the same.
 */
export const topicStatusOf = (core: ConversationCore): TopicStatus =>
  core.closed ? 'closed' : core.awaitingAnswer ? 'waiting' : 'answered';

/** The contact card of the current topic, if one was recorded (a lost topic's card is no longer shown). */
export const currentCard = (core: ConversationCore) =>
  core.card !== undefined && core.topic?.topicId === core.card.topicId ? core.card.groupMessage : undefined;

/** The status the current topic shows, as recorded; undefined when nothing was recorded for it. */
export const shownTopicStatus = (core: ConversationCore): TopicStatus | undefined =>
  core.topicStatus !== undefined && core.topic?.topicId === core.topicStatus.topicId
    ? core.topicStatus.status
    : undefined;

/** Which message of this conversation is Telegram message `messageId` in the support group chat. */
export const findByGroupMessage = (
  state: ConversationState,
  chatId: string | number,
  messageId: string | number,
): ConversationMessage | undefined => state.messages.byRef(groupKey({ chatId, messageId }));

/** Which message of this conversation is message `messageId` in the client's chat. */
export const findByChannelMessage = (
  state: ConversationState,
  chatId: string | number,
  messageId: string | number,
): ConversationMessage | undefined => state.messages.byRef(channelKey({ chatId, messageId }));
