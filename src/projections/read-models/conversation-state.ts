// rm_conversation_state, rm_conversation_messages, rm_conversation_refs: every conversation's state
// as the domain folds it — its core in one row, each message in a row, each reference to a message
// (its topic copy, its copy in the client's chat) in a row — each with the revision of the last
// event that changed it. The conversation reader starts from this copy and folds only the stream's
// tail, so a read costs the same whatever the conversation's length (docs/design.md). It is built
// with the domain's own fold; the log stays the record, and the audit trail reads only the log.

import {
  type ConversationCore,
  type ConversationMessage,
  initialConversationCore,
} from '../../domain/conversation-core.ts';
import { type Folded, foldConversation, foldCore, messageIdOfEvent } from '../../domain/conversation-fold.ts';
import { withRecent } from '../../domain/conversation-reader.ts';
import type { RecordedEvent } from '../../domain/event-log.ts';
import { type ConversationEvent, conversationStream } from '../../domain/events.ts';
import { MessageWindow } from '../../domain/message-window.ts';
import type { BatchContext, Projection } from '../projection.ts';
import type { SqlClient } from '../sql.ts';
import { begunIn, HELD_CONVERSATIONS, heldRows, hold } from './held-rows.ts';
import { type Column, conversationIdOfStream, upsertRows } from './rows.ts';

/** Bumped with the shape of the core or of a message (the domain's ConversationCore / ConversationMessage). */
// 3: the core's language, welcomed and offHoursAnswered (texts), pinnedNote (notes), awaitingAnswer,
// card and topicStatus (buttons and topic status). 4: the core's assignee (assignment). 5: the core's
// rating (CSAT). 6: the core's waitingSince and reminded (reminders). 7: no answers' waiting list in
// an external source's conversation.
export const CONVERSATION_STATE_VERSION = 7;

const coreColumns: readonly Column[] = [
  { name: 'conversation_id', type: 'uuid' },
  { name: 'revision', type: 'bigint' },
  { name: 'core', type: 'jsonb' },
  { name: 'recent_event_ids', type: 'jsonb' },
];
const messageColumns: readonly Column[] = [
  { name: 'conversation_id', type: 'uuid' },
  { name: 'message_id', type: 'text' },
  { name: 'revision', type: 'bigint' },
  { name: 'message', type: 'jsonb' },
];

interface CoreRow {
  conversation_id: string;
  revision: string;
  core: ConversationCore;
  recent_event_ids: string[];
}

interface MessageRow {
  conversation_id: string;
  message_id: string;
  revision: string;
  message: ConversationMessage;
}

/** A core may trail its stream by fewer than this many events in the store (written once it falls that far behind). */
export const SNAPSHOT_EVERY = 32;

/** A conversation's core as the runner holds it between batches, and the revision of the one stored. */
interface HeldCore {
  readonly revision: number;
  readonly stored: number;
  readonly core: ConversationCore;
  /** The ids of the stream's last RECENT_EVENTS events, joined by commas: one string on the heap, not 64. */
  readonly recent: string;
}

const packed = (ids: readonly string[]): string => ids.join(',');
const unpacked = (recent: string): string[] => (recent === '' ? [] : recent.split(','));

const foldedOf = (e: RecordedEvent): Folded => ({
  event: { type: e.type, data: e.data } as ConversationEvent,
  revision: e.revision,
  at: e.metadata.occurredAt,
});

const coreRow = (conversationId: string, h: HeldCore) => ({
  conversation_id: conversationId,
  revision: h.revision,
  core: h.core,
  recent_event_ids: unpacked(h.recent),
});

/** `h` with the events of the stream before revision `first` that it lacks folded in, read from the log. */
const caughtUp = async (ctx: BatchContext, id: string, h: HeldCore, first: number): Promise<HeldCore> => {
  const missing = first - h.revision - 1;
  const gap = await ctx.readStream(conversationStream(id), h.revision + 1, missing);
  if (gap.length !== missing)
    throw new Error(
      `conversation ${id}: the log gave ${gap.length} of the ${missing} events before revision ${first}`,
    );
  // The core alone: the gap's messages were written by the runner that applied it, and may predate
  // the stored core (an edit of an older message), so a fold of them would ask for what it lacks.
  const core = foldCore(gap.map(foldedOf), h.core, { coreRevision: h.revision });
  return {
    ...h,
    revision: first - 1,
    core,
    recent: packed(
      withRecent(
        unpacked(h.recent),
        gap.map((e) => e.id),
      ),
    ),
  };
};

/**
 * Each conversation's core up to the event before the batch's first: held from earlier batches, else
 * read from the store and, when the store trails (a restart lost what was held), caught up from the log.
 */
const heldCores = async (
  sql: SqlClient,
  ctx: BatchContext,
  held: Map<string, HeldCore>,
  byConversation: ReadonlyMap<string, readonly Folded[]>,
  begun: ReadonlySet<string>,
): Promise<Map<string, HeldCore>> => {
  const cores = new Map<string, HeldCore>();
  const missing: string[] = [];
  for (const id of byConversation.keys()) {
    const h = held.get(id);
    if (h) cores.set(id, h);
    else missing.push(id);
  }
  if (missing.length === 0) return cores;
  // A conversation whose first event is in this batch has no stored core yet.
  const lookUp = missing.filter((id) => !begun.has(id));
  const { rows } =
    lookUp.length === 0
      ? { rows: [] }
      : await sql.query<CoreRow>(
          `SELECT conversation_id, revision::text, core, recent_event_ids FROM ${ctx.t('rm_conversation_state')}
           WHERE conversation_id = ANY ($1::uuid[])`,
          [lookUp],
        );
  const found = new Map(rows.map((r) => [r.conversation_id, r]));
  await Promise.all(
    missing.map(async (id) => {
      const r = found.get(id);
      const h: HeldCore = r
        ? {
            revision: Number(r.revision),
            stored: Number(r.revision),
            core: r.core,
            recent: packed(r.recent_event_ids),
          }
        : { revision: -1, stored: -1, core: initialConversationCore, recent: '' };
      const first = byConversation.get(id)![0]!.revision!;
      cores.set(id, first > h.revision + 1 ? await caughtUp(ctx, id, h, first) : h);
    }),
  );
  return cores;
};

/**
 * What the projection tells of a batch once it commits (BatchContext.written): the store holds every
 * message of the conversation as of `revision` (its core may trail by fewer than SNAPSHOT_EVERY events).
 */
export interface StoredNote {
  readonly conversationId: string;
  readonly revision: number;
}

/** `maxHeld`: how many conversations' cores a runner holds between batches. */
export const conversationStateProjectionWith = ({ maxHeld }: { readonly maxHeld: number }): Projection => ({
  name: 'conversation-state',
  version: CONVERSATION_STATE_VERSION,
  tables: ['rm_conversation_state', 'rm_conversation_messages', 'rm_conversation_refs'],
  // The core's row (5–8 KB) stays in its page rather than going to TOAST on every write, which cost
  // its upsert four times the server time (docs/design.md, "The store's copy: the conversation-state projection").
  createTables: (t) => `
CREATE TABLE ${t('rm_conversation_state')} (
  conversation_id  uuid PRIMARY KEY,
  revision         bigint NOT NULL,
  core             jsonb NOT NULL,
  recent_event_ids jsonb NOT NULL
) WITH (toast_tuple_target = 8160);
CREATE TABLE ${t('rm_conversation_messages')} (
  conversation_id uuid NOT NULL,
  message_id      text NOT NULL,
  revision        bigint NOT NULL,
  message         jsonb NOT NULL,
  PRIMARY KEY (conversation_id, message_id)
);
CREATE TABLE ${t('rm_conversation_refs')} (
  conversation_id uuid NOT NULL,
  ref             text NOT NULL,
  message_id      text NOT NULL,
  PRIMARY KEY (conversation_id, ref)
)`,
  // Lookups are by primary key, but for a media group's messages (a VK message's parts, an album).
  createIndexes: (t) =>
    `CREATE INDEX ${t('rm_conversation_messages')}_media_group ON ${t('rm_conversation_messages')}
       (conversation_id, (message->>'mediaGroupId')) WHERE message ? 'mediaGroupId'`,
  async apply(sql, events, ctx) {
    const byConversation = new Map<string, Folded[]>();
    const ids = new Map<string, string[]>();
    for (const e of events) {
      const id = conversationIdOfStream(e.stream);
      if (!id) continue;
      const list = byConversation.get(id) ?? [];
      list.push(foldedOf(e));
      byConversation.set(id, list);
      const eventIds = ids.get(id) ?? [];
      eventIds.push(e.id);
      ids.set(id, eventIds);
    }
    if (byConversation.size === 0) return;
    const held = heldRows<HeldCore>(ctx.memory, 'cores');
    const cores = await heldCores(sql, ctx, held, byConversation, begunIn(events));
    // Every message the batch is about; those whose first event here creates them have no row yet
    // (rows and checkpoint move together), so only the others are looked up.
    const wanted: Array<[string, string]> = [];
    const lookUp: Array<[string, string]> = [];
    for (const [id, folded] of byConversation) {
      const seen = new Set<string>();
      for (const { event } of folded) {
        const mid = messageIdOfEvent(event);
        if (mid === undefined || seen.has(mid)) continue;
        seen.add(mid);
        wanted.push([id, mid]);
        if (event.type !== 'ClientMessageReceived' && event.type !== 'ManagerReplied') lookUp.push([id, mid]);
      }
    }
    const stored = new Map<string, MessageRow[]>();
    if (lookUp.length > 0) {
      const { rows } = await sql.query<MessageRow>(
        `SELECT m.conversation_id, m.message_id, m.revision::text, m.message FROM ${ctx.t('rm_conversation_messages')} m
         JOIN unnest($1::uuid[], $2::text[]) AS k(c, id) ON m.conversation_id = k.c AND m.message_id = k.id`,
        [lookUp.map(([c]) => c), lookUp.map(([, m]) => m)],
      );
      for (const r of rows) {
        const mine = stored.get(r.conversation_id) ?? [];
        mine.push(r);
        stored.set(r.conversation_id, mine);
      }
    }

    const coreRows: ReturnType<typeof coreRow>[] = [];
    const touched: Array<[string, HeldCore]> = [];
    const messageRows: Record<string, unknown>[] = [];
    const refRows: Array<{ conversation_id: string; ref: string; message_id: string }> = [];
    for (const [id, folded] of byConversation) {
      const from = cores.get(id)!;
      const loaded = (stored.get(id) ?? []).map((r) => ({
        message: r.message,
        revision: Number(r.revision),
      }));
      const have = new Set(loaded.map((m) => m.message.messageId));
      const about = wanted.filter(([c, m]) => c === id && !have.has(m)).map(([, m]) => m);
      const before = MessageWindow.empty(false).withLoaded(loaded, about);
      const state = foldConversation(
        folded,
        { ...from.core, messages: before },
        { coreRevision: from.revision },
      );
      const last = folded[folded.length - 1]!.revision!;
      if (last > from.revision) {
        const { messages: _messages, ...core } = state;
        // The stored core may trail by fewer than SNAPSHOT_EVERY events: a reader folds them from the log.
        const due = last - from.stored >= SNAPSHOT_EVERY;
        const now: HeldCore = {
          revision: last,
          stored: due ? last : from.stored,
          core,
          recent: packed(withRecent(unpacked(from.recent), ids.get(id)!)),
        };
        if (due) coreRows.push(coreRow(id, now));
        touched.push([id, now]);
      }
      for (const [mid, e] of state.messages.entriesWithRevisions()) {
        if (e.revision > (before.revisionOf(mid) ?? -1))
          messageRows.push({
            conversation_id: id,
            message_id: mid,
            revision: e.revision,
            message: e.message,
          });
      }
      for (const [ref, mid] of state.messages.refEntries())
        if (mid !== null) refRows.push({ conversation_id: id, ref, message_id: mid });
    }
    // Held past the cap, the conversations touched longest ago leave memory, their cores stored first.
    hold(held, touched, maxHeld, (id, h) => {
      if (h.revision > h.stored) coreRows.push(coreRow(id, h));
    });
    upsertRows(ctx, ctx.t('rm_conversation_state'), coreColumns, ['conversation_id'], coreRows);
    // Told once the batch commits, so a reader in this process lets go of the messages the store now has.
    for (const [id, folded] of byConversation)
      ctx.written.push({
        conversationId: id,
        revision: folded[folded.length - 1]!.revision!,
      } satisfies StoredNote);
    upsertRows(
      ctx,
      ctx.t('rm_conversation_messages'),
      messageColumns,
      ['conversation_id', 'message_id'],
      messageRows,
    );
    if (refRows.length > 0) {
      // A reference, once made, names the same message for good: a repeat changes nothing.
      ctx.write(
        `INSERT INTO ${ctx.t('rm_conversation_refs')} (conversation_id, ref, message_id)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(conversation_id uuid, ref text, message_id text)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(refRows)],
      );
    }
  },
});

export const conversationStateProjection: Projection = conversationStateProjectionWith({
  maxHeld: HELD_CONVERSATIONS,
});
