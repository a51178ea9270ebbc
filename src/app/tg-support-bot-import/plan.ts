// What one tg-support-bot client becomes in topicdesk (docs/design.md, "Importing from tg-support-bot"):
// pure, so the mapping is read and tested on its own. Every id is derived from the old row ids, and
// messages get the ids topicdesk's own adapters give the same Telegram or VK message, so a later edit
// or reply names the imported message.

import { commandIdOf, conversationIdOf, idOfParts } from '../../adapters/ids.ts';
import { TELEGRAM_SOURCE, telegramMessageId } from '../../adapters/telegram/refs.ts';
import { topicTitle } from '../../adapters/telegram/topic-title.ts';
import { VK_SOURCE, vkMessageId, vkProfileLink } from '../../adapters/vk/refs.ts';
import type { NewEvent } from '../../domain/event-log.ts';
import type {
  Attachment,
  AttachmentKind,
  Channel,
  ConversationEvent,
  EventMetadata,
} from '../../domain/events.ts';
import { conversationStream } from '../../domain/events.ts';
import { isValidSourceCode } from '../../domain/source.ts';
import type { OldAttachment, OldBotUser, OldMessage } from './old-database.ts';

export const IMPORTER = 'tg-support-bot';

/** A row that could not be brought over, and why. */
export interface Unmapped {
  readonly table: string;
  readonly id: string;
  readonly why: string;
}

/** What a planned event is, for topping up a conversation imported before. */
export type PlannedRole = 'start' | 'topic' | 'message' | 'ban' | 'close';

export interface PlannedEvent extends NewEvent {
  readonly role: PlannedRole;
  /** role `message`: the domain message the event records or completes. */
  readonly messageId?: string;
}

export interface ConversationPlan {
  readonly conversationId: string;
  readonly stream: string;
  readonly channel: Channel;
  readonly source: string;
  readonly clientId: string;
  readonly topicId: string;
  readonly banned: boolean;
  readonly closed: boolean;
  readonly events: readonly PlannedEvent[];
  /** Messages of this client that could not be brought over. */
  readonly unmapped: readonly Unmapped[];
}

export interface PlanOptions {
  /** The support group the old topics are in (TELEGRAM_SUPPORT_CHAT_ID). */
  readonly groupChatId: string;
  readonly titleTemplate: string;
  /** tg-support-bot source name → topicdesk source code; a name missing here has no valid code. */
  readonly sourceCodes: ReadonlyMap<string, string>;
}

/** A tg-support-bot source name as a topicdesk source code, when it can be one. */
export const sourceCodeOf = (name: string): string | undefined => {
  const code = name.trim().toLowerCase();
  return isValidSourceCode(code) ? code : undefined;
};

const metadataOf = (table: string, id: string, at: Date): EventMetadata => {
  const commandId = commandIdOf('import', IMPORTER, table, id);
  return {
    occurredAt: at.toISOString(),
    correlationId: commandId,
    causationId: commandId,
    actor: { kind: 'import', id: IMPORTER },
    imported: { from: IMPORTER, table, id },
  };
};

const KINDS: ReadonlySet<string> = new Set<AttachmentKind>([
  'photo',
  'document',
  'voice',
  'video',
  'audio',
  'animation',
  'sticker',
  'video_note',
]);

/** A file tg-support-bot kept by its Telegram file_id (what topicdesk keeps, too). */
const attachmentOf = (a: OldAttachment): Attachment => ({
  kind: (a.fileType && KINDS.has(a.fileType) ? a.fileType : 'document') as AttachmentKind,
  fileRef: a.fileId,
  ...(a.fileName ? { fileName: a.fileName } : {}),
});

/** Ids of 0 (and the external API's timestamps in place of ids) name no message. */
const realId = (id: string): string | undefined => (/^[1-9]\d*$/.test(id) ? id : undefined);

type Identity = { ok: true; channel: Channel; source: string; clientId: string } | { ok: false; why: string };

const identityOf = (user: OldBotUser, options: PlanOptions): Identity => {
  if (user.platform === 'telegram')
    return { ok: true, channel: 'telegram', source: TELEGRAM_SOURCE, clientId: user.chatId };
  if (user.platform === 'vk') return { ok: true, channel: 'vk', source: VK_SOURCE, clientId: user.chatId };
  if (user.external) {
    const code = options.sourceCodes.get(user.external.source);
    if (!code)
      return {
        ok: false,
        why: `source "${user.external.source}" has no topicdesk code (a-z, 0-9, _ and -, unique once lower-cased)`,
      };
    return { ok: true, channel: 'external', source: code, clientId: user.external.externalId };
  }
  if (user.platform === 'max') return { ok: false, why: 'platform max: topicdesk has no MAX channel' };
  return {
    ok: false,
    why: `platform "${user.platform}": not telegram or vk, and no external_users row ${user.chatId} of that source`,
  };
};

export type PlanResult =
  | { readonly ok: true; readonly plan: ConversationPlan }
  | { readonly ok: false; readonly unmapped: Unmapped };

/** The conversation a tg-support-bot client becomes, or why it cannot become one. */
export const planConversation = (
  user: OldBotUser,
  messages: readonly OldMessage[],
  options: PlanOptions,
): PlanResult => {
  const identity = identityOf(user, options);
  if (!identity.ok) return { ok: false, unmapped: { table: 'bot_users', id: user.id, why: identity.why } };
  if (!user.topicId)
    return {
      ok: false,
      unmapped: {
        table: 'bot_users',
        id: user.id,
        why: 'no topic: tg-support-bot never opened one for this client',
      },
    };
  const { channel, source, clientId } = identity;
  const conversationId = conversationIdOf(channel, source, clientId);
  const stream = conversationStream(conversationId);
  const group = options.groupChatId;
  const topicId = user.topicId;
  const events: PlannedEvent[] = [];
  const unmapped: Unmapped[] = [];
  const add = (
    role: PlannedRole,
    table: string,
    rowId: string,
    at: Date,
    event: ConversationEvent,
    messageId?: string,
  ) =>
    events.push({
      id: idOfParts([IMPORTER, stream, table, rowId, event.type]),
      type: event.type,
      data: event.data,
      metadata: metadataOf(table, rowId, at),
      role,
      ...(messageId ? { messageId } : {}),
    });

  add('start', 'bot_users', user.id, user.createdAt, {
    type: 'ConversationStarted',
    data: {
      conversationId,
      channel,
      source,
      clientId,
      profile: channel === 'vk' ? { link: vkProfileLink(clientId) } : {},
    },
  });
  const title = topicTitle(options.titleTemplate, { name: '', id: clientId, source, channel });
  add('topic', 'bot_users', user.id, user.createdAt, {
    type: 'TopicOpened',
    data: { topicId, chatId: group, title },
  });

  const seen = new Map<string, string>();
  for (const m of messages) {
    const from = realId(m.fromId);
    const to = realId(m.toId);
    const content = { text: m.text ?? '', attachments: m.attachments.map(attachmentOf) };
    const rowMessageId = idOfParts([IMPORTER, 'messages', m.id]);
    const incoming = m.direction === 'incoming';
    // Incoming: from_id is the client's message in its own chat (Telegram, VK); the external API
    // stored a time there. Outgoing: from_id is the manager's message in the topic; to_id the
    // client's copy (none for a source).
    const own = incoming && channel !== 'external' ? from : undefined;
    const messageId = incoming
      ? !own
        ? rowMessageId
        : channel === 'telegram'
          ? telegramMessageId(clientId, own)
          : vkMessageId(clientId, own)
      : from
        ? telegramMessageId(group, from)
        : rowMessageId;
    if (seen.has(messageId)) {
      unmapped.push({
        table: 'messages',
        id: m.id,
        why: `the same message as messages ${seen.get(messageId)}`,
      });
      continue;
    }
    seen.set(messageId, m.id);
    if (incoming) {
      add(
        'message',
        'messages',
        m.id,
        m.createdAt,
        {
          type: 'ClientMessageReceived',
          data: {
            ...content,
            messageId,
            ...(own ? { channelMessage: { chatId: clientId, messageId: own } } : {}),
            // Without a copy in the topic it was never carried: recorded for the audit, not carried now.
            suppressed: !to,
          },
        },
        messageId,
      );
      if (to)
        add(
          'message',
          'messages',
          m.id,
          m.createdAt,
          {
            type: 'ClientMessageForwarded',
            data: { messageId, topicId, groupMessage: { chatId: group, messageId: to } },
          },
          messageId,
        );
    } else {
      const delivered = channel !== 'external' ? to : undefined;
      add(
        'message',
        'messages',
        m.id,
        m.createdAt,
        {
          type: 'ManagerReplied',
          data: {
            ...content,
            messageId,
            managerId: '',
            managerName: '',
            ...(from ? { groupMessage: { chatId: group, messageId: from } } : {}),
          },
        },
        messageId,
      );
      add(
        'message',
        'messages',
        m.id,
        m.createdAt,
        {
          type: 'ReplyDelivered',
          data: {
            messageId,
            operation: 'send',
            ...(delivered ? { channelMessage: { chatId: clientId, messageId: delivered } } : {}),
          },
        },
        messageId,
      );
    }
  }
  if (user.banned)
    add('ban', 'bot_users', user.id, user.bannedAt ?? user.createdAt, { type: 'ClientBanned', data: {} });
  if (user.closed)
    add('close', 'bot_users', user.id, user.closedAt ?? user.createdAt, {
      type: 'ConversationClosed',
      data: {},
    });
  return {
    ok: true,
    plan: {
      conversationId,
      stream,
      channel,
      source,
      clientId,
      topicId,
      banned: user.banned,
      closed: user.closed,
      events,
      unmapped,
    },
  };
};
