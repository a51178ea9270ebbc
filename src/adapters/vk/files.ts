// Files between VK and Telegram. Telegram is the file store (SPEC §3): a client's VK file is
// downloaded from VK's CDN and uploaded to the support group, and the event records Telegram's
// file_id; a manager's file is downloaded from Telegram (getFile) for the upload to VK.
import { type Api, InputFile } from 'grammy';
import type { Message, PhotoSize } from 'grammy/types';
import type { Logger } from 'pino';
import { DownloadError } from './errors.ts';
import type { TelegramUpload } from './translate.ts';

export interface DownloadOptions {
  /** Refuse (DownloadError 413) what is larger. */
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** GETs a file; HTTP errors become DownloadError (with the status), network errors are thrown as they are. */
export const download = async (url: string, options: DownloadOptions = {}): Promise<Buffer> => {
  const { maxBytes = Number.POSITIVE_INFINITY, timeoutMs = 60_000 } = options;
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  // Not an http(s) address: no download could ever succeed (a refusal, not a network failure).
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new DownloadError(`download failed: not an http(s) URL: ${redact(url).slice(0, 100)}`, 400);
  const res = await fetch(url, { signal: AbortSignal.any(signals), redirect: 'follow' });
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new DownloadError(`download failed: HTTP ${res.status} for ${redact(url)}`, res.status);
  }
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body.cancel().catch(() => undefined);
    throw new DownloadError(`file too large (${declared} bytes) at ${redact(url)}`, 413);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Uint8Array).length;
    if (size > maxBytes) throw new DownloadError(`file too large (over ${maxBytes} bytes)`, 413);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
};

/** Bot tokens appear in Telegram file URLs: never log them. */
const redact = (url: string) => url.replace(/\/bot[^/]+\//, '/bot<token>/').replace(/\?.*$/, '');

export interface StoredFile {
  readonly fileId: string;
  readonly fileUniqueId: string;
  readonly size?: number;
}

export interface FileStore {
  /** Uploads a file to Telegram and returns its file_id (the message that carried it is removed). */
  put(upload: TelegramUpload, data: Buffer, fileName: string): Promise<StoredFile>;
  /** The bytes of a Telegram file (bots may download up to 20 MB). */
  get(fileId: string, signal?: AbortSignal): Promise<{ data: Buffer; filePath: string }>;
}

export interface TelegramFileStoreOptions {
  readonly api: Api;
  readonly token: string;
  readonly apiRoot: string;
  readonly supportChatId: string;
  readonly logger: Logger;
}

const largestPhoto = (sizes: readonly PhotoSize[] | undefined): PhotoSize | undefined =>
  sizes?.reduce<PhotoSize | undefined>(
    (best, s) => (!best || s.width * s.height > best.width * best.height ? s : best),
    undefined,
  );

/**
 * The support group as file store: a file is sent to the group's General topic without a
 * notification, its file_id kept, and the message deleted again. The file_id stays valid after the
 * message is gone; the topic gets the file from the Telegram reactor, by that file_id.
 */
export const telegramFileStore = (options: TelegramFileStoreOptions): FileStore => {
  const { api, supportChatId, logger } = options;
  return {
    async put(upload, data, fileName) {
      const file = new InputFile(data, fileName);
      const quiet = { disable_notification: true };
      let message: Message;
      let ref: { file_id: string; file_unique_id: string; file_size?: number } | undefined;
      switch (upload) {
        case 'photo':
          message = await api.sendPhoto(supportChatId, file, quiet);
          ref = largestPhoto(message.photo);
          break;
        case 'voice':
          message = await api.sendVoice(supportChatId, file, quiet);
          ref = message.voice;
          break;
        case 'document':
          message = await api.sendDocument(supportChatId, file, {
            ...quiet,
            disable_content_type_detection: true,
          });
          ref = message.document ?? message.animation ?? message.audio ?? message.video;
          break;
      }
      await api
        .deleteMessage(supportChatId, message.message_id)
        .catch((err: unknown) =>
          logger.warn({ err }, 'could not remove a file-store message from the group'),
        );
      if (!ref) throw new Error(`telegram returned no file for a ${upload} upload`);
      return {
        fileId: ref.file_id,
        fileUniqueId: ref.file_unique_id,
        ...(ref.file_size !== undefined ? { size: ref.file_size } : {}),
      };
    },
    async get(fileId, signal) {
      const file = await api.getFile(fileId);
      if (!file.file_path) throw new DownloadError('telegram gave no file_path for the file', 404);
      const data = await download(`${options.apiRoot}/file/bot${options.token}/${file.file_path}`, {
        ...(signal ? { signal } : {}),
      });
      return { data, filePath: file.file_path };
    },
  };
};
