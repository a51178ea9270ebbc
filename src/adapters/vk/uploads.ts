// An answer's files uploaded to VK for one client (photo, audio message, document), each once: a
// retried send reuses the attachment strings of the files it uploaded before, until it succeeds.
import { APIError, type Upload, UploadError } from 'vk-io';
import { UploadServerError } from './errors.ts';
import type { FileStore } from './files.ts';
import type { OutgoingFile } from './outgoing.ts';

export interface VkUploads {
  /** The VK attachment string of `file` of answer `messageId`, sent to `peerId`. */
  attachmentOf(
    to: { readonly peerId: number; readonly signal?: AbortSignal },
    messageId: string,
    file: OutgoingFile,
  ): Promise<string>;
  /** The answer went (or failed for good): its uploads are not needed again. */
  forget(messageId: string): void;
}

export const createVkUploads = ({ upload, files }: { upload: Upload; files: FileStore }): VkUploads => {
  const uploaded = new Map<string, string>();
  return {
    async attachmentOf(to, messageId, file) {
      const key = `${messageId}|${file.fileRef}`;
      const done = uploaded.get(key);
      if (done) return done;
      const { data } = await files.get(file.fileRef, to.signal);
      const source = { value: data, filename: file.fileName };
      const peer_id = to.peerId;
      let attachment: string;
      try {
        switch (file.upload) {
          case 'photo':
            attachment = String(await upload.messagePhoto({ peer_id, source }));
            break;
          case 'audio_message':
            // An audio message is a doc to messages.send (vk-io names it audio_message<owner>_<id>).
            attachment = String(await upload.audioMessage({ peer_id, source })).replace(
              /^audio_message/,
              'doc',
            );
            break;
          case 'doc':
            attachment = String(await upload.messageDocument({ peer_id, source, title: file.fileName }));
            break;
        }
      } catch (error) {
        if (error instanceof APIError || error instanceof UploadError) throw error;
        // vk-io reports an upload server's HTTP error or a broken connection as a plain Error.
        throw new UploadServerError(
          `VK upload server: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      uploaded.set(key, attachment);
      return attachment;
    },
    forget(messageId) {
      for (const key of uploaded.keys()) if (key.startsWith(`${messageId}|`)) uploaded.delete(key);
    },
  };
};
