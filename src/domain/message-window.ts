// The message window of a conversation's state: the messages a caller loaded plus the ones a fold
// changed, keyed also by their topic and client-chat messages. Asking for one it was not given throws
// NotLoadedError (docs/design.md, "The conversation's state").
import type { ConversationMessage } from './conversation-core.ts';

/** Ids known absent a trimmed window keeps (a command's own new id among them). */
const ABSENT_KEPT = 64;

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

/** A window being changed by a fold (conversation-fold.ts): its maps are copied on the first write only. */
export class WindowDraft {
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
