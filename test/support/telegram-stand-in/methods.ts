// The Bot API methods the stand-in answers. Each handler validates like Telegram (same checks, same
// descriptions), changes the world and returns the method's result object.
import type {
  BotCommand,
  ChatMember,
  InlineKeyboardMarkup,
  InputMedia,
  Message,
  MessageId,
  MessageOrigin,
  ReplyParameters,
  Update,
  User,
  WebhookInfo,
} from 'grammy/types';
import { badRequest, errors } from './errors.ts';
import { formatText } from './formatting.ts';
import { type MediaMeta, mediaFields, resolveMedia } from './media.ts';
import type { UpdateQueue } from './queue.ts';
import { reactionList } from './reactions.ts';
import { Args } from './request.ts';
import type { ChatState, FileKind, TopicState, World } from './world.ts';

export interface WebhookState {
  url: string;
  secret_token?: string;
  max_connections?: number;
  allowed_updates?: string[];
  ip_address?: string;
  last_error_date?: number;
  last_error_message?: string;
}

/** A press of an inline button, as the stand-in sent it, and how the bot answered it. */
export interface Press {
  readonly id: string;
  readonly from: number;
  readonly chatId: number;
  readonly messageId: number;
  readonly data: string;
  answered: boolean;
  answer?: { text?: string; show_alert?: boolean; url?: string; cache_time?: number };
}

export interface StandInEnv {
  readonly world: World;
  /** Presses by callback query id, in the order they were made. */
  readonly presses: Map<string, Press>;
  readonly queue: UpdateQueue;
  webhook: WebhookState | undefined;
  readonly commands: Map<string, BotCommand[]>;
  /** Throws 429 when sending `count` messages to `chat` now would exceed the configured limits. */
  takeRate(chat: ChatState, count: number): void;
  hiddenForwards: Set<number>;
}

export interface CallContext {
  readonly env: StandInEnv;
  readonly args: Args;
  readonly signal: AbortSignal;
}

/** A result with a `description` next to it, as setWebhook/deleteWebhook answer. */
export class Described {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}

export type Handler = (ctx: CallContext) => unknown;

type Msg = Record<string, unknown>;

/** Everything a message can carry as its content, i.e. what copyMessage copies. */
const CONTENT_KEYS = [
  'text',
  'entities',
  'link_preview_options',
  'animation',
  'audio',
  'document',
  'photo',
  'sticker',
  'story',
  'video',
  'video_note',
  'voice',
  'caption',
  'caption_entities',
  'show_caption_above_media',
  'has_media_spoiler',
  'checklist',
  'contact',
  'dice',
  'game',
  'poll',
  'venue',
  'location',
] as const;
const MAIN_CONTENT = CONTENT_KEYS.filter(
  (k) =>
    ![
      'entities',
      'caption',
      'caption_entities',
      'show_caption_above_media',
      'has_media_spoiler',
      'link_preview_options',
    ].includes(k),
);

export const isServiceMessage = (m: Message) =>
  !MAIN_CONTENT.some((k) => (m as unknown as Msg)[k] !== undefined);

export const contentOf = (m: Message): Partial<Message> => {
  const out: Msg = {};
  for (const k of CONTENT_KEYS)
    if ((m as unknown as Msg)[k] !== undefined) out[k] = structuredClone((m as unknown as Msg)[k]);
  return out as Partial<Message>;
};

/** A message as it appears inside another message's reply_to_message (no nested reply). */
export const asReply = (m: Message): Message => {
  const { reply_to_message: _nested, ...rest } = structuredClone(m);
  return rest as Message;
};

export const originOf = (env: StandInEnv, m: Message): MessageOrigin => {
  if (m.forward_origin) return structuredClone(m.forward_origin);
  if (m.sender_chat) return { type: 'chat', sender_chat: m.sender_chat, date: m.date };
  const from = m.from as User;
  if (env.hiddenForwards.has(from.id))
    return {
      type: 'hidden_user',
      sender_user_name: [from.first_name, from.last_name].filter(Boolean).join(' '),
      date: m.date,
    };
  return { type: 'user', sender_user: from, date: m.date };
};

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

// ---- text and captions ----------------------------------------------------------------------------

const textContent = (args: Args): Partial<Message> => {
  const raw = args.str('text') ?? '';
  if (raw.trim() === '') throw errors.textEmpty();
  const f = formatText(raw, args.str('parse_mode'), args.json('entities'));
  if (f.text === '') throw errors.textEmpty();
  if (f.text.length > 4096) throw errors.textTooLong();
  const out: Msg = { text: f.text };
  if (f.entities.length > 0) out.entities = f.entities;
  const preview = args.json<Message['link_preview_options']>('link_preview_options');
  if (preview) out.link_preview_options = preview;
  return out as Partial<Message>;
};

const formatCaption = (raw: string | undefined, parseMode: string | undefined, entities: unknown) => {
  if (raw === undefined) return {};
  const f = formatText(raw, parseMode, entities);
  if (f.text.length > 1024) throw errors.captionTooLong();
  const out: Msg = {};
  if (f.text) out.caption = f.text;
  if (f.text && f.entities.length > 0) out.caption_entities = f.entities;
  return out as Partial<Message>;
};

const captionContent = (args: Args): Partial<Message> => ({
  ...formatCaption(args.str('caption'), args.str('parse_mode'), args.json('caption_entities')),
  ...(args.bool('show_caption_above_media') ? { show_caption_above_media: true } : {}),
});

/** Telegram's checks of an inline keyboard's buttons, with its descriptions. */
const checkInlineKeyboard = (markup: InlineKeyboardMarkup): void => {
  for (const row of markup.inline_keyboard) {
    if (!Array.isArray(row))
      throw badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
    for (const button of row) {
      const b = button as unknown as Record<string, unknown>;
      if (typeof b.text !== 'string' || b.text === '') throw badRequest('BUTTON_TEXT_INVALID');
      if (typeof b.callback_data === 'string') {
        if (b.callback_data === '' || Buffer.byteLength(b.callback_data) > 64)
          throw badRequest('BUTTON_DATA_INVALID');
      } else if (typeof b.url === 'string') {
        let protocol = '';
        try {
          protocol = new URL(b.url).protocol;
        } catch {
          throw badRequest(`inline keyboard button URL '${b.url}' is invalid: Wrong HTTP URL`);
        }
        if (!['http:', 'https:', 'tg:'].includes(protocol))
          throw badRequest(`inline keyboard button URL '${b.url}' is invalid: Unsupported URL protocol`);
      } else throw badRequest('text buttons are unallowed in the inline keyboard');
    }
  }
};

const replyMarkup = (args: Args): InlineKeyboardMarkup | undefined => {
  const markup = args.json<Record<string, unknown>>('reply_markup');
  if (!markup || !Array.isArray(markup.inline_keyboard)) return undefined;
  checkInlineKeyboard(markup as unknown as InlineKeyboardMarkup);
  return markup as unknown as InlineKeyboardMarkup;
};

// ---- where a message goes -------------------------------------------------------------------------

interface Target {
  state: ChatState;
  threadId?: number;
  replyTo?: Message;
  external?: Message;
}

const resolveTarget = (env: StandInEnv, args: Args): Target => {
  const { world } = env;
  const state = world.writableChat(args.chatId());
  let threadId = args.int('message_thread_id') || undefined;
  if (threadId !== undefined) {
    if (!world.isGroup(state)) throw errors.threadNotFound();
    world.liveTopic(threadId);
  }
  const rp: ReplyParameters | undefined =
    args.json<ReplyParameters>('reply_parameters') ??
    (args.has('reply_to_message_id')
      ? {
          message_id: args.int('reply_to_message_id') ?? 0,
          allow_sending_without_reply: args.bool('allow_sending_without_reply'),
        }
      : undefined);
  const target: Target = { state };
  if (rp?.message_id) {
    const replyChat =
      rp.chat_id !== undefined && rp.chat_id !== state.chat.id
        ? world.resolveChat(
            typeof rp.chat_id === 'string' && /^-?\d+$/.test(rp.chat_id) ? Number(rp.chat_id) : rp.chat_id,
          )
        : state;
    const m = replyChat.messages.get(rp.message_id);
    if (!m) {
      if (!rp.allow_sending_without_reply) throw errors.replyNotFound();
    } else if (replyChat === state) {
      target.replyTo = m;
      if (threadId === undefined && m.is_topic_message && m.message_thread_id) threadId = m.message_thread_id;
    } else target.external = m;
  }
  if (threadId !== undefined) target.threadId = threadId;
  return target;
};

/** Build, store and return a message the bot sends. */
const compose = (
  env: StandInEnv,
  target: Target,
  content: Partial<Message>,
  args: Args,
  extra: Msg = {},
): Message => {
  const { world } = env;
  const { state, threadId } = target;
  const m: Msg = { message_id: world.nextMessageId(state) };
  if (threadId !== undefined) m.message_thread_id = threadId;
  m.from = world.botUser;
  m.chat = state.chat;
  m.date = world.date();
  const reply =
    target.replyTo ?? (threadId !== undefined ? world.topics.get(threadId)?.creationMessage : undefined);
  if (reply) m.reply_to_message = asReply(reply);
  if (target.external) {
    const ext = target.external;
    m.external_reply = {
      origin: originOf(env, ext),
      chat: ext.chat,
      message_id: ext.message_id,
      ...contentOf(ext),
    };
  }
  Object.assign(m, content, extra);
  if (threadId !== undefined) m.is_topic_message = true;
  if (args.bool('protect_content')) m.has_protected_content = true;
  const markup = replyMarkup(args);
  if (markup) m.reply_markup = markup;
  return world.store(state, m as unknown as Message);
};

const send = async (
  env: StandInEnv,
  args: Args,
  content: () => Partial<Message> | Promise<Partial<Message>>,
): Promise<Message> => {
  const target = resolveTarget(env, args);
  const body = await content();
  env.takeRate(target.state, 1);
  return compose(env, target, body, args);
};

const mediaMeta = (args: Args): MediaMeta => {
  const meta: MediaMeta = {};
  for (const k of ['width', 'height', 'duration', 'length'] as const) {
    const v = args.int(k);
    if (v !== undefined) meta[k] = v;
  }
  for (const k of ['performer', 'title', 'emoji'] as const) {
    const v = args.str(k);
    if (v !== undefined) meta[k] = v;
  }
  return meta;
};

const sendMedia =
  (kind: FileKind, captionable = true): Handler =>
  ({ env, args }) =>
    send(env, args, async () => {
      const media = await resolveMedia(env.world, args.raw[kind], args.uploads, kind, kind, mediaMeta(args));
      return {
        ...mediaFields(kind, media),
        ...(captionable ? captionContent(args) : {}),
        ...(args.bool('has_spoiler') ? { has_media_spoiler: true } : {}),
      } as Partial<Message>;
    });

// ---- copying and forwarding -----------------------------------------------------------------------

const sourceMessage = (env: StandInEnv, args: Args, notFound: () => Error, id: number) => {
  const source = env.world.resolveChat(args.chatId('from_chat_id'));
  const m = source.messages.get(id);
  if (!m) throw notFound();
  return m;
};

const copyContent = (m: Message, args: Args, removeCaption: boolean): Partial<Message> => {
  if (isServiceMessage(m) || m.invoice || m.giveaway) throw errors.cantBeCopied();
  const content = contentOf(m);
  const captionable =
    !m.text && !m.sticker && !m.video_note && !m.poll && !m.dice && !m.location && !m.contact;
  if (captionable && (removeCaption || args.has('caption'))) {
    delete content.caption;
    delete content.caption_entities;
    if (!removeCaption) Object.assign(content, captionContent(args));
  }
  if (content.poll)
    content.poll = {
      ...content.poll,
      id: String(BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000))),
      total_voter_count: 0,
    };
  return content;
};

const copyMessage: Handler = ({ env, args }) => {
  const m = sourceMessage(env, args, errors.copyNotFound, args.requireInt('message_id'));
  const target = resolveTarget(env, args);
  const content = copyContent(m, args, false);
  env.takeRate(target.state, 1);
  const copy = compose(env, target, content, args);
  return { message_id: copy.message_id } satisfies MessageId;
};

const messageIds = (args: Args): number[] => {
  const ids = args.json<unknown>('message_ids');
  if (!Array.isArray(ids) || ids.length === 0) throw errors.empty('message_ids');
  if (ids.length > 100) throw badRequest('too many messages to copy');
  return ids.map((i) => Number(i));
};

/** copyMessages / forwardMessages: missing messages are skipped; albums stay albums. */
const batch =
  (forward: boolean): Handler =>
  ({ env, args }) => {
    const ids = messageIds(args);
    const source = env.world.resolveChat(args.chatId('from_chat_id'));
    const found = ids.map((id) => source.messages.get(id)).filter((m): m is Message => !!m);
    const usable = found.filter((m) => !isServiceMessage(m) && !(forward && m.has_protected_content));
    if (usable.length === 0) throw forward ? errors.forwardNotFound() : errors.copyNotFound();
    const target = resolveTarget(env, args);
    env.takeRate(target.state, usable.length);
    const groups = new Map<string, string>();
    return usable.map((m) => {
      const content = forward ? contentOf(m) : copyContent(m, args, args.bool('remove_caption'));
      const extra: Msg = {};
      if (m.media_group_id) {
        if (!groups.has(m.media_group_id)) groups.set(m.media_group_id, mediaGroupId());
        extra.media_group_id = groups.get(m.media_group_id);
      }
      if (forward) extra.forward_origin = originOf(env, m);
      return { message_id: compose(env, target, content, args, extra).message_id } satisfies MessageId;
    });
  };

const forwardMessage: Handler = ({ env, args }) => {
  const m = sourceMessage(env, args, errors.forwardNotFound, args.requireInt('message_id'));
  if (isServiceMessage(m)) throw errors.cantBeForwarded();
  if (m.has_protected_content) throw errors.cantBeForwarded();
  const target = resolveTarget(env, args);
  env.takeRate(target.state, 1);
  return compose(env, target, contentOf(m), args, { forward_origin: originOf(env, m) });
};

let groupSeq = 0;
const mediaGroupId = () =>
  `${13_600_000_000_000_000n + BigInt(Date.now()) * 1000n + BigInt(groupSeq++ % 1000)}`;

const sendMediaGroup: Handler = async ({ env, args }) => {
  const media = args.json<InputMedia[]>('media');
  if (!Array.isArray(media) || media.length < 2 || media.length > 10) throw errors.mediaGroupSize();
  const kinds = media.map((item) => item.type as string);
  for (const kind of kinds)
    if (!['photo', 'video', 'document', 'audio'].includes(kind))
      throw badRequest('wrong type of media in the media group');
  // Documents group only with documents and audio only with audio; photos and videos mix.
  for (const alone of ['document', 'audio'])
    if (kinds.includes(alone) && kinds.some((k) => k !== alone))
      throw badRequest(`${alone} can't be mixed with other media types`);
  const target = resolveTarget(env, args);
  const contents: Partial<Message>[] = [];
  for (const item of media) {
    const kind = item.type as FileKind;
    const meta: MediaMeta = {};
    const it = item as unknown as Record<string, unknown>;
    for (const k of ['width', 'height', 'duration'] as const)
      if (typeof it[k] === 'number') meta[k] = it[k] as number;
    for (const k of ['performer', 'title'] as const) if (typeof it[k] === 'string') meta[k] = it[k] as string;
    const value = typeof item.media === 'string' ? item.media : undefined;
    const resolved = await resolveMedia(env.world, value, args.uploads, kind, kind, meta);
    contents.push({
      ...mediaFields(kind, resolved),
      ...formatCaption(item.caption, item.parse_mode, item.caption_entities),
      ...('has_spoiler' in item && item.has_spoiler ? { has_media_spoiler: true } : {}),
    } as Partial<Message>);
  }
  env.takeRate(target.state, contents.length);
  const group = mediaGroupId();
  return contents.map((c) => compose(env, target, c, args, { media_group_id: group }));
};

// ---- editing and deleting -------------------------------------------------------------------------

const editable = (env: StandInEnv, args: Args): { state: ChatState; m: Message } => {
  if (args.has('inline_message_id')) throw badRequest('MESSAGE_ID_INVALID');
  const state = env.world.writableChat(args.chatId());
  const id = args.int('message_id');
  if (!id) throw badRequest('message identifier is not specified');
  const m = state.messages.get(id);
  if (!m) throw errors.editNotFound();
  if (m.from?.id !== env.world.bot.id || isServiceMessage(m) || m.forward_origin) throw errors.cantBeEdited();
  return { state, m };
};

const applyEdit = (env: StandInEnv, state: ChatState, m: Message, changes: Msg, args: Args): Message => {
  const markup = replyMarkup(args);
  const stored = m as unknown as Msg;
  const current: Msg = {};
  const next: Msg = {};
  for (const k of Object.keys(changes)) {
    current[k] = stored[k];
    next[k] = changes[k];
  }
  if (sameJson(current, next) && sameJson(m.reply_markup, markup)) throw errors.notModified();
  env.takeRate(state, 1);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete stored[k];
    else stored[k] = v;
  }
  if (markup) stored.reply_markup = markup;
  else delete stored.reply_markup;
  stored.edit_date = env.world.date();
  return m;
};

const editMessageText: Handler = ({ env, args }) => {
  const { state, m } = editable(env, args);
  if (m.text === undefined) throw errors.noTextToEdit();
  const { text, entities, link_preview_options } = textContent(args);
  return applyEdit(
    env,
    state,
    m,
    { text, entities, ...(link_preview_options ? { link_preview_options } : {}) },
    args,
  );
};

const editMessageCaption: Handler = ({ env, args }) => {
  const { state, m } = editable(env, args);
  if (
    m.text !== undefined ||
    isServiceMessage(m) ||
    m.sticker ||
    m.video_note ||
    m.poll ||
    m.dice ||
    m.location ||
    m.contact
  )
    throw errors.noCaptionToEdit();
  const { caption, caption_entities } = formatCaption(
    args.str('caption') ?? '',
    args.str('parse_mode'),
    args.json('caption_entities'),
  );
  return applyEdit(env, state, m, { caption, caption_entities }, args);
};

const editMessageReplyMarkup: Handler = ({ env, args }) => {
  const { state, m } = editable(env, args);
  return applyEdit(env, state, m, {}, args);
};

const deletable = (env: StandInEnv, state: ChatState, id: number): Message => {
  const m = state.messages.get(id);
  if (!m) throw errors.deleteNotFound();
  if (m.forum_topic_created) throw errors.cantBeDeleted();
  const world = env.world;
  if (world.isGroup(state)) {
    if (m.from?.id !== world.bot.id && !world.botRights.can_delete_messages) throw errors.cantBeDeleted();
  } else if (world.date() - m.date > 48 * 3600) throw errors.cantBeDeleted();
  return m;
};

const deleteMessage: Handler = ({ env, args }) => {
  const state = env.world.writableChat(args.chatId());
  const id = args.int('message_id');
  if (!id) throw badRequest('message identifier is not specified');
  deletable(env, state, id);
  state.messages.delete(id);
  return true;
};

const deleteMessages: Handler = ({ env, args }) => {
  const state = env.world.writableChat(args.chatId());
  for (const id of messageIds(args)) {
    try {
      deletable(env, state, id);
      state.messages.delete(id);
    } catch {
      // skipped, as Telegram does for messages that can't be deleted
    }
  }
  return true;
};

// ---- forum topics ---------------------------------------------------------------------------------

const forum = (env: StandInEnv, args: Args): ChatState => {
  const state = env.world.resolveChat(args.chatId());
  if (!env.world.isGroup(state) || !(state.chat.type === 'supergroup' && state.chat.is_forum))
    throw errors.notAForum();
  return state;
};

const cleanTopicName = (raw: string | undefined): string =>
  [...(raw ?? '').replace(/[\r\n\t]+/g, ' ').trim()].slice(0, 128).join('').trim();

const serviceInTopic = (env: StandInEnv, topic: TopicState, content: Msg): void => {
  const { world } = env;
  const m = {
    message_id: world.nextMessageId(world.group),
    message_thread_id: topic.message_thread_id,
    from: world.botUser,
    chat: world.group.chat,
    date: world.date(),
    reply_to_message: asReply(topic.creationMessage),
    ...content,
    is_topic_message: true,
  } as unknown as Message;
  world.store(world.group, m);
};

const managedTopic = (env: StandInEnv, args: Args): TopicState => {
  forum(env, args);
  const topic = env.world.topics.get(args.int('message_thread_id') ?? 0);
  if (!topic || topic.deleted) throw errors.topicIdInvalid();
  if (!env.world.botRights.can_manage_topics && topic.creator.id !== env.world.bot.id)
    throw errors.noManageTopicRights();
  return topic;
};

const createForumTopic: Handler = ({ env, args }) => {
  forum(env, args);
  if (!env.world.botRights.can_manage_topics) throw errors.noTopicRights();
  const name = cleanTopicName(args.str('name'));
  if (!name) throw errors.topicTitleEmpty();
  const topic = env.world.createTopic(
    env.world.botUser,
    name,
    args.int('icon_color'),
    args.str('icon_custom_emoji_id'),
  );
  return {
    message_thread_id: topic.message_thread_id,
    name: topic.name,
    icon_color: topic.icon_color,
    ...(topic.icon_custom_emoji_id ? { icon_custom_emoji_id: topic.icon_custom_emoji_id } : {}),
  };
};

const editForumTopic: Handler = ({ env, args }) => {
  const topic = managedTopic(env, args);
  const name = args.has('name') ? cleanTopicName(args.str('name')) : undefined;
  const emoji = args.str('icon_custom_emoji_id');
  const changes: Msg = {};
  if (name && name !== topic.name) changes.name = name;
  if (emoji !== undefined && emoji !== (topic.icon_custom_emoji_id ?? ''))
    changes.icon_custom_emoji_id = emoji;
  if (Object.keys(changes).length === 0) throw errors.topicNotModified();
  if (changes.name) topic.name = name!;
  if (changes.icon_custom_emoji_id !== undefined) {
    if (emoji) topic.icon_custom_emoji_id = emoji;
    else delete topic.icon_custom_emoji_id;
  }
  serviceInTopic(env, topic, { forum_topic_edited: changes });
  return true;
};

const toggleTopic =
  (closed: boolean): Handler =>
  ({ env, args }) => {
    const topic = managedTopic(env, args);
    if (topic.closed === closed) throw errors.topicNotModified();
    topic.closed = closed;
    serviceInTopic(env, topic, closed ? { forum_topic_closed: {} } : { forum_topic_reopened: {} });
    return true;
  };

const deleteForumTopic: Handler = ({ env, args }) => {
  const topic = managedTopic(env, args);
  env.world.deleteTopic(topic.message_thread_id);
  return true;
};

// ---- chats, members, bot settings -----------------------------------------------------------------

const acceptedGifts = {
  unlimited_gifts: true,
  limited_gifts: true,
  unique_gifts: true,
  premium_subscription: true,
  gifts_from_channels: true,
};

const getChat: Handler = ({ env, args }) => {
  const state = env.world.resolveChat(args.chatId());
  const base = {
    ...state.chat,
    accent_color_id: 0,
    max_reaction_count: 11,
    accepted_gift_types: acceptedGifts,
  };
  if (state.chat.type === 'private') return base;
  return {
    ...base,
    permissions: {
      can_send_messages: true,
      can_send_audios: true,
      can_send_documents: true,
      can_send_photos: true,
      can_send_videos: true,
      can_send_video_notes: true,
      can_send_voice_notes: true,
      can_send_polls: true,
      can_send_other_messages: true,
      can_add_web_page_previews: true,
      can_change_info: false,
      can_invite_users: true,
      can_pin_messages: false,
      can_manage_topics: false,
    },
  };
};

const getChatMember: Handler = ({ env, args }): ChatMember => {
  const { world } = env;
  const state = world.resolveChat(args.chatId());
  const userId = args.int('user_id');
  const user = userId === undefined ? undefined : world.users.get(userId);
  if (!user) throw errors.userNotFound();
  if (!world.isGroup(state)) {
    if (user.id === world.bot.id || user.id === state.chat.id) return { status: 'member', user };
    throw errors.userNotFound();
  }
  if (user.id === world.bot.id) {
    const r = world.botRights;
    if (r.status === 'member') return { status: 'member', user };
    return {
      status: 'administrator',
      user,
      can_be_edited: false,
      is_anonymous: false,
      can_manage_chat: true,
      can_delete_messages: r.can_delete_messages,
      can_manage_video_chats: true,
      can_restrict_members: true,
      can_promote_members: false,
      can_change_info: true,
      can_invite_users: true,
      can_post_stories: false,
      can_edit_stories: false,
      can_delete_stories: false,
      can_pin_messages: r.can_pin_messages,
      can_manage_topics: r.can_manage_topics,
      can_send_welcome_messages: false,
    };
  }
  const status = world.groupMembers.get(user.id);
  if (status === 'creator') return { status: 'creator', user, is_anonymous: false };
  if (status) return { status: 'member', user };
  return { status: 'left', user };
};

const commandsKey = (args: Args) =>
  `${JSON.stringify(args.json('scope') ?? { type: 'default' })}|${args.str('language_code') ?? ''}`;

const setMyCommands: Handler = ({ env, args }) => {
  const commands = args.json<BotCommand[]>('commands');
  if (!Array.isArray(commands)) throw errors.empty('commands');
  if (commands.length > 100) throw badRequest('too many commands');
  for (const c of commands) {
    if (typeof c?.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw errors.commandInvalid();
    if (typeof c.description !== 'string' || c.description.trim() === '' || c.description.length > 256)
      throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
  }
  env.commands.set(commandsKey(args), commands);
  return true;
};

// ---- updates and webhooks -------------------------------------------------------------------------

const getUpdates: Handler = ({ env, args, signal }): Promise<Update[]> => {
  if (env.webhook) throw errors.webhookActive();
  const params: { offset?: number; limit?: number; timeout?: number; allowed_updates?: string[] } = {};
  const offset = args.int('offset');
  if (offset !== undefined) params.offset = offset;
  const limit = args.int('limit');
  if (limit !== undefined) params.limit = limit;
  const timeout = args.int('timeout');
  if (timeout !== undefined) params.timeout = timeout;
  const allowed = args.json<string[]>('allowed_updates');
  if (allowed) params.allowed_updates = allowed;
  return env.queue.get(params, signal);
};

const setWebhook: Handler = ({ env, args }) => {
  const url = args.str('url') ?? '';
  if (url === '') {
    const had = env.webhook !== undefined;
    env.webhook = undefined;
    return new Described(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
  }
  if (!/^https?:$/.test(parsed.protocol))
    throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
  const secret = args.str('secret_token');
  if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret))
    throw badRequest('bad webhook: secret token contains unallowed characters');
  const same = env.webhook?.url === url && env.webhook.secret_token === secret;
  if (args.bool('drop_pending_updates')) env.queue.drop();
  const hook: WebhookState = { url };
  if (secret) hook.secret_token = secret;
  const max = args.int('max_connections');
  if (max !== undefined) hook.max_connections = max;
  const allowed = args.json<string[]>('allowed_updates') ?? env.webhook?.allowed_updates;
  if (allowed) hook.allowed_updates = allowed;
  const ip = args.str('ip_address');
  if (ip) hook.ip_address = ip;
  env.webhook = hook;
  return new Described(true, same ? 'Webhook is already set' : 'Webhook was set');
};

const deleteWebhook: Handler = ({ env, args }) => {
  if (args.bool('drop_pending_updates')) env.queue.drop();
  const had = env.webhook !== undefined;
  env.webhook = undefined;
  return new Described(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
};

const getWebhookInfo: Handler = ({ env }): WebhookInfo => {
  const hook = env.webhook;
  const info: WebhookInfo = {
    url: hook?.url ?? '',
    has_custom_certificate: false,
    pending_update_count: env.queue.size,
  };
  if (hook?.ip_address) info.ip_address = hook.ip_address;
  if (hook?.last_error_date) info.last_error_date = hook.last_error_date;
  if (hook?.last_error_message) info.last_error_message = hook.last_error_message;
  if (hook) info.max_connections = hook.max_connections ?? 40;
  if (hook?.allowed_updates) info.allowed_updates = hook.allowed_updates as WebhookInfo['allowed_updates'];
  return info;
};

// ---- other message kinds --------------------------------------------------------------------------

const DICE_MAX: Record<string, number> = { '🎲': 6, '🎯': 6, '🎳': 6, '🏀': 5, '⚽': 5, '🎰': 64 };

const pollOptionText = (o: unknown): string =>
  typeof o === 'string'
    ? o
    : typeof o === 'object' && o && 'text' in o
      ? String((o as { text: unknown }).text)
      : '';

const sendPoll: Handler = ({ env, args }) =>
  send(env, args, () => {
    const question = (args.str('question') ?? '').trim();
    if (!question) throw errors.pollQuestionEmpty();
    const options = args.json<unknown[]>('options');
    if (!Array.isArray(options) || options.length < 2) throw errors.pollOptions();
    if (options.length > 12) throw badRequest('poll can have at most 12 options');
    const type = args.str('type') === 'quiz' ? 'quiz' : 'regular';
    const correct = args.int('correct_option_id');
    const poll: Msg = {
      id: String(
        5_000_000_000_000_000_000n + BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)),
      ),
      question,
      options: options.map((o, i) => ({ persistent_id: String(i), text: pollOptionText(o), voter_count: 0 })),
      total_voter_count: 0,
      is_closed: args.bool('is_closed'),
      is_anonymous: args.has('is_anonymous') ? args.bool('is_anonymous') : true,
      type,
      allows_multiple_answers: args.bool('allows_multiple_answers'),
      allows_revoting: true,
      members_only: false,
    };
    if (type === 'quiz' && correct !== undefined) poll.correct_option_ids = [correct];
    const explanation = args.str('explanation');
    if (explanation) poll.explanation = explanation;
    return { poll } as unknown as Partial<Message>;
  });

const location = (args: Args): Message['location'] => {
  const latitude = args.num('latitude');
  const longitude = args.num('longitude');
  if (latitude === undefined || longitude === undefined)
    throw badRequest('wrong latitude or longitude specified');
  const loc: Msg = { latitude, longitude };
  for (const k of ['horizontal_accuracy', 'live_period', 'heading', 'proximity_alert_radius']) {
    const v = args.num(k);
    if (v !== undefined) loc[k] = v;
  }
  return loc as unknown as Message['location'];
};

/**
 * Custom emoji allowed as topic icons (getForumTopicIconStickers), a few of Telegram's emoji with ids
 * of the stand-in's own; icon_custom_emoji_id is not checked against them.
 */
export const TOPIC_ICON_STICKERS = [
  ['📰', '5434144690511290129'],
  ['💡', '5312536423851630001'],
  ['❗️', '5379748062124056162'],
  ['💬', '5417915203100613993'],
  ['✅', '5237699328843200968'],
  ['🔥', '5312241539987020022'],
].map(([emoji, id]) => ({
  file_id: `CAACAgIAAxUAAWT${id}`,
  file_unique_id: `AgAD${id}`,
  type: 'custom_emoji',
  width: 512,
  height: 512,
  is_animated: false,
  is_video: false,
  emoji,
  set_name: 'Topics',
  custom_emoji_id: id,
}));

// ---- reactions ------------------------------------------------------------------------------------

/** The bot's reaction on a message: refused for a message that is not there or a service message. */
const setMessageReaction: Handler = ({ env, args }) => {
  const list = reactionList(args.json<unknown>('reaction'));
  const state = env.world.writableChat(args.chatId());
  const id = args.int('message_id');
  const m = id !== undefined && id > 0 ? state.messages.get(id) : undefined;
  if (!m) throw badRequest('message to react not found');
  if (isServiceMessage(m)) throw badRequest('REACTION_INVALID');
  env.world.setReactions(state, m.message_id, list);
  return true;
};

// ---- the table ------------------------------------------------------------------------------------

const ok: Handler = () => true;

export const methods: Record<string, Handler> = {
  getMe: ({ env }) => env.world.bot,
  logOut: ok,
  close: ok,
  getUpdates,
  setWebhook,
  deleteWebhook,
  getWebhookInfo,
  getChat,
  getChatMember,
  getChatAdministrators: (ctx) => {
    forum(ctx.env, ctx.args);
    const args = new Args({ ...ctx.args.raw, user_id: ctx.env.world.bot.id }, ctx.args.uploads);
    return [getChatMember({ ...ctx, args })];
  },
  createForumTopic,
  editForumTopic,
  closeForumTopic: toggleTopic(true),
  reopenForumTopic: toggleTopic(false),
  deleteForumTopic,
  unpinAllForumTopicMessages: ({ env, args }) => {
    managedTopic(env, args);
    return true;
  },
  sendMessage: ({ env, args }) => send(env, args, () => textContent(args)),
  copyMessage,
  copyMessages: batch(false),
  forwardMessage,
  forwardMessages: batch(true),
  sendPhoto: sendMedia('photo'),
  sendDocument: sendMedia('document'),
  sendVideo: sendMedia('video'),
  sendAudio: sendMedia('audio'),
  sendVoice: sendMedia('voice'),
  sendVideoNote: sendMedia('video_note', false),
  sendAnimation: sendMedia('animation'),
  sendSticker: sendMedia('sticker', false),
  sendMediaGroup,
  sendLocation: ({ env, args }) => send(env, args, () => ({ location: location(args) })),
  sendVenue: ({ env, args }) =>
    send(env, args, () => {
      const loc = location(args)!;
      const title = args.str('title');
      const address = args.str('address');
      if (!title) throw errors.empty('title');
      if (!address) throw errors.empty('address');
      const venue: Msg = { location: loc, title, address };
      for (const k of ['foursquare_id', 'foursquare_type', 'google_place_id', 'google_place_type']) {
        const v = args.str(k);
        if (v) venue[k] = v;
      }
      return { venue, location: loc } as unknown as Partial<Message>;
    }),
  sendContact: ({ env, args }) =>
    send(env, args, () => {
      const phone = args.str('phone_number');
      const first = args.str('first_name');
      if (!phone) throw badRequest('phone number is empty');
      if (!first) throw badRequest('first name is empty');
      const contact: Msg = { phone_number: phone, first_name: first };
      const last = args.str('last_name');
      if (last) contact.last_name = last;
      const vcard = args.str('vcard');
      if (vcard) contact.vcard = vcard;
      return { contact } as unknown as Partial<Message>;
    }),
  sendPoll,
  sendDice: ({ env, args }) =>
    send(env, args, () => {
      const emoji = args.str('emoji') ?? '🎲';
      const max = DICE_MAX[emoji];
      if (!max) throw badRequest('emoji not supported');
      return { dice: { emoji, value: 1 + Math.floor(Math.random() * max) } };
    }),
  sendChatAction: ({ env, args }) => {
    resolveTarget(env, args);
    return true;
  },
  editMessageText,
  editMessageCaption,
  editMessageReplyMarkup,
  deleteMessage,
  deleteMessages,
  pinChatMessage: ok,
  unpinChatMessage: ok,
  setMessageReaction,
  answerCallbackQuery: ({ env, args }) => {
    const press = env.presses.get(args.str('callback_query_id') ?? '');
    // Telegram answers the same for an unknown id, a second answer and one after its time ran out.
    if (!press || press.answered)
      throw badRequest('query is too old and response timeout expired or query ID is invalid');
    const text = args.str('text');
    if (text !== undefined && text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
    press.answered = true;
    press.answer = {
      ...(text !== undefined ? { text } : {}),
      ...(args.bool('show_alert') ? { show_alert: true } : {}),
      ...(args.str('url') ? { url: args.str('url')! } : {}),
      ...(args.int('cache_time') !== undefined ? { cache_time: args.int('cache_time')! } : {}),
    };
    return true;
  },
  getForumTopicIconStickers: () => TOPIC_ICON_STICKERS,
  leaveChat: ok,
  getFile: ({ env, args }) => {
    const file = env.world.files.get(args.str('file_id') ?? '');
    if (!file) throw errors.invalidFileId();
    if (file.data.length > 20 * 1024 * 1024) throw errors.fileTooBig();
    return {
      file_id: file.file_id,
      file_unique_id: file.file_unique_id,
      file_size: file.data.length,
      file_path: file.file_path,
    };
  },
  setMyCommands,
  getMyCommands: ({ env, args }) => env.commands.get(commandsKey(args)) ?? [],
  deleteMyCommands: ({ env, args }) => {
    env.commands.delete(commandsKey(args));
    return true;
  },
  setMyName: ok,
  setMyDescription: ok,
  setMyShortDescription: ok,
  setChatMenuButton: ok,
};

/** Case-insensitive lookup, as the Bot API resolves method names. */
const lower = new Map(
  Object.entries(methods).map(([name, handler]) => [name.toLowerCase(), { name, handler }]),
);
export const findMethod = (name: string) => lower.get(name.toLowerCase());
