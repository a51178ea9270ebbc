// What adapters and reactors ask of a conversation. Commands carry domain data only: event ids,
// actor and timestamps are the command handler's business.
import type {
  AutomaticReason,
  Channel,
  ChannelMessageRef,
  ClientProfile,
  DeliveryOperation,
  MessageContent,
  TemplateUse,
  TopicStatus,
} from './events.ts';

export interface ReceiveClientMessage {
  readonly type: 'ReceiveClientMessage';
  readonly conversationId: string;
  readonly channel: Channel;
  readonly source: string;
  readonly clientId: string;
  readonly profile: ClientProfile;
  readonly messageId: string;
  readonly content: MessageContent;
  readonly channelMessage?: ChannelMessageRef;
  /** messageId inside this conversation; a reference to anything else is dropped. */
  readonly replyTo?: string;
  readonly mediaGroupId?: string;
  /** See ClientMessageReceived.sentOrder. */
  readonly sentOrder?: number;
}

export interface EditClientMessage {
  readonly type: 'EditClientMessage';
  readonly messageId: string;
  readonly content: MessageContent;
}

export interface DeleteClientMessage {
  readonly type: 'DeleteClientMessage';
  readonly messageId: string;
}

export interface RecordTopicOpened {
  readonly type: 'RecordTopicOpened';
  readonly topicId: string;
  readonly chatId: string;
  readonly title: string;
}

export interface RecordTopicLost {
  readonly type: 'RecordTopicLost';
  readonly topicId: string;
  readonly reason: string;
}

export interface RecordForwarded {
  readonly type: 'RecordForwarded';
  readonly messageId: string;
  readonly topicId: string;
  /** The topic message carrying the text (the first, when the message took several). */
  readonly groupMessage: ChannelMessageRef;
  /** The other topic messages the message took (its further files), in order. */
  readonly moreGroupMessages?: ReadonlyArray<ChannelMessageRef>;
}

export interface ReplyAsManager {
  readonly type: 'ReplyAsManager';
  readonly messageId: string;
  readonly managerId: string;
  readonly managerName: string;
  readonly content: MessageContent;
  /** The manager's original in the support group. */
  readonly groupMessage?: ChannelMessageRef;
  readonly replyTo?: string;
  readonly mediaGroupId?: string;
  /** The saved answer the content was made from. */
  readonly template?: TemplateUse;
}

/**
 * An answer topicdesk gives by itself (docs/design.md, "Automatic replies"): decided on the state, so
 * a welcome goes once per conversation and an off-hours answer once per off-period.
 */
export interface SendAutomaticReply {
  readonly type: 'SendAutomaticReply';
  readonly reason: AutomaticReason;
  readonly messageId: string;
  readonly content: MessageContent;
  /** off_hours: the off-period, named by when it began (ISO 8601). */
  readonly period?: string;
}

export interface EditManagerReply {
  readonly type: 'EditManagerReply';
  readonly messageId: string;
  readonly content: MessageContent;
}

export interface DeleteManagerReply {
  readonly type: 'DeleteManagerReply';
  readonly messageId: string;
}

export interface RecordDelivered {
  readonly type: 'RecordDelivered';
  readonly messageId: string;
  readonly operation: DeliveryOperation;
  /** Where the answer now stands in the client's chat (for `send`, or an edit that re-sent it). */
  readonly channelMessage?: ChannelMessageRef;
}

export interface RecordDeliveryFailed {
  readonly type: 'RecordDeliveryFailed';
  readonly messageId: string;
  readonly operation: DeliveryOperation;
  readonly reason: string;
  readonly permanent: boolean;
  /** 1-based; a report for an attempt already recorded appends nothing. */
  readonly attempt: number;
  readonly nextAttemptAt?: string;
}

export interface BanClient {
  readonly type: 'BanClient';
  readonly reason?: string;
}

export interface UnbanClient {
  readonly type: 'UnbanClient';
}

export interface CloseConversation {
  readonly type: 'CloseConversation';
}

export interface ReopenConversation {
  readonly type: 'ReopenConversation';
}

export interface RecordClientNotified {
  readonly type: 'RecordClientNotified';
  readonly notice: 'banned' | 'closed';
}

export interface RecordContactCard {
  readonly type: 'RecordContactCard';
  readonly topicId: string;
  readonly groupMessage: ChannelMessageRef;
}

export interface RecordTopicStatus {
  readonly type: 'RecordTopicStatus';
  readonly topicId: string;
  readonly status: TopicStatus;
}

export interface AddNote {
  readonly type: 'AddNote';
  readonly noteId: string;
  readonly text: string;
  readonly managerId: string;
  readonly managerName: string;
  readonly groupMessage: ChannelMessageRef;
}

export interface PinNote {
  readonly type: 'PinNote';
  readonly text: string;
  readonly managerId: string;
  readonly managerName: string;
}

export interface UnpinNote {
  readonly type: 'UnpinNote';
}

/** Gives the conversation to a member of the support group (the actor, for `/take`). */
export interface AssignConversation {
  readonly type: 'AssignConversation';
  readonly assigneeId: string;
  readonly assigneeName: string;
}

export interface UnassignConversation {
  readonly type: 'UnassignConversation';
}

// ---- Satisfaction (CSAT) ---------------------------------------------------------------------------

/** The prompt to rate went to the client (or was queued for a source) after the closing `requestId` names. */
export interface RecordRatingRequested {
  readonly type: 'RecordRatingRequested';
  readonly requestId: string;
  readonly channelMessage?: ChannelMessageRef;
}

/** The client rates the conversation (a press, or a source's POST): 1 to 5. */
export interface RateConversation {
  readonly type: 'RateConversation';
  readonly requestId: string;
  readonly rating: number;
}

/** The client comments on the rating they gave. */
export interface CommentRating {
  readonly type: 'CommentRating';
  readonly requestId: string;
  readonly text: string;
}

export type RatingCommand = RecordRatingRequested | RateConversation | CommentRating;

/**
 * Records the `number`-th reminder of the wait that began at `waitingSince` (docs/design.md,
 * "Reminders and the daily digest"): decided before it is posted, so it is posted at most once.
 */
export interface RecordReminder {
  readonly type: 'RecordReminder';
  readonly waitingSince: string;
  readonly number: number;
}

export type ConversationCommand =
  | ReceiveClientMessage
  | EditClientMessage
  | DeleteClientMessage
  | RecordTopicOpened
  | RecordTopicLost
  | RecordForwarded
  | ReplyAsManager
  | SendAutomaticReply
  | EditManagerReply
  | DeleteManagerReply
  | RecordDelivered
  | RecordDeliveryFailed
  | BanClient
  | UnbanClient
  | CloseConversation
  | ReopenConversation
  | RecordClientNotified
  | RecordContactCard
  | RecordTopicStatus
  | AddNote
  | PinNote
  | UnpinNote
  | AssignConversation
  | UnassignConversation
  | RatingCommand
  | RecordReminder;

export type ConversationCommandType = ConversationCommand['type'];
