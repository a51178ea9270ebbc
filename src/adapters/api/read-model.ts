// What the external API reads: rm_messages rows of one source's conversations (channel
// `external`), keyset-paginated by cursor, and their shape as the API's message resource.
import type pg from 'pg';
import type { LogPosition } from '../../domain/event-log.ts';
import type { Attachment } from '../../domain/events.ts';
import type { MessageRow } from '../../projections/read-models/messages.ts';
import type { ListedRows } from './head-watcher.ts';

export interface ApiMessageRow {
  conversation_id: string;
  message_id: string;
  external_id: string;
  direction: 'incoming' | 'outgoing';
  text: string;
  attachments: Attachment[];
  reply_to: string | null;
  status: 'received' | 'forwarded' | 'delivered' | 'failed';
  manager_name: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  recorded_at: Date | null;
  cursor: string;
  revision: string;
}

export interface AttachmentResource {
  id: string;
  kind: string;
  file_name: string | null;
  mime_type: string | null;
  size: number | null;
  url: string | null;
}

export interface MessageResource {
  id: string;
  external_id: string;
  direction: 'incoming' | 'outgoing';
  text: string;
  attachments: AttachmentResource[];
  reply_to: string | null;
  status: 'received' | 'forwarded' | 'delivered' | 'failed';
  /** When the sender sent it (Telegram's and VK's message date; for a source, when it was posted). */
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  /** When topicdesk's log recorded it. */
  recorded_at: string | null;
  cursor: number | null;
}

// `cursor` comes out as text (a bigint); ORDER BY must name the table's column (`m.cursor`), or it
// would sort by the text.
const COLUMNS = `conversation_id, message_id, external_id, direction, text, attachments, reply_to, status,
  manager_name, created_at, edited_at, deleted_at, recorded_at, cursor::text AS cursor, revision::text AS revision`;

/** Only conversations of the external channel; the source filter is what isolates sources. */
const OWN = `channel = 'external' AND source = $1`;

/** The read model is created by the projection at start-up; before that nothing is there yet. */
const missingTable = (error: unknown) => (error as { code?: string }).code === '42P01';

const rowsOf = async (pool: pg.Pool, text: string, values: unknown[]): Promise<ApiMessageRow[]> => {
  try {
    return (await pool.query<ApiMessageRow>(text, values)).rows;
  } catch (error) {
    if (missingTable(error)) return [];
    throw error;
  }
};

export const findMessage = async (
  pool: pg.Pool,
  source: string,
  conversationId: string,
  messageId: string,
): Promise<ApiMessageRow | undefined> =>
  (
    await rowsOf(
      pool,
      `SELECT ${COLUMNS} FROM rm_messages m WHERE ${OWN} AND conversation_id = $2 AND message_id = $3`,
      [source, conversationId, messageId],
    )
  )[0];

const dateOf = (iso: string | null) => (iso === null ? null : new Date(iso));

/**
 * The rows a batch of the messages projection wrote, as findMessage would read them once committed
 * (a source sees only its own conversations' rows).
 */
export const listedRows =
  (rows: readonly MessageRow[]): ListedRows =>
  (source, conversationId, messageId) => {
    const row = rows.find((r) => r.message_id === messageId && r.conversation_id === conversationId);
    if (row?.channel !== 'external' || row.source !== source) return undefined;
    return {
      conversation_id: row.conversation_id,
      message_id: row.message_id,
      external_id: row.external_id,
      direction: row.direction,
      text: row.text,
      attachments: row.attachments,
      reply_to: row.reply_to,
      status: row.status,
      manager_name: row.manager_name,
      created_at: new Date(row.created_at),
      edited_at: dateOf(row.edited_at),
      deleted_at: dateOf(row.deleted_at),
      recorded_at: dateOf(row.recorded_at),
      cursor: row.cursor,
      revision: String(row.revision),
    };
  };

/** A source's message by its cursor (the number tg-support-bot clients name messages by). */
export const findMessageByCursor = async (
  pool: pg.Pool,
  source: string,
  cursor: number,
): Promise<ApiMessageRow | undefined> =>
  (
    await rowsOf(pool, `SELECT ${COLUMNS} FROM rm_messages m WHERE ${OWN} AND cursor = $2`, [source, cursor])
  )[0];

/** Whether the source has a conversation with this client (as the messages read model knows it). */
export const conversationExists = async (
  pool: pg.Pool,
  source: string,
  conversationId: string,
): Promise<boolean> => {
  try {
    const { rowCount } = await pool.query(
      `SELECT 1 FROM rm_message_identities WHERE conversation_id = $1 AND channel = 'external' AND source = $2`,
      [conversationId, source],
    );
    return (rowCount ?? 0) > 0;
  } catch (error) {
    if (missingTable(error)) return false;
    throw error;
  }
};

/** The highest cursor handed out so far (0 before the first message). */
export const readHead = async (pool: pg.Pool): Promise<bigint> => {
  try {
    const { rows } = await pool.query<{ head: string }>(
      'SELECT coalesce(max(cursor), 0)::text AS head FROM rm_messages',
    );
    return BigInt(rows[0]?.head ?? '0');
  } catch (error) {
    if (missingTable(error)) return 0n;
    throw error;
  }
};

/** How far the messages projection has applied the log (null before its first batch, or without it). */
export const readMessagesCheckpoint = async (pool: pg.Pool): Promise<LogPosition | null> => {
  const { rows } = await pool.query<{ c: string | null; p: string | null }>(
    `SELECT checkpoint_commit::text AS c, checkpoint_prepare::text AS p
       FROM td_projections WHERE name = 'messages' AND status = 'active'`,
  );
  const row = rows[0];
  return row?.c ? { commit: BigInt(row.c), prepare: BigInt(row.p ?? '0') } : null;
};

export interface ListFilter {
  readonly source: string;
  /** One conversation; absent for the source-wide feed. */
  readonly conversationId?: string;
  /** The feed narrowed to one client. */
  readonly externalId?: string;
  readonly direction?: 'incoming' | 'outgoing';
  readonly afterId?: number;
  readonly beforeId?: number;
  readonly from?: Date;
  /** Inclusive unless `untilExclusive`. */
  readonly until?: Date;
  readonly untilExclusive?: boolean;
  readonly sort: 'asc' | 'desc';
  readonly limit: number;
  readonly offset?: number;
  readonly includeDeleted: boolean;
}

export interface Page {
  readonly rows: ApiMessageRow[];
  readonly hasMore: boolean;
}

export const listMessages = async (pool: pg.Pool, f: ListFilter): Promise<Page> => {
  const values: unknown[] = [f.source];
  const where = [OWN];
  const add = (sql: (p: string) => string, value: unknown) => {
    values.push(value);
    where.push(sql(`$${values.length}`));
  };
  if (f.conversationId !== undefined) add((p) => `conversation_id = ${p}`, f.conversationId);
  if (f.externalId !== undefined) add((p) => `external_id = ${p}`, f.externalId);
  if (f.direction !== undefined) add((p) => `direction = ${p}`, f.direction);
  if (f.afterId !== undefined) add((p) => `cursor > ${p}`, f.afterId);
  if (f.beforeId !== undefined) add((p) => `cursor < ${p}`, f.beforeId);
  if (f.from !== undefined) add((p) => `created_at >= ${p}`, f.from);
  if (f.until !== undefined) add((p) => `created_at ${f.untilExclusive ? '<' : '<='} ${p}`, f.until);
  if (!f.includeDeleted) where.push('deleted_at IS NULL');
  values.push(f.limit + 1);
  const limit = `$${values.length}`;
  values.push(f.offset ?? 0);
  const offset = `$${values.length}`;
  const rows = await rowsOf(
    pool,
    `SELECT ${COLUMNS} FROM rm_messages m WHERE ${where.join(' AND ')}
     ORDER BY m.cursor ${f.sort === 'desc' ? 'DESC' : 'ASC'} LIMIT ${limit} OFFSET ${offset}`,
    values,
  );
  return { rows: rows.slice(0, f.limit), hasMore: rows.length > f.limit };
};

/**
 * An attachment's public id, the same the webhook payloads carry: Telegram's file_unique_id when
 * there is one (stable for the same file), otherwise `<messageId>:<index>`.
 */
export const attachmentIdOf = (messageId: string, index: number, a: Attachment): string =>
  a.fileUniqueId ?? `${messageId}:${index}`;

/**
 * The attachment an id names among one source's messages (the newest message holding it), with
 * the message. Only that source's rows are searched, so another source's file is simply not found.
 * `attachments <> '[]'` matches the partial indexes of messages with files (projection version 2).
 */
export const findAttachment = async (
  pool: pg.Pool,
  source: string,
  id: string,
): Promise<Attachment | undefined> => {
  const colon = id.lastIndexOf(':');
  if (colon > 0 && /^\d{1,4}$/.test(id.slice(colon + 1))) {
    const messageId = id.slice(0, colon);
    const index = Number(id.slice(colon + 1));
    const rows = await rowsOf(
      pool,
      `SELECT ${COLUMNS} FROM rm_messages m WHERE ${OWN} AND message_id = $2 AND attachments <> '[]'::jsonb ORDER BY m.cursor DESC`,
      [source, messageId],
    );
    for (const row of rows) {
      const a = row.attachments[index];
      if (a && attachmentIdOf(row.message_id, index, a) === id) return a;
    }
  }
  const rows = await rowsOf(
    pool,
    `SELECT ${COLUMNS} FROM rm_messages m WHERE ${OWN} AND attachments @> $2::jsonb AND attachments <> '[]'::jsonb ORDER BY m.cursor DESC LIMIT 1`,
    [source, JSON.stringify([{ fileUniqueId: id }])],
  );
  return rows[0]?.attachments.find((a) => a.fileUniqueId === id);
};

const iso = (d: Date | string | null): string | null =>
  d === null ? null : (d instanceof Date ? d : new Date(d)).toISOString();

const attachmentResource = (
  messageId: string,
  index: number,
  a: Attachment,
  fileUrl: (id: string) => string,
): AttachmentResource => {
  const id = attachmentIdOf(messageId, index, a);
  return {
    id,
    kind: a.kind,
    file_name: a.fileName ?? null,
    mime_type: a.mimeType ?? null,
    size: typeof a.size === 'number' ? a.size : null,
    url: a.fileRef ? fileUrl(id) : null,
  };
};

export const toResource = (row: ApiMessageRow, fileUrl: (id: string) => string): MessageResource => ({
  id: row.message_id,
  external_id: row.external_id,
  direction: row.direction,
  text: row.text,
  attachments: (row.attachments ?? []).map((a, i) => attachmentResource(row.message_id, i, a, fileUrl)),
  reply_to: row.reply_to,
  status: row.status,
  created_at: iso(row.created_at)!,
  edited_at: iso(row.edited_at),
  deleted_at: iso(row.deleted_at),
  recorded_at: iso(row.recorded_at),
  cursor: Number(row.cursor),
});

/** A message recorded but not yet in the listing (a 202 answer): no cursor yet. */
export const pendingResource = (
  m: {
    messageId: string;
    externalId: string;
    text: string;
    attachments: readonly Attachment[];
    replyTo?: string;
    createdAt: string;
    recordedAt?: string;
  },
  fileUrl: (id: string) => string,
): MessageResource => ({
  id: m.messageId,
  external_id: m.externalId,
  direction: 'incoming',
  text: m.text,
  attachments: m.attachments.map((a, i) => attachmentResource(m.messageId, i, a, fileUrl)),
  reply_to: m.replyTo ?? null,
  status: 'received',
  created_at: m.createdAt,
  edited_at: null,
  deleted_at: null,
  recorded_at: m.recordedAt ?? null,
  cursor: null,
});
