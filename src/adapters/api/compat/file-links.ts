// Public file links for dialect sources: like tg-support-bot's `/api/files/{file_id}`, readable
// without a bearer token (a widget's <img src>), but signed with a server secret and expiring, so
// a link names one file of one source for a while and cannot be made up or kept forever.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface FileLinks {
  /** The link to an attachment of `source`'s messages, valid for the configured time. */
  url(source: string, fileId: string, now?: Date): string;
  /** Whether a link's parts were signed here and have not expired. */
  verify(link: { source: string; fileId: string; expires: string; signature: string }, now?: Date): boolean;
}

export const FILES_PATH = '/api/files';

export const createFileLinks = (options: {
  readonly secret: string;
  readonly ttlSeconds: number;
  /** Absolute links when set (PUBLIC_URL); paths otherwise. */
  readonly publicUrl?: string;
}): FileLinks => {
  const base = options.publicUrl?.replace(/\/+$/, '') ?? '';
  const sign = (source: string, fileId: string, expires: string) =>
    createHmac('sha256', options.secret).update(`${source}\n${fileId}\n${expires}`).digest('base64url');
  return {
    url(source, fileId, now = new Date()) {
      const expires = String(Math.floor(now.getTime() / 1000) + options.ttlSeconds);
      const q = new URLSearchParams({ source, expires, signature: sign(source, fileId, expires) });
      return `${base}${FILES_PATH}/${encodeURIComponent(fileId)}?${q}`;
    },
    verify({ source, fileId, expires, signature }, now = new Date()) {
      if (!/^\d{1,12}$/.test(expires) || Number(expires) * 1000 <= now.getTime()) return false;
      const given = Buffer.from(signature);
      const wanted = Buffer.from(sign(source, fileId, expires));
      return given.length === wanted.length && timingSafeEqual(given, wanted);
    },
  };
};
