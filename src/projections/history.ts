// The audit history of one conversation (docs/design.md, "The audit history"): every event of its
// stream in order, described for a person, and the conversation as it stood at a past moment; and
// the same list for a settings stream (docs/design.md, "Settings streams").
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
  DeliveryOperation,
  MessageButton,
  TemplateUse,
} from '../domain/events.ts';
import { conversationEventTypes, conversationStream } from '../domain/events.ts';
import {
  type DecodeSettingsEvent,
  type SettingsDefinition,
  type SettingsEvent,
  settingsStream,
} from '../domain/settings.ts';

/** Turns a recorded event into a domain event (the composition root passes the zod codec). */
export type DecodeConversationEvent = (event: RecordedEvent) => ConversationEvent;

/** UUIDv5 of `channel:source:clientId` (src/adapters/ids.ts), passed in: this layer cannot import adapters. */
export type ConversationIdOf = (channel: Channel, source: string, clientId: string) => string;

// ---------------------------------------------------------------------------------------------
// References

export interface ConversationRef {
  readonly conversationId: string;
  /** Known when the reference named the client rather than the id. */
  readonly channel?: Channel;
  readonly source?: string;
  readonly clientId?: string;
}

export class ConversationRefError extends Error {
  override readonly name = 'ConversationRefError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const refForms =
  'a conversation id (UUID), telegram:<clientId>, vk:<clientId> or external:<source>:<clientId>';

/**
 * `3f2a…` (a UUID) is the conversation id itself. `telegram:<clientId>` and `vk:<clientId>` name a
 * client of that channel, whose source is the channel's name (topicdesk's convention);
 * `external:<source>:<clientId>` names a client of an external source. A client id may itself
 * contain colons (everything after the prefix is the client id).
 */
export const resolveConversationRef = (ref: string, conversationIdOf: ConversationIdOf): ConversationRef => {
  const trimmed = ref.trim();
  if (UUID.test(trimmed)) return { conversationId: trimmed.toLowerCase() };
  const colon = trimmed.indexOf(':');
  const prefix = colon < 0 ? '' : trimmed.slice(0, colon);
  const rest = colon < 0 ? '' : trimmed.slice(colon + 1);
  const named = (channel: Channel, source: string, clientId: string): ConversationRef => {
    if (source === '' || clientId === '') {
      throw new ConversationRefError(`not a conversation reference: "${ref}" (expected ${refForms})`);
    }
    return { conversationId: conversationIdOf(channel, source, clientId), channel, source, clientId };
  };
  switch (prefix) {
    case 'telegram':
    case 'vk':
      return named(prefix, prefix, rest);
    case 'external': {
      const sep = rest.indexOf(':');
      return sep < 0
        ? named('external', rest, '')
        : named('external', rest.slice(0, sep), rest.slice(sep + 1));
    }
    default:
      throw new ConversationRefError(`not a conversation reference: "${ref}" (expected ${refForms})`);
  }
};

// ---------------------------------------------------------------------------------------------
// Times

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * An ISO 8601 date or date-time: `2025-03-01T12:30:00Z`, `2025-03-01T15:30:00.250+03:00`,
 * `2025-03-01 12:30`, `2025-03-01`. Without an offset the time is local (as ISO 8601 says); a date
 * alone is its local midnight. Fractions beyond milliseconds are cut. null when not such a time or
 * not a real date (2025-02-30).
 */
export const parseIsoTime = (text: string): Date | null => {
  const m = ISO_8601.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((v) => Number(v ?? 0));
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8];
  if (month! < 1 || month! > 12 || day! < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! > daysInMonth) return null;
  if (zone === undefined) {
    const local = new Date(year!, month! - 1, day!, hour, minute, second, ms);
    // Year 0-99 would be taken as 19xx by the Date constructor.
    local.setFullYear(year!);
    return Number.isNaN(local.getTime()) ? null : local;
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const hours = Number(z[2]);
    const minutes = Number(z[3] ?? 0);
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year!, month! - 1, day!);
  utc.setUTCHours(hour, minute, second, ms);
  const result = new Date(utc.getTime() - offsetMinutes * 60_000);
  return Number.isNaN(result.getTime()) ? null : result;
};

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
  /** One line for a person: `client message m-1: "hello"`. */
  readonly summary: string;
  /** The event's data as stored. */
  readonly data: unknown;
}

const MAX_QUOTE = 80;

const quote = (text: string): string =>
  JSON.stringify(text.length > MAX_QUOTE ? `${text.slice(0, MAX_QUOTE - 1)}…` : text);

const describeAttachment = (a: Attachment): string =>
  a.fileName === undefined ? a.kind : `${a.kind} ${JSON.stringify(a.fileName)}`;

/** `"hello" [photo, document "a.pdf"]`; an attachment without a caption shows only the brackets. */
export const describeContent = (content: {
  readonly text: string;
  readonly attachments: readonly Attachment[];
  readonly buttons?: readonly (readonly MessageButton[])[];
}): string => {
  const files = content.attachments.length
    ? `[${content.attachments.map(describeAttachment).join(', ')}]`
    : '';
  const labels = (content.buttons ?? []).flat().map((b) => JSON.stringify(b.text));
  const buttons = labels.length ? ` [button${labels.length > 1 ? 's' : ''} ${labels.join(', ')}]` : '';
  if (content.text === '' && files !== '') return files + buttons;
  return (files === '' ? quote(content.text) : `${quote(content.text)} ${files}`) + buttons;
};

const describeProfile = (profile: ClientProfile): string => {
  const name = [profile.firstName, profile.lastName].filter((p) => p !== undefined && p !== '').join(' ');
  return [name === '' ? undefined : JSON.stringify(name), profile.username && `@${profile.username}`]
    .filter(Boolean)
    .join(' ');
};

const what = (operation: DeliveryOperation, messageId: string): string =>
  operation === 'send' ? messageId : `${operation} of ${messageId}`;

const replyNote = (replyTo: string | undefined): string =>
  replyTo === undefined ? '' : ` (reply to ${replyTo})`;

const statusWords = { waiting: 'waiting for an answer', answered: 'answered', closed: 'closed' } as const;

/** One line describing an event, for a person reading the audit history. */
export const summarize = (event: ConversationEvent): string => {
  switch (event.type) {
    case 'ConversationStarted': {
      const { channel, source, clientId, profile } = event.data;
      const via = source === channel ? channel : `${channel} source ${source}`;
      const who = describeProfile(profile);
      return `conversation started: ${via} client ${clientId}${who === '' ? '' : ` ${who}`}`;
    }
    case 'ClientMessageReceived': {
      const d = event.data;
      const suppressed = d.suppressed ? ' (not forwarded: client banned)' : '';
      const language = d.languageCode ? ` (language now ${d.languageCode})` : '';
      return `client message ${d.messageId}: ${describeContent(d)}${replyNote(d.replyTo)}${suppressed}${language}`;
    }
    case 'ClientMessageEdited':
      return `edited ${event.data.messageId}: ${quote(event.data.previousText)} → ${describeContent(event.data)}`;
    case 'ClientMessageDeleted':
      return `deleted ${event.data.messageId}`;
    case 'TopicOpened':
      return `topic ${event.data.topicId} opened ${quote(event.data.title)}`;
    case 'TopicLost':
      return `topic ${event.data.topicId} lost: ${event.data.reason}`;
    case 'ClientMessageForwarded': {
      const { messageId, topicId, groupMessage, moreGroupMessages = [] } = event.data;
      const ids = [groupMessage, ...moreGroupMessages].map((ref) => ref.messageId);
      return `forwarded ${messageId} to topic ${topicId} (group message${ids.length > 1 ? 's' : ''} ${ids.join(', ')})`;
    }
    case 'ManagerReplied': {
      const d = event.data;
      if (d.automatic) {
        const why = d.automatic.reason === 'welcome' ? 'welcome' : `off hours since ${d.automatic.period}`;
        return `automatic reply (${why}) ${d.messageId}: ${describeContent(d)}`;
      }
      const template = d.template
        ? ` from saved answer ${d.template.name} v${d.template.version} (${d.template.locale})`
        : '';
      return `manager ${d.managerName} replied ${d.messageId}${template}: ${describeContent(d)}${replyNote(d.replyTo)}`;
    }
    case 'ManagerReplyEdited':
      return `manager edited ${event.data.messageId}: ${quote(event.data.previousText)} → ${describeContent(event.data)}`;
    case 'ManagerReplyDeleted':
      return `manager deleted ${event.data.messageId}`;
    case 'ReplyDelivered':
      return `delivered ${event.data.messageId} (${event.data.operation})`;
    case 'DeliveryFailed': {
      const d = event.data;
      const when = d.permanent
        ? 'permanent'
        : `attempt ${d.attempt}${d.nextAttemptAt === undefined ? '' : `, next try ${d.nextAttemptAt}`}`;
      return `delivery of ${what(d.operation, d.messageId)} failed (${when}): ${d.reason}`;
    }
    case 'ClientBanned':
      return event.data.reason ? `client banned: ${event.data.reason}` : 'client banned';
    case 'ClientUnbanned':
      return 'client unbanned';
    case 'ConversationClosed':
      return 'conversation closed';
    case 'ConversationReopened':
      return 'conversation reopened';
    case 'ClientNotified':
      return event.data.notice === 'banned'
        ? 'client told their messages are not forwarded (banned)'
        : 'client told the conversation is closed';
    case 'ContactCardPosted':
      return `contact card posted in topic ${event.data.topicId} (group message ${event.data.groupMessage.messageId})`;
    case 'TopicStatusChanged':
      return `topic ${event.data.topicId} shows: ${statusWords[event.data.status]}`;
    case 'NoteAdded':
      return `note by ${event.data.managerName} (internal, not sent): ${quote(event.data.text)}`;
    case 'NotePinned':
      return `note pinned by ${event.data.managerName}: ${quote(event.data.text)}`;
    case 'NoteUnpinned':
      return 'pinned note removed';
    case 'ConversationAssigned':
      return `assigned to ${event.data.assigneeName} (${event.data.assigneeId})`;
    case 'ConversationUnassigned':
      return `unassigned (was ${event.data.previousAssigneeName}, ${event.data.previousAssigneeId})`;
    default: {
      const unknown: never = event;
      return `${(unknown as { type: string }).type}`;
    }
  }
};

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
    summary: meta?.via === 'button' ? `${summary} (pressed a button)` : summary,
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
