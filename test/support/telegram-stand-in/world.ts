// The stand-in's state: the bot, private chats of users, one forum supergroup with its topics,
// every message with its full content, and stored files.
//
// Message ids follow Telegram: private chats (and basic groups) draw from ONE counter per bot
// account, so two users' chats never share an id; the supergroup has its own counter. A forum
// topic's message_thread_id is the id of its forum_topic_created service message.
import { randomBytes } from 'node:crypto';
import type { Chat, Message, PhotoSize, ReactionType, User, UserFromGetMe } from 'grammy/types';
import { errors } from './errors.ts';

export type FileKind =
  | 'photo'
  | 'document'
  | 'video'
  | 'audio'
  | 'voice'
  | 'video_note'
  | 'animation'
  | 'sticker';

export interface StoredFile {
  readonly file_id: string;
  readonly file_unique_id: string;
  readonly kind: FileKind;
  readonly data: Buffer;
  readonly file_path: string;
  readonly file_name?: string;
  readonly mime_type?: string;
  /** The object a message carries for this file (for a photo: the whole PhotoSize[] set). */
  media: unknown;
}

export interface ChatState {
  readonly chat: Chat.PrivateChat | Chat.SupergroupChat;
  readonly messages: Map<number, Message>;
  readonly user?: User;
  blocked: boolean;
  started: boolean;
}

export interface TopicState {
  readonly message_thread_id: number;
  name: string;
  icon_color: number;
  icon_custom_emoji_id?: string;
  closed: boolean;
  deleted: boolean;
  readonly creator: User;
  readonly creationMessage: Message;
}

export interface BotRights {
  status: 'administrator' | 'member';
  can_manage_topics: boolean;
  can_delete_messages: boolean;
  can_pin_messages: boolean;
}

export const TOPIC_ICON_COLORS = [7322096, 16766590, 13338331, 9367192, 16749490, 16478047] as const;

const FILE_PREFIX: Record<FileKind, string> = {
  photo: 'AgACAgIAAxkBAAI',
  document: 'BQACAgIAAxkBAAI',
  video: 'BAACAgIAAxkBAAI',
  audio: 'CQACAgIAAxkBAAI',
  voice: 'AwACAgIAAxkBAAI',
  video_note: 'DQACAgIAAxkBAAI',
  animation: 'CgACAgIAAxkBAAI',
  sticker: 'CAACAgIAAxkBAAI',
};
const FILE_DIR: Record<FileKind, [string, string]> = {
  photo: ['photos', 'jpg'],
  document: ['documents', 'dat'],
  video: ['videos', 'mp4'],
  audio: ['music', 'mp3'],
  voice: ['voice', 'oga'],
  video_note: ['video_notes', 'mp4'],
  animation: ['animations', 'mp4'],
  sticker: ['stickers', 'webp'],
};

const b64 = (bytes: number) => randomBytes(bytes).toString('base64url');

export class World {
  readonly chats = new Map<number, ChatState>();
  readonly users = new Map<number, User>();
  readonly groupMembers = new Map<number, 'creator' | 'administrator' | 'member'>();
  readonly topics = new Map<number, TopicState>();
  readonly files = new Map<string, StoredFile>();
  readonly filesByPath = new Map<string, StoredFile>();
  /** The bot's reaction per message (`chat/message`), while the message is there. */
  private readonly reactions = new Map<string, ReactionType[]>();
  readonly group: ChatState;
  /** The bot as a User inside messages (getMe's extra capability fields are not part of it). */
  readonly botUser: User;
  botRights: BotRights = {
    status: 'administrator',
    can_manage_topics: true,
    can_delete_messages: true,
    can_pin_messages: true,
  };
  private privateSeq = 0;
  private groupSeq = 1;
  private fileSeq = 0;
  private userSeq: number;
  private topicColor = 0;

  constructor(
    readonly bot: UserFromGetMe,
    groupChat: Chat.SupergroupChat,
    readonly nowMs: () => number,
    firstUserId: number,
  ) {
    this.userSeq = firstUserId;
    this.botUser = { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username };
    this.users.set(bot.id, this.botUser);
    this.group = { chat: groupChat, messages: new Map(), blocked: false, started: true };
    this.chats.set(groupChat.id, this.group);
    this.groupMembers.set(bot.id, 'administrator');
  }

  date(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  newUserId(): number {
    this.userSeq += 1 + (this.userSeq % 7);
    return this.userSeq;
  }

  addPrivateChat(user: User, started: boolean): ChatState {
    this.users.set(user.id, user);
    const chat: Chat.PrivateChat = { id: user.id, type: 'private', first_name: user.first_name };
    if (user.last_name) chat.last_name = user.last_name;
    if (user.username) chat.username = user.username;
    const state: ChatState = { chat, messages: new Map(), user, blocked: false, started };
    this.chats.set(user.id, state);
    return state;
  }

  isGroup(state: ChatState): boolean {
    return state === this.group;
  }

  nextMessageId(state: ChatState): number {
    return this.isGroup(state) ? ++this.groupSeq : ++this.privateSeq;
  }

  /** The chat a call addresses: unknown ids and @usernames of nobody → "chat not found". */
  resolveChat(chatId: number | string): ChatState {
    if (typeof chatId === 'string') {
      const name = chatId.replace(/^@/, '').toLowerCase();
      for (const state of this.chats.values())
        if (state.chat.username?.toLowerCase() === name && state.chat.type !== 'private') return state;
      throw errors.chatNotFound();
    }
    const state = this.chats.get(chatId);
    if (!state) throw errors.chatNotFound();
    return state;
  }

  /** A chat the bot can send to: private chats must have started the bot and not blocked it. */
  writableChat(chatId: number | string): ChatState {
    const state = this.resolveChat(chatId);
    if (state.chat.type === 'private') {
      if (state.blocked) throw errors.blocked();
      if (!state.started) throw errors.cantInitiate();
    }
    return state;
  }

  setReactions(state: ChatState, messageId: number, reactions: ReactionType[]): void {
    const key = `${state.chat.id}/${messageId}`;
    if (reactions.length === 0) this.reactions.delete(key);
    else this.reactions.set(key, reactions);
  }

  /** The bot's reactions on a message; none once the message is gone (deleted, or its topic). */
  reactionsOn(chatId: number, messageId: number): ReactionType[] {
    if (!this.chats.get(chatId)?.messages.has(messageId)) return [];
    return structuredClone(this.reactions.get(`${chatId}/${messageId}`) ?? []);
  }

  store(state: ChatState, message: Message): Message {
    state.messages.set(message.message_id, message);
    return message;
  }

  message(chatId: number, messageId: number): Message | undefined {
    return this.chats.get(chatId)?.messages.get(messageId);
  }

  /** A live topic by thread id, or "message thread not found". */
  liveTopic(threadId: number): TopicState {
    const topic = this.topics.get(threadId);
    if (!topic || topic.deleted) throw errors.threadNotFound();
    return topic;
  }

  createTopic(creator: User, name: string, iconColor?: number, iconEmoji?: string): TopicState {
    const id = this.nextMessageId(this.group);
    const color =
      iconColor ?? TOPIC_ICON_COLORS[this.topicColor++ % TOPIC_ICON_COLORS.length] ?? TOPIC_ICON_COLORS[0];
    const creationMessage = {
      message_id: id,
      message_thread_id: id,
      from: creator,
      chat: this.group.chat,
      date: this.date(),
      forum_topic_created: {
        name,
        icon_color: color,
        ...(iconEmoji ? { icon_custom_emoji_id: iconEmoji } : {}),
      },
      is_topic_message: true,
    } as Message;
    this.store(this.group, creationMessage);
    const topic: TopicState = {
      message_thread_id: id,
      name,
      icon_color: color,
      closed: false,
      deleted: false,
      creator,
      creationMessage,
    };
    if (iconEmoji) topic.icon_custom_emoji_id = iconEmoji;
    this.topics.set(id, topic);
    return topic;
  }

  /** Deleting a topic deletes every message in it, as in Telegram. */
  deleteTopic(threadId: number): void {
    const topic = this.topics.get(threadId);
    if (!topic) return;
    topic.deleted = true;
    for (const [id, m] of this.group.messages)
      if (m.message_thread_id === threadId) this.group.messages.delete(id);
  }

  storeFile(
    kind: FileKind,
    data: Buffer,
    meta: { file_name?: string; mime_type?: string; unique?: string } = {},
  ): StoredFile {
    const [dir, defaultExt] = FILE_DIR[kind];
    const ext = /\.([A-Za-z0-9]{1,8})$/.exec(meta.file_name ?? '')?.[1]?.toLowerCase() ?? defaultExt;
    const file: StoredFile = {
      file_id: `${FILE_PREFIX[kind]}${b64(6)}${b64(45)}`,
      file_unique_id: meta.unique ?? `${kind === 'photo' ? 'AQAD' : 'AgAD'}${b64(8)}`,
      kind,
      data,
      file_path: `${dir}/file_${this.fileSeq++}.${ext}`,
      ...(meta.file_name ? { file_name: meta.file_name } : {}),
      ...(meta.mime_type ? { mime_type: meta.mime_type } : {}),
      media: undefined,
    };
    this.files.set(file.file_id, file);
    this.filesByPath.set(file.file_path, file);
    return file;
  }

  /** A photo upload becomes up to five sizes (90, 320, 800, 1280, 2560 px on the long side). */
  storePhoto(data: Buffer, width?: number, height?: number): PhotoSize[] {
    const dims = (width && height ? { width, height } : undefined) ??
      imageSize(data) ?? { width: 1280, height: 960 };
    const longSide = Math.max(dims.width, dims.height);
    const sizes: PhotoSize[] = [];
    const files: StoredFile[] = [];
    for (const limit of [90, 320, 800, 1280, 2560]) {
      const scale = Math.min(1, limit / longSide);
      const w = Math.max(1, Math.round(dims.width * scale));
      const h = Math.max(1, Math.round(dims.height * scale));
      const last = scale === 1 || limit === 2560;
      const size = last ? data.length : Math.max(1, Math.round(data.length * scale * scale));
      const file = this.storeFile('photo', data, { mime_type: 'image/jpeg' });
      files.push(file);
      sizes.push({
        file_id: file.file_id,
        file_unique_id: file.file_unique_id,
        file_size: size,
        width: w,
        height: h,
      });
      if (last) break;
    }
    for (const f of files) f.media = sizes;
    return sizes;
  }
}

/** Width and height of a PNG, GIF or JPEG, read from its header. */
export const imageSize = (data: Buffer): { width: number; height: number } | undefined => {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47)
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  if (data.length >= 10 && data.toString('latin1', 0, 3) === 'GIF')
    return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) {
    let i = 2;
    while (i + 9 < data.length) {
      if (data[i] !== 0xff) return undefined;
      const marker = data[i + 1]!;
      const len = data.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
        return { height: data.readUInt16BE(i + 5), width: data.readUInt16BE(i + 7) };
      i += 2 + len;
    }
  }
  return undefined;
};
