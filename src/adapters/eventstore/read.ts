// Reading EventStoreDB: what the adapter's parts share — the client and its deadline, events mapped
// to the port's, and reads drained with an idle timeout (docs/design.md, "The EventStoreDB event log").
//
// The client gives reads and subscriptions no deadline at all (it overrides the `deadline` option
// with Infinity) and fetches server features without one, so a server that accepts the connection
// and then says nothing would hang the caller: reads here time out when idle, appends are bounded.
import {
  type AllStreamResolvedEvent,
  BACKWARDS,
  END,
  type RecordedEvent as EsdbRecordedEvent,
  type EventStoreDBClient,
  type ReadPosition,
  type ResolvedEvent,
  START,
  type StreamingRead,
  StreamNotFoundError,
} from '@eventstore/db-client';
import { type LogPosition, type RecordedEvent, startOfLog } from '../../domain/event-log.ts';
import type { EventMetadata } from '../../domain/events.ts';

/** What the adapter's parts share. */
export interface EsdbContext {
  readonly client: EventStoreDBClient;
  /** An append, or a read that receives nothing for this long, rejects. */
  readonly timeoutMs: number;
}

/** The fields this adapter reads from the client's recorded events (stream reads and $all reads alike). */
export type EsdbEvent = Pick<
  EsdbRecordedEvent,
  'id' | 'streamId' | 'revision' | 'type' | 'data' | 'metadata' | 'created'
> & {
  readonly position?: { commit: bigint; prepare: bigint } | undefined;
};

export const noop = () => undefined;

export const isSystem = (e: { type: string; streamId: string }): boolean =>
  e.type.startsWith('$') || e.streamId.startsWith('$');

const isStartOfLog = (p: LogPosition): boolean => p.commit < 0n || p.prepare < 0n;

export const toReadPosition = (p: LogPosition): ReadPosition =>
  isStartOfLog(p) ? START : { commit: p.commit, prepare: p.prepare };

export const positionOf = (e: EsdbEvent): LogPosition | undefined =>
  e.position ? { commit: e.position.commit, prepare: e.position.prepare } : undefined;

export const toRecorded = (e: EsdbEvent): RecordedEvent => ({
  id: e.id,
  stream: e.streamId,
  revision: Number(e.revision),
  // Stream reads carry the position only on servers 22.6 and later; $all reads always do.
  position: positionOf(e) ?? startOfLog,
  type: e.type,
  data: e.data,
  metadata: e.metadata as unknown as EventMetadata,
  recordedAt: e.created,
});

export const timeoutError = (ms: number) => new Error(`EventStoreDB did not answer within ${ms} ms`);

export const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(ms)), ms);
  });
  promise.catch(noop); // if the timer wins, a late failure is not news
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
};

/** Drains a read; it is cancelled when no message arrives for `idleMs`. */
export const collect = (
  read: StreamingRead<ResolvedEvent | AllStreamResolvedEvent>,
  idleMs: number,
): Promise<EsdbEvent[]> =>
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
        settle(timeoutError(idleMs));
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
export const readStreamRaw = async (
  ctx: EsdbContext,
  stream: string,
  opts: { fromRevision?: bigint | typeof END; maxCount: number; backwards?: boolean },
): Promise<EsdbEvent[]> => {
  try {
    return await collect(
      ctx.client.readStream(stream, {
        fromRevision: opts.fromRevision ?? (opts.backwards ? END : START),
        maxCount: opts.maxCount,
        ...(opts.backwards ? { direction: BACKWARDS } : {}),
      }),
      ctx.timeoutMs,
    );
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
};
