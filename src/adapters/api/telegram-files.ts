// Files of the external API: a file a source uploads is stored in Telegram as a document (its
// file_id is what the event records), and GET /files streams it back from Telegram.
import type { Attachment } from '../../domain/events.ts';
import { refusal, telegramFailure } from '../telegram/errors.ts';
import type { StoredTelegramFile, TelegramFiles } from '../telegram/file-store.ts';

/** A file waiting on disk (a spooled upload part): it is streamed to Telegram, never read whole. */
export interface FileToStore {
  readonly fileName: string;
  readonly mimeType: string;
  readonly path: string;
  readonly size: number;
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

/** The external API's side of the Telegram file store: documents in, streams out, refusals named. */
export const createTelegramFileStore = (files: TelegramFiles): FileStore => ({
  async store(file, caption, signal) {
    let stored: StoredTelegramFile | undefined;
    try {
      stored = await files.put('document', { path: file.path }, file.fileName, {
        caption,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const refused = refusal(error);
      if (refused) throw new FileRefusedError(`Telegram refused the file: ${refused.reason}`);
      throw error;
    }
    if (!stored) throw new FileRefusedError('Telegram kept no file from the upload');
    return {
      kind: stored.kind,
      fileRef: stored.fileId,
      fileUniqueId: stored.fileUniqueId,
      fileName: file.fileName,
      mimeType: file.mimeType,
      size: file.size,
    };
  },
  async open(fileRef, signal) {
    let found: { url: string } | undefined;
    try {
      found = await files.downloadUrl(fileRef, signal);
    } catch (error) {
      // Any answer but the file's path (getFile is not retried by the limiter): the file cannot be had now.
      const answered = telegramFailure(error);
      if (answered?.code !== undefined) throw new FileRefusedError(`Telegram: ${answered.reason}`);
      throw error;
    }
    if (!found) throw new FileRefusedError('Telegram has no download path for this file');
    const res = await fetch(found.url, signal ? { signal } : {});
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new FileRefusedError(`Telegram answered ${res.status} to the download`);
    }
    const length = Number(res.headers.get('content-length'));
    return { body: res.body, ...(Number.isFinite(length) && length > 0 ? { size: length } : {}) };
  },
});
