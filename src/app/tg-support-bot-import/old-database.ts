// Reading a tg-support-bot database (docs/design.md, "Importing from tg-support-bot"): one read-only
// REPEATABLE READ transaction, so every page is read from the same snapshot and nothing can be written
// there. Which tables and columns exist depends on its release: they are looked up, not assumed.
import pg from 'pg';

/** What the database holds: tables and columns added by later releases may be missing. */
export interface OldLayout {
  readonly botUsers: { readonly banned: boolean; readonly closed: boolean };
  /** `messages.text` (2026-03 on). */
  readonly messageText: boolean;
  /** `message_attachments` (2026-03 on). */
  readonly attachments: boolean;
  readonly externalUsers: boolean;
  readonly externalSources: boolean;
  readonly tokens: boolean;
  /** `external_messages`: the external API's texts and files; which of its columns exist. */
  readonly externalMessages: {
    readonly fileId: boolean;
    readonly fileType: boolean;
    readonly fileName: boolean;
  } | null;
}

export interface OldBotUser {
  readonly id: string;
  readonly chatId: string;
  readonly topicId: string | null;
  readonly platform: string;
  readonly banned: boolean;
  readonly bannedAt: Date | null;
  readonly closed: boolean;
  readonly closedAt: Date | null;
  readonly createdAt: Date;
  /** The external_users row `chat_id` names, for an external client. */
  readonly external: { readonly externalId: string; readonly source: string } | null;
}

export interface OldAttachment {
  readonly fileId: string;
  readonly fileType: string | null;
  readonly fileName: string | null;
}

export interface OldMessage {
  readonly id: string;
  readonly botUserId: string;
  readonly direction: 'incoming' | 'outgoing';
  readonly fromId: string;
  readonly toId: string;
  readonly text: string | null;
  readonly attachments: readonly OldAttachment[];
  readonly createdAt: Date;
}

export interface OldSource {
  readonly id: string;
  readonly name: string;
  readonly webhookUrl: string | null;
  readonly createdAt: Date;
  readonly tokens: ReadonlyArray<{ readonly id: string; readonly token: string; readonly active: boolean }>;
}

export class OldDatabaseError extends Error {
  override readonly name = 'OldDatabaseError';
  readonly code = 'not_tg_support_bot';
}

export interface OldDatabase {
  readonly layout: OldLayout;
  countBotUsers(): Promise<number>;
  /** bot_users after `afterId` in id order, at most `limit`. */
  botUsers(afterId: string, limit: number): Promise<OldBotUser[]>;
  /** The messages of these clients, oldest first per client. */
  messagesOf(botUserIds: readonly string[]): Promise<OldMessage[]>;
  /** Messages whose bot_users row does not exist. */
  orphanMessages(): Promise<Array<{ id: string; botUserId: string }>>;
  sources(): Promise<OldSource[]>;
  /** The source names external_users rows carry (a source may be missing from external_sources). */
  externalSourceNames(): Promise<string[]>;
  close(): Promise<void>;
}

const tableColumns = async (client: pg.ClientBase): Promise<Map<string, Set<string>>> => {
  const { rows } = await client.query<{ t: string; c: string }>(
    `SELECT table_name AS t, column_name AS c FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ANY($1)`,
    [
      [
        'bot_users',
        'messages',
        'external_users',
        'external_sources',
        'external_source_access_tokens',
        'external_messages',
        'message_attachments',
      ],
    ],
  );
  const out = new Map<string, Set<string>>();
  for (const r of rows) (out.get(r.t) ?? out.set(r.t, new Set()).get(r.t)!).add(r.c);
  return out;
};

export const detectLayout = (columns: Map<string, Set<string>>): OldLayout => {
  const has = (t: string, c: string) => columns.get(t)?.has(c) ?? false;
  for (const [t, cs] of [
    ['bot_users', ['id', 'chat_id', 'topic_id', 'platform', 'created_at']],
    ['messages', ['id', 'bot_user_id', 'message_type', 'from_id', 'to_id', 'created_at']],
  ] as const)
    for (const c of cs)
      if (!has(t, c))
        throw new OldDatabaseError(
          `this is not a tg-support-bot database: ${columns.has(t) ? `${t}.${c}` : `the table ${t}`} is missing`,
        );
  const em = columns.get('external_messages');
  return {
    botUsers: {
      banned: has('bot_users', 'is_banned'),
      closed: has('bot_users', 'is_closed'),
    },
    messageText: has('messages', 'text'),
    attachments: has('message_attachments', 'file_id'),
    externalUsers: has('external_users', 'external_id'),
    externalSources: has('external_sources', 'name'),
    tokens: has('external_source_access_tokens', 'token'),
    externalMessages: em?.has('text')
      ? { fileId: em.has('file_id'), fileType: em.has('file_type'), fileName: em.has('file_name') }
      : null,
  };
};

/**
 * Opens the database read-only. Laravel writes its timestamps without a zone, in the app's time zone
 * (`timeZone`); the session takes that zone, so `::timestamptz` reads them as the moments they were.
 */
export const openOldDatabase = async (url: string, timeZone: string): Promise<OldDatabase> => {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a dropped connection: the next query says so
  await client.connect();
  try {
    await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SELECT set_config('TimeZone', $1, true)`, [timeZone]);
    const layout = detectLayout(await tableColumns(client));
    return readerOf(client, layout);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
};

const readerOf = (client: pg.Client, layout: OldLayout): OldDatabase => {
  const bu = layout.botUsers;
  const em = layout.externalMessages;
  const fileIdSql = em?.fileId ? 'em.file_id' : 'NULL';
  return {
    layout,
    async countBotUsers() {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM bot_users');
      return Number(rows[0]!.n);
    },
    async botUsers(afterId, limit) {
      const { rows } = await client.query(
        `SELECT b.id::text AS id, b.chat_id::text AS chat_id, b.topic_id::text AS topic_id, b.platform,
           ${bu.banned ? 'coalesce(b.is_banned, false)' : 'false'} AS banned,
           ${bu.banned ? 'b.banned_at::timestamptz' : 'NULL::timestamptz'} AS banned_at,
           ${bu.closed ? 'coalesce(b.is_closed, false)' : 'false'} AS closed,
           ${bu.closed ? 'b.closed_at::timestamptz' : 'NULL::timestamptz'} AS closed_at,
           coalesce(b.created_at::timestamptz, now()) AS created_at,
           ${layout.externalUsers ? 'eu.external_id' : 'NULL'} AS external_id,
           ${layout.externalUsers ? 'eu.source' : 'NULL'} AS external_source
         FROM bot_users b
         ${layout.externalUsers ? 'LEFT JOIN external_users eu ON eu.id = b.chat_id AND eu.source = b.platform' : ''}
         WHERE b.id > $1::bigint ORDER BY b.id LIMIT $2`,
        [afterId, limit],
      );
      return rows.map((r) => ({
        id: r.id,
        chatId: r.chat_id,
        topicId: r.topic_id,
        platform: r.platform,
        banned: r.banned,
        bannedAt: r.banned_at,
        closed: r.closed,
        closedAt: r.closed_at,
        createdAt: r.created_at,
        external: r.external_id === null ? null : { externalId: r.external_id, source: r.external_source },
      }));
    },
    async messagesOf(botUserIds) {
      if (botUserIds.length === 0) return [];
      const { rows } = await client.query(
        `SELECT m.id::text AS id, m.bot_user_id::text AS bot_user_id, m.message_type AS direction,
           m.from_id::text AS from_id, m.to_id::text AS to_id,
           coalesce(${layout.messageText ? 'm.text' : 'NULL'}, ${em ? 'em.text' : 'NULL'}) AS text,
           coalesce(m.created_at::timestamptz, now()) AS created_at,
           ${
             layout.attachments
               ? `(SELECT json_agg(json_build_object('fileId', a.file_id, 'fileType', a.file_type, 'fileName', a.file_name) ORDER BY a.id)
                    FROM message_attachments a WHERE a.message_id = m.id)`
               : 'NULL'
           } AS attachments,
           ${fileIdSql} AS ext_file_id,
           ${em?.fileType ? 'em.file_type' : 'NULL'} AS ext_file_type,
           ${em?.fileName ? 'em.file_name' : 'NULL'} AS ext_file_name
         FROM messages m
         ${em ? 'LEFT JOIN LATERAL (SELECT * FROM external_messages x WHERE x.message_id = m.id ORDER BY x.id LIMIT 1) em ON true' : ''}
         WHERE m.bot_user_id = ANY($1::bigint[])
         ORDER BY m.bot_user_id, m.created_at, m.id`,
        [botUserIds],
      );
      return rows.map((r) => {
        const attachments: OldAttachment[] = r.attachments ?? [];
        // The external API kept its one file beside the message before message_attachments existed.
        if (attachments.length === 0 && r.ext_file_id)
          attachments.push({ fileId: r.ext_file_id, fileType: r.ext_file_type, fileName: r.ext_file_name });
        return {
          id: r.id,
          botUserId: r.bot_user_id,
          direction: r.direction === 'outgoing' ? 'outgoing' : 'incoming',
          fromId: r.from_id,
          toId: r.to_id,
          text: r.text,
          attachments,
          createdAt: r.created_at,
        };
      });
    },
    async orphanMessages() {
      const { rows } = await client.query<{ id: string; bot_user_id: string }>(
        `SELECT m.id::text AS id, m.bot_user_id::text AS bot_user_id FROM messages m
          WHERE NOT EXISTS (SELECT 1 FROM bot_users b WHERE b.id = m.bot_user_id) ORDER BY m.id`,
      );
      return rows.map((r) => ({ id: r.id, botUserId: r.bot_user_id }));
    },
    async sources() {
      if (!layout.externalSources) return [];
      const { rows } = await client.query(
        `SELECT s.id::text AS id, s.name, s.webhook_url, coalesce(s.created_at::timestamptz, now()) AS created_at,
           ${
             layout.tokens
               ? `coalesce((SELECT json_agg(json_build_object('id', t.id::text, 'token', t.token, 'active', coalesce(t.active, true)) ORDER BY t.id)
                    FROM external_source_access_tokens t WHERE t.external_source_id = s.id), '[]')`
               : `'[]'::json`
           } AS tokens
         FROM external_sources s ORDER BY s.id`,
      );
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        webhookUrl: r.webhook_url,
        createdAt: r.created_at,
        tokens: r.tokens,
      }));
    },
    async externalSourceNames() {
      if (!layout.externalUsers) return [];
      const { rows } = await client.query<{ source: string }>(
        'SELECT DISTINCT source FROM external_users WHERE source IS NOT NULL ORDER BY source',
      );
      return rows.map((r) => r.source);
    },
    async close() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
};
