// Telegram is the file store (SPEC §3): a file an external source uploads is sent to the support
// group as a document, and its file_id is what the event records; the API serves files back by
// streaming them from Telegram (getFile, then the Bot API's file download URL).
//
// The upload is a helper message in the support group (its General topic), sent silently and
// deleted right after: the file_id outlives the message, and the reactor carries the file into the
// client's topic from the recorded file_id like any other attachment.
import { type Api, GrammyError, InputFile } from 'grammy';
import type { Message } from 'grammy/types';
import type { Logger } from 'pino';
import type { Attachment, AttachmentKind } from '../../domain/events.ts';

export interface FileToStore {
  readonly fileName: string;
  readonly mimeType: string;
  readonly data: Buffer;
}

export interface FileDownload {
  readonly body: ReadableStream<Uint8Array>;
  readonly size?: number;
}

export interface FileStore {
  /** Uploads the file and describes it as an attachment (the file_id in `fileRef`). */
  store(file: FileToStore, caption: string, signal?: AbortSignal): Promise<Attachment>;
  open(fileRef: string, signal?: AbortSignal): Promise<FileDownload>;
}

/** Telegram refused the file (a 4xx from the Bot API): nothing to retry. */
export class FileRefusedError extends Error {
  override readonly name = 'FileRefusedError';
}

export interface TelegramFileStoreOptions {
  readonly api: Api;
  readonly token: string;
  readonly apiRoot: string;
  readonly supportChatId: string;
  readonly logger: Logger;
}

const stored = (m: Message): { kind: AttachmentKind; fileId: string; uniqueId: string } | undefined => {
  const pick = (kind: AttachmentKind, f: { file_id: string; file_unique_id: string } | undefined) =>
    f ? { kind, fileId: f.file_id, uniqueId: f.file_unique_id } : undefined;
  return (
    pick('document', m.document) ??
    pick('animation', m.animation) ??
    pick('video', m.video) ??
    pick('audio', m.audio) ??
    pick('voice', m.voice) ??
    pick('sticker', m.sticker) ??
    pick('photo', m.photo?.at(-1))
  );
};

export const createTelegramFileStore = (options: TelegramFileStoreOptions): FileStore => {
  const { api, supportChatId, logger } = options;
  return {
    async store(file, caption, signal) {
      let sent: Message;
      try {
        sent = await api.sendDocument(
          supportChatId,
          new InputFile(file.data, file.fileName),
          {
            caption: caption.slice(0, 1024),
            disable_notification: true,
            disable_content_type_detection: true,
          },
          signal as never,
        );
      } catch (error) {
        if (error instanceof GrammyError && error.error_code >= 400 && error.error_code < 500) {
          throw new FileRefusedError(`Telegram refused the file: ${error.description}`);
        }
        throw error;
      }
      // The helper message has done its job; its deletion need not hold up the answer.
      void api
        .deleteMessage(supportChatId, sent.message_id)
        .catch((err: unknown) =>
          logger.warn({ err, messageId: sent.message_id }, 'could not delete an upload helper message'),
        );
      const f = stored(sent);
      if (!f) throw new FileRefusedError('Telegram kept no file from the upload');
      return {
        kind: f.kind,
        fileRef: f.fileId,
        fileUniqueId: f.uniqueId,
        fileName: file.fileName,
        mimeType: file.mimeType,
        size: file.data.length,
      };
    },
    async open(fileRef, signal) {
      let path: string | undefined;
      try {
        path = (await api.getFile(fileRef, signal as never)).file_path;
      } catch (error) {
        if (error instanceof GrammyError) throw new FileRefusedError(`Telegram: ${error.description}`);
        throw error;
      }
      if (!path) throw new FileRefusedError('Telegram has no download path for this file');
      const url = `${options.apiRoot.replace(/\/$/, '')}/file/bot${options.token}/${path}`;
      const res = await fetch(url, signal ? { signal } : {});
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw new FileRefusedError(`Telegram answered ${res.status} to the download`);
      }
      const length = Number(res.headers.get('content-length'));
      return { body: res.body, ...(Number.isFinite(length) && length > 0 ? { size: length } : {}) };
    },
  };
};
