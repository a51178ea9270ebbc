// Files in messages: an upload (multipart, `attach://`), an HTTP URL or an existing file_id becomes
// the media object Telegram puts into the Message (PhotoSize[], Document, Video, ...).
import type { Message, PhotoSize } from 'grammy/types';
import { errors } from './errors.ts';
import type { UploadedFile } from './request.ts';
import type { FileKind, StoredFile, World } from './world.ts';

const MIME: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  zip: 'application/zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  wav: 'audio/x-wav',
  tgs: 'application/x-tgsticker',
};

export const guessMime = (fileName: string | undefined, fallback: string): string => {
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName ?? '')?.[1]?.toLowerCase();
  return (ext && MIME[ext]) ?? fallback;
};

/** Per-kind metadata a send call (or an update builder) may give. */
export interface MediaMeta {
  file_name?: string;
  mime_type?: string;
  width?: number;
  height?: number;
  duration?: number;
  length?: number;
  performer?: string;
  title?: string;
  emoji?: string;
}

const DEFAULT_NAME: Record<FileKind, string> = {
  photo: 'photo.jpg',
  document: 'document.dat',
  video: 'video.mp4',
  audio: 'audio.mp3',
  voice: 'voice.ogg',
  video_note: 'video_note.mp4',
  animation: 'animation.mp4',
  sticker: 'sticker.webp',
};

/** Store new bytes as a file of the given kind and return the object a message carries. */
export const storeMedia = (world: World, kind: FileKind, data: Buffer, meta: MediaMeta = {}): unknown => {
  if (kind === 'photo') return world.storePhoto(data, meta.width, meta.height);
  const fileName = meta.file_name ?? DEFAULT_NAME[kind];
  const fallbackMime: Partial<Record<FileKind, string>> = {
    document: 'application/octet-stream',
    video: 'video/mp4',
    audio: 'audio/mpeg',
    voice: 'audio/ogg',
    animation: 'video/mp4',
  };
  const mime = meta.mime_type ?? guessMime(fileName, fallbackMime[kind] ?? 'application/octet-stream');
  const file = world.storeFile(kind, data, { file_name: fileName, mime_type: mime });
  const ids = { file_id: file.file_id, file_unique_id: file.file_unique_id };
  const size = { file_size: data.length };
  let media: Record<string, unknown>;
  switch (kind) {
    case 'document':
      media = { file_name: fileName, mime_type: mime, ...ids, ...size };
      break;
    case 'video':
      media = {
        duration: meta.duration ?? 1,
        width: meta.width ?? 1280,
        height: meta.height ?? 720,
        file_name: fileName,
        mime_type: mime,
        ...ids,
        ...size,
      };
      break;
    case 'animation':
      media = {
        file_name: fileName,
        mime_type: mime,
        duration: meta.duration ?? 1,
        width: meta.width ?? 480,
        height: meta.height ?? 270,
        ...ids,
        ...size,
      };
      break;
    case 'audio':
      media = {
        duration: meta.duration ?? 1,
        file_name: fileName,
        mime_type: mime,
        ...(meta.performer ? { performer: meta.performer } : {}),
        ...(meta.title ? { title: meta.title } : {}),
        ...ids,
        ...size,
      };
      break;
    case 'voice':
      media = { duration: meta.duration ?? 1, mime_type: mime, ...ids, ...size };
      break;
    case 'video_note':
      media = { duration: meta.duration ?? 1, length: meta.length ?? 240, ...ids, ...size };
      break;
    case 'sticker': {
      const ext = /\.(\w+)$/.exec(fileName)?.[1]?.toLowerCase();
      media = {
        width: 512,
        height: 512,
        ...(meta.emoji ? { emoji: meta.emoji } : {}),
        is_animated: ext === 'tgs',
        is_video: ext === 'webm',
        type: 'regular',
        ...ids,
        ...size,
      };
      break;
    }
  }
  file.media = media;
  return media;
};

/** How the media of a stored file appears in a message (animations also carry `document`). */
export const mediaFields = (kind: FileKind, media: unknown): Partial<Message> => {
  if (kind === 'animation') {
    const a = media as Record<string, unknown>;
    return {
      animation: a as unknown as Message['animation'],
      document: {
        file_name: a.file_name,
        mime_type: a.mime_type,
        file_id: a.file_id,
        file_unique_id: a.file_unique_id,
        file_size: a.file_size,
      } as Message['document'],
    };
  }
  return { [kind]: media } as Partial<Message>;
};

const fetchUrl = async (url: string): Promise<{ data: Buffer; name: string; type?: string }> => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(String(res.status));
    const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'file');
    const type = res.headers.get('content-type') ?? undefined;
    return { data: Buffer.from(await res.arrayBuffer()), name, ...(type ? { type } : {}) };
  } catch {
    throw errors.urlContentFailed();
  }
};

/**
 * Resolve an InputFile parameter: `attach://name`, a part sent under the field's own name, an HTTP
 * URL (fetched, as Telegram does) or a file_id of the same kind. Returns the media object.
 */
export const resolveMedia = async (
  world: World,
  value: unknown,
  uploads: Map<string, UploadedFile>,
  field: string,
  kind: FileKind,
  meta: MediaMeta,
): Promise<unknown> => {
  let upload: UploadedFile | undefined;
  if (typeof value === 'string' && value.startsWith('attach://')) {
    upload = uploads.get(value.slice('attach://'.length));
    if (!upload) throw errors.wrongFileId();
  } else if (value === undefined || value === null || value === '') {
    upload = uploads.get(field);
    if (!upload) throw errors.noMedia(field);
  }
  if (upload) {
    const name = upload.filename || undefined;
    return storeMedia(world, kind, upload.data, {
      ...meta,
      ...(name ? { file_name: meta.file_name ?? name } : {}),
      ...(upload.contentType !== 'application/octet-stream' && !meta.mime_type
        ? { mime_type: upload.contentType }
        : {}),
    });
  }
  const ref = String(value);
  if (/^https?:\/\//i.test(ref)) {
    const got = await fetchUrl(ref);
    return storeMedia(world, kind, got.data, {
      file_name: got.name,
      ...(got.type && !/octet-stream/.test(got.type) ? { mime_type: got.type.split(';')[0]! } : {}),
      ...meta,
    });
  }
  const file: StoredFile | undefined = world.files.get(ref);
  if (!file) throw errors.wrongFileId();
  if (file.kind !== kind) throw errors.fileTypeMismatch();
  if (kind === 'photo') return file.media as PhotoSize[];
  return file.media;
};
