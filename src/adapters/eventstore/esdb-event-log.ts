// The production event log: EventStoreDB / KurrentDB through @eventstore/db-client (docs/design.md,
// "The EventStoreDB event log").
//
// Positions are ESDB's own $all positions (commit, prepare). What ESDB does differently from the port,
// and how this adapter bridges it:
// - readAll's fromPosition is inclusive; the port's is exclusive, so the event at `from` is skipped.
//   subscribeToAll's fromPosition is already exclusive; events at or before it are skipped anyway.
// - ESDB deduplicates event ids only when the expected revision is behind the stream (or, best effort,
//   with ANY). The port promises "an id is stored once", so append looks at the stream's last
//   `dedupWindow` events first (ids are deterministic per conversation stream, so a re-delivery
//   finds its event there) and turns 'any' into the revision it saw, retrying on a race.
// - The client ignores the per-call `deadline` on reads and subscriptions (it forces Infinity) and
//   fetches server features without one, so reads here time out when idle and appends are bounded.
import {
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  type RecordedEvent as EsdbRecordedEvent,
  EventStoreDBClient,
  excludeSystemEvents,
  type JSONEventData,
  type JSONType,
  MaxAppendSizeExceededError,
  NO_STREAM,
  type ReadPosition,
  type ResolvedEvent,
  START,
  type StreamingRead,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { WrongExpectedRevisionError } from '../../domain/errors.ts';
import {
  type AppendResult,
  comparePositions,
  type EventLog,
  type ExpectedRevision,
  type LogPosition,
  type NewEvent,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  startOfLog,
} from '../../domain/event-log.ts';
import type { EventMetadata } from '../../domain/events.ts';

export interface EsdbEventLogOptions {
  /** e.g. `esdb://admin:changeit@localhost:2113?tls=false` (reading $all needs a user allowed to). */
  readonly connectionString: string;
  /** ping() rejects when the server has not answered within this many ms. Default 5000. */
  readonly pingTimeoutMs?: number;
  /**
   * An append, or a read that receives nothing for this long, rejects. Default 10000 (the client's own
   * default deadline, which it applies to appends but not to reads). A timed-out append may still have
   * been written: appending the same events again is safe (ids are deduplicated).
   */
  readonly timeoutMs?: number;
  /** How many of a stream's last events append checks for the ids it is given. Default 100. */
  readonly dedupWindow?: number;
  /** subscribeAll delivers a partial batch when no further event arrives within this many ms. Default 5. */
  readonly batchLingerMs?: number;
  /** Resubscribing after a transient error: consecutive attempts before `done` rejects, and the backoff. */
  readonly reconnect?: {
    readonly maxAttempts?: number;
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
  };
}

/** The fields this adapter reads from the client's recorded events (stream reads and $all reads alike). */
type EsdbEvent = Pick<
  EsdbRecordedEvent,
  'id' | 'streamId' | 'revision' | 'type' | 'data' | 'metadata' | 'created'
> & {
  readonly position?: { commit: bigint; prepare: bigint } | undefined;
};

const isSystem = (e: { type: string; streamId: string }): boolean =>
  e.type.startsWith('$') || e.streamId.startsWith('$');

const isStartOfLog = (p: LogPosition): boolean => p.commit < 0n || p.prepare < 0n;

const toReadPosition = (p: LogPosition): ReadPosition =>
  isStartOfLog(p) ? START : { commit: p.commit, prepare: p.prepare };

const toRecorded = (e: EsdbEvent): RecordedEvent => ({
  id: e.id,
  stream: e.streamId,
  revision: Number(e.revision),
  // Stream reads carry the position only on servers 22.6 and later; $all reads always do.
  position: e.position ? { commit: e.position.commit, prepare: e.position.prepare } : startOfLog,
  type: e.type,
  data: e.data,
  metadata: e.metadata as unknown as EventMetadata,
  recordedAt: e.created,
});

const toEventData = (e: NewEvent): JSONEventData =>
  ({
    id: e.id,
    contentType: 'application/json',
    type: e.type,
    data: (e.data ?? null) as JSONType,
    metadata: e.metadata as unknown as JSONType,
  }) as JSONEventData;

const describeExpected = (e: ExpectedRevision): string => (typeof e === 'number' ? String(e) : e);

const describeActual = (a: bigint | string): string => (typeof a === 'bigint' ? a.toString() : a);

const toAppendExpected = (e: ExpectedRevision): AppendExpectedRevision =>
  e === 'any' ? 'any' : e === 'no_stream' || e < 0 ? NO_STREAM : BigInt(e);

/** gRPC status codes worth resubscribing after: CANCELLED, DEADLINE_EXCEEDED, ABORTED, INTERNAL, UNAVAILABLE. */
const transientCodes = new Set([1, 4, 10, 13, 14]);
const transientTypes = new Set(['unavailable', 'cancelled', 'deadline-exceeded', 'timeout', 'not-leader']);

const isTransient = (error: unknown): boolean => {
  if (typeof error !== 'object' || error === null) return false;
  const { code, type } = error as { code?: unknown; type?: unknown };
  return (
    (typeof type === 'string' && transientTypes.has(type)) ||
    (typeof code === 'number' && transientCodes.has(code))
  );
};

const noop = () => undefined;

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`EventStoreDB did not answer within ${ms} ms`)), ms);
  });
  promise.catch(noop); // if the timer wins, a late failure is not news
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
};

/** Marks an error thrown by the subscriber's handler, which is never retried. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

const END_OF_STREAM = Symbol('end');
const TIMED_OUT = Symbol('timeout');

/**
 * Pulls events off a subscription one at a time without waiting forever: the subscription stays in
 * paused mode, so whatever is not read here backs up into the client's buffer and then into gRPC
 * flow control (that is the backpressure while a batch is being handled).
 */
class Puller {
  #ended = false;
  #closed = false;
  #error: { error: unknown } | undefined;
  #wake: (() => void) | undefined;

  constructor(private readonly source: AllStreamSubscription) {
    const wake = () => this.#wake?.();
    source.on('readable', wake);
    source.on('end', () => {
      this.#ended = true;
      wake();
    });
    source.on('close', () => {
      this.#ended = true;
      wake();
    });
    source.on('error', (error: unknown) => {
      this.#error ??= { error };
      wake();
    });
  }

  /** The next event; TIMED_OUT when none came within `timeoutMs`; END_OF_STREAM once closed or ended. */
  async next(timeoutMs?: number): Promise<AllStreamResolvedEvent | typeof END_OF_STREAM | typeof TIMED_OUT> {
    for (;;) {
      if (this.#closed) return END_OF_STREAM;
      if (this.#error) throw this.#error.error;
      const item = this.source.read() as AllStreamResolvedEvent | null;
      if (item !== null) return item;
      if (this.#ended) return END_OF_STREAM;
      const woken = await new Promise<boolean>((resolve) => {
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(false), timeoutMs);
        const finish = (value: boolean) => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve(value);
        };
        this.#wake = () => finish(true);
      });
      if (!woken) return TIMED_OUT;
    }
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
}

export const createEsdbEventLog = (options: EsdbEventLogOptions): EventLog => {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const pingTimeoutMs = options.pingTimeoutMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dedupWindow = Math.max(1, options.dedupWindow ?? 100);
  const lingerMs = options.batchLingerMs ?? 5;
  const maxAttempts = options.reconnect?.maxAttempts ?? 30;
  const initialDelayMs = options.reconnect?.initialDelayMs ?? 200;
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 5000;
  const subscriptions = new Set<Subscription>();

  /**
   * Drains a read. The client gives reads no deadline at all (it overrides the `deadline` option with
   * Infinity), so a server that accepts the connection and then says nothing would hang the caller:
   * the read is cancelled when no message arrives for `idleMs`.
   */
  const collect = (read: StreamingRead<ResolvedEvent | AllStreamResolvedEvent>, idleMs = timeoutMs) =>
    new Promise<EsdbEvent[]>((resolve, reject) => {
      const out: EsdbEvent[] = [];
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve(out);
        else reject(error);
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          read.cancel().catch(noop);
          settle(new Error(`EventStoreDB did not answer within ${idleMs} ms`));
        }, idleMs);
      };
      arm();
      read.on('data', (resolved: ResolvedEvent | AllStreamResolvedEvent) => {
        if (resolved.event) out.push(resolved.event);
        arm();
      });
      read.on('end', () => settle());
      read.on('error', (error: unknown) => settle(error ?? new Error('EventStoreDB read failed')));
      read.on('close', () => settle(new Error('EventStoreDB read closed before it ended')));
    });

  /** A stream's events, or [] when it does not exist. */
  const readStreamRaw = async (
    stream: string,
    opts: { fromRevision?: bigint | typeof END; maxCount: number; backwards?: boolean },
  ): Promise<EsdbEvent[]> => {
    try {
      return await collect(
        client.readStream(stream, {
          fromRevision: opts.fromRevision ?? (opts.backwards ? END : START),
          maxCount: opts.maxCount,
          ...(opts.backwards ? { direction: BACKWARDS } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  };

  /** Where the event at `revision` of `stream` sits in $all (ESDB omits the position of an idempotent append). */
  const positionOfRevision = async (stream: string, revision: number): Promise<LogPosition> => {
    const [event] = await readStreamRaw(stream, { fromRevision: BigInt(revision), maxCount: 1 });
    if (event?.position) return { commit: event.position.commit, prepare: event.position.prepare };
    return (await headPosition()) ?? startOfLog;
  };

  const append = async (
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> => {
    if (events.length === 0) throw new Error('append needs at least one event');
    const wanted = new Set(events.map((e) => e.id));
    const data = events.map(toEventData);
    for (let attempt = 0; ; attempt++) {
      const tail = await readStreamRaw(stream, { backwards: true, maxCount: dedupWindow });
      const known = tail.filter((e) => wanted.has(e.id));
      if (new Set(known.map((e) => e.id)).size === wanted.size) {
        // Every id is stored already: a re-delivery. Answer where it was stored, and say so.
        const last = known.reduce((a, b) => (b.revision > a.revision ? b : a));
        const revision = Number(last.revision);
        return {
          nextRevision: revision,
          position: last.position
            ? { commit: last.position.commit, prepare: last.position.prepare }
            : await positionOfRevision(stream, revision),
          alreadyStored: true,
        };
      }
      if (known.length > 0) {
        throw new WrongExpectedRevisionError(
          stream,
          describeExpected(expected),
          'some of these event ids are already stored',
        );
      }
      const current = tail[0] ? tail[0].revision : -1n;
      // 'any' pins the revision just read, so a concurrent append of the same ids cannot slip in twice.
      const expectedRevision: AppendExpectedRevision =
        expected === 'any' ? (current < 0n ? NO_STREAM : current) : toAppendExpected(expected);
      let conflict: string;
      try {
        // The client's first call asks the server for its features with no deadline; bound the whole append.
        const result = await withTimeout(
          client.appendToStream(stream, data, { expectedRevision }),
          timeoutMs,
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
        // throwOnAppendFailure=false in the connection string: the client reports the conflict as a value
        // (and its batch-append path garbles the current revision), so look it up.
        const [head] = await readStreamRaw(stream, { backwards: true, maxCount: 1 });
        conflict = head ? head.revision.toString() : 'no_stream';
      } catch (error) {
        // The client's BatchAppend path raises this one with an empty message: say what happened.
        if (error instanceof MaxAppendSizeExceededError) {
          throw new Error(
            `EventStoreDB refused the append to ${stream}: over its maximum append size of ${error.maxAppendSize} bytes`,
            { cause: error },
          );
        }
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        conflict = describeActual(error.actualVersion);
      }
      if (expected === 'any' && attempt < 20) continue;
      throw new WrongExpectedRevisionError(stream, describeExpected(expected), conflict);
    }
  };

  const readStream: EventLog['readStream'] = async (stream, opts = {}) => {
    const maxCount = opts.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (maxCount <= 0) return [];
    const fromRevision = BigInt(Math.max(0, Math.floor(opts.fromRevision ?? 0)));
    return (await readStreamRaw(stream, { fromRevision, maxCount })).map(toRecorded);
  };

  const readAll: EventLog['readAll'] = async (from, maxCount) => {
    const out: RecordedEvent[] = [];
    if (maxCount <= 0) return out;
    let cursor = from;
    for (;;) {
      // +1: ESDB's fromPosition is inclusive and the event at the cursor is not wanted.
      const pageSize = Math.min(Math.max(maxCount - out.length + 1, 64), 4096);
      const page = (await collect(
        client.readAll({ fromPosition: toReadPosition(cursor), maxCount: pageSize }),
      )) as AllStreamRecordedEvent[];
      for (const e of page) {
        if (comparePositions(e.position, cursor) <= 0 || isSystem(e)) continue;
        out.push(toRecorded(e));
        if (out.length >= maxCount) return out;
      }
      const last = page.at(-1);
      if (page.length < pageSize || !last) return out;
      cursor = last.position;
    }
  };

  const headPosition = async (): Promise<LogPosition | null> => {
    const pageSize = 64;
    let cursor: LogPosition | undefined;
    for (;;) {
      const page = (await collect(
        client.readAll({ direction: BACKWARDS, fromPosition: cursor ?? END, maxCount: pageSize }),
      )) as AllStreamRecordedEvent[];
      for (const e of page) {
        if (cursor && comparePositions(e.position, cursor) >= 0) continue;
        if (!isSystem(e)) return { commit: e.position.commit, prepare: e.position.prepare };
      }
      const last = page.at(-1);
      if (page.length < pageSize || !last) return null;
      cursor = last.position;
    }
  };

  const subscribeAll = (
    { from, batchSize = 500 }: SubscribeOptions,
    handler: (batch: readonly RecordedEvent[]) => Promise<void>,
  ): Subscription => {
    const size = Math.max(1, Math.floor(batchSize));
    let stopped = false;
    let puller: Puller | undefined;
    let current: AllStreamSubscription | undefined;
    let cancelSleep: (() => void) | undefined;

    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => finish(), ms);
        const finish = () => {
          clearTimeout(timer);
          cancelSleep = undefined;
          resolve();
        };
        cancelSleep = finish;
      });

    const run = async (): Promise<void> => {
      let last = from;
      let failures = 0;
      while (!stopped) {
        const source = client.subscribeToAll(
          { fromPosition: toReadPosition(last), filter: excludeSystemEvents() },
          { highWaterMark: Math.max(16, size) },
        );
        source.on('error', noop); // errors are read through the puller; this keeps a late one from crashing
        source.once('confirmation', () => {
          failures = 0;
        });
        const pull = new Puller(source);
        puller = pull;
        current = source;
        let failure: { error: unknown } | undefined;
        try {
          for (;;) {
            const first = await pull.next();
            if (first === END_OF_STREAM || first === TIMED_OUT) break;
            const raw = [first];
            while (raw.length < size) {
              const next = await pull.next(lingerMs);
              if (next === END_OF_STREAM || next === TIMED_OUT) break;
              raw.push(next);
            }
            if (stopped) break;
            const batch: RecordedEvent[] = [];
            for (const { event } of raw) {
              if (!event || isSystem(event) || comparePositions(event.position, last) <= 0) continue;
              batch.push(toRecorded(event));
            }
            if (batch.length === 0) continue;
            try {
              await handler(batch);
            } catch (error) {
              throw new HandlerFailure(error);
            }
            last = batch[batch.length - 1]!.position;
            failures = 0;
          }
        } catch (error) {
          if (error instanceof HandlerFailure) throw error.error;
          failure = { error };
        } finally {
          pull.close();
          puller = undefined;
          current = undefined;
          await source.unsubscribe().catch(noop);
        }
        if (stopped) return;
        if (failure && !isTransient(failure.error)) throw failure.error;
        failures++;
        if (failures > maxAttempts) {
          throw (
            failure?.error ?? new Error(`EventStoreDB ended the $all subscription ${failures} times in a row`)
          );
        }
        await sleep(Math.min(initialDelayMs * 2 ** (failures - 1), maxDelayMs));
      }
    };

    const done = run().finally(() => {
      stopped = true;
      subscriptions.delete(subscription);
    });
    let stopping: Promise<void> | undefined;
    const subscription: Subscription = {
      done,
      stop() {
        stopping ??= (async () => {
          stopped = true;
          puller?.close();
          cancelSleep?.();
          await current?.unsubscribe().catch(noop);
          await done.catch(noop);
        })();
        return stopping;
      },
    };
    subscriptions.add(subscription);
    return subscription;
  };

  const ping = async (): Promise<void> => {
    await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }), pingTimeoutMs);
  };

  return {
    append,
    readStream,
    readAll,
    subscribeAll,
    headPosition,
    ping,
    async close() {
      await Promise.all([...subscriptions].map((s) => s.stop()));
      await client.dispose();
    },
  };
};
