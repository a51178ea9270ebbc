// A conversation's state, folded from its stream: evolve() and foldConversation(), the core's and the
// messages' steps. decide() reads the state; reactors and adapters read it to find where a message
// stands on either side (client chat, support group topic).
import { contentFields, withoutUndefined } from './content.ts';
import {
  type ConversationCore,
  type ConversationMessage,
  type ConversationState,
  type DeliveryOutcome,
  initialConversationState,
} from './conversation-core.ts';
import type { ConversationEvent } from './events.ts';
import { channelKey, groupKey, NotLoadedError, type WindowDraft } from './message-window.ts';
import { ratingStep } from './rating.ts';

/** How many ids a waiting list and the send outcomes keep: older ones were given up long ago. */
const WAITING_LIMIT = 500;
const OUTCOMES_LIMIT = 16;

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

/** What an event changes in the core; `at` is its occurredAt, where known. */
const coreStep = (core: Mutable<ConversationCore>, event: ConversationEvent, at?: string): void => {
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
        // The wait begins with the first message no manager has answered (or since a closing).
        if (core.waitingSince === undefined && at !== undefined) core.waitingSince = at;
      }
      return;
    case 'ClientMessageForwarded':
      core.waitingIncoming = without(core.waitingIncoming, event.data.messageId);
      return;
    case 'ManagerReplied': {
      core.messageCount += 1;
      // A source's answers go out through the webhook queue or are polled: no reactor reads this list
      // for them, and a polling source records no delivery, so it would only fill up
      // (docs/design.md, "The conversation's state").
      if (core.channel !== 'external')
        core.waitingOutgoing = appended(core.waitingOutgoing, event.data.messageId);
      const automatic = event.data.automatic;
      // An automatic reply (welcome, off-hours) is no manager's answer: the client still waits.
      if (automatic === undefined) {
        core.awaitingAnswer = false;
        delete core.waitingSince;
      }
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
      // Closing ends the wait: a client writing again starts a new one (and new reminders).
      delete core.waitingSince;
      return;
    case 'ConversationReopened':
      core.closed = false;
      // A request to rate is for the closing it followed: a reopening ends it.
      if (core.rating?.open) core.rating = { ...core.rating, open: false };
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
    case 'RatingRequested':
    case 'ConversationRated':
    case 'RatingCommented':
      ratingStep(core, event, at);
      return;
    case 'ReminderSent': {
      const { waitingSince, number } = event.data;
      core.reminded = at === undefined ? { waitingSince, number } : { waitingSince, number, at };
      return;
    }
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
      coreStep(c, f.event, f.at);
    const id = messageIdOfEvent(f.event);
    if (id !== undefined && w.applies(id, f.revision)) messageStep(w, f);
  }
  return { ...c, messages: w.done() };
};

/**
 * Folds events onto a core alone, as foldConversation folds the core: for a core caught up with events
 * whose messages it does not hold (they may predate it), which foldConversation would ask to be loaded.
 */
export const foldCore = (
  events: Iterable<Folded>,
  from: ConversationCore,
  options: FoldOptions = {},
): ConversationCore => {
  const c = { ...from } as Mutable<ConversationCore>;
  const coreRevision = options.coreRevision;
  for (const f of events)
    if (coreRevision === undefined || f.revision === undefined || f.revision > coreRevision)
      coreStep(c, f.event, f.at);
  return c;
};

export const evolve = (state: ConversationState, event: ConversationEvent): ConversationState =>
  foldConversation([event], state);
