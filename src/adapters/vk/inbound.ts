// VK community events (Callback API or Bots Long Poll: the same objects) → conversation commands.
// `message_new` and `message_edit` from a user's private dialog with the community are the client's
// words; the community's own messages (`message_reply`, anything with out=1) are not. The caller
// answers VK only after this resolves, i.e. after the events are durably appended.
//
// Files are put into Telegram (the file store) before anything is recorded, so the events carry
// Telegram file_ids and the Telegram reactor shows them in the topic as it shows any file.

import type { Logger } from 'pino';
import { type API, MessageContext, UpdateSource, type Upload } from 'vk-io';
import type { CommandHandler, CommandResult } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Actor, Attachment, ClientProfile } from '../../domain/events.ts';
import { channelKey } from '../../domain/message-window.ts';
import { shippedTexts, type Texts } from '../../texts/texts.ts';
import type { AutoReplies } from '../auto-replies/auto-replies.ts';
import { CSAT_OFF, type CsatOptions, recordRatingComment } from '../csat.ts';
import { refusal } from '../telegram/errors.ts';
import { DownloadError } from './errors.ts';
import { checkEvent } from './event-schema.ts';
import type { FileHost } from './file-hosts.ts';
import { download, type FileStore } from './files.ts';
import { languageOf, profileOf, type VkMessage, type VkUser } from './objects.ts';
import { handleRatingPress, ratingPayloadOf, type VkMessageEvent } from './rating.ts';
import { CHAT_PEER_OFFSET, eventCommandId, VK_SOURCE, vkConversationId, vkMessageId } from './refs.ts';
import {
  composeParts,
  type DomainPart,
  type PlannedItem,
  planMessage,
  type ResolvedItem,
  TELEGRAM_UPLOAD_LIMIT,
  vkRefOf,
} from './translate.ts';

export type InboundOutcome = 'recorded' | 'duplicate' | 'ignored';

/** A Callback API request body, or one update of the Bots Long Poll (the same shape without `secret`). */
export interface VkEvent {
  readonly type: string;
  readonly group_id?: number;
  readonly event_id?: string;
  readonly v?: string;
  readonly object?: unknown;
  readonly secret?: string;
}

export interface VkInboundOptions {
  readonly handler: CommandHandler;
  readonly api: API;
  readonly upload: Upload;
  readonly groupId: number;
  readonly files: FileStore;
  readonly logger: Logger;
  readonly downloadTimeoutMs?: number;
  /** Where a client's files may be downloaded from (VK_FILE_HOSTS); elsewhere the topic gets the link. */
  readonly fileHosts: readonly FileHost[];
  /** The welcome and off-hours answers a client's message calls for; none by default. */
  readonly autoReplies?: AutoReplies;
  /** Satisfaction (CSAT): what a client's next message after rating is, the words of a press's answer. */
  readonly csat?: CsatOptions;
  readonly texts?: Texts;
}

export interface VkInbound {
  /** Throws MalformedEventError, before anything is recorded, for a message event of the wrong shape. */
  handleEvent(event: VkEvent): Promise<InboundOutcome>;
}

export const createVkInbound = (options: VkInboundOptions): VkInbound => {
  const { handler, api, groupId, files, logger } = options;
  const csat = options.csat ?? CSAT_OFF;
  const texts = options.texts ?? shippedTexts();
  /** A re-delivery that arrives while the first delivery is still uploading waits for it. */
  const inFlight = new Map<string, Promise<InboundOutcome>>();

  const profile = async (userId: number, langId: number | undefined): Promise<ClientProfile> => {
    try {
      const users = (await api.users.get({ user_ids: [userId], fields: ['screen_name'] })) as VkUser[];
      return profileOf(userId, users[0], langId);
    } catch (err) {
      // A first message is not refused for want of a name: the card still links the profile.
      logger.warn({ err, userId }, 'vk users.get failed; the contact card shows the profile link only');
      return profileOf(userId, undefined, langId);
    }
  };

  /**
   * Carries each file of the message into Telegram, unless this VK message already recorded it
   * (a re-delivered event, an edit that kept the file): then its Telegram file_id is reused.
   */
  const resolve = async (
    items: readonly PlannedItem[],
    known: ReadonlyMap<string, Attachment>,
  ): Promise<ResolvedItem[]> => {
    const out: ResolvedItem[] = [];
    for (const item of items) {
      if (item.type === 'inline') {
        out.push(item);
        continue;
      }
      const previous = known.get(item.vkRef);
      if (previous?.fileRef) {
        out.push({ type: 'file', vkRef: item.vkRef, attachment: previous });
        continue;
      }
      try {
        const data = await download(item.url, {
          maxBytes: TELEGRAM_UPLOAD_LIMIT,
          hosts: options.fileHosts,
          ...(options.downloadTimeoutMs ? { timeoutMs: options.downloadTimeoutMs } : {}),
        });
        const stored = await files.put(item.upload, data, item.fileName);
        out.push({
          type: 'file',
          vkRef: item.vkRef,
          attachment: {
            ...item.attachment,
            fileRef: stored.fileId,
            fileUniqueId: stored.fileUniqueId,
            size: stored.size ?? data.length,
          },
        });
      } catch (error) {
        // Gone from VK, too big, or refused by Telegram: the topic gets a link instead, for good.
        // The network or a Telegram outage is thrown, so VK delivers the event again.
        const refused =
          (error instanceof DownloadError &&
            error.status >= 400 &&
            error.status < 500 &&
            error.status !== 429) ||
          refusal(error) !== undefined;
        if (!refused) throw error;
        logger.warn(
          { err: error, vkRef: item.vkRef },
          'a VK file could not be carried; the topic gets a link',
        );
        out.push({
          type: 'inline',
          line: item.fallback,
          attachment: item.attachment,
          describedInTopic: false,
        });
      }
    }
    return out;
  };

  const tolerant = async (work: () => Promise<InboundOutcome>): Promise<InboundOutcome> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DomainError) {
        logger.info({ code: error.code }, `vk event ignored: ${error.message}`);
        return 'ignored';
      }
      throw error;
    }
  };

  const fromClient = async (
    event: VkEvent,
    eventKey: string,
    context: MessageContext,
    m: VkMessage,
    edited: boolean,
  ): Promise<InboundOutcome> => {
    // The community's own messages (its answers echoed as message_reply or out=1), group chats and
    // messages from other communities are nobody's client messages.
    if (context.isOutbox || context.peerId >= CHAT_PEER_OFFSET || context.senderId <= 0) return 'ignored';
    if (context.peerId !== context.senderId) return 'ignored';
    const userId = context.senderId;
    const peer = context.peerId;
    const key = m.id ? String(m.id) : `c${m.conversation_message_id}`;
    const conversationId = vkConversationId(userId);
    const mainId = vkMessageId(peer, key);
    const partId = (part: DomainPart) => (part.key === 'main' ? mainId : vkMessageId(peer, key, part.key));
    const actor: Actor = { kind: 'client', id: String(userId) };
    const at = new Date(((edited ? m.update_time : undefined) ?? m.date) * 1000).toISOString();
    const group = `vk:${peer}:${key}`;

    const reply = edited ? undefined : m.reply_message;
    const replyRef = reply
      ? channelKey({ chatId: peer, messageId: reply.id ? reply.id : `c${reply.conversation_message_id}` })
      : undefined;
    const { state } = await handler.reader.read(conversationId, {
      messageIds: [mainId],
      mediaGroups: [group],
      ...(replyRef ? { refs: [replyRef] } : {}),
      fresh: true,
    });
    // This VK message's parts as recorded so far (main, files), and the files they carry by VK ref.
    const recordedParts = [...state.messages.loaded()].filter(
      (x) => x.direction === 'incoming' && (x.messageId === mainId || x.mediaGroupId === group),
    );
    const known = new Map<string, Attachment>();
    for (const x of recordedParts)
      for (const a of x.content.attachments) {
        const ref = vkRefOf(a);
        if (ref && !known.has(ref)) known.set(ref, a);
      }
    const main = state.messages.get(mainId);
    if (edited && (!main || main.deleted)) return 'ignored'; // an edit of a message never recorded

    const parts = composeParts(context.text ?? '', await resolve(planMessage(m), known));
    const grouped = parts.length > 1 || recordedParts.some((x) => x.mediaGroupId === group);
    let received: CommandResult | undefined;
    const run = async (command: ConversationCommand, suffix: string) => {
      const result = await handler.execute(conversationId, command, {
        commandId: eventCommandId(event.group_id ?? groupId, eventKey, suffix || undefined),
        actor,
        occurredAt: at,
      });
      if (command.type === 'ReceiveClientMessage' && command.messageId === mainId) received = result;
      return result.alreadyHandled ? 'duplicate' : result.events.length > 0 ? 'recorded' : 'ignored';
    };
    const receive = (part: DomainPart, profileNow: ClientProfile, replyTo?: string): ConversationCommand => ({
      type: 'ReceiveClientMessage',
      conversationId,
      channel: 'vk',
      source: VK_SOURCE,
      clientId: String(userId),
      profile: profileNow,
      messageId: partId(part),
      content: part.content,
      ...(part.key === 'main' ? { channelMessage: { chatId: String(peer), messageId: key } } : {}),
      ...(replyTo ? { replyTo } : {}),
      ...(grouped ? { mediaGroupId: group } : {}),
      // The dialog's own numbering orders the copies in the topic (a message's parts share it).
      ...(typeof m.conversation_message_id === 'number' ? { sentOrder: m.conversation_message_id } : {}),
    });

    // Just after rating, the client's next text is the rating's comment (docs/design.md,
    // "Satisfaction (CSAT)"): recorded as such, not a message that reopens the conversation.
    if (!edited && parts.length === 1 && parts[0]!.key === 'main' && main === undefined) {
      const comment = await recordRatingComment(
        handler,
        csat,
        conversationId,
        parts[0]!.content,
        new Date(at),
        {
          commandId: eventCommandId(event.group_id ?? groupId, eventKey),
          actor,
        },
      );
      if (comment) return comment;
    }
    const outcomes: InboundOutcome[] = [];
    if (!edited) {
      // The client's language as VK reports it now: the latest decides what the bot writes in.
      const language = languageOf(context.clientInfo?.lang_id);
      const profileNow = state.started
        ? { ...state.profile, ...(language ? { languageCode: language } : {}) }
        : await profile(userId, context.clientInfo?.lang_id);
      const replyTo = replyRef ? state.messages.byRef(replyRef)?.messageId : undefined;
      for (const part of parts) {
        outcomes.push(
          await tolerant(() =>
            run(
              receive(part, profileNow, part.key === 'main' ? replyTo : undefined),
              part.key === 'main' ? '' : part.key,
            ),
          ),
        );
      }
      // Before VK is answered: a crash in between is repaired by its re-delivery.
      if (received)
        await options.autoReplies?.afterReceived(
          { conversationId, messageId: mainId, sentAt: new Date(at) },
          received,
        );
    } else {
      const wanted = new Set(parts.map(partId));
      for (const part of parts) {
        const id = partId(part);
        const existing = recordedParts.find((x) => x.messageId === id);
        const command: ConversationCommand =
          existing || part.key === 'main'
            ? { type: 'EditClientMessage', messageId: id, content: part.content }
            : receive(part, state.profile ?? {});
        if (existing?.deleted) continue;
        outcomes.push(await tolerant(() => run(command, part.key === 'main' ? '' : part.key)));
      }
      // A file the client removed from the message: its part goes too (the topic is told).
      for (const x of recordedParts) {
        if (x.messageId === mainId || wanted.has(x.messageId) || x.deleted) continue;
        outcomes.push(
          await tolerant(() =>
            run({ type: 'DeleteClientMessage', messageId: x.messageId }, `removed:${x.messageId}`),
          ),
        );
      }
    }
    if (outcomes.includes('recorded')) return 'recorded';
    if (outcomes.length > 0 && outcomes.every((o) => o === 'duplicate')) return 'duplicate';
    return outcomes.includes('duplicate') ? 'duplicate' : 'ignored';
  };

  const handle = async (event: VkEvent, eventKey: string): Promise<InboundOutcome> => {
    switch (event.type) {
      case 'message_new':
      case 'message_edit': {
        const payload = event.object as Record<string, unknown> | undefined;
        if (!payload || typeof payload !== 'object') return 'ignored';
        const message = (event.type === 'message_new' ? payload.message : payload) as VkMessage | undefined;
        if (!message || typeof message.peer_id !== 'number' || typeof message.from_id !== 'number') {
          return 'ignored';
        }
        const context = new MessageContext({
          api,
          upload: options.upload,
          payload: payload as never,
          groupId,
          updateType: event.type,
          source: UpdateSource.WEBHOOK,
        });
        return fromClient(event, eventKey, context, message, event.type === 'message_edit');
      }
      case 'message_event': {
        // A press of a callback button: only the rating's are topicdesk's (docs/design.md,
        // "Satisfaction (CSAT)"); its event_id names the command.
        const o = event.object as VkMessageEvent;
        const pressed = ratingPayloadOf(o.payload);
        if (!pressed || o.peer_id !== o.user_id) return 'ignored';
        return handleRatingPress({ handler, api, groupId, texts, csat, logger }, eventKey, o, pressed);
      }
      default:
        // message_reply is the community's own answer echoed back; message_allow/deny, typing and
        // the rest carry no client words.
        return 'ignored';
    }
  };

  return {
    handleEvent(event) {
      if (event.group_id !== undefined && Number(event.group_id) !== groupId)
        return Promise.resolve('ignored');
      try {
        checkEvent(event);
      } catch (error) {
        return Promise.reject(error);
      }
      // API versions before 5.103 have no event_id: the message and its edit time name the event.
      const o = (event.object ?? {}) as { message?: VkMessage } & Partial<VkMessage>;
      const m = o.message ?? o;
      const eventKey =
        event.event_id ??
        `${event.type}:${m.peer_id}:${m.id ?? m.conversation_message_id}:${m.update_time ?? m.date}`;
      const running = inFlight.get(eventKey);
      if (running) return running.then((outcome) => (outcome === 'recorded' ? 'duplicate' : outcome));
      const work = handle(event, eventKey).finally(() => inFlight.delete(eventKey));
      inFlight.set(eventKey, work);
      return work;
    },
  };
};
