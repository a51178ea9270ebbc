// Pure translation between Telegram objects and the domain (docs/design.md, "What each channel
// carries"): no I/O, no bot instance.
// Inbound updates become MessageContent/ClientProfile; topics get a title and a contact card with its
// buttons; non-file payloads get a readable line for channels that cannot copy them. (Manager
// commands: commands.ts.)
import type { InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, User } from 'grammy/types';
import { sameContent, withoutUndefined } from '../../domain/content.ts';
import type {
  Attachment,
  Channel,
  ClientProfile,
  MessageButton,
  MessageContent,
} from '../../domain/events.ts';

// ---------------------------------------------------------------------------------------------------
// Profiles

const telegramLink = (username: string): string => `https://t.me/${username}`;

export const profileOf = (user: User): ClientProfile =>
  withoutUndefined({
    firstName: user.first_name,
    lastName: user.last_name,
    username: user.username,
    languageCode: user.language_code,
    link: user.username ? telegramLink(user.username) : undefined,
  });

const squash = (value: string | undefined): string => (value ?? '').replace(/\s+/g, ' ').trim();

/** "First Last", else "@username", else the client id: never empty. */
export const displayName = (profile: ClientProfile, clientId: string): string => {
  const name = squash([profile.firstName, profile.lastName].filter(Boolean).join(' '));
  if (name) return name;
  const username = squash(profile.username);
  if (username) return `@${username}`;
  return clientId;
};

// ---------------------------------------------------------------------------------------------------
// Message content

/** The message types carried end to end (docs/design.md, "What each channel carries"). */
export type MessageKind =
  | 'text'
  | 'photo'
  | 'document'
  | 'video'
  | 'audio'
  | 'voice'
  | 'video_note'
  | 'animation'
  | 'sticker'
  | 'location'
  | 'venue'
  | 'contact'
  | 'poll'
  | 'dice';

/**
 * Fields that make a message a user's content (supported or not). Anything else is a service
 * message: forum topic changes, members joining, pins, title changes, payments, boosts…
 */
const CONTENT_FIELDS = [
  'text',
  'rich_message',
  'animation',
  'audio',
  'document',
  'live_photo',
  'paid_media',
  'photo',
  'sticker',
  'story',
  'video',
  'video_note',
  'voice',
  'contact',
  'dice',
  'game',
  'poll',
  'venue',
  'location',
  'checklist',
  'invoice',
  'giveaway',
  'giveaway_winners',
] as const satisfies ReadonlyArray<keyof Message>;

/**
 * True for anything that is not a user's content message (service messages are ignored: docs/design.md, "What
 * each channel carries").
 */
export const isServiceMessage = (message: Message): boolean =>
  !CONTENT_FIELDS.some((field) => message[field] !== undefined && message[field] !== null);

/**
 * Which supported type the message is, or undefined (service message, story, game, paid media…).
 * Order matters: an animation also carries `document`, a venue also carries `location`.
 */
export const messageKindOf = (message: Message): MessageKind | undefined => {
  if (message.text !== undefined) return 'text';
  if (message.animation) return 'animation';
  if (message.photo && message.photo.length > 0) return 'photo';
  if (message.video) return 'video';
  if (message.video_note) return 'video_note';
  if (message.voice) return 'voice';
  if (message.audio) return 'audio';
  if (message.sticker) return 'sticker';
  if (message.document) return 'document';
  if (message.venue) return 'venue';
  if (message.location) return 'location';
  if (message.contact) return 'contact';
  if (message.poll) return 'poll';
  if (message.dice) return 'dice';
  return undefined;
};

/** A message this bridge can carry: user content of a known type. */
export const isSupported = (message: Message): boolean =>
  !isServiceMessage(message) && messageKindOf(message) !== undefined;

type PhotoSize = NonNullable<Message['photo']>[number];

const largestPhoto = (sizes: ReadonlyArray<PhotoSize>): PhotoSize | undefined =>
  sizes.reduce<PhotoSize | undefined>((best, size) => {
    if (!best) return size;
    const area = size.width * size.height;
    const bestArea = best.width * best.height;
    if (area !== bestArea) return area > bestArea ? size : best;
    return (size.file_size ?? 0) > (best.file_size ?? 0) ? size : best;
  }, undefined);

const attachment = (value: Attachment): Attachment => {
  const details = value.details ? withoutUndefined({ ...value.details }) : undefined;
  return withoutUndefined({ ...value, details });
};

const attachmentsOf = (message: Message, kind: MessageKind): Attachment[] => {
  switch (kind) {
    case 'text':
      return [];
    case 'photo': {
      const photo = largestPhoto(message.photo ?? []);
      if (!photo) return [];
      return [
        attachment({
          kind: 'photo',
          fileRef: photo.file_id,
          fileUniqueId: photo.file_unique_id,
          size: photo.file_size,
          details: { width: photo.width, height: photo.height },
        }),
      ];
    }
    case 'document': {
      const d = message.document!;
      return [
        attachment({
          kind: 'document',
          fileRef: d.file_id,
          fileUniqueId: d.file_unique_id,
          fileName: d.file_name,
          mimeType: d.mime_type,
          size: d.file_size,
        }),
      ];
    }
    case 'video': {
      const v = message.video!;
      return [
        attachment({
          kind: 'video',
          fileRef: v.file_id,
          fileUniqueId: v.file_unique_id,
          fileName: v.file_name,
          mimeType: v.mime_type,
          size: v.file_size,
          details: { width: v.width, height: v.height, duration: v.duration },
        }),
      ];
    }
    case 'audio': {
      const a = message.audio!;
      return [
        attachment({
          kind: 'audio',
          fileRef: a.file_id,
          fileUniqueId: a.file_unique_id,
          fileName: a.file_name,
          mimeType: a.mime_type,
          size: a.file_size,
          details: { performer: a.performer, title: a.title, duration: a.duration },
        }),
      ];
    }
    case 'voice': {
      const v = message.voice!;
      return [
        attachment({
          kind: 'voice',
          fileRef: v.file_id,
          fileUniqueId: v.file_unique_id,
          mimeType: v.mime_type,
          size: v.file_size,
          details: { duration: v.duration },
        }),
      ];
    }
    case 'video_note': {
      const v = message.video_note!;
      return [
        attachment({
          kind: 'video_note',
          fileRef: v.file_id,
          fileUniqueId: v.file_unique_id,
          size: v.file_size,
          details: { length: v.length, duration: v.duration },
        }),
      ];
    }
    case 'animation': {
      const a = message.animation!;
      return [
        attachment({
          kind: 'animation',
          fileRef: a.file_id,
          fileUniqueId: a.file_unique_id,
          fileName: a.file_name,
          mimeType: a.mime_type,
          size: a.file_size,
          details: { width: a.width, height: a.height, duration: a.duration },
        }),
      ];
    }
    case 'sticker': {
      const s = message.sticker!;
      return [
        attachment({
          kind: 'sticker',
          fileRef: s.file_id,
          fileUniqueId: s.file_unique_id,
          size: s.file_size,
          details: {
            emoji: s.emoji,
            set_name: s.set_name,
            type: s.type,
            is_animated: s.is_animated,
            is_video: s.is_video,
          },
        }),
      ];
    }
    case 'location': {
      const l = message.location!;
      return [
        attachment({
          kind: 'location',
          details: {
            latitude: l.latitude,
            longitude: l.longitude,
            horizontal_accuracy: l.horizontal_accuracy,
            live_period: l.live_period,
            heading: l.heading,
            proximity_alert_radius: l.proximity_alert_radius,
          },
        }),
      ];
    }
    case 'venue': {
      const v = message.venue!;
      return [
        attachment({
          kind: 'venue',
          details: {
            title: v.title,
            address: v.address,
            latitude: v.location.latitude,
            longitude: v.location.longitude,
            foursquare_id: v.foursquare_id,
            foursquare_type: v.foursquare_type,
            google_place_id: v.google_place_id,
            google_place_type: v.google_place_type,
          },
        }),
      ];
    }
    case 'contact': {
      const c = message.contact!;
      return [
        attachment({
          kind: 'contact',
          details: {
            phone_number: c.phone_number,
            first_name: c.first_name,
            last_name: c.last_name,
            user_id: c.user_id,
            vcard: c.vcard,
          },
        }),
      ];
    }
    case 'poll': {
      const p = message.poll!;
      return [
        attachment({
          kind: 'poll',
          details: {
            question: p.question,
            options: p.options.map((option) => option.text),
            is_anonymous: p.is_anonymous,
            type: p.type,
            allows_multiple_answers: p.allows_multiple_answers,
          },
        }),
      ];
    }
    case 'dice': {
      const d = message.dice!;
      return [attachment({ kind: 'dice', details: { emoji: d.emoji, value: d.value } })];
    }
  }
};

/** Entities as plain JSON data (a deep copy), so events never hold references into an update. */
const plainEntities = (
  entities: ReadonlyArray<MessageEntity> | undefined,
): MessageContent['entities'] | undefined =>
  entities === undefined ? undefined : (JSON.parse(JSON.stringify(entities)) as MessageContent['entities']);

/**
 * The message's content as events record it: text or caption, their entities as received, and an
 * attachment describing the payload. A message of an unknown type yields empty content; check
 * `isSupported` first.
 */
export const contentOf = (message: Message): MessageContent => {
  const kind = isServiceMessage(message) ? undefined : messageKindOf(message);
  if (kind === undefined) return { text: '', attachments: [] };
  const isText = kind === 'text';
  const text = (isText ? message.text : message.caption) ?? '';
  const entities = plainEntities(isText ? message.entities : message.caption_entities);
  const attachments = attachmentsOf(message, kind);
  return entities === undefined ? { text, attachments } : { text, entities, attachments };
};

/**
 * docs/design.md, "Edits": an `edited_message` whose content did not change (reactions, link previews) is not
 * an edit.
 */
export const editedContentChanged = (before: MessageContent, message: Message): boolean =>
  !sameContent(before, contentOf(message));

// ---------------------------------------------------------------------------------------------------
// Topic titles

/** Telegram's limit for a forum topic name. */
export const TOPIC_TITLE_LIMIT = 128;

const EMPTY = '\u0000';
const SEPARATORS = '·•|/\\\\,;:~—–\\-';
/** Whitespace, separators and empty placeholders around at least one empty placeholder. */
const EMPTY_RUN = new RegExp(`[\\s${SEPARATORS}${EMPTY}]*${EMPTY}[\\s${SEPARATORS}${EMPTY}]*`, 'g');
/** Brackets holding only empty placeholders: "Ivan ({username})" with no username. */
const EMPTY_BRACKETS = new RegExp(`[(\\[{<][\\s${EMPTY}]*${EMPTY}[\\s${EMPTY}]*[)\\]}>]`, 'g');
const SEPARATOR_CHAR = new RegExp(`[${SEPARATORS}]`);

/** What an empty placeholder and its neighbours leave behind: the first separator, spaced as around it. */
const joinAround = (run: string, atStart: boolean, atEnd: boolean): string => {
  if (atStart || atEnd) return '';
  const rest = run.replaceAll(EMPTY, '');
  const separatorAt = rest.search(SEPARATOR_CHAR);
  if (separatorAt < 0) return rest.length > 0 ? ' ' : '';
  const before = /^\s/.test(rest) ? ' ' : '';
  const after = /\s$/.test(rest) ? ' ' : '';
  return `${before}${rest[separatorAt]}${after}`;
};

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Cuts to at most `limit` UTF-16 code units on a grapheme boundary (never inside a surrogate pair
 * or an emoji sequence), ending with "…" when cut.
 */
export const truncate = (value: string, limit: number): string => {
  if (value.length <= limit) return value;
  let kept = '';
  for (const { segment } of segmenter.segment(value)) {
    if (kept.length + segment.length > limit - 1) break;
    kept += segment;
  }
  return `${kept.trimEnd()}…`;
};

export interface TopicTitleValues {
  readonly name: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly username?: string;
  readonly id: string;
  readonly source: string;
  readonly channel: string;
}

/**
 * The topic title from TOPIC_TITLE_TEMPLATE: `{name}`, `{username}` (with @, or empty), `{id}`,
 * `{source}`, `{channel}`, and tg-support-bot's `{first_name}`, `{last_name}`, `{platform}` (the
 * channel) and `{email}` (never known: empty). Empty placeholders take their dangling separators
 * with them ("{name} · {username} · {id}" → "Ivan · 42"); at most 128 characters; never empty.
 */
export const topicTitle = (template: string, v: TopicTitleValues): string => {
  const clean = (value: string | undefined) => squash(value?.replaceAll(EMPTY, ''));
  const username = clean(v.username).replace(/^@+/, '');
  const values: Record<string, string> = {
    name: clean(v.name),
    username: username ? `@${username}` : '',
    id: clean(v.id),
    source: clean(v.source),
    channel: clean(v.channel),
    first_name: clean(v.firstName),
    last_name: clean(v.lastName),
    platform: clean(v.channel),
    email: '',
  };
  const substituted = template
    .replaceAll(EMPTY, '')
    .replace(
      /\{(name|username|id|source|channel|first_name|last_name|platform|email)\}/g,
      (_, key: string) => values[key] || EMPTY,
    );
  const withoutBrackets = substituted.replace(EMPTY_BRACKETS, EMPTY);
  const cleaned = withoutBrackets
    .replace(EMPTY_RUN, (run: string, offset: number) =>
      joinAround(run, offset === 0, offset + run.length === withoutBrackets.length),
    )
    .replace(/\s+/g, ' ')
    .trim();
  const title = cleaned || values.id || 'client';
  return truncate(title, TOPIC_TITLE_LIMIT);
};

// ---------------------------------------------------------------------------------------------------
// Contact card

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

// ---------------------------------------------------------------------------------------------------
// Readable payloads

const str = (value: unknown): string => (typeof value === 'string' ? squash(value) : '');
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

const mapsLink = (latitude: number, longitude: number): string =>
  `https://maps.google.com/?q=${latitude},${longitude}`;

const describeAttachment = (a: Attachment): string | undefined => {
  const d = a.details ?? {};
  switch (a.kind) {
    case 'location': {
      const lat = num(d.latitude);
      const lon = num(d.longitude);
      if (lat === undefined || lon === undefined) return '📍 Location';
      return `📍 ${d.live_period ? 'Live location' : 'Location'}: ${mapsLink(lat, lon)}`;
    }
    case 'venue': {
      const lat = num(d.latitude);
      const lon = num(d.longitude);
      const place = [str(d.title), str(d.address)].filter(Boolean).join(', ');
      const link = lat !== undefined && lon !== undefined ? mapsLink(lat, lon) : '';
      return `📍 ${[place || 'Venue', link].filter(Boolean).join(' — ')}`;
    }
    case 'contact': {
      const name = [str(d.first_name), str(d.last_name)].filter(Boolean).join(' ');
      return `👤 Contact: ${[name, str(d.phone_number)].filter(Boolean).join(', ') || '—'}`;
    }
    case 'poll': {
      const options = Array.isArray(d.options) ? d.options.map(str).filter(Boolean) : [];
      const label = d.type === 'quiz' ? 'Quiz' : 'Poll';
      const question = str(d.question);
      return `📊 ${label}: ${question}${options.length > 0 ? ` — ${options.join(' / ')}` : ''}`;
    }
    case 'dice': {
      const value = num(d.value);
      return `${str(d.emoji) || '🎲'} Dice${value === undefined ? '' : `: ${value}`}`;
    }
    default:
      return undefined;
  }
};

/**
 * One readable line for the non-file payloads (location as a maps link, venue, contact, poll with
 * its options, dice), for channels that cannot copy them; '' when there are none.
 */
export const describeForTopic = (content: MessageContent): string =>
  content.attachments
    .map(describeAttachment)
    .filter((line): line is string => Boolean(line))
    .join(' · ');
