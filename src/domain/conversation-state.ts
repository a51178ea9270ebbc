// A conversation's state, folded from its stream. decide() reads it; reactors and adapters read it
// to find where a message stands on either side (client chat, support group topic).
import { contentFields, withoutUndefined } from './content.ts';
import type {
  Channel,
  ChannelMessageRef,
  ClientProfile,
  ConversationEvent,
  DeliveryOperation,
  MessageContent,
} from './events.ts';

/** incoming: written by the client; outgoing: written by a manager. */
export type MessageDirection = 'incoming' | 'outgoing';

/** The message's standing as the API shows it (SPEC §5). */
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
}

export interface ConversationTopic {
  readonly topicId: string;
  readonly chatId: string;
  readonly title: string;
}

export interface ConversationState {
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
  /** In the order the messages were recorded. */
  readonly messages: ReadonlyMap<string, ConversationMessage>;
  /** `refKey(chatId, messageId)` in the support group → messageId. */
  readonly byGroupMessage: ReadonlyMap<string, string>;
  /** `refKey(chatId, messageId)` in the client's chat → messageId. */
  readonly byChannelMessage: ReadonlyMap<string, string>;
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

export const initialConversationState: ConversationState = {
  started: false,
  topic: null,
  closed: false,
  banned: false,
  banNoticeSent: false,
  closeNoticeSent: false,
  messages: new Map(),
  byGroupMessage: new Map(),
  byChannelMessage: new Map(),
};

export const refKey = (chatId: string | number, messageId: string | number): string =>
  `${chatId}/${messageId}`;

/** Which message of this conversation is Telegram message `messageId` in the support group chat. */
export const findByGroupMessage = (
  state: ConversationState,
  chatId: string | number,
  messageId: string | number,
): ConversationMessage | undefined => {
  const id = state.byGroupMessage.get(refKey(chatId, messageId));
  return id === undefined ? undefined : state.messages.get(id);
};

/** Which message of this conversation is message `messageId` in the client's chat. */
export const findByChannelMessage = (
  state: ConversationState,
  chatId: string | number,
  messageId: string | number,
): ConversationMessage | undefined => {
  const id = state.byChannelMessage.get(refKey(chatId, messageId));
  return id === undefined ? undefined : state.messages.get(id);
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * evolve() and foldConversation() share one step function over a draft whose maps are copied on
 * first write. evolve() stays pure (the maps it was given are never touched), while a fold over a
 * long stream copies each map once instead of once per event.
 */
interface Draft {
  readonly state: Mutable<ConversationState>;
  ownMessages: boolean;
  ownByGroup: boolean;
  ownByChannel: boolean;
}

const draftOf = (state: ConversationState): Draft => ({
  state: { ...state },
  ownMessages: false,
  ownByGroup: false,
  ownByChannel: false,
});

const putMessage = (draft: Draft, message: ConversationMessage): void => {
  if (!draft.ownMessages) {
    draft.state.messages = new Map(draft.state.messages);
    draft.ownMessages = true;
  }
  (draft.state.messages as Map<string, ConversationMessage>).set(message.messageId, message);
};

const indexGroup = (draft: Draft, ref: ChannelMessageRef, messageId: string): void => {
  if (!draft.ownByGroup) {
    draft.state.byGroupMessage = new Map(draft.state.byGroupMessage);
    draft.ownByGroup = true;
  }
  (draft.state.byGroupMessage as Map<string, string>).set(refKey(ref.chatId, ref.messageId), messageId);
};

const indexChannel = (draft: Draft, ref: ChannelMessageRef, messageId: string): void => {
  if (!draft.ownByChannel) {
    draft.state.byChannelMessage = new Map(draft.state.byChannelMessage);
    draft.ownByChannel = true;
  }
  (draft.state.byChannelMessage as Map<string, string>).set(refKey(ref.chatId, ref.messageId), messageId);
};

/** Message objects are replaced, never mutated, so earlier states keep their own view. */
const updateMessage = (
  draft: Draft,
  messageId: string,
  change: (message: ConversationMessage) => ConversationMessage,
): void => {
  const message = draft.state.messages.get(messageId);
  // An event about a message this stream never recorded cannot come from decide(); ignore it
  // rather than make a whole conversation unreadable.
  if (message !== undefined) putMessage(draft, change(message));
};

const step = (draft: Draft, event: ConversationEvent): void => {
  const s = draft.state;
  switch (event.type) {
    case 'ConversationStarted': {
      const { conversationId, channel, source, clientId, profile } = event.data;
      Object.assign(s, { started: true, conversationId, channel, source, clientId, profile });
      return;
    }
    case 'ClientMessageReceived': {
      const d = event.data;
      putMessage(
        draft,
        withoutUndefined<ConversationMessage>({
          messageId: d.messageId,
          direction: 'incoming',
          content: contentFields(d),
          replyTo: d.replyTo,
          mediaGroupId: d.mediaGroupId,
          sentOrder: d.sentOrder,
          deleted: false,
          editCount: 0,
          suppressed: d.suppressed,
          channelMessage: d.channelMessage,
          forwarded: false,
          status: 'received',
          deliveries: {},
        }),
      );
      if (d.channelMessage) indexChannel(draft, d.channelMessage, d.messageId);
      return;
    }
    case 'ClientMessageEdited':
    case 'ManagerReplyEdited': {
      const d = event.data;
      const isManager = event.type === 'ManagerReplyEdited';
      updateMessage(draft, d.messageId, (m) => {
        const deliveries = { ...m.deliveries };
        if (isManager) delete deliveries.edit;
        return { ...m, content: contentFields(d), editCount: m.editCount + 1, deliveries };
      });
      return;
    }
    case 'ClientMessageDeleted':
    case 'ManagerReplyDeleted':
      updateMessage(draft, event.data.messageId, (m) => ({ ...m, deleted: true }));
      return;
    case 'TopicOpened': {
      const { topicId, chatId, title } = event.data;
      s.topic = { topicId, chatId, title };
      return;
    }
    case 'TopicLost':
      if (s.topic?.topicId === event.data.topicId) s.topic = null;
      return;
    case 'ClientMessageForwarded': {
      const { messageId, topicId, groupMessage, moreGroupMessages } = event.data;
      updateMessage(draft, messageId, (m) => {
        // A copy into a replacement topic replaces the old copies, further messages included.
        const { moreGroupMessages: _replaced, ...rest } = m;
        return {
          ...rest,
          forwarded: true,
          topicId,
          groupMessage,
          ...(moreGroupMessages?.length ? { moreGroupMessages } : {}),
          status: m.direction === 'incoming' ? 'forwarded' : m.status,
        };
      });
      if (draft.state.messages.has(messageId)) {
        // A manager replying to any of the message's topic messages is replying to the message.
        for (const ref of [groupMessage, ...(moreGroupMessages ?? [])]) indexGroup(draft, ref, messageId);
      }
      return;
    }
    case 'ManagerReplied': {
      const d = event.data;
      putMessage(
        draft,
        withoutUndefined<ConversationMessage>({
          messageId: d.messageId,
          direction: 'outgoing',
          content: contentFields(d),
          replyTo: d.replyTo,
          mediaGroupId: d.mediaGroupId,
          deleted: false,
          editCount: 0,
          suppressed: false,
          managerId: d.managerId,
          managerName: d.managerName,
          groupMessage: d.groupMessage,
          forwarded: false,
          status: 'received',
          deliveries: {},
        }),
      );
      if (d.groupMessage) indexGroup(draft, d.groupMessage, d.messageId);
      return;
    }
    case 'ReplyDelivered': {
      const { messageId, operation, channelMessage } = event.data;
      updateMessage(draft, messageId, (m) => ({
        ...m,
        ...(channelMessage && operation !== 'delete' ? { channelMessage } : {}),
        status: operation === 'send' ? 'delivered' : m.status,
        deliveries: { ...m.deliveries, [operation]: { outcome: 'delivered' } },
      }));
      // The old ref stays indexed too: the client may still reply to the message it first saw.
      if (channelMessage && operation !== 'delete' && draft.state.messages.has(messageId)) {
        indexChannel(draft, channelMessage, messageId);
      }
      return;
    }
    case 'DeliveryFailed': {
      const { messageId, operation, reason, permanent, attempt, nextAttemptAt } = event.data;
      updateMessage(draft, messageId, (m) => ({
        ...m,
        status: operation === 'send' && m.status !== 'delivered' ? 'failed' : m.status,
        deliveries: {
          ...m.deliveries,
          [operation]: withoutUndefined<DeliveryOutcome>({
            outcome: 'failed',
            reason,
            permanent,
            attempt,
            nextAttemptAt,
          }),
        },
      }));
      return;
    }
    case 'ClientBanned':
      s.banned = true;
      s.banNoticeSent = false;
      return;
    case 'ClientUnbanned':
      s.banned = false;
      return;
    case 'ConversationClosed':
      s.closed = true;
      s.closeNoticeSent = false;
      return;
    case 'ConversationReopened':
      s.closed = false;
      return;
    case 'ClientNotified':
      if (event.data.notice === 'banned') s.banNoticeSent = true;
      else s.closeNoticeSent = true;
      return;
    default: {
      const unknown: never = event;
      // A type written by a newer version is skipped, not fatal: old readers keep working while a
      // rolling upgrade is in progress.
      void unknown;
      return;
    }
  }
};

export const evolve = (state: ConversationState, event: ConversationEvent): ConversationState => {
  const draft = draftOf(state);
  step(draft, event);
  return draft.state;
};

/** Folds events onto `from` (the initial state by default); `evolve` step by step, without the copies. */
export const foldConversation = (
  events: Iterable<ConversationEvent>,
  from: ConversationState = initialConversationState,
): ConversationState => {
  const draft = draftOf(from);
  for (const event of events) step(draft, event);
  return draft.state;
};
