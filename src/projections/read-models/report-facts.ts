// What the reports projection records per conversation event (docs/design.md, "Reports"): the
// conversation's running figures (one row each) and narrow facts — an opening, a client's message,
// a manager's answer with the wait it ended, a closing with the time it took, a reopening — that the
// report queries aggregate by month, day, manager, assignee, source and channel. Pure: the caller
// loads and stores the rows, and passes the working hours in force at the event (log order).
import type { RecordedEvent } from '../../domain/event-log.ts';
import type { ConversationEvent } from '../../domain/events.ts';
import type { WorkingHours } from '../../domain/settings/hours.ts';
import { openSecondsBetween } from '../working-hours.ts';

/** o: opened, i: a client's message, a: a manager's answer, c: closed, r: reopened, s: rated (CSAT). */
export type FactKind = 'o' | 'i' | 'a' | 'c' | 'r' | 's';

export interface ReportFact {
  conversation_id: string;
  at: string;
  kind: FactKind;
  /** An answer that ended the conversation's first wait. */
  first: boolean;
  /** a: the wait it ended; c: opened → closed. Whole seconds, wall clock. */
  wall_s: number | null;
  /** The same within working hours (the schedule in force at the event); wall_s when none is set. */
  business_s: number | null;
  /** Who answered (a); who closed, when a manager did (c); the last to answer (s). */
  manager_id: string | null;
  manager_name: string | null;
  /** The conversation's assignee when it happened. */
  assignee_id: string | null;
  assignee_name: string | null;
  source: string;
  channel: string;
  /** s: the client's rating, 1–5. */
  rating: number | null;
  /**
   * An activity (o, i, a): the conversation's previous one overall, under the same manager key and
   * under the same assignee key ('-infinity': none before; null on other kinds). A report counts a
   * conversation once per group by these, without a distinct count (docs/design.md, "Reports").
   */
  prev_any: string | null;
  prev_manager: string | null;
  prev_assignee: string | null;
}

export interface ReportConversationRow {
  conversation_id: string;
  channel: string;
  source: string;
  started_at: string;
  /** When the current open period began (started, or last reopened). */
  opened_at: string;
  status: 'open' | 'closed';
  /** Since when the client waits for a manager's answer (their first message with none after it). */
  waiting_since: string | null;
  first_response_at: string | null;
  first_response_s: number | null;
  first_response_business_s: number | null;
  assignee_id: string | null;
  assignee_name: string | null;
  last_manager_id: string | null;
  last_manager_name: string | null;
  reopened: number;
  messages_in: number;
  messages_out: number;
  /** Its last activity's time, and the last under each manager key (`m:<id>`) and assignee key (`a:<id>`). */
  last_active_at: string | null;
  last_active: Record<string, string>;
  revision: number;
}

const seconds = (from: string, to: string) =>
  Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));

/** Wall-clock and working-hours seconds of a wait or a resolution. */
const durations = (from: string, to: string, hours: WorkingHours | null) => {
  const wall = seconds(from, to);
  if (!hours) return { wall_s: wall, business_s: wall };
  const open = openSecondsBetween(hours, new Date(from), new Date(to));
  return { wall_s: wall, business_s: Math.min(wall, Math.round(open)) };
};

export interface ReportStep {
  readonly row: ReportConversationRow | undefined;
  readonly facts: readonly ReportFact[];
}

/** One conversation event: the row after it and the facts it adds (none for most events). */
export const reportStep = (
  row: ReportConversationRow | undefined,
  conversationId: string,
  event: ConversationEvent,
  recorded: RecordedEvent,
  hours: WorkingHours | null,
): ReportStep => {
  const at = recorded.metadata.occurredAt;
  if (event.type === 'ConversationStarted') {
    const started: ReportConversationRow = {
      conversation_id: conversationId,
      channel: event.data.channel,
      source: event.data.source,
      started_at: at,
      opened_at: at,
      status: 'open',
      waiting_since: null,
      first_response_at: null,
      first_response_s: null,
      first_response_business_s: null,
      assignee_id: null,
      assignee_name: null,
      last_manager_id: null,
      last_manager_name: null,
      reopened: 0,
      messages_in: 0,
      messages_out: 0,
      last_active_at: null,
      last_active: {},
      revision: recorded.revision,
    };
    return { row: started, facts: [activity(started, factOf(started, at, 'o'))] };
  }
  if (!row) return { row, facts: [] };
  const next: ReportConversationRow = { ...row, revision: recorded.revision };
  switch (event.type) {
    case 'ClientMessageReceived':
      // A banned client's message never reaches the topic: nobody is expected to answer it.
      if (event.data.suppressed) return { row: next, facts: [] };
      next.messages_in += 1;
      // A second message while waiting does not restart the clock.
      next.waiting_since ??= at;
      return { row: next, facts: [activity(next, factOf(next, at, 'i'))] };
    case 'ManagerReplied': {
      // An automatic reply (welcome, off hours) answers nobody: the client still waits.
      if (event.data.automatic !== undefined) return { row: next, facts: [] };
      next.messages_out += 1;
      next.last_manager_id = event.data.managerId;
      next.last_manager_name = event.data.managerName;
      const manager = { manager_id: event.data.managerId, manager_name: event.data.managerName };
      if (next.waiting_since === null)
        return { row: next, facts: [activity(next, factOf(next, at, 'a', manager))] };
      const waited = durations(next.waiting_since, at, hours);
      const first = next.first_response_at === null;
      if (first) {
        next.first_response_at = at;
        next.first_response_s = waited.wall_s;
        next.first_response_business_s = waited.business_s;
      }
      next.waiting_since = null;
      return { row: next, facts: [activity(next, factOf(next, at, 'a', { ...manager, ...waited, first }))] };
    }
    case 'ConversationAssigned':
      next.assignee_id = event.data.assigneeId;
      next.assignee_name = event.data.assigneeName;
      return { row: next, facts: [] };
    case 'ConversationUnassigned':
      next.assignee_id = null;
      next.assignee_name = null;
      return { row: next, facts: [] };
    case 'ConversationClosed': {
      // Closed without an answer: the wait ends unanswered (a client's next message reopens it and waits anew).
      next.status = 'closed';
      next.waiting_since = null;
      const actor = recorded.metadata.actor;
      const manager =
        actor.kind === 'manager'
          ? {
              manager_id: actor.id,
              manager_name:
                actor.name ?? (actor.id === next.last_manager_id ? next.last_manager_name : null) ?? actor.id,
            }
          : {};
      return {
        row: next,
        facts: [factOf(next, at, 'c', { ...manager, ...durations(row.opened_at, at, hours) })],
      };
    }
    // Counted for the manager who answered last, and by the source and channel (docs/design.md, "Reports").
    case 'ConversationRated':
      return {
        row: next,
        facts: [
          factOf(next, at, 's', {
            manager_id: next.last_manager_id,
            manager_name: next.last_manager_name,
            rating: event.data.rating,
          }),
        ],
      };
    case 'RatingRequested':
    case 'RatingCommented':
      return { row: next, facts: [] };
    case 'ConversationReopened':
      next.status = 'open';
      next.opened_at = at;
      next.reopened += 1;
      return { row: next, facts: [factOf(next, at, 'r')] };
    // A deleted client message stays counted and keeps the client waiting: its copy stays in the
    // topic, and the managers saw it (docs/design.md, "Reports").
    case 'ClientMessageEdited':
    case 'ClientMessageDeleted':
    case 'ManagerReplyEdited':
    case 'ManagerReplyDeleted':
    case 'TopicOpened':
    case 'TopicLost':
    case 'ClientMessageForwarded':
    case 'ReplyDelivered':
    case 'DeliveryFailed':
    case 'ClientBanned':
    case 'ClientUnbanned':
    case 'ClientNotified':
    case 'ContactCardPosted':
    case 'TopicStatusChanged':
    case 'NoteAdded':
    case 'NotePinned':
    case 'NoteUnpinned':
    case 'ReminderSent':
      return { row, facts: [] };
    default:
      // Every known type is listed above (a new one fails to compile here); a type a newer version
      // wrote counts for nothing.
      event satisfies never;
      return { row, facts: [] };
  }
};

/** A fact with the conversation's dimensions as they are now. */
export const factOf = (
  row: ReportConversationRow,
  at: string,
  kind: FactKind,
  extra: Partial<
    Pick<ReportFact, 'first' | 'wall_s' | 'business_s' | 'manager_id' | 'manager_name' | 'rating'>
  > = {},
): ReportFact => ({
  conversation_id: row.conversation_id,
  at,
  kind,
  first: extra.first ?? false,
  wall_s: extra.wall_s ?? null,
  business_s: extra.business_s ?? null,
  manager_id: extra.manager_id ?? null,
  manager_name: extra.manager_name ?? null,
  assignee_id: row.assignee_id,
  assignee_name: row.assignee_name,
  source: row.source,
  channel: row.channel,
  rating: extra.rating ?? null,
  prev_any: null,
  prev_manager: null,
  prev_assignee: null,
});

const NONE_BEFORE = '-infinity';

/**
 * An activity fact marked with the conversation's previous activities, and the row (a fresh copy,
 * `next`) moved past it. A fact never precedes the conversation's previous activity: a time that
 * does (clocks of two instances apart) is read as that activity's, so each group's first fact in a
 * period stays the one the report counts.
 */
const activity = (next: ReportConversationRow, fact: ReportFact): ReportFact => {
  const last = next.last_active_at;
  const at = last !== null && Date.parse(fact.at) < Date.parse(last) ? last : fact.at;
  const manager = `m:${fact.manager_id ?? ''}`;
  const assignee = `a:${fact.assignee_id ?? ''}`;
  const marked = {
    ...fact,
    at,
    prev_any: last ?? NONE_BEFORE,
    prev_manager: next.last_active[manager] ?? NONE_BEFORE,
    prev_assignee: next.last_active[assignee] ?? NONE_BEFORE,
  };
  next.last_active_at = at;
  next.last_active = { ...next.last_active, [manager]: at, [assignee]: at };
  return marked;
};
