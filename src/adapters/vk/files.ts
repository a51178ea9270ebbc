// Files between VK and Telegram, which is the file store (docs/design.md, "Telegram is the file
// store"): a client's VK file is downloaded from VK's CDN and uploaded to the support group, and
// the event records Telegram's file_id; a manager's file is downloaded from Telegram (getFile) for
// the upload to VK.
import { redactSecrets } from '../logging/redact.ts';
import type { StoredTelegramFile, TelegramFiles, TelegramUpload } from '../telegram/file-store.ts';
import { DownloadError } from './errors.ts';
import { type FileHost, onFileHost } from './file-hosts.ts';

export interface DownloadOptions {
  /** Refuse (DownloadError 413) what is larger. */
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Download only from these hosts (VK_FILE_HOSTS), following a redirect only to another of them;
   * anything else is refused (DownloadError 403). Without it any host, and redirects are followed.
   */
  readonly hosts?: readonly FileHost[];
}

/** Redirects followed within the allowed hosts before giving up. */
const MAX_REDIRECTS = 5;

const isRedirect = (status: number) => [301, 302, 303, 307, 308].includes(status);

/** GETs a file; HTTP errors become DownloadError (with the status), network errors are thrown as they are. */
export const download = async (url: string, options: DownloadOptions = {}): Promise<Buffer> => {
  const { maxBytes = Number.POSITIVE_INFINITY, timeoutMs = 60_000, hosts } = options;
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  const signal = AbortSignal.any(signals);
  // Not an http(s) address: no download could ever succeed (a refusal, not a network failure).
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new DownloadError(`download failed: not an http(s) URL: ${redact(url).slice(0, 100)}`, 400);
  let res: Response;
  if (!hosts) {
    res = await fetch(url, { signal, redirect: 'follow' });
  } else {
    let at = new URL(url);
    for (let hops = 0; ; hops += 1) {
      if (!/^https?:$/.test(at.protocol) || !onFileHost(at, hosts))
        throw new DownloadError(
          `download refused: ${at.host} is not one of the file hosts allowed (VK_FILE_HOSTS)${hops > 0 ? `, redirected from ${redact(url)}` : ''}`,
          403,
        );
      res = await fetch(at, { signal, redirect: 'manual' });
      const location = res.headers.get('location');
      if (!isRedirect(res.status) || !location) break;
      await res.body?.cancel().catch(() => undefined);
      if (hops >= MAX_REDIRECTS)
        throw new DownloadError(
          `download failed: more than ${MAX_REDIRECTS} redirects from ${redact(url)}`,
          400,
        );
      at = new URL(location, at);
    }
  }
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

/** A URL as an error shows it: the bot token in a Telegram file URL redacted, the query dropped. */
const redact = (url: string) => redactSecrets(url.replace(/\?.*$/, ''));

export interface FileStore {
  /** Uploads a file to Telegram (the file store) and returns its file_id. */
  put(upload: TelegramUpload, data: Buffer, fileName: string): Promise<StoredTelegramFile>;
  /** The bytes of a Telegram file (bots may download up to 20 MB). */
  get(fileId: string, signal?: AbortSignal): Promise<{ data: Buffer; filePath: string }>;
}

/** The VK channel's side of the Telegram file store: buffers both ways. */
export const vkFileStore = (files: TelegramFiles): FileStore => ({
  async put(upload, data, fileName) {
    const stored = await files.put(upload, data, fileName);
    if (!stored) throw new Error(`telegram returned no file for a ${upload} upload`);
    return stored;
  },
  async get(fileId, signal) {
    const found = await files.downloadUrl(fileId);
    if (!found) throw new DownloadError('telegram gave no file_path for the file', 404);
    return { data: await download(found.url, signal ? { signal } : {}), filePath: found.filePath };
  },
});
