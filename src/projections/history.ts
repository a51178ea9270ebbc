// The audit history of one conversation (docs/design.md, "The audit history"): every event of its
// stream in order, described for a person (each line from history-summary.ts), and the conversation
// as it stood at a past moment; and the same list for a settings stream (docs/design.md, "Settings streams").
// Read straight from the log (readStream only), so it works on any EventLog adapter and needs no
// read model; the CLI prints it and the admin API serves the same values as JSON.
import type { ConversationMessage } from '../domain/conversation-core.ts';
import { initialConversationState } from '../domain/conversation-core.ts';
import { foldConversation } from '../domain/conversation-fold.ts';
import type { EventLog, RecordedEvent } from '../domain/event-log.ts';
import { formatPosition } from '../domain/event-log.ts';
import type {
  ActorKind,
  Attachment,
  Channel,
  ClientProfile,
  ConversationEvent,
  ConversationEventType,
  ImportedFrom,
  TemplateUse,
} from '../domain/events.ts';
import { conversationEventTypes, conversationStream } from '../domain/events.ts';
import {
  type DecodeSettingsEvent,
  type SettingsDefinition,
  type SettingsEvent,
  settingsStream,
} from '../domain/settings.ts';
import { summarize } from './history-summary.ts';

/** Turns a recorded event into a domain event (the composition root passes the zod codec). */
export type DecodeConversationEvent = (event: RecordedEvent) => ConversationEvent;

// ---------------------------------------------------------------------------------------------
// Reading the stream

const PAGE = 500;

const isConversationEventType = (type: string): type is ConversationEventType =>
  (conversationEventTypes as readonly string[]).includes(type);

/** The stream in revision order, page by page; `keepGoing` false stops reading. */
const readPages = async (
  log: EventLog,
  stream: string,
  onPage: (events: readonly RecordedEvent[]) => boolean,
): Promise<void> => {
  for (let from = 0; ; ) {
    const page = await log.readStream(stream, { fromRevision: from, maxCount: PAGE });
    if (page.length === 0 || !onPage(page)) return;
    from = page.at(-1)!.revision + 1;
    if (page.length < PAGE) return;
  }
};

// ---------------------------------------------------------------------------------------------
// The history

export interface HistoryActor {
  readonly kind: ActorKind;
  readonly id: string;
  readonly name: string | null;
}

export interface HistoryEntry {
  /** 0-based revision in the conversation's stream: the order of the history. */
  readonly revision: number;
  /** Global log position (`commit/prepare`). */
  readonly position: string;
  readonly eventId: string;
  readonly type: string;
  /** When the log stored the event (the log's own clock), ISO 8601. */
  readonly recordedAt: string;
  /** When the caller says it happened (the caller's clock), ISO 8601. */
  readonly occurredAt: string;
  readonly actor: HistoryActor;
  readonly correlationId: string;
  readonly causationId: string;
  /** `button` when the actor pressed an inline button rather than typing the command; else null. */
  readonly via: 'button' | null;
  /** The row of another tool's database an imported event was made from; else null. */
  readonly imported: ImportedFrom | null;
  /** One line for a person: `client message m-1: "hello"`. */
  readonly summary: string;
  /** The event's data as stored. */
  readonly data: unknown;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** An event as a history entry, with the summary and data its stream's reader made of it. */
const entryOf = (event: RecordedEvent, summary: string, data: unknown): HistoryEntry => {
  const meta = event.metadata as Partial<RecordedEvent['metadata']> | undefined;
  return {
    revision: event.revision,
    position: formatPosition(event.position),
    eventId: event.id,
    type: event.type,
    recordedAt: event.recordedAt.toISOString(),
    occurredAt: meta?.occurredAt ?? '',
    actor: {
      kind: meta?.actor?.kind ?? 'system',
      id: meta?.actor?.id ?? '',
      name: meta?.actor?.name ?? null,
    },
    correlationId: meta?.correlationId ?? '',
    causationId: meta?.causationId ?? '',
    via: meta?.via ?? null,
    imported: meta?.imported ?? null,
    summary: meta?.imported
      ? `${summary} (imported from ${meta.imported.from} ${meta.imported.table} ${meta.imported.id})`
      : meta?.via === 'button'
        ? `${summary} (pressed a button)`
        : summary,
    data,
  };
};

const toEntry = (event: RecordedEvent, decode: DecodeConversationEvent): HistoryEntry => {
  if (!isConversationEventType(event.type)) {
    // Written by a newer version, or not a conversation event: listed, not interpreted.
    return entryOf(event, `${event.type} (not a conversation event this version knows)`, event.data);
  }
  try {
    const decoded = decode(event);
    return entryOf(event, summarize(decoded), decoded.data);
  } catch (error) {
    // The audit lists what the log holds, even an event the domain cannot read.
    return entryOf(event, `unreadable ${event.type} event: ${errorText(error)}`, event.data);
  }
};

/** Every event of the conversation, in stream order; [] for a conversation the log does not have. */
export const conversationHistory = async (
  log: EventLog,
  conversationId: string,
  decode: DecodeConversationEvent,
): Promise<HistoryEntry[]> => {
  const entries: HistoryEntry[] = [];
  await readPages(log, conversationStream(conversationId), (page) => {
    for (const event of page) entries.push(toEntry(event, decode));
    return true;
  });
  return entries;
};

// ---------------------------------------------------------------------------------------------
// The state at a past moment

export interface SnapshotMessage {
  readonly messageId: string;
  readonly direction: 'incoming' | 'outgoing';
  /** The text as it read at that moment (after the edits made by then, before later ones). */
  readonly text: string;
  readonly attachments: readonly Attachment[];
  readonly replyTo: string | null;
  readonly status: ConversationMessage['status'];
  /** The manager who wrote an outgoing message. */
  readonly managerName?: string;
  /** The saved answer an outgoing message was sent from. */
  readonly template?: TemplateUse;
  /** Recorded while the client was banned: kept, not forwarded. */
  readonly suppressed: boolean;
  /** When the log recorded it. */
  readonly createdAt: string;
  /** When its sender sent it (the writer's `occurredAt`: Telegram's or VK's message date). */
  readonly sentAt: string;
  /** The last edit made by then. */
  readonly editedAt?: string;
  readonly deletedAt?: string;
  readonly deleted: boolean;
  /** Edits made by then. */
  readonly edits: number;
}

export interface ConversationSnapshot {
  readonly conversationId: string;
  /** The moment asked about, ISO 8601. */
  readonly at: string;
  /** Revision of the last event included; -1 when none was recorded by then. */
  readonly revision: number;
  /** When the conversation's first event was recorded; null when the log has no such conversation. */
  readonly firstRecordedAt: string | null;
  readonly started: boolean;
  readonly channel: Channel | null;
  readonly source: string | null;
  readonly clientId: string | null;
  readonly profile: ClientProfile | null;
  readonly topic: { readonly topicId: string; readonly chatId: string; readonly title: string } | null;
  readonly closed: boolean;
  readonly banned: boolean;
  /** The client's pinned note then (`/pin`). */
  readonly pinnedNote: { readonly text: string; readonly managerName: string } | null;
  /** In the order they were recorded (a burst may have been sent in another: see `sentAt`). */
  readonly messages: readonly SnapshotMessage[];
  /** The managers' internal notes written by then, in the order recorded (never sent to the client). */
  readonly notes: readonly SnapshotNote[];
}

export interface SnapshotNote {
  readonly noteId: string;
  readonly text: string;
  readonly managerName: string;
  /** When the log recorded it. */
  readonly createdAt: string;
}

interface MessageTimes {
  createdAt?: string;
  sentAt?: string;
  editedAt?: string;
  deletedAt?: string;
}

/**
 * The conversation as it stood at `at`: the events recorded at or before `at`, folded with the
 * domain's own fold, so messages read as they did then (later edits not yet made, later deletions
 * not yet done).
 *
 * The cut uses `recordedAt`, the log's own clock (PostgreSQL's now() of the appending
 * transaction, EventStoreDB's created time): one clock for every writer. `occurredAt` comes from
 * the caller's clock (a Telegram update's date, an API client, another instance) and may be skewed
 * or even out of order, so it cannot say what the log held at a moment.
 *
 * The state is the stream's prefix up to the first event recorded after `at`: a later revision
 * whose timestamp is a little earlier (two appends racing, microseconds apart) cannot become
 * visible before the event it follows, and folding out of stream order would be wrong anyway.
 * Times have millisecond precision: an event counts as recorded by `at` when its recordedAt,
 * cut to the millisecond, is at or before `at`.
 */
export const conversationAt = async (
  log: EventLog,
  conversationId: string,
  at: Date,
  decode: DecodeConversationEvent,
): Promise<ConversationSnapshot> => {
  const cut = at.getTime();
  if (Number.isNaN(cut)) throw new RangeError('conversationAt: `at` is not a valid date');

  let state = initialConversationState;
  let revision = -1;
  let firstRecordedAt: string | null = null;
  const notes: SnapshotNote[] = [];
  const times = new Map<string, MessageTimes>();
  const timesOf = (messageId: string): MessageTimes => {
    const known = times.get(messageId);
    if (known !== undefined) return known;
    const fresh: MessageTimes = {};
    times.set(messageId, fresh);
    return fresh;
  };

  await readPages(log, conversationStream(conversationId), (page) => {
    firstRecordedAt ??= page[0]!.recordedAt.toISOString();
    const included: ConversationEvent[] = [];
    let reachedCut = false;
    for (const recorded of page) {
      if (recorded.recordedAt.getTime() > cut) {
        reachedCut = true;
        break;
      }
      revision = recorded.revision;
      // A type written by a newer version is skipped, as evolve() skips it; a known type that does
      // not decode fails loudly rather than show a wrong past.
      if (!isConversationEventType(recorded.type)) continue;
      const event = decode(recorded);
      included.push(event);
      const when = recorded.recordedAt.toISOString();
      switch (event.type) {
        case 'ClientMessageReceived':
        case 'ManagerReplied':
          timesOf(event.data.messageId).createdAt ??= when;
          timesOf(event.data.messageId).sentAt ??= recorded.metadata.occurredAt;
          break;
        case 'ClientMessageEdited':
        case 'ManagerReplyEdited':
          timesOf(event.data.messageId).editedAt = when;
          break;
        case 'ClientMessageDeleted':
        case 'ManagerReplyDeleted':
          timesOf(event.data.messageId).deletedAt ??= when;
          break;
        case 'NoteAdded': {
          const { noteId, text, managerName } = event.data;
          notes.push({ noteId, text, managerName, createdAt: when });
          break;
        }
        default:
          break;
      }
    }
    state = foldConversation(included, state);
    return !reachedCut;
  });

  const messages: SnapshotMessage[] = [...state.messages.values()].map((m) => {
    const t = times.get(m.messageId) ?? {};
    return {
      messageId: m.messageId,
      direction: m.direction,
      text: m.content.text,
      attachments: m.content.attachments,
      replyTo: m.replyTo ?? null,
      status: m.status,
      ...(m.managerName === undefined ? {} : { managerName: m.managerName }),
      ...(m.template === undefined ? {} : { template: m.template }),
      suppressed: m.suppressed,
      createdAt: t.createdAt ?? '',
      sentAt: t.sentAt ?? t.createdAt ?? '',
      ...(m.editCount > 0 && t.editedAt !== undefined ? { editedAt: t.editedAt } : {}),
      ...(m.deleted && t.deletedAt !== undefined ? { deletedAt: t.deletedAt } : {}),
      deleted: m.deleted,
      edits: m.editCount,
    };
  });

  return {
    conversationId,
    at: at.toISOString(),
    revision,
    firstRecordedAt,
    started: state.started,
    channel: state.channel ?? null,
    source: state.source ?? null,
    clientId: state.clientId ?? null,
    profile: state.profile ?? null,
    topic: state.topic === null ? null : { ...state.topic },
    closed: state.closed,
    banned: state.banned,
    pinnedNote: state.pinnedNote ? { ...state.pinnedNote } : null,
    messages,
    notes,
  };
};

// ---------------------------------------------------------------------------------------------
// Settings

/**
 * Every change of one kind of settings, in order, with who made it (docs/design.md, "Settings
 * streams"): the same entries as a conversation's history.
 */
export const settingsHistory = async <C, E extends SettingsEvent, S>(
  log: EventLog,
  definition: SettingsDefinition<C, E, S>,
  decode: DecodeSettingsEvent<E>,
): Promise<HistoryEntry[]> => {
  const entries: HistoryEntry[] = [];
  await readPages(log, settingsStream(definition.kind), (page) => {
    for (const event of page) {
      try {
        const decoded = decode(event);
        entries.push(
          decoded === undefined
            ? entryOf(event, `${event.type} (not a ${definition.kind} event this version knows)`, event.data)
            : entryOf(event, definition.summarize(decoded), decoded.data),
        );
      } catch (error) {
        entries.push(entryOf(event, `unreadable ${event.type} event: ${errorText(error)}`, event.data));
      }
    }
    return true;
  });
  return entries;
};
