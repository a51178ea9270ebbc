// A conversation's state, folded from its stream. decide() reads it; reactors and adapters read it
// to find where a message stands on either side (client chat, support group topic).
//
// The state is split so that its cost does not grow with the conversation (docs/design.md, "The
// conversation's state"): a small core (who, topic, flags, what waits to be carried) and a window
// of messages — the ones a caller loaded and the ones changed since the store's copy. A message the
// window was not given is not silently taken for absent: asking for it throws NotLoadedError.
import { contentFields, withoutUndefined } from './content.ts';
import type {
  AutomaticReply,
  Channel,
  ChannelMessageRef,
  ClientProfile,
  ConversationEvent,
  DeliveryOperation,
  MessageContent,
  TemplateUse,
  TopicStatus,
} from './events.ts';

/** incoming: written by the client; outgoing: written by a manager. */
export type MessageDirection = 'incoming' | 'outgoing';

/** The message's standing as the API shows it. */
export type DeliveryStatus = 'received' | 'forwarded' | 'delivered' | 'failed';

export type DeliveryOutcome =
  | { readonly outcome: 'delivered' }
  | {
      readonly outcome: 'failed';
      readonly reason: string;
      readonly permanent: boolean;
      readonly attempt: number;
      readonly nextAttemptAt?: string;
    };

export interface ConversationMessage {
  readonly messageId: string;
  readonly direction: MessageDirection;
  /** The current content, after every edit. The history is the stream itself. */
  readonly content: MessageContent;
  readonly replyTo?: string;
  readonly mediaGroupId?: string;
  /** Incoming: the client's own numbering, where it is not the channel message id (see sender-order.ts). */
  readonly sentOrder?: number;
  readonly deleted: boolean;
  readonly editCount: number;
  /** Incoming from a banned client: recorded, never carried to the topic. */
  readonly suppressed: boolean;
  readonly managerId?: string;
  readonly managerName?: string;
  /** Outgoing: the saved answer it was sent from. */
  readonly template?: TemplateUse;
  /** Outgoing: set when topicdesk answered by itself (a welcome, an off-hours answer). */
  readonly automatic?: AutomaticReply;
  /** Client side: the client's original (incoming) or the delivered copy (outgoing). */
  readonly channelMessage?: ChannelMessageRef;
  /** Support group side: the topic copy (incoming) or the manager's original (outgoing). */
  readonly groupMessage?: ChannelMessageRef;
  /** Incoming: the further topic messages the copy took (a source's message with several files). */
  readonly moreGroupMessages?: ReadonlyArray<ChannelMessageRef>;
  /** The topic the incoming message was copied into. */
  readonly topicId?: string;
  readonly forwarded: boolean;
  /** incoming: received → forwarded; outgoing: received → delivered | failed (by the `send` outcome). */
  readonly status: DeliveryStatus;
  /**
   * Last outcome per operation. An `edit` outcome is cleared by the next edit, because that edit
   * has to be carried again.
   */
  readonly deliveries: Readonly<Partial<Record<DeliveryOperation, DeliveryOutcome>>>;
  /** When its writer says it was sent, last edited, deleted (the events' occurredAt), where known. */
  readonly sentAt?: string;
  /** The revision of the event that recorded it, where known: a reader of its history starts there. */
  readonly recordedRevision?: number;
  readonly editedAt?: string;
  readonly deletedAt?: string;
}

export interface ConversationTopic {
  readonly topicId: string;
  readonly chatId: string;
  readonly title: string;
}

/** The note pinned to the client (`/pin`), shown under the contact card. */
export interface PinnedNote {
  readonly text: string;
  readonly managerName: string;
}

/** An answer's latest send outcome, for notices told once (a blocked bot, an unreachable client). */
export interface SendOutcome {
  readonly messageId: string;
  readonly outcome: DeliveryOutcome;
}

/** What the conversation is, apart from its messages: small, whatever the conversation's length. */
export interface ConversationCore {
  readonly started: boolean;
  readonly conversationId?: string;
  readonly channel?: Channel;
  readonly source?: string;
  readonly clientId?: string;
  readonly profile?: ClientProfile;
  /** null before the first topic and after TopicLost, until the next TopicOpened. */
  readonly topic: ConversationTopic | null;
  readonly closed: boolean;
  readonly banned: boolean;
  /** Reset by each ban: the client is told once per ban. */
  readonly banNoticeSent: boolean;
  /** Reset by each close. */
  readonly closeNoticeSent: boolean;
  /** Messages recorded so far, both ways. */
  readonly messageCount: number;
  /** Client messages not yet in the topic (nor suppressed), in the order recorded; the oldest kept. */
  readonly waitingIncoming: readonly string[];
  /** Answers not yet delivered, given up or deleted, in the order recorded. */
  readonly waitingOutgoing: readonly string[];
  /** The latest send outcomes, one per answer, newest last. */
  readonly sendOutcomes: readonly SendOutcome[];
  /** The client wrote last (a message carried to the topic), no manager has answered since. */
  readonly awaitingAnswer: boolean;
  /** The contact card at the top of the current topic, whose buttons follow the state; absent before. */
  readonly card?: { readonly topicId: string; readonly groupMessage: ChannelMessageRef };
  /** What the current topic's title or icon shows, as last recorded (TopicStatusChanged). */
  readonly topicStatus?: { readonly topicId: string; readonly status: TopicStatus };
  /** Absent when nothing is pinned (and in cores stored before notes existed). */
  readonly pinnedNote?: PinnedNote;
  /** The client's latest language tag, as the channel reported it (the bot writes to them in it). */
  readonly language?: string;
  /** Whether the client was welcomed (once per conversation). */
  readonly welcomed: boolean;
  /** The off-period the client was last answered in (one off-hours answer per period). */
  readonly offHoursAnswered?: string;
  /** The member of the support group the conversation is assigned to; absent when nobody (and before). */
  readonly assignee?: Assignee;
}

/** Who a conversation is assigned to: a Telegram user id and the name shown on the card. */
export interface Assignee {
  readonly id: string;
  readonly name: string;
}

/**
 * "Unassigned waiting": open, the client waits for an answer, and nobody has the conversation
 * (docs/design.md, "Assignment").
 */
export const isUnassignedWaiting = (core: ConversationCore): boolean =>
  topicStatusOf(core) === 'waiting' && core.assignee === undefined;

/** How many ids a waiting list and the send outcomes keep: older ones were given up long ago. */
const WAITING_LIMIT = 500;
/** Ids known absent a trimmed window keeps (a command's own new id among them). */
const ABSENT_KEPT = 64;
const OUTCOMES_LIMIT = 16;

export class NotLoadedError extends Error {
  override readonly name = 'NotLoadedError';
  readonly code = 'not_loaded';
  constructor(what: string) {
    super(`${what} was not loaded into the conversation's state (a caller must ask for it first)`);
  }
}

export const refKey = (chatId: string | number, messageId: string | number): string =>
  `${chatId}/${messageId}`;
/** The window's keys for a topic message (`g`) and a client-chat message (`c`). */
export const groupKey = (ref: { chatId: string | number; messageId: string | number }) =>
  `g:${refKey(ref.chatId, ref.messageId)}`;
export const channelKey = (ref: { chatId: string | number; messageId: string | number }) =>
  `c:${refKey(ref.chatId, ref.messageId)}`;

interface Entry {
  readonly message: ConversationMessage;
  /** The revision of the last event that changed it (-1: unknown, a fold without revisions). */
  readonly revision: number;
}

/**
 * The messages a state holds. Complete (a fold of the whole stream): any other id is no message of
 * the conversation. Partial (the store's copy plus what changed since): an id is answered only when
 * it was loaded, or is known not to exist; anything else throws NotLoadedError.
 */
export class MessageWindow {
  constructor(
    private readonly entries: ReadonlyMap<string, Entry>,
    /** `groupKey` / `channelKey` → message id; null: known to name no message. */
    private readonly refs: ReadonlyMap<string, string | null>,
    /** Ids known to name no message of the conversation. */
    private readonly absent: ReadonlySet<string>,
    readonly complete: boolean,
  ) {}

  static empty(complete: boolean): MessageWindow {
    return new MessageWindow(new Map(), new Map(), new Set(), complete);
  }

  /** Whether `id` can be answered without a load. */
  knows(id: string): boolean {
    return this.complete || this.entries.has(id) || this.absent.has(id);
  }

  knowsRef(key: string): boolean {
    return this.complete || this.refs.has(key);
  }

  get(id: string): ConversationMessage | undefined {
    const entry = this.entries.get(id);
    if (entry) return entry.message;
    if (this.complete || this.absent.has(id)) return undefined;
    throw new NotLoadedError(`message ${id}`);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  revisionOf(id: string): number | undefined {
    return this.entries.get(id)?.revision;
  }

  /** The message a topic or client-chat message stands for. */
  byRef(key: string): ConversationMessage | undefined {
    const id = this.refs.get(key);
    if (id === undefined && !this.complete) throw new NotLoadedError(`reference ${key}`);
    return id ? this.get(id) : undefined;
  }

  /** The loaded messages, in the order they entered the window (the order recorded, for a full fold). */
  loaded(): IterableIterator<ConversationMessage> {
    return [...this.entries.values()].map((e) => e.message)[Symbol.iterator]();
  }

  /** Every message: only a complete window can say. */
  values(): IterableIterator<ConversationMessage> {
    if (!this.complete) throw new NotLoadedError('every message');
    return this.loaded();
  }

  keys(): IterableIterator<string> {
    if (!this.complete) throw new NotLoadedError('every message');
    return this.entries.keys();
  }

  get size(): number {
    if (!this.complete) throw new NotLoadedError('every message');
    return this.entries.size;
  }

  /** Reference keys the window holds (tests, the store's writes). */
  refEntries(): IterableIterator<[string, string | null]> {
    return this.refs.entries();
  }

  entriesWithRevisions(): IterableIterator<[string, Entry]> {
    return this.entries.entries();
  }

  /** A window with more loaded: messages and references read from the store, or known absent. */
  withLoaded(
    messages: ReadonlyArray<{ message: ConversationMessage; revision: number }>,
    absentIds: readonly string[] = [],
    refs: ReadonlyArray<readonly [string, string | null]> = [],
  ): MessageWindow {
    const entries = new Map(this.entries);
    for (const m of messages) if (!entries.has(m.message.messageId)) entries.set(m.message.messageId, m);
    const absent = new Set(this.absent);
    for (const id of absentIds) if (!entries.has(id)) absent.add(id);
    const refMap = new Map(this.refs);
    for (const [k, v] of refs) if (!refMap.has(k) || refMap.get(k) === null) refMap.set(k, v);
    return new MessageWindow(entries, refMap, absent, this.complete);
  }

  /**
   * A window keeping only the messages `keep` accepts (and the references to them, and the most
   * recent ids known absent): how the reader bounds what it holds.
   */
  only(keep: (id: string, revision: number) => boolean): MessageWindow {
    const entries = new Map([...this.entries].filter(([id, e]) => keep(id, e.revision)));
    const refs = new Map([...this.refs].filter(([, id]) => id !== null && entries.has(id)));
    const absent = new Set([...this.absent].slice(-ABSENT_KEPT));
    return new MessageWindow(entries, refs, absent, false);
  }

  /** @internal evolve's copy-on-write. */
  draft(): WindowDraft {
    return new WindowDraft(this);
  }

  /** @internal */
  parts() {
    return { entries: this.entries, refs: this.refs, absent: this.absent, complete: this.complete };
  }
}

/** A window being changed by a fold: its maps are copied on the first write only. */
class WindowDraft {
  private entries: Map<string, Entry> | undefined;
  private refs: Map<string, string | null> | undefined;
  private absent: Set<string> | undefined;
  constructor(private readonly base: MessageWindow) {}

  get(id: string): Entry | undefined {
    return (this.entries ?? this.base.parts().entries).get(id);
  }

  knows(id: string): boolean {
    return this.get(id) !== undefined || this.base.knows(id);
  }

  /** Whether the fold may apply an event of `revision` to message `id` (not yet part of it). */
  applies(id: string, revision: number | undefined): boolean {
    const known = this.get(id);
    return revision === undefined || known === undefined || known.revision < revision;
  }

  put(message: ConversationMessage, revision: number): void {
    this.entries ??= new Map(this.base.parts().entries);
    this.entries.set(message.messageId, { message, revision });
    if (this.base.parts().absent.has(message.messageId)) {
      this.absent ??= new Set(this.base.parts().absent);
      this.absent.delete(message.messageId);
    }
  }

  ref(key: string, messageId: string): void {
    this.refs ??= new Map(this.base.parts().refs);
    this.refs.set(key, messageId);
  }

  done(): MessageWindow {
    if (!this.entries && !this.refs && !this.absent) return this.base;
    const p = this.base.parts();
    return new MessageWindow(
      this.entries ?? p.entries,
      this.refs ?? p.refs,
      this.absent ?? p.absent,
      p.complete,
    );
  }
}

export interface ConversationState extends ConversationCore {
  readonly messages: MessageWindow;
}

/** A started conversation, whose identity fields are known. */
export type StartedConversationState = ConversationState & {
  readonly started: true;
  readonly conversationId: string;
  readonly channel: Channel;
  readonly source: string;
  readonly clientId: string;
  readonly profile: ClientProfile;
};

export const isStarted = (state: ConversationState): state is StartedConversationState => state.started;

export const initialConversationCore: ConversationCore = {
  started: false,
  topic: null,
  closed: false,
  banned: false,
  banNoticeSent: false,
  closeNoticeSent: false,
  messageCount: 0,
  waitingIncoming: [],
  waitingOutgoing: [],
  sendOutcomes: [],
  awaitingAnswer: false,
  welcomed: false,
};

/** A conversation no event has touched: complete, since there is nothing to load. */
export const initialConversationState: ConversationState = {
  ...initialConversationCore,
  messages: MessageWindow.empty(true),
};

/** The core of a state (what the store keeps in one row). */
export const coreOf = (state: ConversationState): ConversationCore => {
  const { messages: _messages, ...core } = state;
  return core;
};

/**
 * What the topic should show at a glance: closed, else waiting while the client's last message has no
 * answer, else answered (docs/design.md, "Topic status"). Derived, so a replay derives the same.
 */
export const topicStatusOf = (core: ConversationCore): TopicStatus =>
  core.closed ? 'closed' : core.awaitingAnswer ? 'waiting' : 'answered';

/** The contact card of the current topic, if one was recorded (a lost topic's card is no longer shown). */
export const currentCard = (core: ConversationCore) =>
  core.card !== undefined && core.topic?.topicId === core.card.topicId ? core.card.groupMessage : undefined;

/** The status the current topic shows, as recorded; undefined when nothing was recorded for it. */
export const shownTopicStatus = (core: ConversationCore): TopicStatus | undefined =>
  core.topicStatus !== undefined && core.topic?.topicId === core.topicStatus.topicId
    ? core.topicStatus.status
    : undefined;

/** Which message of this conversation is Telegram message `messageId` in the support group chat. */
export const findByGroupMessage = (
  state: ConversationState,
  chatId: string | number,
  messageId: string | number,
): ConversationMessage | undefined => state.messages.byRef(groupKey({ chatId, messageId }));

/** Which message of this conversation is message `messageId` in the client's chat. */
export const findByChannelMessage = (
  state: ConversationState,
  chatId: string | number,
  messageId: string | number,
): ConversationMessage | undefined => state.messages.byRef(channelKey({ chatId, messageId }));

/** The message an event is about, if it is about one. */
export const messageIdOfEvent = (event: ConversationEvent): string | undefined =>
  'messageId' in event.data ? (event.data as { messageId: string }).messageId : undefined;

/** An event with what the fold needs to know of where it stands. */
export interface Folded {
  readonly event: ConversationEvent;
  /** Its revision in the stream: a part of the state already past it is not changed again. */
  readonly revision?: number;
  /** Its occurredAt: the message's sent/edited/deleted times. */
  readonly at?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const without = (list: readonly string[], id: string): readonly string[] =>
  list.includes(id) ? list.filter((x) => x !== id) : list;
const appended = (list: readonly string[], id: string): readonly string[] =>
  (list.length >= WAITING_LIMIT ? list.slice(list.length - WAITING_LIMIT + 1) : list).concat(id);

const recordOutcome = (core: Mutable<ConversationCore>, messageId: string, outcome: DeliveryOutcome) => {
  const kept = core.sendOutcomes.filter((o) => o.messageId !== messageId);
  core.sendOutcomes = [...kept.slice(Math.max(0, kept.length - OUTCOMES_LIMIT + 1)), { messageId, outcome }];
};

/** What an event changes in the core. */
const coreStep = (core: Mutable<ConversationCore>, event: ConversationEvent): void => {
  switch (event.type) {
    case 'ConversationStarted': {
      const { conversationId, channel, source, clientId, profile } = event.data;
      Object.assign(core, { started: true, conversationId, channel, source, clientId, profile });
      if (profile.languageCode) core.language = profile.languageCode;
      return;
    }
    case 'ClientMessageReceived':
      core.messageCount += 1;
      if (event.data.languageCode) core.language = event.data.languageCode;
      if (!event.data.suppressed) {
        core.waitingIncoming = appended(core.waitingIncoming, event.data.messageId);
        core.awaitingAnswer = true;
      }
      return;
    case 'ClientMessageForwarded':
      core.waitingIncoming = without(core.waitingIncoming, event.data.messageId);
      return;
    case 'ManagerReplied': {
      core.messageCount += 1;
      core.waitingOutgoing = appended(core.waitingOutgoing, event.data.messageId);
      const automatic = event.data.automatic;
      // An automatic reply (welcome, off-hours) is no manager's answer: the client still waits.
      if (automatic === undefined) core.awaitingAnswer = false;
      if (automatic?.reason === 'welcome') core.welcomed = true;
      if (automatic?.reason === 'off_hours' && automatic.period) core.offHoursAnswered = automatic.period;
      return;
    }
    case 'ManagerReplyDeleted':
      core.waitingOutgoing = without(core.waitingOutgoing, event.data.messageId);
      return;
    case 'ReplyDelivered':
      if (event.data.operation !== 'send') return;
      core.waitingOutgoing = without(core.waitingOutgoing, event.data.messageId);
      recordOutcome(core, event.data.messageId, { outcome: 'delivered' });
      return;
    case 'DeliveryFailed': {
      const { messageId, operation, reason, permanent, attempt, nextAttemptAt } = event.data;
      if (operation !== 'send') return;
      if (permanent) core.waitingOutgoing = without(core.waitingOutgoing, messageId);
      recordOutcome(
        core,
        messageId,
        withoutUndefined<DeliveryOutcome>({ outcome: 'failed', reason, permanent, attempt, nextAttemptAt }),
      );
      return;
    }
    case 'TopicOpened': {
      const { topicId, chatId, title } = event.data;
      core.topic = { topicId, chatId, title };
      return;
    }
    case 'TopicLost':
      if (core.topic?.topicId === event.data.topicId) core.topic = null;
      return;
    case 'ClientBanned':
      core.banned = true;
      core.banNoticeSent = false;
      return;
    case 'ClientUnbanned':
      core.banned = false;
      return;
    case 'ConversationClosed':
      core.closed = true;
      core.closeNoticeSent = false;
      return;
    case 'ConversationReopened':
      core.closed = false;
      return;
    case 'ClientNotified':
      if (event.data.notice === 'banned') core.banNoticeSent = true;
      else core.closeNoticeSent = true;
      return;
    case 'ContactCardPosted':
      core.card = { topicId: event.data.topicId, groupMessage: event.data.groupMessage };
      return;
    case 'TopicStatusChanged':
      core.topicStatus = { topicId: event.data.topicId, status: event.data.status };
      return;
    case 'NotePinned':
      core.pinnedNote = { text: event.data.text, managerName: event.data.managerName };
      return;
    case 'NoteUnpinned':
      delete core.pinnedNote;
      return;
    case 'ConversationAssigned':
      core.assignee = { id: event.data.assigneeId, name: event.data.assigneeName };
      return;
    case 'ConversationUnassigned':
      delete core.assignee;
      return;
    case 'ClientMessageEdited':
    case 'ClientMessageDeleted':
    case 'ManagerReplyEdited':
    case 'NoteAdded':
      return;
    default: {
      const unknown: never = event;
      // A type written by a newer version is skipped, not fatal: old readers keep working while a
      // rolling upgrade is in progress.
      void unknown;
      return;
    }
  }
};

/** What an event changes in its message (and the references to it). */
const messageStep = (w: WindowDraft, f: Folded): void => {
  const { event, at } = f;
  const revision = f.revision ?? -1;
  // An event about a message this window does not hold (and a fold without the store cannot have)
  // cannot come from decide(); it is skipped rather than make a whole conversation unreadable.
  const update = (messageId: string, change: (m: ConversationMessage) => ConversationMessage) => {
    const entry = w.get(messageId);
    if (entry) w.put(change(entry.message), revision);
    else if (!w.knows(messageId))
      throw new NotLoadedError(`message ${messageId} (an event of the fold is about it)`);
  };
  switch (event.type) {
    case 'ClientMessageReceived': {
      const d = event.data;
      w.put(
        withoutUndefined<ConversationMessage>({
          messageId: d.messageId,
          direction: 'incoming',
          content: contentFields(d),
          replyTo: d.replyTo,
          mediaGroupId: d.mediaGroupId,
          sentOrder: d.sentOrder,
          deleted: false,
          editCount: 0,
          suppressed: d.suppressed,
          channelMessage: d.channelMessage,
          forwarded: false,
          status: 'received',
          deliveries: {},
          sentAt: at,
          recordedRevision: f.revision,
        }),
        revision,
      );
      if (d.channelMessage) w.ref(channelKey(d.channelMessage), d.messageId);
      return;
    }
    case 'ClientMessageEdited':
    case 'ManagerReplyEdited': {
      const d = event.data;
      const isManager = event.type === 'ManagerReplyEdited';
      update(d.messageId, (m) => {
        const deliveries = { ...m.deliveries };
        if (isManager) delete deliveries.edit;
        return withoutUndefined({
          ...m,
          content: contentFields(d),
          editCount: m.editCount + 1,
          deliveries,
          editedAt: at ?? m.editedAt,
        });
      });
      return;
    }
    case 'ClientMessageDeleted':
    case 'ManagerReplyDeleted':
      update(event.data.messageId, (m) =>
        withoutUndefined({ ...m, deleted: true, deletedAt: m.deletedAt ?? at }),
      );
      return;
    case 'ClientMessageForwarded': {
      const { messageId, topicId, groupMessage, moreGroupMessages } = event.data;
      update(messageId, (m) => {
        // A copy into a replacement topic replaces the old copies, further messages included.
        const { moreGroupMessages: _replaced, ...rest } = m;
        return {
          ...rest,
          forwarded: true,
          topicId,
          groupMessage,
          ...(moreGroupMessages?.length ? { moreGroupMessages } : {}),
          status: m.direction === 'incoming' ? 'forwarded' : m.status,
        };
      });
      // A manager replying to any of the message's topic messages is replying to the message.
      if (w.get(messageId))
        for (const ref of [groupMessage, ...(moreGroupMessages ?? [])]) w.ref(groupKey(ref), messageId);
      return;
    }
    case 'ManagerReplied': {
      const d = event.data;
      w.put(
        withoutUndefined<ConversationMessage>({
          messageId: d.messageId,
          direction: 'outgoing',
          content: contentFields(d),
          replyTo: d.replyTo,
          mediaGroupId: d.mediaGroupId,
          deleted: false,
          editCount: 0,
          suppressed: false,
          managerId: d.managerId,
          managerName: d.managerName,
          template: d.template,
          automatic: d.automatic,
          groupMessage: d.groupMessage,
          forwarded: false,
          status: 'received',
          deliveries: {},
          sentAt: at,
          recordedRevision: f.revision,
        }),
        revision,
      );
      if (d.groupMessage) w.ref(groupKey(d.groupMessage), d.messageId);
      return;
    }
    case 'ReplyDelivered': {
      const { messageId, operation, channelMessage } = event.data;
      update(messageId, (m) => ({
        ...m,
        ...(channelMessage && operation !== 'delete' ? { channelMessage } : {}),
        status: operation === 'send' ? 'delivered' : m.status,
        deliveries: { ...m.deliveries, [operation]: { outcome: 'delivered' } },
      }));
      // The old ref stays indexed too: the client may still reply to the message it first saw.
      if (channelMessage && operation !== 'delete' && w.get(messageId))
        w.ref(channelKey(channelMessage), messageId);
      return;
    }
    case 'DeliveryFailed': {
      const { messageId, operation, reason, permanent, attempt, nextAttemptAt } = event.data;
      update(messageId, (m) => ({
        ...m,
        status: operation === 'send' && m.status !== 'delivered' ? 'failed' : m.status,
        deliveries: {
          ...m.deliveries,
          [operation]: withoutUndefined<DeliveryOutcome>({
            outcome: 'failed',
            reason,
            permanent,
            attempt,
            nextAttemptAt,
          }),
        },
      }));
      return;
    }
    default:
      return;
  }
};

export interface FoldOptions {
  /** The core's revision: events at or before it are part of it already (the store's copy). */
  readonly coreRevision?: number;
}

/**
 * Folds events onto `from`. With revisions, each part (the core, each message) takes only the events
 * after its own revision, so the store's copy plus the stream's tail give what a whole fold gives.
 * The maps are copied once per fold, not once per event; `from` is never changed.
 */
export const foldConversation = (
  events: Iterable<ConversationEvent | Folded>,
  from: ConversationState = initialConversationState,
  options: FoldOptions = {},
): ConversationState => {
  const { messages, ...core } = from;
  const c = core as Mutable<ConversationCore>;
  const w = messages.draft();
  const coreRevision = options.coreRevision;
  for (const item of events) {
    const f: Folded = 'event' in item ? item : { event: item };
    if (coreRevision === undefined || f.revision === undefined || f.revision > coreRevision)
      coreStep(c, f.event);
    const id = messageIdOfEvent(f.event);
    if (id !== undefined && w.applies(id, f.revision)) messageStep(w, f);
  }
  return { ...c, messages: w.done() };
};

export const evolve = (state: ConversationState, event: ConversationEvent): ConversationState =>
  foldConversation([event], state);
