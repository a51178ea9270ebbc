// rm_conversations: one row per conversation, looked up both ways — client → topic for outgoing
// work, topic → conversation for managers' messages — and by waiting clients, oldest first, for
// `/waiting` (docs/design.md, "Assignment").
import type { RecordedEvent } from '../../domain/event-log.ts';
import type { ConversationEvent } from '../../domain/events.ts';
import type { Projection } from '../projection.ts';
import { begunIn, heldRows, hold, rowsFor } from './held-rows.ts';
import { type Column, conversationIdOfStream, upsertRows } from './rows.ts';

export interface ConversationRow {
  conversation_id: string;
  channel: string;
  source: string;
  client_id: string;
  profile: Record<string, unknown>;
  topic_id: string | null;
  topic_chat_id: string | null;
  topic_title: string | null;
  status: 'open' | 'closed';
  banned: boolean;
  message_count: number;
  started_at: string;
  last_activity_at: string;
  last_message_text: string | null;
  /** The member of the support group the conversation is assigned to (null: nobody). */
  assignee_id: string | null;
  assignee_name: string | null;
  /** Since when the client waits for a manager's answer (null: not waiting). */
  waiting_since: string | null;
  revision: number;
}

const columns: readonly Column[] = [
  { name: 'conversation_id', type: 'uuid' },
  { name: 'channel', type: 'text' },
  { name: 'source', type: 'text' },
  { name: 'client_id', type: 'text' },
  { name: 'profile', type: 'jsonb' },
  { name: 'topic_id', type: 'text' },
  { name: 'topic_chat_id', type: 'text' },
  { name: 'topic_title', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'banned', type: 'boolean' },
  { name: 'message_count', type: 'int' },
  { name: 'started_at', type: 'timestamptz' },
  { name: 'last_activity_at', type: 'timestamptz' },
  { name: 'last_message_text', type: 'text' },
  { name: 'assignee_id', type: 'text' },
  { name: 'assignee_name', type: 'text' },
  { name: 'waiting_since', type: 'timestamptz' },
  { name: 'revision', type: 'bigint' },
];

const touch = (row: ConversationRow, at: string, text?: string) => {
  if (Date.parse(at) > Date.parse(row.last_activity_at)) row.last_activity_at = at;
  if (text !== undefined) row.last_message_text = text;
};

export const evolveConversationRow = (
  row: ConversationRow | undefined,
  conversationId: string,
  event: ConversationEvent,
  recorded: RecordedEvent,
): ConversationRow | undefined => {
  const at = recorded.metadata.occurredAt;
  if (event.type === 'ConversationStarted') {
    return {
      conversation_id: conversationId,
      channel: event.data.channel,
      source: event.data.source,
      client_id: event.data.clientId,
      profile: { ...event.data.profile },
      topic_id: null,
      topic_chat_id: null,
      topic_title: null,
      status: 'open',
      banned: false,
      message_count: 0,
      started_at: at,
      last_activity_at: at,
      last_message_text: null,
      assignee_id: null,
      assignee_name: null,
      waiting_since: null,
      revision: recorded.revision,
    };
  }
  if (!row) return undefined;
  const next = { ...row, revision: recorded.revision };
  switch (event.type) {
    case 'ClientMessageReceived':
      next.message_count += 1;
      touch(next, at, event.data.text);
      // The client waits from their first message with no answer (as the domain's awaitingAnswer).
      if (!event.data.suppressed) next.waiting_since ??= at;
      break;
    case 'ManagerReplied':
      next.message_count += 1;
      touch(next, at, event.data.text);
      // An automatic reply is no manager's answer: the client still waits.
      if (event.data.automatic === undefined) next.waiting_since = null;
      break;
    case 'ConversationAssigned':
      next.assignee_id = event.data.assigneeId;
      next.assignee_name = event.data.assigneeName;
      break;
    case 'ConversationUnassigned':
      next.assignee_id = null;
      next.assignee_name = null;
      break;
    case 'TopicOpened':
      next.topic_id = event.data.topicId;
      next.topic_chat_id = event.data.chatId;
      next.topic_title = event.data.title;
      break;
    case 'TopicLost':
      if (next.topic_id === event.data.topicId) {
        next.topic_id = null;
        next.topic_chat_id = null;
        next.topic_title = null;
      }
      break;
    case 'ClientBanned':
      next.banned = true;
      break;
    case 'ClientUnbanned':
      next.banned = false;
      break;
    case 'ConversationClosed':
      next.status = 'closed';
      break;
    case 'ConversationReopened':
      next.status = 'open';
      break;
    case 'ClientMessageEdited':
    case 'ClientMessageDeleted':
    case 'ManagerReplyEdited':
    case 'ManagerReplyDeleted':
      touch(next, at);
      break;
    case 'ClientMessageForwarded':
    case 'ReplyDelivered':
    case 'DeliveryFailed':
    case 'ClientNotified':
    case 'ContactCardPosted':
    case 'TopicStatusChanged':
    case 'NoteAdded':
    case 'NotePinned':
    case 'NoteUnpinned':
    case 'RatingRequested':
    case 'ConversationRated':
    case 'RatingCommented':
    case 'ReminderSent':
      break;
    default: {
      const never: never = event;
      return never;
    }
  }
  return next;
};

export const conversationsProjection: Projection = {
  name: 'conversations',
  // 2: assignee_id, assignee_name, waiting_since (assignment): a rebuild fills them for older rows.
  version: 2,
  tables: ['rm_conversations'],
  createTables: (t) => `
CREATE TABLE ${t('rm_conversations')} (
  conversation_id   uuid PRIMARY KEY,
  channel           text NOT NULL,
  source            text NOT NULL,
  client_id         text NOT NULL,
  profile           jsonb NOT NULL,
  topic_id          text,
  topic_chat_id     text,
  topic_title       text,
  status            text NOT NULL,
  banned            boolean NOT NULL,
  message_count     int NOT NULL,
  started_at        timestamptz NOT NULL,
  last_activity_at  timestamptz NOT NULL,
  last_message_text text,
  assignee_id       text,
  assignee_name     text,
  waiting_since     timestamptz,
  revision          bigint NOT NULL
)`,
  createIndexes: (t) => `
CREATE INDEX ${t('rm_conversations')}_topic ON ${t('rm_conversations')} (topic_chat_id, topic_id) WHERE topic_id IS NOT NULL;
CREATE INDEX ${t('rm_conversations')}_client ON ${t('rm_conversations')} (channel, source, client_id);
CREATE INDEX ${t('rm_conversations')}_activity ON ${t('rm_conversations')} (last_activity_at DESC, conversation_id);
CREATE INDEX ${t('rm_conversations')}_waiting ON ${t('rm_conversations')} (waiting_since, conversation_id) WHERE waiting_since IS NOT NULL AND status = 'open'`,
  upgrade: (t, from) =>
    from < 2
      ? `ALTER TABLE ${t('rm_conversations')} ADD COLUMN IF NOT EXISTS assignee_id text,
  ADD COLUMN IF NOT EXISTS assignee_name text, ADD COLUMN IF NOT EXISTS waiting_since timestamptz`
      : undefined,
  async apply(sql, events, ctx) {
    const table = ctx.t('rm_conversations');
    const ids = [
      ...new Set(events.map((e) => conversationIdOfStream(e.stream)).filter((x): x is string => !!x)),
    ];
    if (ids.length === 0) return;
    const held = heldRows<ConversationRow>(ctx.memory, 'rows');
    const current = await rowsFor(held, ids, begunIn(events), async (missing) => {
      const { rows } = await sql.query<ConversationRow>(
        `SELECT conversation_id, channel, source, client_id, profile, topic_id, topic_chat_id, topic_title, status, banned,
           message_count, to_json(started_at)#>>'{}' AS started_at, to_json(last_activity_at)#>>'{}' AS last_activity_at,
           last_message_text, assignee_id, assignee_name,
           to_json(waiting_since)#>>'{}' AS waiting_since, revision::int AS revision
         FROM ${table} WHERE conversation_id = ANY ($1::uuid[])`,
        [missing],
      );
      return rows;
    });
    const changed = new Set<string>();
    for (const e of events) {
      const id = conversationIdOfStream(e.stream);
      if (!id) continue;
      const row = current.get(id);
      if (row && row.revision >= e.revision) continue;
      const next = evolveConversationRow(row, id, e as unknown as ConversationEvent, e);
      if (next) {
        current.set(id, next);
        changed.add(id);
      }
    }
    upsertRows(
      ctx,
      table,
      columns,
      ['conversation_id'],
      [...changed].map((id) => current.get(id)! as unknown as Record<string, unknown>),
    );
    hold(held, current);
  },
};
