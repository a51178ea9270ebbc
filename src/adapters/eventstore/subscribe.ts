// Following EventStoreDB's $all: batches in log order, resubscribing after transient errors, and
// giving up — `done` rejects — when the server keeps failing without delivering anything
// (docs/design.md, "The EventStoreDB event log").
//
// subscribeToAll's fromPosition is exclusive; events at or before the last one handled are skipped
// anyway. A server that confirms every subscription and then fails must not be retried forever
// without a word: only an event delivered to the handler resets the count, never a confirmation.
import {
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  excludeSystemEvents,
} from '@eventstore/db-client';
import {
  comparePositions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../../domain/event-log.ts';
import { type EsdbContext, isSystem, noop, toReadPosition, toRecorded } from './read.ts';

export interface SubscribeContext extends EsdbContext {
  /**
   * A busy subscription delivers a partial batch when no further event arrives within this many ms;
   * one that waited at least this long for its first event delivers it with what has already come.
   */
  readonly lingerMs: number;
  /** Failures in a row with no event delivered before `done` rejects, and the backoff between them. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** The subscriptions open, for close(). */
  readonly subscriptions: Set<Subscription>;
}

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
    const end = () => {
      this.#ended = true;
      wake();
    };
    source.on('readable', wake);
    source.on('end', end);
    source.on('close', end);
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

export const subscribeAll = (
  ctx: SubscribeContext,
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

  /** Hands batches to the handler until the subscription ends or fails; `last` follows what it handled. */
  const drain = async (pull: Puller, last: { position: SubscribeOptions['from'] }): Promise<void> => {
    for (;;) {
      const waitedFrom = performance.now();
      const first = await pull.next();
      if (first === END_OF_STREAM || first === TIMED_OUT) return;
      // After a quiet spell the first event goes with what has already come; a busy subscription
      // waits up to lingerMs for each next one, so a burst comes as one batch (docs/design.md).
      const linger = performance.now() - waitedFrom >= ctx.lingerMs ? 0 : ctx.lingerMs;
      const raw = [first];
      while (raw.length < size) {
        const next = await pull.next(linger);
        if (next === END_OF_STREAM || next === TIMED_OUT) break;
        raw.push(next);
      }
      if (stopped) return;
      const batch: RecordedEvent[] = [];
      for (const { event } of raw) {
        if (!event || isSystem(event) || comparePositions(event.position, last.position) <= 0) continue;
        batch.push(toRecorded(event));
      }
      if (batch.length === 0) continue;
      try {
        await handler(batch);
      } catch (error) {
        throw new HandlerFailure(error);
      }
      last.position = batch[batch.length - 1]!.position;
    }
  };

  const run = async (): Promise<void> => {
    const last = { position: from };
    // Subscriptions in a row that ended or failed with no event delivered.
    let failures = 0;
    while (!stopped) {
      const source = ctx.client.subscribeToAll(
        { fromPosition: toReadPosition(last.position), filter: excludeSystemEvents() },
        { highWaterMark: Math.max(16, size) },
      );
      source.on('error', noop); // errors are read through the puller; this keeps a late one from crashing
      const pull = new Puller(source);
      puller = pull;
      current = source;
      let failure: { error: unknown } | undefined;
      const progress = { before: last.position };
      try {
        await drain(pull, last);
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
      failures = last.position === progress.before ? failures + 1 : 1;
      if (failures > ctx.maxAttempts) {
        throw (
          failure?.error ??
          new Error(`EventStoreDB ended the $all subscription ${failures} times in a row with no event`)
        );
      }
      await sleep(Math.min(ctx.initialDelayMs * 2 ** (failures - 1), ctx.maxDelayMs));
    }
  };

  const done = run().finally(() => {
    stopped = true;
    ctx.subscriptions.delete(subscription);
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
  ctx.subscriptions.add(subscription);
  return subscription;
};
