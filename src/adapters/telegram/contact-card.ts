// The contact card at the top of a topic and the inline buttons the bot puts under messages
// (docs/design.md, "Callbacks", "Buttons in answers"). Pure: no I/O, no bot instance.
import type { InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity } from 'grammy/types';
import type { Channel, ClientProfile, MessageButton } from '../../domain/events.ts';
import { displayName, squash, telegramLink } from './translate.ts';

export interface ContactCardInput {
  readonly channel: Channel;
  readonly source: string;
  readonly clientId: string;
  readonly profile: ClientProfile;
  readonly conversationId: string;
  /** The client's latest language, where it changed since the profile was taken. */
  readonly language?: string;
  /** The name of the member the conversation is assigned to; absent when nobody. */
  readonly assignee?: string;
}

export interface FormattedText {
  readonly text: string;
  readonly entities: MessageEntity[];
}

/** Accumulates text and entities; offsets and lengths are UTF-16 code units, as Telegram counts. */
class TextBuilder {
  private text = '';
  private readonly entities: MessageEntity[] = [];

  plain(value: string): this {
    this.text += value;
    return this;
  }

  styled(value: string, entity: DistributiveOmit<MessageEntity, 'offset' | 'length'>): this {
    if (value.length > 0) {
      this.entities.push({ ...entity, offset: this.text.length, length: value.length } as MessageEntity);
    }
    this.text += value;
    return this;
  }

  build(): FormattedText {
    return { text: this.text.replace(/\n+$/, ''), entities: this.entities };
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const httpUrl = (value: string | undefined): string | undefined => {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The card posted at the top of each new topic (and again on /info): the client's name, username
 * as a link, channel and source, client id and conversation id (as `code`, so managers can copy
 * them), language.
 */
/** The card's words, in the topic's language (src/texts/catalogue.ts, `topic.card.*`); English by default. */
export interface ContactCardLabels {
  /** The channel and source line, filled. */
  readonly channel: (channel: string, source: string) => string;
  readonly client: string;
  readonly conversation: string;
  readonly language: (language: string) => string;
  /** The assignee line: who has the conversation, or that nobody has. */
  readonly assignee: (assignee: string | undefined) => string;
}

const englishLabels: ContactCardLabels = {
  channel: (channel, source) => `📨 Channel: ${channel} · Source: ${source}`,
  client: '🆔 Client: ',
  conversation: '💬 Conversation: ',
  language: (language) => `🌐 Language: ${language}`,
  assignee: (assignee) => (assignee ? `🙋 Assigned to: ${assignee}` : '🙋 Not assigned'),
};

export const contactCard = (
  v: ContactCardInput,
  labels: ContactCardLabels = englishLabels,
): FormattedText => {
  const b = new TextBuilder();
  b.plain('👤 ').styled(displayName(v.profile, v.clientId), { type: 'bold' }).plain('\n');

  const username = squash(v.profile.username).replace(/^@+/, '');
  const url = v.channel === 'telegram' && username ? telegramLink(username) : httpUrl(squash(v.profile.link));
  const label = username ? (v.channel === 'telegram' ? `@${username}` : username) : url;
  if (label) {
    b.plain('🔗 ');
    if (url) b.styled(label, { type: 'text_link', url });
    else b.plain(label);
    b.plain('\n');
  }

  b.plain(`${labels.channel(v.channel, squash(v.source))}\n`);
  b.plain(labels.client).styled(v.clientId, { type: 'code' }).plain('\n');
  b.plain(labels.conversation).styled(v.conversationId, { type: 'code' }).plain('\n');
  const language = squash(v.language ?? v.profile.languageCode);
  if (language) b.plain(`${labels.language(language)}\n`);
  b.plain(`${labels.assignee(squash(v.assignee) || undefined)}\n`);
  return b.build();
};

// ---------------------------------------------------------------------------------------------------
// Inline buttons

/** Telegram's limit on a button's callback_data, in bytes. */
export const CALLBACK_DATA_LIMIT = 64;

/** `prefix:args` as a button's callback_data; throws when it would pass Telegram's 64 bytes. */
export const callbackData = (prefix: string, ...args: readonly string[]): string => {
  const data = [prefix, ...args].join(':');
  const bytes = Buffer.byteLength(data, 'utf8');
  if (bytes > CALLBACK_DATA_LIMIT) {
    throw new RangeError(
      `callback_data "${data}" is ${bytes} bytes; Telegram takes at most ${CALLBACK_DATA_LIMIT}`,
    );
  }
  return data;
};

/** The callback_data prefix of the contact card's buttons: `card:<action>:<conversation id>`. */
export const CARD_PREFIX = 'card';
export const CARD_ACTIONS = ['close', 'reopen', 'ban', 'unban', 'info'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];
export const isCardAction = (value: string): value is CardAction =>
  (CARD_ACTIONS as readonly string[]).includes(value);

/** The card's button labels, in the topic's language (`topic.card.<action>`); English by default. */
export type CardButtonLabels = Readonly<Record<CardAction, string>>;

const englishButtons: CardButtonLabels = {
  close: 'Close',
  reopen: 'Reopen',
  ban: 'Ban',
  unban: 'Unban',
  info: 'Info',
};

/**
 * The contact card's buttons, following the conversation: Close or Reopen, Ban or Unban, Info. Each
 * button's data names the conversation, so a press acts on it wherever the card stands.
 */
export const cardKeyboard = (
  conversationId: string,
  state: { readonly closed: boolean; readonly banned: boolean },
  labels: CardButtonLabels = englishButtons,
): InlineKeyboardMarkup => {
  const button = (action: CardAction): InlineKeyboardButton.CallbackButton => ({
    text: labels[action],
    callback_data: callbackData(CARD_PREFIX, action, conversationId),
  });
  return {
    inline_keyboard: [
      [button(state.closed ? 'reopen' : 'close'), button(state.banned ? 'unban' : 'ban'), button('info')],
    ],
  };
};

/** An answer's link buttons as Telegram's inline keyboard (undefined when it has none). */
export const answerKeyboard = (
  buttons: ReadonlyArray<ReadonlyArray<MessageButton>> | undefined,
): InlineKeyboardMarkup | undefined =>
  buttons?.length
    ? { inline_keyboard: buttons.map((row) => row.map((b) => ({ text: b.text, url: b.url }))) }
    : undefined;
