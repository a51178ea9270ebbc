// The one readable line for each conversation event type, as the audit history shows it
// (docs/design.md, "The audit history").
import type {
  Attachment,
  ClientProfile,
  ConversationEvent,
  DeliveryOperation,
  MessageButton,
} from '../domain/events.ts';

const MAX_QUOTE = 80;

const quote = (text: string): string =>
  JSON.stringify(text.length > MAX_QUOTE ? `${text.slice(0, MAX_QUOTE - 1)}…` : text);

const describeAttachment = (a: Attachment): string =>
  a.fileName === undefined ? a.kind : `${a.kind} ${JSON.stringify(a.fileName)}`;

/** `"hello" [photo, document "a.pdf"]`; an attachment without a caption shows only the brackets. */
export const describeContent = (content: {
  readonly text: string;
  readonly attachments: readonly Attachment[];
  readonly buttons?: readonly (readonly MessageButton[])[];
}): string => {
  const files = content.attachments.length
    ? `[${content.attachments.map(describeAttachment).join(', ')}]`
    : '';
  const labels = (content.buttons ?? []).flat().map((b) => JSON.stringify(b.text));
  const buttons = labels.length ? ` [button${labels.length > 1 ? 's' : ''} ${labels.join(', ')}]` : '';
  if (content.text === '' && files !== '') return files + buttons;
  return (files === '' ? quote(content.text) : `${quote(content.text)} ${files}`) + buttons;
};

const describeProfile = (profile: ClientProfile): string => {
  const name = [profile.firstName, profile.lastName].filter((p) => p !== undefined && p !== '').join(' ');
  return [name === '' ? undefined : JSON.stringify(name), profile.username && `@${profile.username}`]
    .filter(Boolean)
    .join(' ');
};

const what = (operation: DeliveryOperation, messageId: string): string =>
  operation === 'send' ? messageId : `${operation} of ${messageId}`;

const replyNote = (replyTo: string | undefined): string =>
  replyTo === undefined ? '' : ` (reply to ${replyTo})`;

const statusWords = { waiting: 'waiting for an answer', answered: 'answered', closed: 'closed' } as const;

/** One line describing an event, for a person reading the audit history. */
export const summarize = (event: ConversationEvent): string => {
  switch (event.type) {
    case 'ConversationStarted': {
      const { channel, source, clientId, profile } = event.data;
      const via = source === channel ? channel : `${channel} source ${source}`;
      const who = describeProfile(profile);
      return `conversation started: ${via} client ${clientId}${who === '' ? '' : ` ${who}`}`;
    }
    case 'ClientMessageReceived': {
      const d = event.data;
      const suppressed = d.suppressed ? ' (not forwarded: client banned)' : '';
      const language = d.languageCode ? ` (language now ${d.languageCode})` : '';
      return `client message ${d.messageId}: ${describeContent(d)}${replyNote(d.replyTo)}${suppressed}${language}`;
    }
    case 'ClientMessageEdited':
      return `edited ${event.data.messageId}: ${quote(event.data.previousText)} → ${describeContent(event.data)}`;
    case 'ClientMessageDeleted':
      return `deleted ${event.data.messageId}`;
    case 'TopicOpened':
      return `topic ${event.data.topicId} opened ${quote(event.data.title)}`;
    case 'TopicLost':
      return `topic ${event.data.topicId} lost: ${event.data.reason}`;
    case 'ClientMessageForwarded': {
      const { messageId, topicId, groupMessage, moreGroupMessages = [] } = event.data;
      const ids = [groupMessage, ...moreGroupMessages].map((ref) => ref.messageId);
      return `forwarded ${messageId} to topic ${topicId} (group message${ids.length > 1 ? 's' : ''} ${ids.join(', ')})`;
    }
    case 'ManagerReplied': {
      const d = event.data;
      if (d.automatic) {
        const why = d.automatic.reason === 'welcome' ? 'welcome' : `off hours since ${d.automatic.period}`;
        return `automatic reply (${why}) ${d.messageId}: ${describeContent(d)}`;
      }
      const template = d.template
        ? ` from saved answer ${d.template.name} v${d.template.version} (${d.template.locale})`
        : '';
      // An imported answer has no manager name (tg-support-bot did not keep who wrote it).
      return `manager${d.managerName ? ` ${d.managerName}` : ''} replied ${d.messageId}${template}: ${describeContent(d)}${replyNote(d.replyTo)}`;
    }
    case 'ManagerReplyEdited':
      return `manager edited ${event.data.messageId}: ${quote(event.data.previousText)} → ${describeContent(event.data)}`;
    case 'ManagerReplyDeleted':
      return `manager deleted ${event.data.messageId}`;
    case 'ReplyDelivered':
      return `delivered ${event.data.messageId} (${event.data.operation})`;
    case 'DeliveryFailed': {
      const d = event.data;
      const when = d.permanent
        ? 'permanent'
        : `attempt ${d.attempt}${d.nextAttemptAt === undefined ? '' : `, next try ${d.nextAttemptAt}`}`;
      return `delivery of ${what(d.operation, d.messageId)} failed (${when}): ${d.reason}`;
    }
    case 'ClientBanned':
      return event.data.reason ? `client banned: ${event.data.reason}` : 'client banned';
    case 'ClientUnbanned':
      return 'client unbanned';
    case 'ConversationClosed':
      return 'conversation closed';
    case 'ConversationReopened':
      return 'conversation reopened';
    case 'ClientNotified':
      return event.data.notice === 'banned'
        ? 'client told their messages are not forwarded (banned)'
        : 'client told the conversation is closed';
    case 'ContactCardPosted':
      return `contact card posted in topic ${event.data.topicId} (group message ${event.data.groupMessage.messageId})`;
    case 'TopicStatusChanged':
      return `topic ${event.data.topicId} shows: ${statusWords[event.data.status]}`;
    case 'NoteAdded':
      return `note by ${event.data.managerName} (internal, not sent): ${quote(event.data.text)}`;
    case 'NotePinned':
      return `note pinned by ${event.data.managerName}: ${quote(event.data.text)}`;
    case 'NoteUnpinned':
      return 'pinned note removed';
    case 'ConversationAssigned':
      return `assigned to ${event.data.assigneeName} (${event.data.assigneeId})`;
    case 'ConversationUnassigned':
      return `unassigned (was ${event.data.previousAssigneeName}, ${event.data.previousAssigneeId})`;
    case 'RatingRequested':
      return 'client asked to rate the conversation';
    case 'ConversationRated':
      return `client rated the conversation ${event.data.rating}/5`;
    case 'RatingCommented':
      return `client commented on their rating: ${quote(event.data.text)}`;
    case 'ReminderSent': {
      const d = event.data;
      const who = d.assigneeName ? `, mentioning ${d.assigneeName} (${d.assigneeId})` : '';
      return `reminder ${d.number} in topic ${d.topicId}: the client waits since ${d.waitingSince}${who}`;
    }
    default: {
      const unknown: never = event;
      return `${(unknown as { type: string }).type}`;
    }
  }
};
