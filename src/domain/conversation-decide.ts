// decide(command, state) → events. Pure: refusals throw DomainError with a stable code; a command
// whose effect is already in the stream (a re-delivered update, a repeated report) decides nothing.
import { answerContent } from './answer-buttons.ts';
import { contentFields, sameContent, withoutUndefined } from './content.ts';
import type {
  ConversationCommand,
  ReceiveClientMessage,
  RecordDeliveryFailed,
  RecordReminder,
  SendAutomaticReply,
} from './conversation-commands.ts';
import type {
  ConversationMessage,
  ConversationState,
  MessageDirection,
  StartedConversationState,
} from './conversation-core.ts';
import { isStarted } from './conversation-core.ts';
import { DomainError } from './errors.ts';
import type { ChannelMessageRef, ConversationEvent, DeliveryOperation, MessageContent } from './events.ts';
import { decideRating } from './rating.ts';
import { remindersSent } from './reminders.ts';

type Events = readonly ConversationEvent[];

const sameRef = (a: ChannelMessageRef, b: ChannelMessageRef) =>
  a.chatId === b.chatId && a.messageId === b.messageId;
const none: Events = [];

const requireStarted = (state: ConversationState, command: ConversationCommand): StartedConversationState => {
  if (!isStarted(state)) {
    throw new DomainError('conversation_not_started', `${command.type}: the conversation has not started`);
  }
  return state;
};

const requireMessage = (
  state: ConversationState,
  messageId: string,
  direction: MessageDirection,
): ConversationMessage => {
  const message = state.messages.get(messageId);
  if (message === undefined) throw new DomainError('message_not_found', `message ${messageId} not found`);
  if (message.direction !== direction) {
    throw direction === 'outgoing'
      ? new DomainError('not_a_manager_reply', `message ${messageId} was written by the client`)
      : new DomainError('not_a_client_message', `message ${messageId} was written by a manager`);
  }
  return message;
};

const requireLive = (message: ConversationMessage): ConversationMessage => {
  if (message.deleted) throw new DomainError('message_deleted', `message ${message.messageId} is deleted`);
  return message;
};

/** Threading only points inside this conversation; an unresolvable reply is kept as a plain message. */
const knownReply = (state: ConversationState, replyTo: string | undefined): string | undefined =>
  replyTo !== undefined && state.messages.has(replyTo) ? replyTo : undefined;

/** Buttons are for managers' answers: a client's content never carries them. */
const clientContent = (content: MessageContent): MessageContent => {
  const { buttons: _ignored, ...rest } = content;
  return rest;
};

const receive = (command: ReceiveClientMessage, state: ConversationState): Events => {
  const existing = state.messages.get(command.messageId);
  if (existing !== undefined) {
    if (existing.direction === 'incoming') return none;
    throw new DomainError('message_exists', `message ${command.messageId} is a manager reply`);
  }
  const events: ConversationEvent[] = [];
  if (!isStarted(state)) {
    const { conversationId, channel, source, clientId, profile } = command;
    events.push({
      type: 'ConversationStarted',
      data: { conversationId, channel, source, clientId, profile },
    });
  } else if (
    state.conversationId !== command.conversationId ||
    state.channel !== command.channel ||
    state.source !== command.source ||
    state.clientId !== command.clientId
  ) {
    throw new DomainError('invalid_command', `message ${command.messageId} belongs to another conversation`);
  }
  // A banned client writing again must not bring the topic back to the managers' attention.
  if (state.closed && !state.banned) events.push({ type: 'ConversationReopened', data: {} });
  // The language is recorded when it changes only: a conversation's start carries the first.
  const language = command.profile.languageCode;
  events.push({
    type: 'ClientMessageReceived',
    data: withoutUndefined({
      ...contentFields(clientContent(command.content)),
      messageId: command.messageId,
      channelMessage: command.channelMessage,
      replyTo: knownReply(state, command.replyTo),
      mediaGroupId: command.mediaGroupId,
      sentOrder: command.sentOrder,
      suppressed: state.banned,
      languageCode: isStarted(state) && language && language !== state.language ? language : undefined,
    }),
  });
  return events;
};

/**
 * An automatic reply goes once: a welcome once per conversation, an off-hours answer once per
 * off-period; never to a banned client (who is told about the ban instead).
 */
const automaticReply = (command: SendAutomaticReply, state: StartedConversationState): Events => {
  if (state.banned) return none;
  const existing = state.messages.get(command.messageId);
  if (existing !== undefined) {
    if (existing.direction === 'outgoing') return none;
    throw new DomainError('message_exists', `message ${command.messageId} is a client message`);
  }
  if (command.reason === 'welcome' && state.welcomed) return none;
  if (command.reason === 'off_hours') {
    if (command.period === undefined) {
      throw new DomainError('invalid_command', 'an off-hours reply names the off-period it answers');
    }
    if (state.offHoursAnswered === command.period) return none;
  }
  const { messageId, reason, period } = command;
  return [
    {
      type: 'ManagerReplied',
      data: {
        ...contentFields(command.content),
        messageId,
        managerId: AUTOMATIC_MANAGER_ID,
        managerName: AUTOMATIC_MANAGER_NAME,
        automatic: withoutUndefined({ reason, period }),
      },
    },
  ];
};

/** Who an automatic reply names as its writer: no manager, the component that sent it. */
export const AUTOMATIC_MANAGER_ID = 'auto-reply';
export const AUTOMATIC_MANAGER_NAME = 'automatic reply';

const edit = (
  message: ConversationMessage,
  content: MessageContent,
  type: 'ClientMessageEdited' | 'ManagerReplyEdited',
): Events => {
  if (sameContent(message.content, content)) return none;
  return [
    {
      type,
      data: { ...contentFields(content), messageId: message.messageId, previousText: message.content.text },
    },
  ];
};

/** A delivery outcome only makes sense for an operation the stream asked for. */
const requireOperationHappened = (message: ConversationMessage, operation: DeliveryOperation): void => {
  if (operation === 'edit' && message.editCount === 0) {
    throw new DomainError('invalid_command', `message ${message.messageId} was never edited`);
  }
  if (operation === 'delete' && !message.deleted) {
    throw new DomainError('invalid_command', `message ${message.messageId} is not deleted`);
  }
};

const deliveryFailed = (command: RecordDeliveryFailed, message: ConversationMessage): Events => {
  if (!Number.isInteger(command.attempt) || command.attempt < 1) {
    throw new DomainError('invalid_command', `attempt must be a positive integer, got ${command.attempt}`);
  }
  const last = message.deliveries[command.operation];
  // Success already recorded, or this attempt (or a later one) already reported: a late duplicate.
  if (last?.outcome === 'delivered') return none;
  if (last?.outcome === 'failed' && last.attempt >= command.attempt) return none;
  const { messageId, operation, reason, permanent, attempt, nextAttemptAt } = command;
  return [
    {
      type: 'DeliveryFailed',
      data: withoutUndefined({ messageId, operation, reason, permanent, attempt, nextAttemptAt }),
    },
  ];
};

/**
 * A reminder only while the client still waits, in that same wait, with a topic to post in, and
 * each number once: the same reminder again (a second instance, a replay) records nothing.
 */
const reminder = (command: RecordReminder, state: StartedConversationState): Events => {
  const { waitingSince, number } = command;
  if (!Number.isInteger(number) || number < 1)
    throw new DomainError('invalid_command', `a reminder's number is a positive integer, got ${number}`);
  if (state.closed || !state.awaitingAnswer || state.waitingSince !== waitingSince || state.topic === null)
    return none;
  const sent = remindersSent(state, waitingSince);
  if (number <= sent) return none;
  if (number > sent + 1)
    throw new DomainError('invalid_command', `reminder ${number} before reminder ${sent + 1}`);
  const assignee = state.assignee;
  return [
    {
      type: 'ReminderSent',
      data: withoutUndefined({
        waitingSince,
        number,
        topicId: state.topic.topicId,
        assigneeId: assignee?.id,
        assigneeName: assignee?.name,
      }),
    },
  ];
};

export const decide = (command: ConversationCommand, state: ConversationState): Events => {
  if (command.type === 'ReceiveClientMessage') return receive(command, state);
  const started = requireStarted(state, command);
  switch (command.type) {
    case 'EditClientMessage':
      return edit(
        requireLive(requireMessage(started, command.messageId, 'incoming')),
        clientContent(command.content),
        'ClientMessageEdited',
      );
    case 'DeleteClientMessage':
      requireLive(requireMessage(started, command.messageId, 'incoming'));
      return [{ type: 'ClientMessageDeleted', data: { messageId: command.messageId } }];
    case 'RecordTopicOpened': {
      const { topicId, chatId, title } = command;
      if (started.topic !== null) {
        // The same topic reported again (a retried reactor step) is not a second topic.
        if (started.topic.topicId === topicId && started.topic.chatId === chatId) return none;
        throw new DomainError('topic_exists', `the conversation already has topic ${started.topic.topicId}`);
      }
      return [{ type: 'TopicOpened', data: { topicId, chatId, title } }];
    }
    case 'RecordTopicLost':
      // A report about a topic already replaced comes from a stale send: nothing to record.
      if (started.topic?.topicId !== command.topicId) return none;
      return [{ type: 'TopicLost', data: { topicId: command.topicId, reason: command.reason } }];
    case 'RecordForwarded': {
      const message = requireMessage(started, command.messageId, 'incoming');
      // Forwarded again into the same topic is a retry; into another topic, the copy replaces one
      // that stood in a topic since lost.
      if (message.forwarded && message.topicId === command.topicId) return none;
      const { messageId, topicId, groupMessage, moreGroupMessages } = command;
      return [
        {
          type: 'ClientMessageForwarded',
          data: {
            messageId,
            topicId,
            groupMessage,
            // One topic message is the common case: its event stays as it always was.
            ...(moreGroupMessages?.length ? { moreGroupMessages: [...moreGroupMessages] } : {}),
          },
        },
      ];
    }
    case 'ReplyAsManager': {
      const existing = started.messages.get(command.messageId);
      if (existing !== undefined) {
        if (existing.direction === 'outgoing') return none;
        throw new DomainError('message_exists', `message ${command.messageId} is a client message`);
      }
      const { messageId, managerId, managerName, groupMessage, mediaGroupId, template } = command;
      return [
        {
          type: 'ManagerReplied',
          data: withoutUndefined({
            ...contentFields(answerContent(command.content)),
            messageId,
            managerId,
            managerName,
            groupMessage,
            replyTo: knownReply(started, command.replyTo),
            mediaGroupId,
            template,
          }),
        },
      ];
    }
    case 'SendAutomaticReply':
      return automaticReply(command, started);
    case 'EditManagerReply':
      return edit(
        requireLive(requireMessage(started, command.messageId, 'outgoing')),
        answerContent(command.content),
        'ManagerReplyEdited',
      );
    case 'DeleteManagerReply':
      requireLive(requireMessage(started, command.messageId, 'outgoing'));
      return [{ type: 'ManagerReplyDeleted', data: { messageId: command.messageId } }];
    case 'RecordDelivered': {
      const message = requireMessage(started, command.messageId, 'outgoing');
      requireOperationHappened(message, command.operation);
      if (message.deliveries[command.operation]?.outcome === 'delivered') return none;
      const { messageId, operation, channelMessage } = command;
      return [{ type: 'ReplyDelivered', data: withoutUndefined({ messageId, operation, channelMessage }) }];
    }
    case 'RecordDeliveryFailed': {
      const message = requireMessage(started, command.messageId, 'outgoing');
      requireOperationHappened(message, command.operation);
      return deliveryFailed(command, message);
    }
    case 'BanClient':
      if (started.banned) throw new DomainError('already_banned', 'the client is already banned');
      return [{ type: 'ClientBanned', data: withoutUndefined({ reason: command.reason }) }];
    case 'UnbanClient':
      if (!started.banned) throw new DomainError('not_banned', 'the client is not banned');
      return [{ type: 'ClientUnbanned', data: {} }];
    case 'CloseConversation':
      if (started.closed) throw new DomainError('already_closed', 'the conversation is already closed');
      return [{ type: 'ConversationClosed', data: {} }];
    case 'ReopenConversation':
      if (!started.closed) throw new DomainError('not_closed', 'the conversation is not closed');
      return [{ type: 'ConversationReopened', data: {} }];
    case 'RecordClientNotified': {
      const sent = command.notice === 'banned' ? started.banNoticeSent : started.closeNoticeSent;
      // One notice per ban / close: a second report is the same notice.
      if (sent) return none;
      return [{ type: 'ClientNotified', data: { notice: command.notice } }];
    }
    case 'RecordContactCard': {
      const { topicId, groupMessage } = command;
      // A card for a topic since replaced comes from a stale step; the same card again is a retry.
      if (started.topic?.topicId !== topicId) return none;
      const card = started.card;
      if (card?.topicId === topicId && sameRef(card.groupMessage, groupMessage)) return none;
      return [{ type: 'ContactCardPosted', data: { topicId, groupMessage } }];
    }
    case 'RecordTopicStatus': {
      const { topicId, status } = command;
      // Only transitions are recorded: the status the topic shows already, or a topic since
      // replaced, records nothing (a replayed step, an edit overtaken by another).
      if (started.topic?.topicId !== topicId) return none;
      if (started.topicStatus?.topicId === topicId && started.topicStatus.status === status) return none;
      return [{ type: 'TopicStatusChanged', data: { topicId, status } }];
    }
    case 'AddNote': {
      const { noteId, managerId, managerName, groupMessage } = command;
      const text = command.text.trim();
      if (text === '') throw new DomainError('note_empty', 'a note needs text');
      return [{ type: 'NoteAdded', data: { noteId, text, managerId, managerName, groupMessage } }];
    }
    case 'PinNote': {
      const text = command.text.trim();
      if (text === '') throw new DomainError('note_empty', 'a pinned note needs text');
      // The same text pinned again changes nothing (who pinned it first stays).
      if (started.pinnedNote?.text === text) return none;
      const { managerId, managerName } = command;
      return [{ type: 'NotePinned', data: { text, managerId, managerName } }];
    }
    case 'UnpinNote':
      if (started.pinnedNote === undefined)
        throw new DomainError('no_pinned_note', 'the client has no pinned note');
      return [{ type: 'NoteUnpinned', data: {} }];
    case 'AssignConversation': {
      const assigneeId = command.assigneeId.trim();
      const assigneeName = command.assigneeName.trim();
      if (assigneeId === '' || assigneeName === '')
        throw new DomainError('invalid_command', 'an assignee needs an id and a name');
      // Given again to the one who has it: a repeated /take changes nothing (and stays their taking).
      if (started.assignee?.id === assigneeId) return none;
      return [{ type: 'ConversationAssigned', data: { assigneeId, assigneeName } }];
    }
    case 'UnassignConversation': {
      const assignee = started.assignee;
      if (assignee === undefined) throw new DomainError('not_assigned', 'the conversation has no assignee');
      return [
        {
          type: 'ConversationUnassigned',
          data: { previousAssigneeId: assignee.id, previousAssigneeName: assignee.name },
        },
      ];
    }
    case 'RecordRatingRequested':
    case 'RateConversation':
    case 'CommentRating':
      return decideRating(command, started);
    case 'RecordReminder':
      return reminder(command, started);
    default: {
      const unknown: never = command;
      throw new DomainError('invalid_command', `unknown command ${(unknown as { type?: unknown }).type}`);
    }
  }
};

/** The messages decide() looks at for a command: what a reader must load before asking it. */
export const messagesNeeded = (command: ConversationCommand): string[] => {
  switch (command.type) {
    case 'ReceiveClientMessage':
    case 'ReplyAsManager':
      return command.replyTo === undefined ? [command.messageId] : [command.messageId, command.replyTo];
    case 'SendAutomaticReply':
      return [command.messageId];
    case 'EditClientMessage':
    case 'DeleteClientMessage':
    case 'RecordForwarded':
    case 'EditManagerReply':
    case 'DeleteManagerReply':
    case 'RecordDelivered':
    case 'RecordDeliveryFailed':
      return [command.messageId];
    case 'RecordTopicOpened':
    case 'RecordTopicLost':
    case 'BanClient':
    case 'UnbanClient':
    case 'CloseConversation':
    case 'ReopenConversation':
    case 'RecordClientNotified':
    case 'RecordContactCard':
    case 'RecordTopicStatus':
    case 'AddNote':
    case 'PinNote':
    case 'UnpinNote':
    case 'AssignConversation':
    case 'UnassignConversation':
    case 'RecordRatingRequested':
    case 'RateConversation':
    case 'CommentRating':
    case 'RecordReminder':
      return [];
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
};
