// Albums the bot builds itself with sendMediaGroup, from file ids it has received (a bot may send
// again any file_id it was given). copyMessages keeps an album as it is but takes no
// reply_parameters, so an album that must reply to something, or files that arrived from a source
// as one message, are sent this way instead.
//
// What the Bot API accepts: 2–10 items, each a photo, video, document or audio file; documents
// only with documents and audio only with audio, while photos and videos mix. Anything else
// (voice, animation, sticker, video note) cannot be part of an album at all.
import type {
  InputMediaAudio,
  InputMediaDocument,
  InputMediaPhoto,
  InputMediaVideo,
  MessageEntity,
} from 'grammy/types';
import type { Attachment, AttachmentKind, MessageContent } from '../../domain/events.ts';

type AlbumMedia = InputMediaPhoto | InputMediaVideo | InputMediaDocument | InputMediaAudio;
/** sendMediaGroup's `media`: grammY's types already say which kinds go together. */
export type Album =
  | readonly InputMediaAudio[]
  | readonly InputMediaDocument[]
  | readonly (InputMediaPhoto | InputMediaVideo)[];

const ALBUM_MAX_ITEMS = 10;

type AlbumKind = AlbumMedia['type'];
const albumKinds: ReadonlySet<AttachmentKind> = new Set<AlbumKind>(['photo', 'video', 'document', 'audio']);
const isAlbumKind = (kind: AttachmentKind): kind is AlbumKind => albumKinds.has(kind);

/** Whether Telegram takes files of these kinds, in this number, as one album. */
export const groupable = (kinds: readonly AttachmentKind[]): boolean => {
  if (kinds.length < 2 || kinds.length > ALBUM_MAX_ITEMS || !kinds.every(isAlbumKind)) return false;
  const alone = (kind: AlbumKind) => !kinds.includes(kind) || kinds.every((k) => k === kind);
  return alone('document') && alone('audio');
};

/** The one file a message carries (an album item always carries exactly one). */
export const soleFile = (content: MessageContent): Attachment | undefined => {
  const [only, ...rest] = content.attachments;
  return only?.fileRef && rest.length === 0 ? only : undefined;
};

export interface AlbumEntry {
  readonly file: Attachment | undefined;
  /** The text shown under this item, with its formatting. */
  readonly caption?: Pick<MessageContent, 'text' | 'entities'>;
}

/** sendMediaGroup's `media` for these files; undefined when Telegram would not take them as one album. */
export const albumMedia = (entries: readonly AlbumEntry[]): Album | undefined => {
  const files = entries.map((e) => e.file);
  if (!files.every((f): f is Attachment => f?.fileRef !== undefined)) return undefined;
  if (!groupable(files.map((f) => f.kind))) return undefined;
  return entries.map(({ file, caption }) => {
    const text = caption?.text
      ? {
          caption: caption.text,
          ...(caption.entities ? { caption_entities: caption.entities as unknown as MessageEntity[] } : {}),
        }
      : {};
    return { type: file!.kind as AlbumKind, media: file!.fileRef!, ...text } as AlbumMedia;
  }) as Album; // groupable() checked the mix
};

/** sendMediaGroup's `media` re-sending an album's items from their files, each with its own caption. */
export const resentAlbum = (items: readonly { readonly content: MessageContent }[]): Album | undefined =>
  albumMedia(items.map((x) => ({ file: soleFile(x.content), caption: x.content })));

/** Consecutive items of one album (as `album` tells them) go in one call; anything else alone. */
export const runsOf = <T extends { readonly mediaGroupId?: string | undefined }>(
  messages: readonly T[],
  album: (x: T) => boolean,
): T[][] => {
  const runs: T[][] = [];
  for (const x of messages) {
    const last = runs.at(-1);
    const head = last?.[0];
    if (head && album(x) && album(head) && x.mediaGroupId === head.mediaGroupId) last!.push(x);
    else runs.push([x]);
  }
  return runs;
};
