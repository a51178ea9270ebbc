// Appending to EventStoreDB, and telling a repeated append from a new one (docs/design.md, "The
// EventStoreDB event log").
//
// The server checks event ids only when the expected revision is behind the stream, and then answers
// a repeat exactly as it answers a new append (same revision, a position), so the answer alone cannot
// say "stored already". With an exact expected revision E the adapter first reads what follows E
// (at most one more event than it appends: nothing, in the common case): the same ids there are a
// repeat, other events a conflict, nothing means the append goes ahead. With `any` it scans the
// stream's last `dedupWindow` events for the ids and pins the revision it saw.
import {
  type AppendExpectedRevision,
  type JSONEventData,
  type JSONType,
  MaxAppendSizeExceededError,
  NO_STREAM,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { WrongExpectedRevisionError } from '../../domain/errors.ts';
import type {
  AppendResult,
  EventLog,
  ExpectedRevision,
  LogPosition,
  NewEvent,
} from '../../domain/event-log.ts';
import { startOfLog } from '../../domain/event-log.ts';
import { type EsdbContext, type EsdbEvent, positionOf, readStreamRaw, withTimeout } from './read.ts';

export interface AppendContext extends EsdbContext {
  /** How many of a stream's last events an append with `any` checks for its ids. */
  readonly dedupWindow: number;
  /** The log's last position, for an answer that carries none. */
  readonly headPosition: () => Promise<LogPosition | null>;
}

const toEventData = (e: NewEvent): JSONEventData =>
  ({
    id: e.id,
    contentType: 'application/json',
    type: e.type,
    data: (e.data ?? null) as JSONType,
    metadata: e.metadata as unknown as JSONType,
  }) as JSONEventData;

const describeExpected = (e: ExpectedRevision): string => (typeof e === 'number' ? String(e) : e);

/** How many times an append with `any` re-reads the stream after losing a race. */
const ANY_RACES = 20;

export const createAppend = (ctx: AppendContext): EventLog['append'] => {
  /** Where the event at `revision` of `stream` sits in $all (an answer, or an old server's stream read, may omit it). */
  const positionOfRevision = async (stream: string, revision: number): Promise<LogPosition> => {
    const [event] = await readStreamRaw(ctx, stream, { fromRevision: BigInt(revision), maxCount: 1 });
    return (event && positionOf(event)) ?? (await ctx.headPosition()) ?? startOfLog;
  };

  /** The answer for events found stored already: where the last of them is. */
  const storedAlready = async (stream: string, found: readonly EsdbEvent[]): Promise<AppendResult> => {
    const last = found.reduce((a, b) => (b.revision > a.revision ? b : a));
    const nextRevision = Number(last.revision);
    return {
      nextRevision,
      position: positionOf(last) ?? (await positionOfRevision(stream, nextRevision)),
      alreadyStored: true,
    };
  };

  /** Writes with the server's own check; a refusal is WrongExpectedRevisionError. */
  const write = async (
    stream: string,
    events: readonly NewEvent[],
    expectedRevision: AppendExpectedRevision,
  ): Promise<AppendResult | { conflict: string }> => {
    try {
      // The client's first call asks the server for its features with no deadline; bound the whole append.
      const result = await withTimeout(
        ctx.client.appendToStream(stream, events.map(toEventData), { expectedRevision }),
        ctx.timeoutMs,
      );
      if (result.success) {
        const nextRevision = Number(result.nextExpectedRevision);
        return {
          nextRevision,
          position: result.position
            ? { commit: result.position.commit, prepare: result.position.prepare }
            : await positionOfRevision(stream, nextRevision),
        };
      }
      // throwOnAppendFailure=false in the connection string: the client reports the conflict as a value,
      // with a garbled current revision, so look it up.
      const [head] = await readStreamRaw(ctx, stream, { backwards: true, maxCount: 1 });
      return { conflict: head ? head.revision.toString() : 'no_stream' };
    } catch (error) {
      // The client's BatchAppend path raises this one with an empty message: say what happened.
      if (error instanceof MaxAppendSizeExceededError) {
        throw new Error(
          `EventStoreDB refused the append to ${stream}: over its maximum append size of ${error.maxAppendSize} bytes`,
          { cause: error },
        );
      }
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const actual = error.actualVersion;
      return { conflict: typeof actual === 'bigint' ? actual.toString() : String(actual) };
    }
  };

  /**
   * An exact expected revision E: the events after E decide. None: write (the server refuses it if
   * the stream moved meanwhile). This append's ids, in order: a repeat. Anything else: a conflict.
   */
  const appendAt = async (
    stream: string,
    events: readonly NewEvent[],
    expected: number | 'no_stream',
  ): Promise<AppendResult> => {
    const revision = expected === 'no_stream' || expected < 0 ? -1 : expected;
    // One more than it appends: nothing in the common case, and a conflict can name the stream's end.
    const after = await readStreamRaw(ctx, stream, {
      fromRevision: BigInt(revision + 1),
      maxCount: events.length + 1,
    });
    if (after.length === 0) {
      const outcome = await write(stream, events, revision < 0 ? NO_STREAM : BigInt(revision));
      if (!('conflict' in outcome)) return outcome;
      throw new WrongExpectedRevisionError(stream, describeExpected(expected), outcome.conflict);
    }
    const same = after.slice(0, events.length);
    if (same.length === events.length && same.every((e, i) => e.id === events[i]!.id))
      return storedAlready(stream, same);
    const last = after.at(-1)!.revision;
    const actual = after.length <= events.length ? last.toString() : `${last} or later`;
    throw new WrongExpectedRevisionError(stream, describeExpected(expected), actual);
  };

  /** `any`: the stream's last events are scanned for the ids, and the revision seen is pinned. */
  const appendAny = async (stream: string, events: readonly NewEvent[]): Promise<AppendResult> => {
    const wanted = new Set(events.map((e) => e.id));
    for (let attempt = 0; ; attempt++) {
      const tail = await readStreamRaw(ctx, stream, { backwards: true, maxCount: ctx.dedupWindow });
      const known = tail.filter((e) => wanted.has(e.id));
      if (new Set(known.map((e) => e.id)).size === wanted.size) return storedAlready(stream, known);
      if (known.length > 0)
        throw new WrongExpectedRevisionError(stream, 'any', 'some of these event ids are already stored');
      const current = tail[0] ? tail[0].revision : -1n;
      // Pinning the revision just read: a concurrent append of the same ids cannot slip in twice.
      const outcome = await write(stream, events, current < 0n ? NO_STREAM : current);
      if (!('conflict' in outcome)) return outcome;
      if (attempt >= ANY_RACES) throw new WrongExpectedRevisionError(stream, 'any', outcome.conflict);
    }
  };

  return async (stream, events, expected) => {
    if (events.length === 0) throw new Error('append needs at least one event');
    return expected === 'any' ? appendAny(stream, events) : appendAt(stream, events, expected);
  };
};
