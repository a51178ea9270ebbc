// The production event log: EventStoreDB / KurrentDB through @eventstore/db-client (docs/design.md,
// "The EventStoreDB event log"). This file wires the parts: connection.ts (the client), read.ts
// (reads and what the parts share), append.ts (appends and "stored already"), subscribe.ts ($all).
//
// Positions are ESDB's own $all positions (commit, prepare). readAll's fromPosition is inclusive and
// the port's is exclusive, so the event at `from` is skipped.
import { type AllStreamRecordedEvent, BACKWARDS, END } from '@eventstore/db-client';
import {
  APPEND_DEDUP_WINDOW,
  comparePositions,
  type EventLog,
  type LogPosition,
  type RecordedEvent,
  type Subscription,
} from '../../domain/event-log.ts';
import { createAppend } from './append.ts';
import { createEsdbClient, type EsdbConnectionSettings } from './connection.ts';
import { collect, type EsdbContext, isSystem, readStreamRaw, toReadPosition, toRecorded } from './read.ts';
import { subscribeAll } from './subscribe.ts';

export interface EsdbEventLogOptions extends EsdbConnectionSettings {
  /** ping() rejects when the server has not answered within this many ms. Default 5000. */
  readonly pingTimeoutMs?: number;
  /**
   * An append, or a read that receives nothing for this long, rejects. Default 10000 (the client's own
   * default deadline, which it applies to appends but not to reads). A timed-out append may still have
   * been written: appending the same events with the same expected revision again is safe.
   */
  readonly timeoutMs?: number;
  /** How many of a stream's last events an append with `any` checks for its ids. Default (and at least) APPEND_DEDUP_WINDOW. */
  readonly dedupWindow?: number;
  /** A busy subscription delivers a partial batch when no further event arrives within this many ms (one after a quiet spell does not wait). Default 5. */
  readonly batchLingerMs?: number;
  /** Resubscribing after a transient error: failures in a row with no event delivered before `done` rejects, and the backoff. */
  readonly reconnect?: {
    readonly maxAttempts?: number;
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
  };
}

export const createEsdbEventLog = (options: EsdbEventLogOptions): EventLog => {
  const ctx: EsdbContext = {
    client: createEsdbClient(options),
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const { client } = ctx;
  const pingTimeoutMs = options.pingTimeoutMs ?? 5000;
  const subscriptions = new Set<Subscription>();

  const readStream: EventLog['readStream'] = async (stream, opts = {}) => {
    const maxCount = opts.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (maxCount <= 0) return [];
    const fromRevision = BigInt(Math.max(0, Math.floor(opts.fromRevision ?? 0)));
    return (await readStreamRaw(ctx, stream, { fromRevision, maxCount })).map(toRecorded);
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
        ctx.timeoutMs,
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
        ctx.timeoutMs,
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

  const append = createAppend({
    ...ctx,
    dedupWindow: Math.max(APPEND_DEDUP_WINDOW, options.dedupWindow ?? APPEND_DEDUP_WINDOW),
    headPosition,
  });

  const subscribeContext = {
    ...ctx,
    lingerMs: options.batchLingerMs ?? 5,
    maxAttempts: options.reconnect?.maxAttempts ?? 30,
    initialDelayMs: options.reconnect?.initialDelayMs ?? 200,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 5000,
    subscriptions,
  };

  const ping = async (): Promise<void> => {
    await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }), pingTimeoutMs);
  };

  return {
    append,
    readStream,
    readAll,
    subscribeAll: (opts, handler) => subscribeAll(subscribeContext, opts, handler),
    headPosition,
    ping,
    async close() {
      await Promise.all([...subscriptions].map((s) => s.stop()));
      await client.dispose();
    },
  };
};

/**
 * Waits until the log answers a read, pinging every `intervalMs` until `timeoutMs` has passed (then
 * the last error is thrown). A KurrentDB node answers HTTP health checks before it serves reads.
 */
export const waitUntilServing = async (
  log: Pick<EventLog, 'ping'>,
  options: {
    readonly timeoutMs: number;
    readonly intervalMs?: number;
    readonly onRetry?: (attempt: number, error: unknown) => void;
  },
): Promise<void> => {
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await log.ping();
      return;
    } catch (error) {
      if (Date.now() + (options.intervalMs ?? 1000) > deadline) throw error;
      options.onRetry?.(attempt, error);
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 1000));
    }
  }
};
