// Validates what comes out of the log before the domain folds it: a malformed event fails loudly,
// naming the field, instead of turning into a wrong state. Kept out of src/domain so the domain
// stays free of npm packages.
import { z } from 'zod';
import type { ConversationEvent, ConversationEventType, EventMetadata } from '../domain/events.ts';

const channelMessageRef = z.object({ chatId: z.string(), messageId: z.string() });

const attachment = z.object({
  kind: z.enum([
    'photo',
    'document',
    'voice',
    'video',
    'audio',
    'animation',
    'sticker',
    'video_note',
    'location',
    'venue',
    'contact',
    'poll',
    'dice',
    'link',
  ]),
  fileRef: z.string().optional(),
  fileUniqueId: z.string().optional(),
  fileName: z.string().optional(),
  mimeType: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const button = z.object({ text: z.string(), url: z.string() });

const content = {
  text: z.string(),
  entities: z.array(z.record(z.string(), z.unknown())).optional(),
  attachments: z.array(attachment),
  buttons: z.array(z.array(button)).optional(),
};

const deliveryOperation = z.enum(['send', 'edit', 'delete']);
const empty = z.object({});

type DataOf<T extends ConversationEventType> = Extract<ConversationEvent, { type: T }>['data'];

/**
 * One schema per event type. The annotation makes the compiler check each schema against the
 * event's TypeScript type, so the two cannot drift apart silently.
 */
export const conversationEventDataSchemas: { readonly [T in ConversationEventType]: z.ZodType<DataOf<T>> } = {
  ConversationStarted: z.object({
    conversationId: z.string(),
    channel: z.enum(['telegram', 'vk', 'external']),
    source: z.string(),
    clientId: z.string(),
    profile: z.object({
      firstName: z.string().optional(),
      lastName: z.string().optional(),
      username: z.string().optional(),
      languageCode: z.string().optional(),
      link: z.string().optional(),
    }),
  }),
  ClientMessageReceived: z.object({
    ...content,
    messageId: z.string(),
    channelMessage: channelMessageRef.optional(),
    replyTo: z.string().optional(),
    mediaGroupId: z.string().optional(),
    sentOrder: z.number().int().optional(),
    suppressed: z.boolean(),
    languageCode: z.string().optional(),
  }),
  ClientMessageEdited: z.object({ ...content, messageId: z.string(), previousText: z.string() }),
  ClientMessageDeleted: z.object({ messageId: z.string() }),
  TopicOpened: z.object({ topicId: z.string(), chatId: z.string(), title: z.string() }),
  TopicLost: z.object({ topicId: z.string(), reason: z.string() }),
  ClientMessageForwarded: z.object({
    messageId: z.string(),
    topicId: z.string(),
    groupMessage: channelMessageRef,
    moreGroupMessages: z.array(channelMessageRef).optional(),
  }),
  ManagerReplied: z.object({
    ...content,
    messageId: z.string(),
    managerId: z.string(),
    managerName: z.string(),
    groupMessage: channelMessageRef.optional(),
    replyTo: z.string().optional(),
    mediaGroupId: z.string().optional(),
    template: z
      .object({ name: z.string(), version: z.number().int().positive(), locale: z.string() })
      .optional(),
    automatic: z
      .object({ reason: z.enum(['welcome', 'off_hours']), period: z.string().optional() })
      .optional(),
  }),
  ManagerReplyEdited: z.object({ ...content, messageId: z.string(), previousText: z.string() }),
  ManagerReplyDeleted: z.object({ messageId: z.string() }),
  ReplyDelivered: z.object({
    messageId: z.string(),
    operation: deliveryOperation,
    channelMessage: channelMessageRef.optional(),
  }),
  DeliveryFailed: z.object({
    messageId: z.string(),
    operation: deliveryOperation,
    reason: z.string(),
    permanent: z.boolean(),
    attempt: z.number().int().positive(),
    nextAttemptAt: z.string().optional(),
  }),
  ClientBanned: z.object({ reason: z.string().optional() }),
  ClientUnbanned: empty,
  ConversationClosed: empty,
  ConversationReopened: empty,
  ClientNotified: z.object({ notice: z.enum(['banned', 'closed']) }),
  ContactCardPosted: z.object({ topicId: z.string(), groupMessage: channelMessageRef }),
  TopicStatusChanged: z.object({
    topicId: z.string(),
    status: z.enum(['waiting', 'answered', 'closed']),
  }),
  NoteAdded: z.object({
    noteId: z.string(),
    text: z.string(),
    managerId: z.string(),
    managerName: z.string(),
    groupMessage: channelMessageRef,
  }),
  NotePinned: z.object({ text: z.string(), managerId: z.string(), managerName: z.string() }),
  NoteUnpinned: empty,
  ConversationAssigned: z.object({ assigneeId: z.string(), assigneeName: z.string() }),
  ConversationUnassigned: z.object({ previousAssigneeId: z.string(), previousAssigneeName: z.string() }),
  RatingRequested: z.object({ requestId: z.string(), channelMessage: channelMessageRef.optional() }),
  ConversationRated: z.object({ requestId: z.string(), rating: z.number().int().min(1).max(5) }),
  RatingCommented: z.object({ requestId: z.string(), text: z.string() }),
  ReminderSent: z.object({
    waitingSince: z.iso.datetime({ offset: true }),
    number: z.number().int().positive(),
    topicId: z.string(),
    assigneeId: z.string().optional(),
    assigneeName: z.string().optional(),
  }),
};

export const eventMetadataSchema: z.ZodType<EventMetadata> = z.object({
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1),
  causationId: z.string().min(1),
  actor: z.object({
    kind: z.enum(['client', 'manager', 'system', 'source', 'import']),
    id: z.string(),
    name: z.string().optional(),
  }),
  via: z.enum(['button']).optional(),
  imported: z.object({ from: z.string(), table: z.string(), id: z.string() }).optional(),
});

/** Thrown for an event the domain cannot read; `field` is the dotted path of the first bad field. */
export class EventDecodeError extends Error {
  override readonly name = 'EventDecodeError';
  constructor(
    readonly eventType: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const isConversationEventType = (type: string): type is ConversationEventType =>
  Object.hasOwn(conversationEventDataSchemas, type);

const fail = (what: string, root: string, error: z.ZodError): never => {
  const issue = error.issues[0];
  const field = [root, ...(issue?.path ?? []).map(String)].join('.');
  throw new EventDecodeError(what, field, `invalid ${what}: ${field}: ${issue?.message ?? 'invalid'}`);
};

export const decodeConversationEvent = (recorded: {
  readonly type: string;
  readonly data: unknown;
}): ConversationEvent => {
  const { type } = recorded;
  if (!isConversationEventType(type)) {
    throw new EventDecodeError(
      type,
      'type',
      `invalid event: type: unknown conversation event type "${type}"`,
    );
  }
  const parsed = conversationEventDataSchemas[type].safeParse(recorded.data);
  if (!parsed.success) return fail(`${type} event`, 'data', parsed.error);
  return { type, data: parsed.data } as ConversationEvent;
};

export const decodeEventMetadata = (metadata: unknown): EventMetadata => {
  const parsed = eventMetadataSchema.safeParse(metadata);
  if (!parsed.success) return fail('event metadata', 'metadata', parsed.error);
  return parsed.data;
};
