// The conversation store on PostgreSQL: the conversation-state read model (its views), read by the
// conversation reader. Used only while the read model in service is the version this code builds:
// a copy of another shape is no copy at all, and the reader then folds the stream itself.
import type pg from 'pg';
import type { ConversationStore, StoredCore, StoredMessage } from '../../domain/conversation-store.ts';
import { CONVERSATION_STATE_VERSION } from '../../projections/read-models/conversation-state.ts';
import { type EventRow, eventColumnsSql, toRecorded } from './pg-event-log.ts';

export interface PgConversationStoreOptions {
  readonly pool: pg.Pool;
  /** The event log is td_events in this same database: a cold read takes the core and the tail in one statement. */
  readonly besideLog?: boolean;
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

  const core: ConversationStore['core'] = async (conversationId) => {
    if (!(await inService())) return undefined;
    const { rows } = await pool.query<{ revision: string; core: StoredCore['core']; recent: string[] }>(
      `SELECT revision::text, core, recent_event_ids AS recent FROM rm_conversation_state WHERE conversation_id = $1`,
      [conversationId],
    );
    const r = rows[0];
    return r ? { core: r.core, revision: Number(r.revision), recentEventIds: r.recent } : undefined;
  };

  // One statement, one snapshot: the core's row first (when there is one), then the stream after it.
  const coreAndTail: ConversationStore['coreAndTail'] = async (conversationId, stream) => {
    if (!(await inService())) return undefined;
    const { rows } = await pool.query<
      EventRow & { part: number; core: StoredCore['core'] | null; recent: string[] | null }
    >(
      `WITH s AS (SELECT revision, core, recent_event_ids FROM rm_conversation_state WHERE conversation_id = $1)
       SELECT 0 AS part, NULL::bigint AS position, NULL::xid8 AS transaction_id, NULL::uuid AS event_id,
              NULL::text AS stream, s.revision, NULL::text AS type, NULL::jsonb AS data, NULL::jsonb AS metadata,
              NULL::timestamptz AS recorded_at, s.core, s.recent_event_ids AS recent FROM s
       UNION ALL
       SELECT 1, ${eventColumnsSql}, NULL, NULL FROM td_events
       WHERE stream = $2 AND revision > coalesce((SELECT revision FROM s), -1)
       ORDER BY part, revision`,
      [conversationId, stream],
    );
    const head = rows[0]?.part === 0 ? rows[0] : undefined;
    return {
      ...(head
        ? { stored: { core: head.core!, revision: Number(head.revision), recentEventIds: head.recent! } }
        : {}),
      tail: (head ? rows.slice(1) : rows).map(toRecorded),
    };
  };

  return {
    core,
    ...(options.besideLog ? { coreAndTail } : {}),
    async messages(conversationId, ids): Promise<StoredMessage[]> {
      if (ids.length === 0 || !(await inService())) return [];
      const { rows } = await pool.query<{ revision: string; message: StoredMessage['message'] }>(
        `SELECT revision::text, message FROM rm_conversation_messages
         WHERE conversation_id = $1 AND message_id = ANY ($2::text[])`,
        [conversationId, ids],
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
        `SELECT ref, message_id FROM rm_conversation_refs WHERE conversation_id = $1 AND ref = ANY ($2::text[])`,
        [conversationId, keys],
      );
      return rows.map((r) => [r.ref, r.message_id] as const);
    },
  };
};
