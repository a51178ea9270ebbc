// The conversation store on PostgreSQL: the conversation-state read model (its views), read by the
// conversation reader. Used only while the read model in service is the version this code builds:
// a copy of another shape is no copy at all, and the reader then folds the stream itself.
import type pg from 'pg';
import type { ConversationStore, StoredCore, StoredMessage } from '../../domain/conversation-store.ts';
import { CONVERSATION_STATE_VERSION } from '../../projections/read-models/conversation-state.ts';
import { prepared } from './prepared.ts';

// On the views of the generation in service: a rebuild's new views are planned afresh by the server.
const coreQuery = prepared(
  'stored_core',
  'SELECT revision::text, core, recent_event_ids AS recent FROM rm_conversation_state WHERE conversation_id = $1',
);
const messagesQuery = prepared(
  'stored_messages',
  `SELECT revision::text, message FROM rm_conversation_messages
   WHERE conversation_id = $1 AND message_id = ANY ($2::text[])`,
);
const refsQuery = prepared(
  'stored_refs',
  'SELECT ref, message_id FROM rm_conversation_refs WHERE conversation_id = $1 AND ref = ANY ($2::text[])',
);

export interface PgConversationStoreOptions {
  readonly pool: pg.Pool;
  /** How long the read model's version is taken as known. Default 10 s. */
  readonly versionTtlMs?: number;
}

export const createPgConversationStore = (options: PgConversationStoreOptions): ConversationStore => {
  const { pool } = options;
  const ttl = options.versionTtlMs ?? 10_000;
  let usable: { ok: boolean; until: number } | undefined;

  /** Whether the generation readers see is this code's version (a missing table is no copy yet). */
  const inService = async (): Promise<boolean> => {
    if (usable && usable.until > Date.now()) return usable.ok;
    const { rows } = await pool
      .query<{ version: number }>(
        `SELECT version FROM td_projections WHERE name = 'conversation-state' AND status = 'active'`,
      )
      .catch(() => ({ rows: [] as { version: number }[] }));
    const ok = rows[0]?.version === CONVERSATION_STATE_VERSION;
    usable = { ok, until: Date.now() + ttl };
    return ok;
  };

  return {
    async core(conversationId): Promise<StoredCore | undefined> {
      if (!(await inService())) return undefined;
      const { rows } = await pool.query<{ revision: string; core: StoredCore['core']; recent: string[] }>(
        coreQuery([conversationId]),
      );
      const r = rows[0];
      return r ? { core: r.core, revision: Number(r.revision), recentEventIds: r.recent } : undefined;
    },
    async messages(conversationId, ids): Promise<StoredMessage[]> {
      if (ids.length === 0 || !(await inService())) return [];
      const { rows } = await pool.query<{ revision: string; message: StoredMessage['message'] }>(
        messagesQuery([conversationId, ids]),
      );
      return rows.map((r) => ({ message: r.message, revision: Number(r.revision) }));
    },
    async mediaGroup(conversationId, mediaGroupId): Promise<StoredMessage[]> {
      if (!(await inService())) return [];
      const { rows } = await pool.query<{ revision: string; message: StoredMessage['message'] }>(
        `SELECT revision::text, message FROM rm_conversation_messages
         WHERE conversation_id = $1 AND message->>'mediaGroupId' = $2`,
        [conversationId, mediaGroupId],
      );
      return rows.map((r) => ({ message: r.message, revision: Number(r.revision) }));
    },
    async refs(conversationId, keys) {
      if (keys.length === 0 || !(await inService())) return [];
      const { rows } = await pool.query<{ ref: string; message_id: string }>(
        refsQuery([conversationId, keys]),
      );
      return rows.map((r) => [r.ref, r.message_id] as const);
    },
  };
};
