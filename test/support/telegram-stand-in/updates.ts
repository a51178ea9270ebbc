// Update builders: real Telegram Update objects for what users and managers do, with increasing
// update_id. Every message they describe is also stored in the world, so the bot can reply to it,
// copy it, forward it, and fetch its files.
import type {
  Chat,
  Contact,
  Dice,
  Location,
  Message,
  MessageEntity,
  MessageOrigin,
  Update,
  User,
  Venue,
} from 'grammy/types';
import { formatText } from './formatting.ts';
import { type MediaMeta, mediaFields, storeMedia } from './media.ts';
import { asReply, type StandInEnv } from './methods.ts';
import type { ChatState, FileKind, TopicState, World } from './world.ts';

export interface UserInit {
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: true;
  /** Fixed id; otherwise a fresh realistic one. */
  id?: number;
  /** The user has pressed Start (default true); otherwise the bot can't initiate a conversation. */
  started?: boolean;
  /** The user hides their account in forwards (forward_origin becomes hidden_user). */
  hide_forwards?: boolean;
}

export interface StandInUser {
  readonly id: number;
  readonly user: User;
  readonly chat: Chat.PrivateChat;
}

/** A file in an incoming message: `true` for placeholder bytes, or bytes/metadata, or an existing file_id. */
export type MediaInput = true | (MediaMeta & { data?: Uint8Array | string; file_id?: string });

export interface IncomingContent {
  text?: string;
  entities?: MessageEntity[];
  /** Convenience: write the text/caption with markup, as a client's formatting would produce. */
  parse_mode?: 'HTML' | 'MarkdownV2';
  caption?: string;
  caption_entities?: MessageEntity[];
  photo?: MediaInput;
  document?: MediaInput;
  video?: MediaInput;
  audio?: MediaInput;
  voice?: MediaInput;
  video_note?: MediaInput;
  animation?: MediaInput;
  sticker?: MediaInput;
  location?: Location;
  venue?: Venue;
  contact?: Contact;
  poll?: { question: string; options: string[]; type?: 'regular' | 'quiz'; is_anonymous?: boolean };
  dice?: Dice;
  media_group_id?: string;
  forward_origin?: MessageOrigin;
  has_media_spoiler?: true;
}

export interface IncomingOptions {
  reply_to_message_id?: number;
  /** Unix seconds; defaults to now. */
  date?: number;
}

const MEDIA_KINDS: FileKind[] = [
  'photo',
  'document',
  'video',
  'audio',
  'voice',
  'video_note',
  'animation',
  'sticker',
];

type Who = User | StandInUser;
const userOf = (who: Who): User => ('user' in who ? who.user : who);

export class UpdateBuilders {
  private updateSeq: number;
  private pollSeq = 0;

  constructor(
    private readonly env: StandInEnv,
    firstUpdateId: number,
  ) {
    this.updateSeq = firstUpdateId - 1;
  }

  private get world(): World {
    return this.env.world;
  }

  nextUpdateId(): number {
    return ++this.updateSeq;
  }

  // ---- people -------------------------------------------------------------------------------------

  addUser(init: UserInit): StandInUser {
    const user: User = { id: init.id ?? this.world.newUserId(), is_bot: false, first_name: init.first_name };
    if (init.last_name) user.last_name = init.last_name;
    if (init.username) user.username = init.username;
    if (init.language_code) user.language_code = init.language_code;
    if (init.is_premium) user.is_premium = true;
    const state = this.world.addPrivateChat(user, init.started ?? true);
    if (init.hide_forwards) this.env.hiddenForwards.add(user.id);
    return { id: user.id, user, chat: state.chat as Chat.PrivateChat };
  }

  addManager(
    init: Omit<UserInit, 'started' | 'hide_forwards'>,
    status: 'member' | 'creator' = 'member',
  ): User {
    const user: User = { id: init.id ?? this.world.newUserId(), is_bot: false, first_name: init.first_name };
    if (init.last_name) user.last_name = init.last_name;
    if (init.username) user.username = init.username;
    if (init.language_code) user.language_code = init.language_code;
    this.world.users.set(user.id, user);
    this.world.groupMembers.set(user.id, status);
    return user;
  }

  addOtherBot(init: { first_name: string; username: string; id?: number }): User {
    const user: User = {
      id: init.id ?? this.world.newUserId(),
      is_bot: true,
      first_name: init.first_name,
      username: init.username,
    };
    this.world.users.set(user.id, user);
    this.world.groupMembers.set(user.id, 'member');
    return user;
  }

  // ---- content ------------------------------------------------------------------------------------

  private media(kind: FileKind, input: MediaInput): Partial<Message> {
    const spec = input === true ? {} : input;
    if (spec.file_id) {
      const file = this.world.files.get(spec.file_id);
      if (!file) throw new Error(`stand-in: no stored file ${spec.file_id}`);
      return mediaFields(file.kind, file.media);
    }
    const { data, file_id: _f, ...meta } = spec;
    const bytes =
      data === undefined
        ? Buffer.from(`stand-in ${kind} ${this.pollSeq++}`)
        : Buffer.from(data as Uint8Array | string);
    if (kind === 'photo' && data === undefined) {
      meta.width ??= 1280;
      meta.height ??= 960;
    }
    return mediaFields(kind, storeMedia(this.world, kind, bytes, meta));
  }

  private content(c: IncomingContent): Partial<Message> {
    const out: Record<string, unknown> = {};
    if (c.text !== undefined) {
      const f = formatText(c.text, c.entities ? undefined : c.parse_mode, c.entities);
      out.text = f.text;
      if (f.entities.length > 0) out.entities = f.entities;
    }
    for (const kind of MEDIA_KINDS) {
      const input = c[kind];
      if (input !== undefined) Object.assign(out, this.media(kind, input));
    }
    if (c.caption !== undefined) {
      const f = formatText(c.caption, c.caption_entities ? undefined : c.parse_mode, c.caption_entities);
      if (f.text) out.caption = f.text;
      if (f.entities.length > 0) out.caption_entities = f.entities;
    }
    if (c.has_media_spoiler) out.has_media_spoiler = true;
    if (c.venue) {
      out.venue = c.venue;
      out.location = c.venue.location;
    }
    if (c.location) out.location = c.location;
    if (c.contact) out.contact = c.contact;
    if (c.dice) out.dice = c.dice;
    if (c.poll)
      out.poll = {
        id: String(5_100_000_000_000_000_000n + BigInt(this.pollSeq++)),
        question: c.poll.question,
        options: c.poll.options.map((text, i) => ({ persistent_id: String(i), text, voter_count: 0 })),
        total_voter_count: 0,
        is_closed: false,
        is_anonymous: c.poll.is_anonymous ?? true,
        type: c.poll.type ?? 'regular',
        allows_multiple_answers: false,
        allows_revoting: true,
        members_only: false,
      };
    if (c.media_group_id) out.media_group_id = c.media_group_id;
    if (c.forward_origin) out.forward_origin = c.forward_origin;
    return out as Partial<Message>;
  }

  private store(
    state: ChatState,
    from: User,
    content: Partial<Message>,
    opts: IncomingOptions,
    thread?: TopicState,
  ): Message {
    const m: Record<string, unknown> = { message_id: this.world.nextMessageId(state) };
    if (thread) m.message_thread_id = thread.message_thread_id;
    m.from = from;
    m.chat = state.chat;
    m.date = opts.date ?? this.world.date();
    let reply: Message | undefined;
    if (opts.reply_to_message_id !== undefined) {
      reply = state.messages.get(opts.reply_to_message_id);
      if (!reply)
        throw new Error(
          `stand-in: no message ${opts.reply_to_message_id} in chat ${state.chat.id} to reply to`,
        );
    } else if (thread) reply = thread.creationMessage;
    if (reply) m.reply_to_message = asReply(reply);
    Object.assign(m, content);
    if (thread) m.is_topic_message = true;
    return this.world.store(state, m as unknown as Message);
  }

  private messageUpdate(message: Message, key: 'message' | 'edited_message' = 'message'): Update {
    return { update_id: this.nextUpdateId(), [key]: structuredClone(message) } as Update;
  }

  private privateChat(who: Who): ChatState {
    const user = userOf(who);
    const state = this.world.chats.get(user.id) ?? this.world.addPrivateChat(user, true);
    state.started = true;
    return state;
  }

  private topic(threadId: number): TopicState {
    const topic = this.world.topics.get(threadId);
    if (!topic || topic.deleted)
      throw new Error(`stand-in: topic ${threadId} does not exist (or was deleted)`);
    return topic;
  }

  private member(who: Who): User {
    const user = userOf(who);
    this.world.users.set(user.id, user);
    if (!this.world.groupMembers.has(user.id)) this.world.groupMembers.set(user.id, 'member');
    return user;
  }

  // ---- private chat ---------------------------------------------------------------------------------

  /** A user writes to the bot (a user who had blocked the bot unblocks it by writing, as in Telegram). */
  privateMessage(who: Who, content: IncomingContent, opts: IncomingOptions = {}): Update {
    const state = this.privateChat(who);
    state.blocked = false;
    return this.messageUpdate(this.store(state, userOf(who), this.content(content), opts));
  }

  /** An album: one update per item, sharing a media_group_id. */
  privateAlbum(who: Who, items: IncomingContent[], opts: IncomingOptions = {}): Update[] {
    const group = `${13_700_000_000_000_000n + BigInt(Date.now()) * 100n + BigInt(this.pollSeq++ % 100)}`;
    return items.map((item) => this.privateMessage(who, { ...item, media_group_id: group }, opts));
  }

  /** The user edits a message they sent earlier; the update carries the whole edited message. */
  editedPrivateMessage(
    who: Who,
    messageId: number,
    changes: IncomingContent,
    opts: { date?: number } = {},
  ): Update {
    return this.edit(this.privateChat(who), messageId, changes, opts);
  }

  /** The user blocks the bot: later sends to them fail with 403; returns the my_chat_member update. */
  botBlockedBy(who: Who): Update {
    const state = this.privateChat(who);
    state.blocked = true;
    return this.memberChange(who, state, 'member', 'kicked');
  }

  botUnblockedBy(who: Who): Update {
    const state = this.privateChat(who);
    state.blocked = false;
    return this.memberChange(who, state, 'kicked', 'member');
  }

  private memberChange(
    who: Who,
    state: ChatState,
    from: 'member' | 'kicked',
    to: 'member' | 'kicked',
  ): Update {
    const bot = this.world.botUser;
    const status = (s: 'member' | 'kicked') =>
      s === 'kicked'
        ? { status: 'kicked' as const, user: bot, until_date: 0 }
        : { status: 'member' as const, user: bot };
    return {
      update_id: this.nextUpdateId(),
      my_chat_member: {
        chat: state.chat,
        from: userOf(who),
        date: this.world.date(),
        old_chat_member: status(from),
        new_chat_member: status(to),
      },
    };
  }

  // ---- the support group ------------------------------------------------------------------------------

  /** A manager writes inside a topic (is_topic_message, reply_to_message = the topic's creation message). */
  groupMessage(who: Who, threadId: number, content: IncomingContent, opts: IncomingOptions = {}): Update {
    const from = this.member(who);
    return this.messageUpdate(
      this.store(this.world.group, from, this.content(content), opts, this.topic(threadId)),
    );
  }

  /** A message in the General topic: no message_thread_id, no is_topic_message. */
  generalMessage(who: Who, content: IncomingContent, opts: IncomingOptions = {}): Update {
    const from = this.member(who);
    return this.messageUpdate(this.store(this.world.group, from, this.content(content), opts));
  }

  /** Another bot's message in a topic (or in General when threadId is undefined). */
  otherBotMessage(bot: User, threadId: number | undefined, content: IncomingContent): Update {
    if (!bot.is_bot) throw new Error('stand-in: otherBotMessage needs a bot user (addOtherBot)');
    const from = this.member(bot);
    const thread = threadId === undefined ? undefined : this.topic(threadId);
    return this.messageUpdate(this.store(this.world.group, from, this.content(content), {}, thread));
  }

  editedGroupMessage(
    who: Who,
    messageId: number,
    changes: IncomingContent,
    opts: { date?: number } = {},
  ): Update {
    const m = this.world.group.messages.get(messageId);
    if (!m || m.from?.id !== userOf(who).id)
      throw new Error(`stand-in: no message ${messageId} from ${userOf(who).id} in the group`);
    return this.edit(this.world.group, messageId, changes, opts);
  }

  private edit(
    state: ChatState,
    messageId: number,
    changes: IncomingContent,
    opts: { date?: number },
  ): Update {
    const m = state.messages.get(messageId) as unknown as Record<string, unknown> | undefined;
    if (!m) throw new Error(`stand-in: no message ${messageId} in chat ${state.chat.id}`);
    if (changes.text !== undefined) delete m.entities;
    if (changes.caption !== undefined) delete m.caption_entities;
    Object.assign(m, this.content(changes));
    if (changes.caption === '') delete m.caption;
    m.edit_date = Math.max((m.date as number) + 1, opts.date ?? this.world.date());
    return this.messageUpdate(m as unknown as Message, 'edited_message');
  }

  /** A manager creates a topic by hand: the forum_topic_created service message. */
  topicCreatedByManager(who: Who, name: string, iconColor?: number): { update: Update; threadId: number } {
    const from = this.member(who);
    const topic = this.world.createTopic(from, name, iconColor);
    return { update: this.messageUpdate(topic.creationMessage), threadId: topic.message_thread_id };
  }

  /**
   * A topic the bot opened through createForumTopic, as the app would have it opened — without the
   * app knowing (a stand-in for the moment between the call's answer and the app recording it).
   */
  topicCreatedByBot(name: string): number {
    return this.world.createTopic(this.world.botUser, name).message_thread_id;
  }

  topicClosedByManager(who: Who, threadId: number): Update {
    const topic = this.topic(threadId);
    topic.closed = true;
    return this.topicService(who, topic, { forum_topic_closed: {} });
  }

  topicReopenedByManager(who: Who, threadId: number): Update {
    const topic = this.topic(threadId);
    topic.closed = false;
    return this.topicService(who, topic, { forum_topic_reopened: {} });
  }

  private topicService(who: Who, topic: TopicState, content: Record<string, unknown>): Update {
    const from = this.member(who);
    return this.messageUpdate(this.store(this.world.group, from, content as Partial<Message>, {}, topic));
  }

  /**
   * Someone presses an inline button of a message: the callback_query update Telegram sends, with the
   * message as it stands (its buttons included). The button is found by its callback_data; a message
   * without such a button is a mistake in the test. The press waits for answerCallbackQuery.
   */
  pressButton(who: Who, chatId: number, messageId: number, data: string): Update {
    const user = userOf(who);
    const message = this.world.message(chatId, messageId);
    if (!message) throw new Error(`stand-in: no message ${messageId} in chat ${chatId}`);
    const buttons = message.reply_markup?.inline_keyboard.flat() ?? [];
    if (!buttons.some((b) => 'callback_data' in b && b.callback_data === data))
      throw new Error(`stand-in: message ${messageId} has no button with callback_data "${data}"`);
    this.world.users.set(user.id, user);
    const id = `${BigInt(user.id) * 1000n + BigInt(this.pollSeq++)}`;
    this.env.presses.set(id, { id, from: user.id, chatId, messageId, data, answered: false });
    return {
      update_id: this.nextUpdateId(),
      callback_query: {
        id,
        from: user,
        message: structuredClone(message),
        chat_instance: String(-chatId * 7),
        data,
      },
    } as Update;
  }

  /** `by` adds people to the support group (a service message in General). */
  newChatMembers(who: Who, users: User[]): Update {
    const from = this.member(who);
    for (const u of users) this.member(u);
    return this.messageUpdate(
      this.store(this.world.group, from, { new_chat_members: users } as Partial<Message>, {}),
    );
  }
}
