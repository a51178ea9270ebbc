// Bearer tokens checked once, then remembered: every API request would otherwise spend a database
// round trip on a lookup whose answer changes only when a token is revoked. A revocation must still
// take effect at once on every instance, so a token is remembered only while this instance LISTENs
// on `td_tokens`, which the sources projection notifies in the transaction that records the
// revocation; without that connection every request asks the database, as before.
import pg from 'pg';
import { type AuthenticatedSource, authenticate } from './sources.ts';

/** The channel the sources projection notifies (payload: the token id) when a token is revoked. */
export const TOKENS_CHANNEL = 'td_tokens';

export interface Authenticator {
  /** Bearer token → its source; undefined for anything not a live token. */
  authenticate(bearer: string | undefined): Promise<AuthenticatedSource | undefined>;
  stop(): Promise<void>;
}

export interface AuthenticatorOptions {
  readonly pool: pg.Pool;
  /** Where to LISTEN for revocations; without it nothing is remembered. */
  readonly connectionString?: string;
  /** A remembered answer is asked again after this long all the same. Default 60 s. */
  readonly maxAgeMs?: number;
  /** Tokens remembered at most (the oldest forgotten first). Default 10 000. */
  readonly maxEntries?: number;
  readonly onError?: (error: unknown) => void;
}

export const createAuthenticator = (options: AuthenticatorOptions): Authenticator => {
  const { pool, maxAgeMs = 60_000, maxEntries = 10_000, onError = () => {} } = options;
  const remembered = new Map<string, { source: AuthenticatedSource; until: number }>();
  // Moves on with every revocation heard and every lost connection: an answer read from the
  // database before one of those may be stale and is not remembered.
  let generation = 0;
  let listener: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let nextAttempt = 0;
  let stopped = false;

  const forgetAll = () => {
    generation++;
    remembered.clear();
  };

  const ensureListening = () => {
    const connectionString = options.connectionString;
    if (!connectionString || listener || connecting || stopped || Date.now() < nextAttempt) return;
    connecting = (async () => {
      const client = new pg.Client({ connectionString });
      const lost = (error?: unknown) => {
        if (error) onError(error);
        if (listener === client) listener = undefined;
        forgetAll();
        nextAttempt = Date.now() + 1000;
        void client.end().catch(() => undefined);
      };
      client.on('error', lost);
      client.on('end', () => lost());
      try {
        await client.connect();
        client.on('notification', (n) => {
          generation++;
          for (const [token, entry] of remembered) {
            if (!n.payload || entry.source.tokenId === n.payload) remembered.delete(token);
          }
        });
        await client.query(`LISTEN ${TOKENS_CHANNEL}`);
        if (stopped) await client.end();
        else {
          forgetAll(); // anything revoked while nobody listened
          listener = client;
        }
      } catch (error) {
        lost(error);
      }
    })().finally(() => {
      connecting = undefined;
    });
  };

  return {
    async authenticate(bearer) {
      if (!bearer) return undefined;
      ensureListening();
      const hit = remembered.get(bearer);
      if (hit && listener && hit.until > Date.now()) return hit.source;
      const before = generation;
      const source = await authenticate(pool, bearer);
      // Keyed by the whole bearer string: only the exact token that was checked is let in again.
      if (source && listener && generation === before) {
        remembered.delete(bearer);
        remembered.set(bearer, { source, until: Date.now() + maxAgeMs });
        if (remembered.size > maxEntries) remembered.delete(remembered.keys().next().value!);
      }
      return source;
    },
    async stop() {
      stopped = true;
      await connecting;
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
      remembered.clear();
    },
  };
};
