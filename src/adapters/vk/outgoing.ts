// Manager → client (docs/design.md, "What each channel carries"): an answer's files are listed for
// upload to VK, stickers become their emoji, a location becomes messages.send's lat/long, the rest
// readable text. Pure: no I/O, no vk-io instance (its keyboard builder only).
import { Keyboard } from 'vk-io';
import { withoutUndefined } from '../../domain/content.ts';
import type { AttachmentKind, MessageButton, MessageContent } from '../../domain/events.ts';
import { describeForTopic } from '../telegram/readable-payloads.ts';
import { num } from './objects.ts';

/** How a file is uploaded to VK: upload.messagePhoto / messageDocument / audioMessage. */
export type VkUpload = 'photo' | 'doc' | 'audio_message';

export interface OutgoingFile {
  readonly fileRef: string;
  readonly upload: VkUpload;
  readonly fileName: string;
}

export interface OutgoingMessage {
  readonly text: string;
  readonly files: readonly OutgoingFile[];
  readonly location?: { readonly latitude: number; readonly longitude: number };
  /** messages.send's `keyboard`: the answer's link buttons as an inline keyboard (JSON). */
  readonly keyboard?: string;
}

/**
 * An answer's buttons for VK: http(s) links as open_link buttons of an inline keyboard (vk-io's
 * builder, which checks VK's limits: labels of 40 characters, two link buttons a row, six rows);
 * tg:// links, which VK does not open, as lines under the text.
 */
export const vkButtons = (
  buttons: MessageContent['buttons'],
): { readonly keyboard?: string; readonly lines: readonly string[] } => {
  const lines: string[] = [];
  const rows: MessageButton[][] = [];
  for (const row of buttons ?? []) {
    const links = row.filter((b) => /^https?:/i.test(b.url));
    for (const b of row) if (!links.includes(b)) lines.push(`${b.text}: ${b.url}`);
    if (links.length > 0) rows.push(links);
  }
  if (rows.length === 0) return { lines };
  const builder = Keyboard.builder().inline();
  for (const row of rows) {
    for (const b of row) builder.urlButton({ label: b.text, url: b.url });
    builder.row();
  }
  return { keyboard: builder.toString(), lines };
};

const DEFAULT_NAMES: Partial<Record<AttachmentKind, string>> = {
  document: 'document.dat',
  video: 'video.mp4',
  audio: 'audio.mp3',
  animation: 'animation.mp4',
  video_note: 'video_note.mp4',
  voice: 'voice.ogg',
  photo: 'photo.jpg',
};

/**
 * Telegram text with its link entities made visible: VK shows plain text, so a hidden link
 * ("see [our FAQ](https://…)") keeps its address in brackets after the words.
 */
export const plainText = (text: string, entities: MessageContent['entities'] = []): string => {
  const links = entities
    .filter((e) => e.type === 'text_link' && typeof e.url === 'string')
    .map((e) => ({ end: Number(e.offset) + Number(e.length), url: String(e.url) }))
    .sort((a, b) => b.end - a.end);
  let out = text;
  for (const { end, url } of links) out = `${out.slice(0, end)} (${url})${out.slice(end)}`;
  return out;
};

/** What messages.send carries for a manager's answer. */
export const outgoingOf = (content: MessageContent): OutgoingMessage => {
  const files: OutgoingFile[] = [];
  const lines: string[] = [];
  let location: OutgoingMessage['location'];
  for (const a of content.attachments) {
    const d = a.details ?? {};
    switch (a.kind) {
      case 'photo':
      case 'document':
      case 'video':
      case 'audio':
      case 'animation':
      case 'video_note':
      case 'voice':
        if (!a.fileRef) break;
        files.push({
          fileRef: a.fileRef,
          upload: a.kind === 'photo' ? 'photo' : a.kind === 'voice' ? 'audio_message' : 'doc',
          fileName: a.fileName ?? DEFAULT_NAMES[a.kind] ?? 'file.dat',
        });
        break;
      case 'sticker':
        lines.push(typeof d.emoji === 'string' && d.emoji ? d.emoji : '🙂');
        break;
      case 'location':
      case 'venue': {
        const latitude = num(d.latitude);
        const longitude = num(d.longitude);
        if (latitude !== undefined && longitude !== undefined) location = { latitude, longitude };
        const line = describeForTopic({ text: '', attachments: [a] });
        if (a.kind === 'venue' || !content.text) lines.push(line);
        break;
      }
      default: {
        const line = describeForTopic({ text: '', attachments: [a] });
        if (line) lines.push(line);
      }
    }
  }
  const buttons = vkButtons(content.buttons);
  const text = [plainText(content.text, content.entities), ...lines, ...buttons.lines]
    .filter(Boolean)
    .join('\n');
  return withoutUndefined({ text, files, location, keyboard: buttons.keyboard });
};
