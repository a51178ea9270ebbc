// Conversation and source events: the append-only log's vocabulary (docs/design.md, "Streams and events").
// Every type is readonly; `type` is the discriminant that decide/evolve/projections switch on.

export type Channel = 'telegram' | 'vk' | 'external';

/** `import`: recorded by an importer from another tool's database (docs/design.md, "Importing from tg-support-bot"). */
export type ActorKind = 'client' | 'manager' | 'system' | 'source' | 'import';

export interface Actor {
  readonly kind: ActorKind;
  /** Telegram user id of a manager, the client id, a source code or a component name. Never shown to clients. */
  readonly id: string;
  readonly name?: string;
}

export interface EventMetadata {
  readonly occurredAt: string; // ISO 8601
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: Actor;
  /** How the actor asked for it, when not by writing: `button` for a press of an inline button. */
  readonly via?: 'button';
  /** Set on imported events: the tool and the row the event was made from. */
  readonly imported?: ImportedFrom;
}

/** The row of another tool's database an imported event stands for (`bot_users` 17, `messages` 901). */
export interface ImportedFrom {
  readonly from: string;
  readonly table: string;
  readonly id: string;
}

/** An imported event is history: no reactor acts on it (it happened, and was carried, elsewhere). */
export const isImported = (metadata: EventMetadata | undefined): boolean =>
  metadata?.actor?.kind === 'import';

export type AttachmentKind =
  | 'photo'
  | 'document'
  | 'voice'
  | 'video'
  | 'audio'
  | 'animation'
  | 'sticker'
  | 'video_note'
  | 'location'
  | 'venue'
  | 'contact'
  | 'poll'
  | 'dice'
  | 'link';

/** Described, never stored: the file lives with the channel (Telegram is the file store). */
export interface Attachment {
  readonly kind: AttachmentKind;
  /** The channel's file reference (Telegram file_id, VK attachment string), absent for location/contact/poll. */
  readonly fileRef?: string;
  readonly fileUniqueId?: string;
  readonly fileName?: string;
  readonly mimeType?: string;
  readonly size?: number;
  /** Non-file payloads (coordinates, contact card, poll question) as plain fields. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface ClientProfile {
  readonly firstName?: string;
  readonly lastName?: string;
  readonly username?: string;
  readonly languageCode?: string;
  readonly link?: string;
}

/** Where a message stands in the channel it came from or went to (chat id + message id). */
export interface ChannelMessageRef {
  readonly chatId: string;
  readonly messageId: string;
}

/** A link button under a manager's answer (docs/design.md, "Buttons in answers"). */
export interface MessageButton {
  readonly text: string;
  /** http(s):// or tg:// */
  readonly url: string;
}

export interface MessageContent {
  readonly text: string;
  /** Telegram-style formatting entities, kept as received so a copy looks the same. */
  readonly entities?: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly attachments: ReadonlyArray<Attachment>;
  /**
   * Manager answers only: link buttons under the text, row by row, taken out of the text the manager
   * wrote (`[[label|url]]`). Absent when there are none.
   */
  readonly buttons?: ReadonlyArray<ReadonlyArray<MessageButton>>;
}

export interface ConversationStarted {
  readonly type: 'ConversationStarted';
  readonly data: {
    readonly conversationId: string;
    readonly channel: Channel;
    readonly source: string;
    readonly clientId: string;
    readonly profile: ClientProfile;
  };
}

export interface ClientMessageReceived {
  readonly type: 'ClientMessageReceived';
  readonly data: MessageContent & {
    readonly messageId: string;
    readonly channelMessage?: ChannelMessageRef;
    readonly replyTo?: string; // messageId inside this conversation
    readonly mediaGroupId?: string;
    /**
     * The message's place in the client's chat, where the channel numbers messages and the number is
     * not `channelMessage.messageId` (VK's conversation_message_id). Orders the copies in the topic.
     */
    readonly sentOrder?: number;
    /** True when the client is banned: recorded for the audit, not carried to the topic. */
    readonly suppressed: boolean;
    /**
     * The client's language (an IETF tag, as the channel reports it) when it is not the one the
     * conversation knew: the latest decides the language the bot writes to the client in.
     */
    readonly languageCode?: string;
  };
}

export interface ClientMessageEdited {
  readonly type: 'ClientMessageEdited';
  readonly data: MessageContent & { readonly messageId: string; readonly previousText: string };
}

export interface ClientMessageDeleted {
  readonly type: 'ClientMessageDeleted';
  readonly data: { readonly messageId: string };
}

export interface TopicOpened {
  readonly type: 'TopicOpened';
  readonly data: { readonly topicId: string; readonly chatId: string; readonly title: string };
}

export interface TopicLost {
  readonly type: 'TopicLost';
  readonly data: { readonly topicId: string; readonly reason: string };
}

export interface ClientMessageForwarded {
  readonly type: 'ClientMessageForwarded';
  readonly data: {
    readonly messageId: string;
    readonly topicId: string;
    /** The topic message that stands for the message: it carries the text, replies point at it. */
    readonly groupMessage: ChannelMessageRef;
    /**
     * Further topic messages the message took, in order: the rest of its files when a source sent
     * several. Absent when the message is one topic message (and in events written before).
     */
    readonly moreGroupMessages?: ReadonlyArray<ChannelMessageRef>;
  };
}

/** The saved answer (template) an answer was made from, as it read when it was sent. */
export interface TemplateUse {
  readonly name: string;
  /** The template's version then (each change to a template counts one up). */
  readonly version: number;
  /** The language whose text was sent (the client's, or the fallback). */
  readonly locale: string;
}

/** Why topicdesk answered a client by itself (docs/design.md, "Automatic replies"). */
export type AutomaticReason = 'welcome' | 'off_hours';

export interface AutomaticReply {
  readonly reason: AutomaticReason;
  /** off_hours: the off-period answered, named by when it began (ISO 8601): one answer per period. */
  readonly period?: string;
}

export interface ManagerReplied {
  readonly type: 'ManagerReplied';
  readonly data: MessageContent & {
    readonly messageId: string;
    readonly managerId: string;
    readonly managerName: string;
    readonly groupMessage?: ChannelMessageRef;
    readonly replyTo?: string;
    readonly mediaGroupId?: string;
    /** Sent with `/t <name>` (or its button): the saved answer it was made from. */
    readonly template?: TemplateUse;
    /**
     * Set when no manager wrote it: an automatic reply (a welcome, an off-hours answer), carried
     * like any answer and shown in the topic by the bot. It has no original in the group.
     */
    readonly automatic?: AutomaticReply;
  };
}

export interface ManagerReplyEdited {
  readonly type: 'ManagerReplyEdited';
  readonly data: MessageContent & { readonly messageId: string; readonly previousText: string };
}

export interface ManagerReplyDeleted {
  readonly type: 'ManagerReplyDeleted';
  readonly data: { readonly messageId: string };
}

/** What a delivery carried: the answer itself, or a later edit/deletion of it. */
export type DeliveryOperation = 'send' | 'edit' | 'delete';

export interface ReplyDelivered {
  readonly type: 'ReplyDelivered';
  readonly data: {
    readonly messageId: string;
    readonly operation: DeliveryOperation;
    readonly channelMessage?: ChannelMessageRef;
  };
}

export interface DeliveryFailed {
  readonly type: 'DeliveryFailed';
  readonly data: {
    readonly messageId: string;
    readonly operation: DeliveryOperation;
    readonly reason: string;
    readonly permanent: boolean;
    readonly attempt: number;
    readonly nextAttemptAt?: string;
  };
}

export interface ClientBanned {
  readonly type: 'ClientBanned';
  readonly data: { readonly reason?: string };
}

export interface ClientUnbanned {
  readonly type: 'ClientUnbanned';
  readonly data: Readonly<Record<string, never>>;
}

export interface ConversationClosed {
  readonly type: 'ConversationClosed';
  readonly data: Readonly<Record<string, never>>;
}

export interface ConversationReopened {
  readonly type: 'ConversationReopened';
  readonly data: Readonly<Record<string, never>>;
}

/** The contact card the bot posted at the top of the topic, whose buttons follow the conversation's state. */
export interface ContactCardPosted {
  readonly type: 'ContactCardPosted';
  readonly data: { readonly topicId: string; readonly groupMessage: ChannelMessageRef };
}

/** What a topic shows at a glance (docs/design.md, "Topic status"). */
export type TopicStatus = 'waiting' | 'answered' | 'closed';

/** The topic's title or icon now shows `status`. */
export interface TopicStatusChanged {
  readonly type: 'TopicStatusChanged';
  readonly data: { readonly topicId: string; readonly status: TopicStatus };
}

/** The client was told once that their messages are not forwarded while banned / the bot is blocked. */
export interface ClientNotified {
  readonly type: 'ClientNotified';
  readonly data: { readonly notice: 'banned' | 'closed' };
}

/**
 * A manager wrote an internal note in the topic (`/note`, or the note prefix): recorded for the
 * team and the audit, never carried to the client. Its id is derived from the topic message.
 */
export interface NoteAdded {
  readonly type: 'NoteAdded';
  readonly data: {
    readonly noteId: string;
    readonly text: string;
    readonly managerId: string;
    readonly managerName: string;
    /** The manager's message in the topic. */
    readonly groupMessage: ChannelMessageRef;
  };
}

/** The client's pinned note (`/pin`): one per conversation, replaced by the next; `/info` shows it. */
export interface NotePinned {
  readonly type: 'NotePinned';
  readonly data: { readonly text: string; readonly managerId: string; readonly managerName: string };
}

export interface NoteUnpinned {
  readonly type: 'NoteUnpinned';
  readonly data: Readonly<Record<string, never>>;
}

/**
 * The conversation was given to a member of the support group (`/take`, `/assign`), or to another
 * one: who gave it is the event's actor (docs/design.md, "Assignment").
 */
export interface ConversationAssigned {
  readonly type: 'ConversationAssigned';
  readonly data: { readonly assigneeId: string; readonly assigneeName: string };
}

/** The conversation has no assignee any more (`/unassign`): it names the one it had. */
export interface ConversationUnassigned {
  readonly type: 'ConversationUnassigned';
  readonly data: { readonly previousAssigneeId: string; readonly previousAssigneeName: string };
}

// ---- Satisfaction (CSAT): docs/design.md, "Satisfaction (CSAT)" ------------------------------------

/**
 * The client was asked to rate the conversation after a closing (CSAT=on): once per closing, the
 * request's id derived from the closing's event. `channelMessage` is the prompt in the client's chat
 * (Telegram, VK); a source's request has none (it was queued as a webhook event).
 */
export interface RatingRequested {
  readonly type: 'RatingRequested';
  readonly data: { readonly requestId: string; readonly channelMessage?: ChannelMessageRef };
}

/** The client's rating for a request: `rating` is an integer from 1 to 5 (the reports count it). */
export interface ConversationRated {
  readonly type: 'ConversationRated';
  readonly data: { readonly requestId: string; readonly rating: number };
}

/** What the client wrote about their rating (their next message after rating, or the API's `comment`). */
export interface RatingCommented {
  readonly type: 'RatingCommented';
  readonly data: { readonly requestId: string; readonly text: string };
}

export type RatingEvent = RatingRequested | ConversationRated | RatingCommented;

export const ratingEventTypes = ['RatingRequested', 'ConversationRated', 'RatingCommented'] as const;

// ---- Reminders (docs/design.md, "Reminders and the daily digest") -------------------------------

/**
 * The managers were reminded in the topic that the client waits: the `number`-th reminder (from 1)
 * of the wait that began at `waitingSince` (the occurredAt of the client's first unanswered message).
 * Recorded before the reminder is posted, so a restart or a second instance never posts it twice.
 */
export interface ReminderSent {
  readonly type: 'ReminderSent';
  readonly data: {
    readonly waitingSince: string;
    readonly number: number;
    readonly topicId: string;
    /** The assignee the reminder mentions, if the conversation had one. */
    readonly assigneeId?: string;
    readonly assigneeName?: string;
  };
}

export type ConversationEvent =
  | ConversationStarted
  | ClientMessageReceived
  | ClientMessageEdited
  | ClientMessageDeleted
  | TopicOpened
  | TopicLost
  | ClientMessageForwarded
  | ManagerReplied
  | ManagerReplyEdited
  | ManagerReplyDeleted
  | ReplyDelivered
  | DeliveryFailed
  | ClientBanned
  | ClientUnbanned
  | ConversationClosed
  | ConversationReopened
  | ClientNotified
  | ContactCardPosted
  | TopicStatusChanged
  | NoteAdded
  | NotePinned
  | NoteUnpinned
  | ConversationAssigned
  | ConversationUnassigned
  | RatingEvent
  | ReminderSent;

export type ConversationEventType = ConversationEvent['type'];

export const conversationEventTypes: readonly ConversationEventType[] = [
  'ConversationStarted',
  'ClientMessageReceived',
  'ClientMessageEdited',
  'ClientMessageDeleted',
  'TopicOpened',
  'TopicLost',
  'ClientMessageForwarded',
  'ManagerReplied',
  'ManagerReplyEdited',
  'ManagerReplyDeleted',
  'ReplyDelivered',
  'DeliveryFailed',
  'ClientBanned',
  'ClientUnbanned',
  'ConversationClosed',
  'ConversationReopened',
  'ClientNotified',
  'ContactCardPosted',
  'TopicStatusChanged',
  'NoteAdded',
  'NotePinned',
  'NoteUnpinned',
  'ConversationAssigned',
  'ConversationUnassigned',
  ...ratingEventTypes,
  'ReminderSent',
];

export const conversationStream = (conversationId: string): string => `conversation-${conversationId}`;
export const sourceStream = (code: string): string => `source-${code}`;
