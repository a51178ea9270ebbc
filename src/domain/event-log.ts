// The event-log port: owned by the domain, implemented by the PostgreSQL and EventStoreDB adapters.
import type { EventIdConflictError, WrongExpectedRevisionError } from './errors.ts';
import type { EventMetadata } from './events.ts';

/**
 * A global position in the log. Ordered by (commit, prepare), as EventStoreDB orders its $all stream.
 * PostgreSQL adapter: commit = the appending transaction's id (xid8), prepare = the row's sequence number.
 */
export interface LogPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

export const startOfLog: LogPosition = { commit: -1n, prepare: -1n };

export const comparePositions = (a: LogPosition, b: LogPosition): number =>
  a.commit === b.commit ? Number(a.prepare - b.prepare) : a.commit < b.commit ? -1 : 1;

export const formatPosition = (p: LogPosition): string => `${p.commit}/${p.prepare}`;

export const parsePosition = (s: string): LogPosition => {
  const m = /^(-?\d+)\/(-?\d+)$/.exec(s);
  if (!m) throw new Error(`not a log position: ${s}`);
  return { commit: BigInt(m[1]!), prepare: BigInt(m[2]!) };
};

/** An event to append. `id` is a UUID; a deterministic one makes a re-delivered update append nothing. */
export interface NewEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent {
  readonly id: string;
  readonly stream: string;
  /** 0-based revision of the event inside its stream. */
  readonly revision: number;
  readonly position: LogPosition;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
}

/** `no_stream`: the stream must not exist; `any`: no check; a number: the revision of the stream's last event. */
export type ExpectedRevision = 'any' | 'no_stream' | number;

/**
 * How far back every log finds an append's ids: an append repeated with `any` is "stored already" when
 * its events are among the stream's last APPEND_DEDUP_WINDOW events.
 */
export const APPEND_DEDUP_WINDOW = 100;

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  readonly nextRevision: number;
  readonly position: LogPosition;
  /**
   * True when every event was in this same stream already (an append repeated), so this call wrote
   * nothing: nextRevision and position are where they were stored then, not the stream's end now.
   * What every log finds (docs/design.md, "The EventStoreDB event log"):
   * - with an exact expected revision E, the same events, in order, right after E: the append
   *   repeated with the revision it was first made with, however far the stream has moved on;
   * - with `any`, the events among the stream's last APPEND_DEDUP_WINDOW events.
   * An id the caller could have seen, at or before E, is the caller's to notice: the PostgreSQL log
   * finds it anywhere in the stream, EventStoreDB writes it again. Ids stored in another stream are
   * never "stored already": the PostgreSQL log refuses them with EventIdConflictError (a log whose
   * ids are per stream, like EventStoreDB, simply writes them).
   */
  readonly alreadyStored?: boolean;
}

/** A request's answer in EventLog.appendMany: its result, or the error its own append would throw. */
export type AppendAnswer = AppendResult | WrongExpectedRevisionError | EventIdConflictError;

/** One stream's append among several sent together (EventLog.appendMany). */
export interface AppendRequest {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
}

export interface Subscription {
  /** Resolves once the subscription has stopped delivering; a batch in flight finishes first. */
  stop(): Promise<void>;
  /** Rejects if the handler throws or the log fails for good; resolves after stop(). */
  readonly done: Promise<void>;
}

export interface SubscribeOptions {
  readonly from: LogPosition;
  readonly batchSize?: number;
}

export interface EventLog {
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /**
   * Optional: several streams' appends in one transaction. Each answer is what an append of its own
   * would give that request: its result, or the refusal it would throw (nothing of it written). A
   * group that fails (throws) writes nothing; the caller then appends each request alone.
   */
  appendMany?(requests: readonly AppendRequest[]): Promise<readonly AppendAnswer[]>;
  /** Events of one stream in revision order, from `fromRevision`; [] for a stream that does not exist. */
  readStream(
    stream: string,
    options?: { fromRevision?: number; maxCount?: number },
  ): Promise<RecordedEvent[]>;
  /** Events after `from` (exclusive) in log order, at most `maxCount`. */
  readAll(from: LogPosition, maxCount: number): Promise<RecordedEvent[]>;
  /** Catch up from `from`, then stay live; the handler gets batches in log order, each event once. */
  subscribeAll(
    options: SubscribeOptions,
    handler: (batch: readonly RecordedEvent[]) => Promise<void>,
  ): Subscription;
  /** Position of the last event a reader can see now (null for an empty log). */
  headPosition(): Promise<LogPosition | null>;
  /**
   * Whether events after `after` are committed but not readable yet (the PostgreSQL log holds back
   * what an older, still open transaction may precede). A log whose readers see every committed
   * event at once need not have it.
   */
  hasHidden?(after: LogPosition): Promise<boolean>;
  /** Whether the log answers (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
