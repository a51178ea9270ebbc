// The one conversation reader: read + decode + fold, with the cache of the conversations this
// process last worked on and the store's copy of every conversation's state (docs/design.md, "The
// conversation's state"). The command handler, the reactors, the inbound adapters and the API all
// read conversations through it, so a message costs the same in a long conversation as in a new one:
// a state holds the core and the messages a caller asked for, never the whole history.

import {
  type ConversationState,
  initialConversationCore,
  initialConversationState,
} from './conversation-core.ts';
import { type Folded, foldConversation, messageIdOfEvent } from './conversation-fold.ts';
import type { ConversationStore } from './conversation-store.ts';
import type { EventLog, RecordedEvent } from './event-log.ts';
import { type ConversationEvent, conversationStream } from './events.ts';
import { createKnownConversations } from './known-conversations.ts';
import { MessageWindow } from './message-window.ts';

/** What a read hands back: the state at `revision`, with what was asked for loaded. */
export interface ConversationRead {
  readonly state: ConversationState;
  /** Revision of the stream's last event the state includes; -1 for a stream with none. */
  readonly revision: number;
  /** Ids of the latest events, newest last: a command whose events are among them ran before. */
  readonly recent: readonly string[];
  /** From what this process held: other writers' appends since were not looked for. */
  readonly held: boolean;
}

export interface ReadOptions {
  /** Messages the caller will look at. */
  readonly messageIds?: readonly string[];
  /** Ids the caller made up just now (random UUIDs): no message has them, and the store is not asked. */
  readonly newMessageIds?: readonly string[];
  /** References (`groupKey`, `channelKey`) the caller will look up. */
  readonly refs?: readonly string[];
  /** Media groups whose every message the caller will look at (`loaded()` then holds them all). */
  readonly mediaGroups?: readonly string[];
  /** Read the stream's tail first, whatever this process holds. */
  readonly fresh?: boolean;
  /** The state must include this revision at least (a reactor's batch). */
  readonly atLeast?: number;
  /**
   * The caller's command may start the conversation (a client's message): one this process has
   * never seen is presumed new, unread, and the read says `held` (its append's expected revision checks it).
   */
  readonly mayStart?: boolean;
}

/** A folded event a writer of this process appended, with its id. */
export type Appended = Folded & { readonly id: string; readonly revision: number };

export interface ConversationReader {
  read(conversationId: string, options?: ReadOptions): Promise<ConversationRead>;
  /** Told what a writer of this process appended (so the next read need not look for it). */
  appended(conversationId: string, from: ConversationRead, events: readonly Appended[]): ConversationRead;
  /**
   * Told that the store holds a conversation's messages as of `revision` (the projection ran in this
   * process): what the store has is let go of at once, not at the next read.
   */
  stored(conversationId: string, revision: number): void;
  /** Forgets what this process holds of a conversation (tests; a restart without restarting). */
  forget(conversationId?: string): void;
}

export interface ConversationReaderOptions {
  readonly log: EventLog;
  /** The store's copy; without it every state is a fold of the whole stream (tests, tools). */
  readonly store?: ConversationStore;
  /** Turns a recorded event into a domain event; the default trusts the log. */
  readonly decode?: (event: RecordedEvent) => ConversationEvent;
  /** Conversations kept between calls (least recently used dropped). Default CACHED_CONVERSATIONS; 0 turns it off. */
  readonly cacheSize?: number;
  /** Clean messages a held state keeps beyond those changed since the store's copy. Default WINDOW_MESSAGES. */
  readonly windowSize?: number;
}

/** How many event ids a read keeps to know a re-delivered command. */
export const RECENT_EVENTS = 64;

/** Conversations a reader holds by default: 15–32 KiB of heap each (docs/design.md, "The one conversation reader"). */
export const CACHED_CONVERSATIONS = 10_000;

/** Messages the store has that a held state keeps by default, most recently used. */
export const WINDOW_MESSAGES = 8;

interface Entry {
  readonly state: ConversationState;
  readonly revision: number;
  readonly recent: readonly string[];
  /** The store's revision last seen: messages changed after it are not in the store yet. */
  readonly storeRevision: number;
}

const trustLog = (event: RecordedEvent): ConversationEvent =>
  ({ type: event.type, data: event.data }) as ConversationEvent;

const unique = <T>(items: Iterable<T>): T[] => [...new Set(items)];

/** `recent` followed by `ids`, the last RECENT_EVENTS of them. */
export const withRecent = (recent: readonly string[], ids: readonly string[]): readonly string[] => {
  const all = ids.length === 0 ? recent : [...recent, ...ids];
  return all.length > RECENT_EVENTS ? all.slice(all.length - RECENT_EVENTS) : all;
};

export const createConversationReader = (options: ConversationReaderOptions): ConversationReader => {
  const { log, store, decode = trustLog } = options;
  const cacheSize = options.cacheSize ?? CACHED_CONVERSATIONS;
  const windowSize = options.windowSize ?? WINDOW_MESSAGES;
  const cache = new Map<string, Entry>();
  // Every conversation seen to exist, also those the cache has let go of (docs/design.md, "A conversation presumed new").
  const known = createKnownConversations();

  const remember = (id: string, entry: Entry): void => {
    if (entry.revision >= 0) known.add(id);
    if (cacheSize <= 0) return;
    const current = cache.get(id);
    if (current && current.revision > entry.revision) return; // a concurrent call already knows more
    cache.delete(id); // re-inserted last: the Map's order is least recently used first
    cache.set(id, entry);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  };

  const empty = (): ConversationState =>
    store ? { ...initialConversationCore, messages: MessageWindow.empty(false) } : initialConversationState;

  /** Messages and references not in the window, from the store; a row ahead of the state is caught up with. */
  const load = async (
    id: string,
    entry: Entry,
    ids: readonly string[],
    refs: readonly string[],
    groups: readonly string[] = [],
    made: readonly string[] = [],
  ) => {
    if (!store) return { entry, ahead: false };
    const window = entry.state.messages;
    const madeUp = made.filter((m) => !window.knows(m));
    const refRows = refs.length === 0 ? [] : await store.refs(id, refs);
    const found = new Map(refRows);
    const members = (await Promise.all(groups.map((g) => store.mediaGroup(id, g)))).flat();
    const wanted = unique([...ids, ...found.values()]).filter((m) => !window.knows(m) && !made.includes(m));
    const rows = [
      ...(wanted.length === 0 ? [] : await store.messages(id, wanted)),
      ...members.filter((r) => !window.knows(r.message.messageId)),
    ];
    const have = new Set(rows.map((r) => r.message.messageId));
    const messages = window.withLoaded(
      rows,
      [...wanted.filter((m) => !have.has(m)), ...madeUp],
      refs.map((k) => [k, found.get(k) ?? null] as const),
    );
    const ahead = [...rows, ...members].some((r) => r.revision > entry.revision);
    return { entry: { ...entry, state: { ...entry.state, messages } }, ahead };
  };

  /** Folds the stream's tail onto the entry, loading first the messages the tail is about. */
  const catchUp = async (id: string, from: Entry): Promise<Entry> => {
    let entry = from;
    for (;;) {
      const tail = await log.readStream(conversationStream(id), { fromRevision: entry.revision + 1 });
      if (tail.length === 0) return entry;
      const folded = tail.map((r) => ({
        event: decode(r),
        revision: r.revision,
        at: r.metadata.occurredAt,
        id: r.id,
      }));
      const about = unique(
        folded.map((f) => messageIdOfEvent(f.event)).filter((m): m is string => m !== undefined),
      ).filter((m) => !entry.state.messages.knows(m));
      ({ entry } = await load(id, entry, about, []));
      const last = tail[tail.length - 1]!.revision;
      entry = {
        ...entry,
        state: foldConversation(folded, entry.state, { coreRevision: entry.revision }),
        revision: last,
        recent: withRecent(
          entry.recent,
          folded.map((f) => f.id),
        ),
      };
      // A message the store held at a later revision than the tail reached: read on to it.
      let ahead = false;
      for (const [, e] of entry.state.messages.entriesWithRevisions()) if (e.revision > last) ahead = true;
      if (!ahead) return entry;
    }
  };

  const cold = async (id: string): Promise<Entry> => {
    const stored = store ? await store.core(id) : undefined;
    const entry: Entry = stored
      ? {
          state: { ...stored.core, messages: MessageWindow.empty(false) },
          revision: stored.revision,
          recent: stored.recentEventIds,
          storeRevision: stored.revision,
        }
      : { state: empty(), revision: -1, recent: [], storeRevision: -1 };
    return catchUp(id, entry);
  };

  /**
   * Bounds what a held state keeps: the messages changed since the store's copy (it does not have
   * them yet) and the `windowSize` most recently used others; the store answers for the rest.
   */
  const trimmed = (entry: Entry, keep: ReadonlySet<string>): Entry => {
    const window = entry.state.messages;
    if (window.complete) return entry;
    const clean: string[] = [];
    for (const [mid, e] of window.entriesWithRevisions())
      if (e.revision <= entry.storeRevision && !keep.has(mid)) clean.push(mid);
    if (clean.length <= windowSize) return entry;
    const drop = new Set(clean.slice(0, clean.length - windowSize));
    return { ...entry, state: { ...entry.state, messages: window.only((mid) => !drop.has(mid)) } };
  };

  /** The store's revision, asked again when many changes wait to be known stored (so they can be let go). */
  const refreshStoreRevision = async (id: string, entry: Entry): Promise<Entry> => {
    if (!store || entry.state.messages.complete) return entry;
    let dirty = 0;
    for (const [, e] of entry.state.messages.entriesWithRevisions())
      if (e.revision > entry.storeRevision) dirty++;
    if (dirty <= 4 * windowSize) return entry;
    const stored = await store.core(id);
    return stored && stored.revision > entry.storeRevision
      ? { ...entry, storeRevision: stored.revision }
      : entry;
  };

  /** A conversation presumed new: nothing to read, every message asked for known absent. */
  const presumedNew = (o: ReadOptions): ConversationRead => {
    const state = empty();
    const ids = unique([...(o.messageIds ?? []), ...(o.newMessageIds ?? [])]);
    const refs = (o.refs ?? []).map((k) => [k, null] as const);
    const messages = state.messages.complete ? state.messages : state.messages.withLoaded([], ids, refs);
    return { state: { ...state, messages }, revision: -1, recent: [], held: true };
  };

  const read = async (id: string, o: ReadOptions = {}): Promise<ConversationRead> => {
    const cached = cache.get(id);
    if (!cached && o.mayStart && !o.fresh && !known.mayExist(id)) return presumedNew(o);
    let entry: Entry;
    let held = false;
    if (!cached) entry = await cold(id);
    else if (o.fresh || (o.atLeast !== undefined && cached.revision < o.atLeast))
      entry = await catchUp(id, cached);
    else {
      entry = cached;
      held = true;
    }
    for (;;) {
      const loaded = await load(
        id,
        entry,
        o.messageIds ?? [],
        o.refs ?? [],
        o.mediaGroups ?? [],
        o.newMessageIds ?? [],
      );
      entry = loaded.entry;
      if (!loaded.ahead) break;
      entry = await catchUp(id, entry);
      held = false;
    }
    const keep = new Set([...(o.messageIds ?? []), ...(o.newMessageIds ?? [])]);
    for (const key of o.refs ?? []) {
      const target = entry.state.messages.knowsRef(key) ? entry.state.messages.byRef(key) : undefined;
      if (target) keep.add(target.messageId);
    }
    if (o.mediaGroups?.length)
      for (const m of entry.state.messages.loaded())
        if (m.mediaGroupId !== undefined && o.mediaGroups.includes(m.mediaGroupId)) keep.add(m.messageId);
    entry = trimmed(await refreshStoreRevision(id, entry), keep);
    remember(id, entry);
    return { state: entry.state, revision: entry.revision, recent: entry.recent, held };
  };

  const stored = (id: string, revision: number): void => {
    known.add(id);
    const entry = cache.get(id);
    if (!entry || revision <= entry.storeRevision) return;
    cache.set(id, trimmed({ ...entry, storeRevision: revision }, new Set())); // its place in the LRU kept
  };

  const appended = (id: string, from: ConversationRead, events: readonly Appended[]): ConversationRead => {
    if (events.length === 0) return from;
    const revision = events[events.length - 1]!.revision;
    const cached = cache.get(id);
    const entry: Entry = {
      state: foldConversation(events, from.state),
      revision,
      recent: withRecent(
        from.recent,
        events.map((e) => e.id),
      ),
      storeRevision: cached?.storeRevision ?? -1,
    };
    remember(id, entry);
    return { state: entry.state, revision, recent: entry.recent, held: false };
  };

  return {
    read,
    appended,
    stored,
    forget(id) {
      if (id === undefined) {
        cache.clear();
        known.clear();
      } else cache.delete(id);
    },
  };
};
