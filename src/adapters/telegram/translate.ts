// Pure translation between Telegram objects and the domain (docs/design.md, "What each channel
// carries"): no I/O, no bot instance.
// Inbound updates become MessageContent/ClientProfile. Topic titles: topic-title.ts; the contact
// card and inline buttons: contact-card.ts; readable lines for payloads: readable-payloads.ts;
// manager commands: commands.ts.
import type { Message, MessageEntity, User } from 'grammy/types';
import { sameContent, withoutUndefined } from '../../domain/content.ts';
import type { Attachment, ClientProfile, MessageContent } from '../../domain/events.ts';

// ---------------------------------------------------------------------------------------------------
// Profiles

export const telegramLink = (username: string): string => `https://t.me/${username}`;

export const profileOf = (user: User): ClientProfile =>
  withoutUndefined({
    firstName: user.first_name,
    lastName: user.last_name,
    username: user.username,
    languageCode: user.language_code,
    link: user.username ? telegramLink(user.username) : undefined,
  });

export const squash = (value: string | undefined): string => (value ?? '').replace(/\s+/g, ' ').trim();

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
