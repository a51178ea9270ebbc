// rm_messages: one row per message, the fields of the API's message resource (docs/design.md, "The
// message resource"), with a cursor that strictly increases in the order the messages were
// recorded. The cursor is a counter kept with the checkpoint (not a sequence), so it has no gaps
// after a crash and a rebuild hands out the very same numbers: a poller's cursor stays valid across
// rebuilds.
import type { RecordedEvent } from '../../domain/event-log.ts';
import type { Attachment, ConversationEvent } from '../../domain/events.ts';
import type { Projection } from '../projection.ts';
import { type Column, conversationIdOfStream, upsertRows } from './rows.ts';

export type MessageStatus = 'received' | 'forwarded' | 'delivered' | 'failed';

export interface MessageRow {
  conversation_id: string;
  message_id: string;
  channel: string;
  source: string;
  external_id: string;
  direction: 'incoming' | 'outgoing';
  text: string;
  entities: unknown[] | null;
  attachments: Attachment[];
  reply_to: string | null;
  status: MessageStatus;
  failure: string | null;
  manager_name: string | null;
  group_message_id: string | null;
  channel_message_id: string | null;
  suppressed: boolean;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  /** When the log recorded the message (null in rows a version-2 generation held before its upgrade). */
  recorded_at: string | null;
  cursor: string;
  revision: number;
}

const columns: readonly Column[] = [
  { name: 'conversation_id', type: 'uuid' },
  { name: 'message_id', type: 'text' },
  { name: 'channel', type: 'text' },
  { name: 'source', type: 'text' },
  { name: 'external_id', type: 'text' },
  { name: 'direction', type: 'text' },
  { name: 'text', type: 'text' },
  { name: 'entities', type: 'jsonb' },
  { name: 'attachments', type: 'jsonb' },
  { name: 'reply_to', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'failure', type: 'text' },
  { name: 'manager_name', type: 'text' },
  { name: 'group_message_id', type: 'text' },
  { name: 'channel_message_id', type: 'text' },
  { name: 'suppressed', type: 'boolean' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'edited_at', type: 'timestamptz' },
  { name: 'deleted_at', type: 'timestamptz' },
  { name: 'recorded_at', type: 'timestamptz' },
  { name: 'cursor', type: 'bigint' },
  { name: 'revision', type: 'bigint' },
];

interface Identity {
  channel: string;
  source: string;
  client_id: string;
}

const key = (conversationId: string, messageId: string) => `${conversationId}/${messageId}`;

export const messagesProjection: Projection = {
  name: 'messages',
  // 2: the attachment indexes (GET /files/{fileId} looks a file up without reading a source's rows).
  // 3: recorded_at beside created_at (the sender's time): when the log recorded the message.
  version: 3,
  tables: ['rm_messages', 'rm_message_identities'],
  createTables: (t) => `
CREATE TABLE ${t('rm_messages')} (
  conversation_id    uuid NOT NULL,
  message_id         text NOT NULL,
  channel            text NOT NULL,
  source             text NOT NULL,
  external_id        text NOT NULL,
  direction          text NOT NULL,
  text               text NOT NULL,
  entities           jsonb,
  attachments        jsonb NOT NULL,
  reply_to           text,
  status             text NOT NULL,
  failure            text,
  manager_name       text,
  group_message_id   text,
  channel_message_id text,
  suppressed         boolean NOT NULL,
  created_at         timestamptz NOT NULL,
  edited_at          timestamptz,
  deleted_at         timestamptz,
  recorded_at        timestamptz,
  cursor             bigint NOT NULL,
  revision           bigint NOT NULL,
  PRIMARY KEY (conversation_id, message_id)
);
CREATE TABLE ${t('rm_message_identities')} (
  conversation_id uuid PRIMARY KEY,
  channel         text NOT NULL,
  source          text NOT NULL,
  client_id       text NOT NULL
)`,
  // Keyset pages: per conversation and source-wide, each with and without a direction filter; and
  // the messages that hold files, by file id and by message id (partial: most messages hold none).
  createIndexes: (t) => `
CREATE UNIQUE INDEX ${t('rm_messages')}_cursor ON ${t('rm_messages')} (cursor);
CREATE INDEX ${t('rm_messages')}_conversation ON ${t('rm_messages')} (conversation_id, cursor);
CREATE INDEX ${t('rm_messages')}_conversation_direction ON ${t('rm_messages')} (conversation_id, direction, cursor);
CREATE INDEX ${t('rm_messages')}_conversation_time ON ${t('rm_messages')} (conversation_id, created_at);
CREATE INDEX ${t('rm_messages')}_source ON ${t('rm_messages')} (source, cursor);
CREATE INDEX ${t('rm_messages')}_source_direction ON ${t('rm_messages')} (source, direction, cursor);
CREATE INDEX ${t('rm_messages')}_files ON ${t('rm_messages')} USING gin (attachments jsonb_path_ops) WHERE attachments <> '[]'::jsonb;
CREATE INDEX ${t('rm_messages')}_file_messages ON ${t('rm_messages')} (message_id) WHERE attachments <> '[]'::jsonb`,
  upgrade: (t, from) =>
    from < 3 ? `ALTER TABLE ${t('rm_messages')} ADD COLUMN IF NOT EXISTS recorded_at timestamptz` : undefined,
  async apply(sql, events, ctx) {
    const table = ctx.t('rm_messages');
    const identities = ctx.t('rm_message_identities');
    const cache =
      (ctx.memory.get('identities') as Map<string, Identity> | undefined) ?? new Map<string, Identity>();
    ctx.memory.set('identities', cache);

    // Identities of conversations started in this batch, then of the others from the table.
    const newIdentities: Array<Identity & { conversation_id: string }> = [];
    for (const e of events) {
      const id = conversationIdOfStream(e.stream);
      const event = e as unknown as ConversationEvent;
      if (id && event.type === 'ConversationStarted' && !cache.has(id)) {
        const identity = {
          channel: event.data.channel,
          source: event.data.source,
          client_id: event.data.clientId,
        };
        cache.set(id, identity);
        newIdentities.push({ conversation_id: id, ...identity });
      }
    }
    if (newIdentities.length > 0) {
      ctx.write(
        `INSERT INTO ${identities} SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS r(conversation_id uuid, channel text, source text, client_id text) ON CONFLICT DO NOTHING`,
        [JSON.stringify(newIdentities)],
      );
    }
    const messageEvents = events.filter(
      (e) =>
        conversationIdOfStream(e.stream) && typeof (e.data as { messageId?: unknown }).messageId === 'string',
    );
    const unknown = [...new Set(messageEvents.map((e) => conversationIdOfStream(e.stream)!))].filter(
      (id) => !cache.has(id),
    );
    if (unknown.length > 0) {
      const { rows } = await sql.query<Identity & { conversation_id: string }>(
        `SELECT * FROM ${identities} WHERE conversation_id = ANY ($1::uuid[])`,
        [unknown],
      );
      for (const r of rows) cache.set(r.conversation_id, r);
    }

    // Rows this batch changes that exist already. A message whose first event here is the one that
    // creates it has no row yet (rows and checkpoint move together), so it is not looked up.
    const touched = new Map<string, { conversation_id: string; message_id: string }>();
    const born = new Set<string>();
    for (const e of messageEvents) {
      const messageId = (e.data as { messageId?: string }).messageId;
      if (!messageId) continue;
      const k = key(conversationIdOfStream(e.stream)!, messageId);
      if (touched.has(k) || born.has(k)) continue;
      if (e.type === 'ClientMessageReceived' || e.type === 'ManagerReplied') born.add(k);
      else touched.set(k, { conversation_id: conversationIdOfStream(e.stream)!, message_id: messageId });
    }
    const current = new Map<string, MessageRow>();
    if (touched.size > 0) {
      const pairs = [...touched.values()];
      const { rows } = await sql.query<MessageRow>(
        `SELECT m.conversation_id, m.message_id, channel, source, external_id, direction, text, entities, attachments, reply_to,
           status, failure, manager_name, group_message_id, channel_message_id, suppressed,
           to_json(created_at)#>>'{}' AS created_at, to_json(edited_at)#>>'{}' AS edited_at,
           to_json(deleted_at)#>>'{}' AS deleted_at, to_json(recorded_at)#>>'{}' AS recorded_at,
           cursor::text AS cursor, revision::int AS revision
         FROM ${table} m JOIN unnest($1::uuid[], $2::text[]) AS k(c, id) ON m.conversation_id = k.c AND m.message_id = k.id`,
        [pairs.map((p) => p.conversation_id), pairs.map((p) => p.message_id)],
      );
      for (const r of rows) current.set(key(r.conversation_id, r.message_id), r);
    }

    const changed = new Set<string>();
    for (const e of messageEvents) {
      const conversationId = conversationIdOfStream(e.stream)!;
      const event = e as unknown as ConversationEvent;
      const messageId = (event.data as { messageId?: string }).messageId;
      if (!messageId) continue;
      const k = key(conversationId, messageId);
      const row = current.get(k);
      if (row && row.revision >= e.revision) continue;
      const next = evolveMessageRow(row, conversationId, cache.get(conversationId), event, e, () => {
        ctx.counter += 1n;
        return ctx.counter.toString();
      });
      if (next) {
        current.set(k, next);
        changed.add(k);
      }
    }
    const rows = [...changed].map((k) => current.get(k)!);
    const created = (r: MessageRow) => born.has(key(r.conversation_id, r.message_id));
    const write = (some: MessageRow[], options?: { insertOnly: true }) =>
      upsertRows(
        ctx,
        table,
        columns,
        ['conversation_id', 'message_id'],
        some as unknown as Record<string, unknown>[],
        options,
      );
    write(rows.filter((r) => !created(r)));
    write(rows.filter(created), { insertOnly: true });
    // Told once the batch commits: a POST waiting for its row takes it from here (docs/design.md, "Projections and rebuilds").
    ctx.written.push(...rows);
  },
};

export const evolveMessageRow = (
  row: MessageRow | undefined,
  conversationId: string,
  identity: Identity | undefined,
  event: ConversationEvent,
  recorded: RecordedEvent,
  nextCursor: () => string,
): MessageRow | undefined => {
  const at = recorded.metadata.occurredAt;
  // The whole row in one object literal: spreading a partial row and adding the eight remaining
  // fields sends V8 (Node 20) down a slow path, ~30 µs a row — a quarter of a messages rebuild.
  const created = (
    direction: MessageRow['direction'],
    c: Pick<
      MessageRow,
      | 'text'
      | 'entities'
      | 'attachments'
      | 'reply_to'
      | 'suppressed'
      | 'manager_name'
      | 'group_message_id'
      | 'channel_message_id'
    >,
  ): MessageRow => ({
    conversation_id: conversationId,
    message_id: (event.data as { messageId: string }).messageId,
    channel: identity?.channel ?? 'unknown',
    source: identity?.source ?? 'unknown',
    external_id: identity?.client_id ?? 'unknown',
    direction,
    text: c.text,
    entities: c.entities,
    attachments: c.attachments,
    reply_to: c.reply_to,
    status: 'received',
    failure: null,
    manager_name: c.manager_name,
    group_message_id: c.group_message_id,
    channel_message_id: c.channel_message_id,
    suppressed: c.suppressed,
    created_at: at,
    edited_at: null,
    deleted_at: null,
    recorded_at: recorded.recordedAt.toISOString(),
    cursor: nextCursor(),
    revision: recorded.revision,
  });
  switch (event.type) {
    case 'ClientMessageReceived':
      if (row) return undefined;
      return created('incoming', {
        text: event.data.text,
        entities: event.data.entities ? [...event.data.entities] : null,
        attachments: [...event.data.attachments],
        reply_to: event.data.replyTo ?? null,
        suppressed: event.data.suppressed,
        manager_name: null,
        group_message_id: null,
        channel_message_id: event.data.channelMessage?.messageId ?? null,
      });
    case 'ManagerReplied':
      if (row) return undefined;
      return created('outgoing', {
        text: event.data.text,
        entities: event.data.entities ? [...event.data.entities] : null,
        attachments: [...event.data.attachments],
        reply_to: event.data.replyTo ?? null,
        suppressed: false,
        manager_name: event.data.managerName,
        group_message_id: event.data.groupMessage?.messageId ?? null,
        channel_message_id: null,
      });
    default:
      break;
  }
  if (!row) return undefined;
  const next: MessageRow = { ...row, revision: recorded.revision };
  switch (event.type) {
    case 'ClientMessageEdited':
    case 'ManagerReplyEdited':
      next.text = event.data.text;
      next.entities = event.data.entities ? [...event.data.entities] : null;
      next.attachments = [...event.data.attachments];
      next.edited_at = at;
      return next;
    case 'ClientMessageDeleted':
    case 'ManagerReplyDeleted':
      next.deleted_at = at;
      return next;
    case 'ClientMessageForwarded':
      next.status = 'forwarded';
      next.group_message_id = event.data.groupMessage.messageId;
      return next;
    case 'ReplyDelivered':
      if (event.data.operation === 'send') {
        next.status = 'delivered';
        next.failure = null;
        next.channel_message_id = event.data.channelMessage?.messageId ?? next.channel_message_id;
      }
      return next;
    case 'DeliveryFailed':
      // A failure that will be retried leaves the status as it was; only a permanent one is final.
      if (event.data.operation === 'send' && next.status !== 'delivered') {
        if (event.data.permanent) next.status = 'failed';
        next.failure = event.data.reason;
      }
      return next;
    default:
      return undefined;
  }
};
