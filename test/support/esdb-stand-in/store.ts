// The stand-in's log, in memory, with the server's rules (docs/design.md, "The EventStoreDB stand-in"):
// one $all sequence of records at growing 64-bit log positions (each record's position is where it
// starts, and the next starts past its bytes), streams as lists of revisions, optimistic concurrency on
// the expected revision, and event-id idempotency the way KurrentDB does it — strong when the writer
// names a revision behind the stream's end, best effort (a cache of recent ids) for `any`.

export type Expected = bigint | 'any' | 'no_stream' | 'stream_exists';

export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

export interface StoredEvent extends ProposedEvent {
  readonly stream: string;
  readonly revision: bigint;
  /** Log position; implicitly committed events read back from $all with commit = prepare = this. */
  readonly position: bigint;
  /** .NET ticks (100 ns) since the Unix epoch, as the server sends "created". */
  readonly created: bigint;
}

export type AppendOutcome =
  | { readonly kind: 'written' | 'idempotent'; readonly revision: bigint; readonly position: bigint }
  | { readonly kind: 'wrong_expected_version'; readonly current: bigint }
  | { readonly kind: 'stream_deleted' };

export interface StoreOptions {
  /** Log position of the first record (tests put it above 2^53). Default 0. */
  readonly firstPosition?: bigint;
  /** How many recently written ids the `any` idempotency check remembers. Default 10000. */
  readonly idCacheSize?: number;
}

/** Bytes a record takes in the stand-in's log: a fixed header plus what the server counts as event size. */
const recordSize = (e: ProposedEvent, stream: string): bigint =>
  BigInt(80 + stream.length * 2 + eventSize(e));

/** What the server counts against the maximum append size: data + metadata + type length × 2. */
export const eventSize = (e: ProposedEvent): number => e.data.length + e.metadata.length + e.type.length * 2;

const ticksNow = (): bigint => BigInt(Date.now()) * 10_000n;

export interface Store {
  readonly all: readonly StoredEvent[];
  streamEvents(stream: string): readonly StoredEvent[] | undefined;
  isDeleted(stream: string): boolean;
  append(stream: string, expected: Expected, events: readonly ProposedEvent[]): AppendOutcome;
  tombstone(stream: string): void;
  /** Last written position, or -1 when the log is empty. */
  lastPosition(): bigint;
  /** Index in `all` of the first record at or after `position`. */
  indexAtOrAfter(position: bigint): number;
  /** Called after every write; returns an unsubscribe function. */
  onWrite(listener: () => void): () => void;
  /** Forgets the `any` id cache, as a restarted server does. */
  forgetRecentIds(): void;
}

export const createStore = (options: StoreOptions = {}): Store => {
  const all: StoredEvent[] = [];
  const streams = new Map<string, StoredEvent[]>();
  const deleted = new Set<string>();
  const cacheSize = options.idCacheSize ?? 10_000;
  const recentIds = new Map<string, StoredEvent>();
  const listeners = new Set<() => void>();
  let nextPosition = options.firstPosition ?? 0n;

  const remember = (e: StoredEvent) => {
    recentIds.delete(e.id);
    recentIds.set(e.id, e);
    if (recentIds.size > cacheSize) recentIds.delete(recentIds.keys().next().value!);
  };

  const write = (stream: string, events: readonly ProposedEvent[]): StoredEvent => {
    const list = streams.get(stream) ?? [];
    streams.set(stream, list);
    const created = ticksNow();
    for (const e of events) {
      const stored: StoredEvent = {
        ...e,
        stream,
        revision: BigInt(list.length),
        position: nextPosition,
        created,
      };
      nextPosition += recordSize(e, stream);
      list.push(stored);
      all.push(stored);
      remember(stored);
    }
    for (const listener of [...listeners]) listener();
    return list[list.length - 1]!;
  };

  /** Weak check (`any`, `stream_exists`): only ids still in the recent-id cache count. */
  const weakIdempotency = (stream: string, events: readonly ProposedEvent[]): AppendOutcome | 'write' => {
    let last: StoredEvent | undefined;
    for (const [i, e] of events.entries()) {
      const known = recentIds.get(e.id);
      if (known && known.stream === stream) {
        last = known;
        continue;
      }
      if (i === 0) return 'write';
      return { kind: 'wrong_expected_version', current: currentOf(stream) };
    }
    return { kind: 'idempotent', revision: last!.revision, position: last!.position };
  };

  /** Strong check: the writer expected an earlier end; its events must sit right after that revision. */
  const strongIdempotency = (
    stream: string,
    expected: bigint,
    events: readonly ProposedEvent[],
  ): AppendOutcome => {
    const list = streams.get(stream) ?? [];
    let match: StoredEvent | undefined;
    for (const [i, e] of events.entries()) {
      match = list[Number(expected) + 1 + i];
      if (!match || match.id !== e.id) return { kind: 'wrong_expected_version', current: currentOf(stream) };
    }
    return { kind: 'idempotent', revision: match!.revision, position: match!.position };
  };

  const currentOf = (stream: string): bigint => BigInt((streams.get(stream)?.length ?? 0) - 1);

  const append = (stream: string, expected: Expected, events: readonly ProposedEvent[]): AppendOutcome => {
    if (deleted.has(stream)) return { kind: 'stream_deleted' };
    const current = currentOf(stream);
    const written = (): AppendOutcome => {
      if (events.length === 0) return { kind: 'written', revision: current, position: nextPosition - 1n };
      const last = write(stream, events);
      return { kind: 'written', revision: last.revision, position: last.position };
    };
    if (expected === 'stream_exists' && current < 0n) return { kind: 'wrong_expected_version', current };
    if (expected === 'any' || expected === 'stream_exists') {
      const weak = weakIdempotency(stream, events);
      return weak === 'write' ? written() : weak;
    }
    const revision = expected === 'no_stream' ? -1n : expected;
    if (revision === current) return written();
    if (revision < current) return strongIdempotency(stream, revision, events);
    return { kind: 'wrong_expected_version', current };
  };

  const indexAtOrAfter = (position: bigint): number => {
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid]!.position < position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  return {
    all,
    streamEvents: (stream) => streams.get(stream),
    isDeleted: (stream) => deleted.has(stream),
    append,
    tombstone(stream) {
      deleted.add(stream);
    },
    lastPosition: () => all.at(-1)?.position ?? -1n,
    indexAtOrAfter,
    onWrite(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    forgetRecentIds: () => recentIds.clear(),
  };
};

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value), 'utf8');

/** The system records a fresh node writes before any user event, so $all is never only user events. */
export const writeStartupRecords = (store: Store): void => {
  const system = (type: string, data: unknown): ProposedEvent => ({
    id: crypto.randomUUID(),
    type,
    contentType: 'application/json',
    data: json(data),
    metadata: new Uint8Array(),
  });
  store.append('$epochs', 'any', [system('$epoch-information', { epochNumber: 0 })]);
  store.append('$$$scavenges', 'any', [system('$metadata', { $maxAge: 2592000 })]);
  store.append('$scavenges', 'any', [system('$scavengeIndexInitialized', {})]);
};
