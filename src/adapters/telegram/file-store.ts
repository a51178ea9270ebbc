// Telegram is the file store (docs/design.md, "Telegram is the file store"): a file from a source
// or a VK client is sent to the support group (its General topic) as a helper message, silently,
// and deleted right after — the file_id outlives the message, and the reactor carries the file into
// the client's topic from the recorded file_id like any other attachment. Files are read back
// through getFile and the Bot API's download URL. The external API and the VK channel both store
// their files here.
import { type Api, InputFile } from 'grammy';
import type { Message, PhotoSize } from 'grammy/types';
import type { Logger } from 'pino';
import type { AttachmentKind } from '../../domain/events.ts';

/** How a file is sent: as a photo (compressed, shown inline), a voice message, or a document. */
export type TelegramUpload = 'photo' | 'document' | 'voice';

export interface StoredTelegramFile {
  readonly kind: AttachmentKind;
  readonly fileId: string;
  readonly fileUniqueId: string;
  readonly size?: number;
}

/** A file's bytes: in memory, or a file on disk that is streamed from there (each attempt opens it anew). */
export type FileSource = Buffer | { readonly path: string };

export interface TelegramFiles {
  /**
   * Uploads a file; undefined when Telegram kept no file from it. Bot API refusals are thrown as
   * grammY's errors: what they mean is the caller's to say.
   */
  put(
    upload: TelegramUpload,
    data: FileSource,
    fileName: string,
    options?: { readonly caption?: string; readonly signal?: AbortSignal },
  ): Promise<StoredTelegramFile | undefined>;
  /** The file's download URL (it holds the bot token: never log it); undefined when Telegram gives no path. */
  downloadUrl(fileId: string, signal?: AbortSignal): Promise<{ url: string; filePath: string } | undefined>;
}

export interface TelegramFilesOptions {
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

/** The file a message carries (Telegram may keep a document as an animation, a video or audio). */
const fileOf = (m: Message): StoredTelegramFile | undefined => {
  const pick = (
    kind: AttachmentKind,
    f: { file_id: string; file_unique_id: string; file_size?: number } | undefined,
  ): StoredTelegramFile | undefined =>
    f
      ? {
          kind,
          fileId: f.file_id,
          fileUniqueId: f.file_unique_id,
          ...(f.file_size !== undefined ? { size: f.file_size } : {}),
        }
      : undefined;
  return (
    pick('document', m.document) ??
    pick('animation', m.animation) ??
    pick('video', m.video) ??
    pick('audio', m.audio) ??
    pick('voice', m.voice) ??
    pick('sticker', m.sticker) ??
    pick('photo', largestPhoto(m.photo))
  );
};

export const createTelegramFiles = (options: TelegramFilesOptions): TelegramFiles => {
  const { api, supportChatId, logger } = options;
  return {
    async put(upload, data, fileName, { caption, signal } = {}) {
      const file = new InputFile(Buffer.isBuffer(data) ? data : data.path, fileName);
      const extra = { disable_notification: true, ...(caption ? { caption: caption.slice(0, 1024) } : {}) };
      const message =
        upload === 'photo'
          ? await api.sendPhoto(supportChatId, file, extra, signal as never)
          : upload === 'voice'
            ? await api.sendVoice(supportChatId, file, extra, signal as never)
            : await api.sendDocument(
                supportChatId,
                file,
                { ...extra, disable_content_type_detection: true },
                signal as never,
              );
      // The helper message has done its job; its deletion need not hold up the caller.
      void api
        .deleteMessage(supportChatId, message.message_id)
        .catch((err: unknown) =>
          logger.warn({ err, messageId: message.message_id }, 'could not delete a file-store helper message'),
        );
      return fileOf(message);
    },
    async downloadUrl(fileId, signal) {
      const path = (await api.getFile(fileId, signal as never)).file_path;
      if (!path) return undefined;
      return {
        url: `${options.apiRoot.replace(/\/$/, '')}/file/bot${options.token}/${path}`,
        filePath: path,
      };
    },
  };
};
