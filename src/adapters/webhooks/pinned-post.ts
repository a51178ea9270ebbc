// One webhook POST, connected only to addresses checked beforehand (address-guard.ts): the request
// carries the URL's host name (Host header, TLS SNI and certificate check) but its socket connects to
// the checked addresses, never to what a second DNS answer would say. Redirects are not followed
// (node:http never does), and the receiver's answer body is discarded unread.
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { CheckedTarget } from './address-guard.ts';

export interface PostAnswer {
  readonly status: number;
}

export interface PinnedPostOptions {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly signal: AbortSignal;
  /** Keep-alive agents, one per protocol (sockets they pool were connected to checked addresses). */
  readonly agents?: { readonly http: http.Agent; readonly https: https.Agent };
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for net.connect that answers the checked addresses whatever name it is asked. */
const pinnedLookup =
  (addresses: readonly LookupAddress[]) =>
  (_host: string, options: LookupOptions, callback: LookupCallback): void => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
    if (usable.length === 0) {
      const error: NodeJS.ErrnoException = new Error('no checked address of the requested family');
      error.code = 'ENOTFOUND';
      callback(error, []);
      return;
    }
    if (options.all)
      callback(
        null,
        usable.map((a) => ({ ...a })),
      );
    else callback(null, usable[0]!.address, usable[0]!.family);
  };

/** POSTs to a checked target; resolves with the status once the answer's head arrives. */
export const pinnedPost = (target: CheckedTarget, options: PinnedPostOptions): Promise<PostAnswer> =>
  new Promise((resolve, reject) => {
    const secure = target.url.protocol === 'https:';
    const request = (secure ? https : http).request(
      target.url,
      {
        method: 'POST',
        headers: { ...options.headers, 'Content-Length': String(Buffer.byteLength(options.body)) },
        lookup: pinnedLookup(target.addresses) as unknown as typeof import('node:dns').lookup,
        signal: options.signal,
        ...(options.agents ? { agent: secure ? options.agents.https : options.agents.http } : {}),
      },
      (response) => {
        // Nothing of the answer is kept: drain it so a kept-alive socket can serve the next POST.
        response.resume();
        response.on('error', () => undefined);
        resolve({ status: response.statusCode ?? 0 });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
