// Pure translation of a client's VK message into domain messages (docs/design.md, "What each channel
// carries"): no I/O, no vk-io instance.
//
// Client → topic. One VK message becomes one domain message (the "main" one: the client's text, the
// first file, and every attachment that is not a file) plus one extra domain message per further file,
// because a topic message holds one file. Files are carried by Telegram (the inbound step uploads them
// and records the Telegram file_id as fileRef, the VK URL in details); everything else becomes a
// readable line after the client's text, so the topic shows it.

import { withoutUndefined } from '../../domain/content.ts';
import type { Attachment, AttachmentKind, MessageContent } from '../../domain/events.ts';
import type { TelegramUpload } from '../telegram/file-store.ts';
import { describeForTopic } from '../telegram/readable-payloads.ts';
import { truncate } from '../telegram/topic-title.ts';
import { num, obj, str, type VkAttachment, type VkMessage, type VkPhotoSize } from './objects.ts';

export type { TelegramUpload };

export interface PlannedFile {
  readonly type: 'file';
  /** VK's attachment string (photo-1_2_key), or sticker<id>: names the file across edits. */
  readonly vkRef: string;
  readonly upload: TelegramUpload;
  readonly url: string;
  readonly fileName: string;
  /** Without fileRef; the inbound step adds Telegram's file_id after the upload. */
  readonly attachment: Attachment;
  /** What the topic shows instead when the file cannot be carried (too big, gone from VK). */
  readonly fallback: string;
}

export interface PlannedInline {
  readonly type: 'inline';
  readonly attachment?: Attachment;
  /** The readable line. */
  readonly line: string;
  /**
   * The Telegram reactor already describes this kind (location, poll…) when the message has no file;
   * the line is then left out of the text so the topic does not show it twice.
   */
  readonly describedInTopic: boolean;
  /** A link VK made from the client's own text: the line is left out when the text holds it. */
  readonly url?: string;
}

export type PlannedItem = PlannedFile | PlannedInline;

/** Telegram refuses bot uploads above 50 MB; such files are shown as a link instead. */
export const TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024;

/** Telegram's caption limit: a longer text goes alone, its files after it. */
export const CAPTION_LIMIT = 1024;

/** `photo-1_2_key`: how VK names an attachment in messages.send and elsewhere. */
export const attachmentString = (type: string, o: Record<string, unknown>): string => {
  const key = str(o.access_key);
  return `${type}${o.owner_id}_${o.id}${key ? `_${key}` : ''}`;
};

const largest = (sizes: ReadonlyArray<VkPhotoSize>): VkPhotoSize | undefined =>
  sizes.reduce<VkPhotoSize | undefined>(
    (best, s) =>
      !best || (s.width ?? 0) * (s.height ?? 0) > (best.width ?? 0) * (best.height ?? 0) ? s : best,
    undefined,
  );

const sizesOf = (v: unknown): VkPhotoSize[] =>
  Array.isArray(v) ? v.filter((s): s is VkPhotoSize => typeof obj(s).url === 'string') : [];

const MIME: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  zip: 'application/zip',
  rar: 'application/vnd.rar',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
};

export const mimeOf = (fileName: string): string | undefined =>
  MIME[/\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? ''];

const inline = (
  line: string,
  attachment?: Attachment,
  describedInTopic = false,
  url?: string,
): PlannedInline => withoutUndefined({ type: 'inline' as const, line, attachment, describedInTopic, url });

const described = (kind: AttachmentKind, details: Record<string, unknown>): Attachment => ({
  kind,
  details: withoutUndefined(details),
});

/** One VK attachment → a file to carry or a readable line. */
export const planAttachment = (a: VkAttachment): PlannedItem => {
  const o = obj(a[a.type]);
  switch (a.type) {
    case 'photo': {
      const size = largest([...sizesOf(o.sizes), ...sizesOf(o.orig_photo ? [o.orig_photo] : [])]);
      const vkRef = attachmentString('photo', o);
      if (!size) return inline('🖼 Photo', described('photo', { vk: vkRef }));
      return {
        type: 'file',
        vkRef,
        upload: 'photo',
        url: size.url,
        fileName: `${vkRef.split('_').slice(0, 2).join('_')}.jpg`,
        attachment: withoutUndefined({
          kind: 'photo',
          mimeType: 'image/jpeg',
          details: withoutUndefined({ vk: vkRef, url: size.url, width: size.width, height: size.height }),
        }),
        fallback: `🖼 Photo: ${size.url}`,
      };
    }
    case 'doc': {
      const vkRef = attachmentString('doc', o);
      const ext = str(o.ext);
      const title = str(o.title) ?? `document${ext ? `.${ext}` : ''}`;
      const fileName =
        ext && !title.toLowerCase().endsWith(`.${ext.toLowerCase()}`) ? `${title}.${ext}` : title;
      const url = str(o.url);
      const size = num(o.size);
      const attachment = withoutUndefined<Attachment>({
        kind: 'document',
        fileName,
        mimeType: mimeOf(fileName),
        size,
        details: withoutUndefined({ vk: vkRef, url }),
      });
      const fallback = `📎 Document: ${fileName}${url ? ` — ${url}` : ''}`;
      if (!url || (size !== undefined && size > TELEGRAM_UPLOAD_LIMIT)) return inline(fallback, attachment);
      return { type: 'file', vkRef, upload: 'document', url, fileName, attachment, fallback };
    }
    case 'audio_message': {
      const vkRef = attachmentString('doc', o);
      const url = str(o.link_ogg) ?? str(o.link_mp3);
      const ogg = url === str(o.link_ogg);
      const attachment = withoutUndefined<Attachment>({
        kind: 'voice',
        mimeType: ogg ? 'audio/ogg' : 'audio/mpeg',
        details: withoutUndefined({
          vk: vkRef,
          url,
          duration: num(o.duration),
          transcript: str(o.transcript),
        }),
      });
      const fallback = `🎤 Voice message${url ? `: ${url}` : ''}`;
      if (!url) return inline(fallback, attachment);
      return {
        type: 'file',
        vkRef,
        // Telegram plays OGG/Opus as a voice message; the MP3 rendition goes as a document.
        upload: ogg ? 'voice' : 'document',
        url,
        fileName: `voice${o.owner_id}_${o.id}.${ogg ? 'ogg' : 'mp3'}`,
        attachment: ogg ? attachment : { ...attachment, kind: 'audio' },
        fallback,
      };
    }
    case 'sticker': {
      // Telegram takes only WEBP/TGS/WEBM as stickers; VK's are PNG, so the picture goes as a photo.
      const images = sizesOf(o.images_with_background).length
        ? sizesOf(o.images_with_background)
        : sizesOf(o.images);
      const image = largest(images);
      const vkRef = `sticker${o.sticker_id ?? ''}`;
      const details = withoutUndefined({
        vk: vkRef,
        vkType: 'sticker',
        sticker_id: num(o.sticker_id),
        product_id: num(o.product_id),
        url: image?.url,
      });
      if (!image) return inline('🙂 Sticker', described('sticker', details));
      return {
        type: 'file',
        vkRef,
        upload: 'photo',
        url: image.url,
        fileName: `${vkRef}.png`,
        attachment: { kind: 'photo', mimeType: 'image/png', details },
        fallback: `🙂 Sticker: ${image.url}`,
      };
    }
    case 'graffiti': {
      const url = str(o.url);
      const vkRef = attachmentString('graffiti', o);
      const details = withoutUndefined({ vk: vkRef, vkType: 'graffiti', url });
      if (!url) return inline('🎨 Graffiti', described('photo', details));
      return {
        type: 'file',
        vkRef,
        upload: 'photo',
        url,
        fileName: `${vkRef}.png`,
        attachment: { kind: 'photo', mimeType: 'image/png', details },
        fallback: `🎨 Graffiti: ${url}`,
      };
    }
    case 'video': {
      const link = `https://vk.com/video${o.owner_id}_${o.id}`;
      const title = str(o.title);
      return inline(
        `🎬 Video${title ? `: ${title}` : ''} — ${link}`,
        described('video', {
          vk: attachmentString('video', o),
          url: link,
          title,
          duration: num(o.duration),
        }),
      );
    }
    case 'audio': {
      const name = [str(o.artist), str(o.title)].filter(Boolean).join(' — ');
      return inline(
        `🎵 Audio${name ? `: ${name}` : ''}`,
        described('audio', {
          vk: attachmentString('audio', o),
          performer: str(o.artist),
          title: str(o.title),
          duration: num(o.duration),
        }),
      );
    }
    case 'wall': {
      const owner = o.owner_id ?? o.to_id ?? o.from_id;
      const link = `https://vk.com/wall${owner}_${o.id}`;
      const text = str(o.text);
      return inline(
        `📰 Wall post: ${link}${text ? ` — “${truncate(text.replace(/\s+/g, ' '), 200)}”` : ''}`,
        described('link', { vk: `wall${owner}_${o.id}`, vkType: 'wall', url: link, text }),
      );
    }
    case 'link': {
      const url = str(o.url) ?? '';
      const title = str(o.title);
      return inline(
        `🔗 ${title ? `${title} — ` : ''}${url}`,
        described('link', { url, title, caption: str(o.caption), description: str(o.description) }),
        false,
        url,
      );
    }
    case 'market': {
      const link = `https://vk.com/product${o.owner_id}_${o.id}`;
      const title = str(o.title);
      const price = str(obj(o.price).text);
      return inline(
        `🛍 Product${title ? `: ${title}` : ''}${price ? ` (${price})` : ''} — ${link}`,
        described('link', { vk: attachmentString('market', o), vkType: 'market', url: link, title, price }),
      );
    }
    case 'poll': {
      const options = Array.isArray(o.answers) ? o.answers.map((x) => str(obj(x).text)).filter(Boolean) : [];
      const attachment = described('poll', {
        vk: attachmentString('poll', o),
        question: str(o.question),
        options,
        is_anonymous: typeof o.anonymous === 'boolean' ? o.anonymous : undefined,
        allows_multiple_answers: typeof o.multiple === 'boolean' ? o.multiple : undefined,
      });
      return inline(describeForTopic({ text: '', attachments: [attachment] }), attachment, true);
    }
    case 'story': {
      const link = `https://vk.com/story${o.owner_id}_${o.id}`;
      return inline(`📖 Story: ${link}`, described('link', { vkType: 'story', url: link }));
    }
    case 'gift':
      return inline('🎁 Gift', described('link', { vkType: 'gift', gift_id: num(o.id) }));
    case 'wall_reply':
      return inline('💬 A comment on a wall post', described('link', { vkType: 'wall_reply' }));
    default:
      return inline(`📎 ${a.type.replaceAll('_', ' ')} (not shown here; open the dialog in VK)`, {
        kind: 'link',
        details: { vkType: a.type },
      });
  }
};

const geoItem = (geo: NonNullable<VkMessage['geo']>): PlannedInline | undefined => {
  const c = geo.coordinates;
  if (!c) return undefined;
  const attachment = described('location', {
    latitude: c.latitude,
    longitude: c.longitude,
    title: str(geo.place?.title),
  });
  return inline(describeForTopic({ text: '', attachments: [attachment] }), attachment, true);
};

const forwardLine = (m: VkMessage): PlannedInline => {
  const text = str(m.text);
  const count = m.attachments?.length ?? 0;
  const what = text ? `“${truncate(text.replace(/\s+/g, ' '), 300)}”` : '';
  const files = count > 0 ? `${what ? ' ' : ''}(+${count} attachment${count === 1 ? '' : 's'})` : '';
  return inline(`↪️ Forwarded from https://vk.com/id${m.from_id}: ${what}${files}`.trimEnd());
};

/** Everything a VK message carries besides its text, in the order the client sees it. */
export const planMessage = (m: VkMessage): PlannedItem[] => {
  const items: PlannedItem[] = (m.attachments ?? []).map(planAttachment);
  const geo = m.geo ? geoItem(m.geo) : undefined;
  if (geo) items.push(geo);
  for (const f of m.fwd_messages ?? []) items.push(forwardLine(f));
  return items;
};

/** A planned item after the inbound step tried to carry it: a file now has its Telegram fileRef. */
export type ResolvedItem =
  | { readonly type: 'file'; readonly vkRef: string; readonly attachment: Attachment }
  | PlannedInline;

/** One domain message of a VK message: `main`, or `file:<vkRef>` for each further file. */
export interface DomainPart {
  readonly key: string;
  readonly content: MessageContent;
}

/**
 * The domain messages a VK message becomes. `main` holds the client's text (then the readable lines),
 * the first file unless the text is too long for a caption, and the described attachments; each
 * further file gets a part of its own.
 */
export const composeParts = (clientText: string, items: readonly ResolvedItem[]): DomainPart[] => {
  const files = items.filter((i): i is Extract<ResolvedItem, { type: 'file' }> => i.type === 'file');
  const inlines = items.filter((i): i is PlannedInline => i.type === 'inline');
  const textWith = (hasFile: boolean) => {
    const lines = inlines
      .filter((i) => (hasFile || !i.describedInTopic) && !(i.url && clientText.includes(i.url)))
      .map((i) => i.line);
    return [clientText.trim() ? clientText : '', lines.join('\n')].filter(Boolean).join('\n\n');
  };
  const described = inlines.flatMap((i) => (i.attachment ? [i.attachment] : []));
  const withFile = textWith(true);
  const mainCarriesFile = files.length > 0 && withFile.length <= CAPTION_LIMIT;
  const main: DomainPart = {
    key: 'main',
    content: {
      text: mainCarriesFile ? withFile : textWith(false),
      attachments: mainCarriesFile ? [files[0]!.attachment, ...described] : described,
    },
  };
  const rest = mainCarriesFile ? files.slice(1) : files;
  return [
    main,
    ...rest.map((f) => ({ key: `file:${f.vkRef}`, content: { text: '', attachments: [f.attachment] } })),
  ];
};

/** The VK attachment string an attachment recorded for a VK file came from. */
export const vkRefOf = (a: Attachment): string | undefined =>
  typeof a.details?.vk === 'string' ? a.details.vk : undefined;
