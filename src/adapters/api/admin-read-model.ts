// What the admin API reads from the read models: conversations (listed by last activity, newest
// first, keyset-paged on the rm_conversations activity index) and sources with their tokens.
import type pg from 'pg';
import type { ConversationRow } from '../../projections/read-models/conversations.ts';

export interface ConversationFilter {
  readonly channel?: string;
  readonly source?: string;
  readonly clientId?: string;
  readonly status?: 'open' | 'closed';
  readonly banned?: boolean;
  /** Case-insensitive text: in the conversation's messages, the client's name or username, the topic title. */
  readonly q?: string;
  readonly limit: number;
  readonly after?: ConversationCursor;
}

export interface ConversationCursor {
  readonly lastActivityAt: string;
  readonly conversationId: string;
}

export interface AdminConversation {
  readonly conversation_id: string;
  readonly channel: string;
  readonly source: string;
  readonly client_id: string;
  readonly profile: Record<string, unknown>;
  readonly topic: {
    readonly chat_id: string;
    readonly topic_id: string;
    readonly title: string | null;
  } | null;
  readonly status: 'open' | 'closed';
  readonly banned: boolean;
  readonly message_count: number;
  readonly started_at: string;
  readonly last_activity_at: string;
  readonly last_message_text: string | null;
}

/** A rm_conversations row as pg reads it back (timestamps as Dates), with its cursor key. */
interface ConversationDbRow extends Omit<ConversationRow, 'started_at' | 'last_activity_at' | 'revision'> {
  started_at: Date;
  last_activity_at: Date;
  activity_key: string;
}

/** `%`, `_` and `\` match themselves in the search text. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const toConversation = (r: ConversationDbRow): AdminConversation => ({
  conversation_id: r.conversation_id,
  channel: r.channel,
  source: r.source,
  client_id: r.client_id,
  profile: r.profile,
  topic:
    r.topic_id && r.topic_chat_id
      ? { chat_id: r.topic_chat_id, topic_id: r.topic_id, title: r.topic_title }
      : null,
  status: r.status,
  banned: r.banned,
  message_count: r.message_count,
  started_at: r.started_at.toISOString(),
  last_activity_at: r.last_activity_at.toISOString(),
  last_message_text: r.last_message_text,
});

// The cursor keeps the timestamp at full (microsecond) precision: a millisecond ISO string would
// skip or repeat conversations whose activity times differ below a millisecond.
const columns = `conversation_id::text AS conversation_id, channel, source, client_id, profile, topic_id,
  topic_chat_id, topic_title, status, banned, message_count, started_at, last_activity_at, last_message_text,
  to_char(last_activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS activity_key`;

export const listConversations = async (
  pool: Pick<pg.Pool, 'query'>,
  filter: ConversationFilter,
): Promise<{ conversations: AdminConversation[]; next: ConversationCursor | null }> => {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.channel !== undefined) where.push(`channel = ${param(filter.channel)}`);
  if (filter.source !== undefined) where.push(`source = ${param(filter.source)}`);
  if (filter.clientId !== undefined) where.push(`client_id = ${param(filter.clientId)}`);
  if (filter.status !== undefined) where.push(`status = ${param(filter.status)}`);
  if (filter.banned !== undefined) where.push(`banned = ${param(filter.banned)}`);
  if (filter.q !== undefined) {
    const p = param(likePattern(filter.q));
    where.push(`(profile->>'firstName' ILIKE ${p} OR profile->>'lastName' ILIKE ${p}
      OR profile->>'username' ILIKE ${p} OR topic_title ILIKE ${p} OR client_id ILIKE ${p}
      OR EXISTS (SELECT 1 FROM rm_messages m WHERE m.conversation_id = c.conversation_id AND m.text ILIKE ${p}))`);
  }
  if (filter.after) {
    const t = param(filter.after.lastActivityAt);
    const id = param(filter.after.conversationId);
    where.push(`(last_activity_at < ${t}::timestamptz
      OR (last_activity_at = ${t}::timestamptz AND conversation_id > ${id}::uuid))`);
  }
  const { rows } = await pool.query<ConversationDbRow>(
    `SELECT ${columns} FROM rm_conversations c
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY last_activity_at DESC, conversation_id
     LIMIT ${param(filter.limit + 1)}`,
    params,
  );
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    conversations: page.map(toConversation),
    next:
      rows.length > filter.limit && last
        ? { lastActivityAt: last.activity_key, conversationId: last.conversation_id }
        : null,
  };
};

export const findConversation = async (
  pool: Pick<pg.Pool, 'query'>,
  conversationId: string,
): Promise<AdminConversation | undefined> => {
  const { rows } = await pool.query<ConversationDbRow>(
    `SELECT ${columns} FROM rm_conversations c WHERE conversation_id = $1`,
    [conversationId],
  );
  return rows[0] && toConversation(rows[0]);
};

export interface AdminSource {
  readonly code: string;
  readonly webhook_url: string | null;
  readonly created_at: string;
  readonly tokens: ReadonlyArray<{
    readonly token_id: string;
    readonly created_at: string;
    readonly revoked_at: string | null;
  }>;
  readonly failed_deliveries: number;
  readonly retrying_deliveries: number;
}

export const listSources = async (pool: Pick<pg.Pool, 'query'>): Promise<AdminSource[]> => {
  const { rows } = await pool.query<{
    code: string;
    webhook_url: string | null;
    created_at: Date;
    tokens: Array<{ token_id: string; created_at: string; revoked_at: string | null }>;
    failed: string;
    retrying: string;
  }>(
    `SELECT s.code, s.webhook_url, s.created_at,
       coalesce((SELECT json_agg(json_build_object('token_id', t.token_id, 'created_at', t.created_at,
           'revoked_at', t.revoked_at) ORDER BY t.created_at)
         FROM rm_source_tokens t WHERE t.source_code = s.code), '[]') AS tokens,
       (SELECT count(*) FROM td_webhook_deliveries d WHERE d.source = s.code AND d.status = 'failed') AS failed,
       (SELECT count(*) FROM td_webhook_deliveries d
         WHERE d.source = s.code AND d.status = 'pending' AND d.attempt > 0) AS retrying
     FROM rm_sources s ORDER BY s.code`,
  );
  const iso = (t: string | null) => (t === null ? null : new Date(t).toISOString());
  return rows.map((r) => ({
    code: r.code,
    webhook_url: r.webhook_url,
    created_at: r.created_at.toISOString(),
    tokens: r.tokens.map((t) => ({
      token_id: t.token_id,
      created_at: new Date(t.created_at).toISOString(),
      revoked_at: iso(t.revoked_at),
    })),
    failed_deliveries: Number(r.failed),
    retrying_deliveries: Number(r.retrying),
  }));
};

export const sourceOfToken = async (
  pool: Pick<pg.Pool, 'query'>,
  tokenId: string,
): Promise<string | undefined> => {
  const { rows } = await pool.query<{ source_code: string }>(
    'SELECT source_code FROM rm_source_tokens WHERE token_id = $1',
    [tokenId],
  );
  return rows[0]?.source_code;
};
