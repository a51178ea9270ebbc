// Streams.Read of the stand-in: stream reads, $all reads and $all subscriptions, answered message by
// message as KurrentDB does (docs/design.md, "The EventStoreDB stand-in"). A missing stream is a
// StreamNotFound message, not an error; $all reads forwards include the event at the start position
// and backwards exclude it; a subscription is confirmed first, catches up, sends a checkpoint and
// CaughtUp, then goes live; a filtered one sends checkpoints as it considers events.
import { randomUUID } from 'node:crypto';
import { Metadata, type ServerWritableStream, status } from '@grpc/grpc-js';
import { type ReadReq, type ReadResp, streamIdentifier, streamNameOf, streamsPb, uuidFor } from './proto.ts';
import type { Store, StoredEvent } from './store.ts';

type ReadCall = ServerWritableStream<ReadReq, ReadResp>;
type ReadOptions = NonNullable<ReturnType<ReadReq['getOptions']>>;
type Filter = (e: StoredEvent) => boolean;

const BACKWARDS = 1;
/** The server's page size; a filter's checkpoint interval is this (or the max window) × the multiplier. */
const DEFAULT_WINDOW = 32;

export interface ReadContext {
  readonly store: Store;
  /** Calls still open, so a restart can end them. */
  readonly open: Set<{ cancelled: boolean }>;
}

const toReadEvent = (e: StoredEvent, structuredIds: boolean): ReadResp => {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent()
    .setId(uuidFor(e.id, structuredIds))
    .setStreamIdentifier(streamIdentifier(e.stream))
    .setStreamRevision(e.revision.toString())
    .setCommitPosition(e.position.toString())
    .setPreparePosition(e.position.toString())
    .setData(e.data)
    .setCustomMetadata(e.metadata);
  const meta = recorded.getMetadataMap();
  meta.set('type', e.type);
  meta.set('content-type', e.contentType);
  meta.set('created', e.created.toString());
  const readEvent = new streamsPb.ReadResp.ReadEvent().setEvent(recorded);
  readEvent.setCommitPosition(e.position.toString());
  return new streamsPb.ReadResp().setEvent(readEvent);
};

/** Writes one message, waiting for the client to take what is buffered (gRPC flow control). */
const send = async (call: ReadCall, message: ReadResp): Promise<void> => {
  if (call.cancelled || call.destroyed) throw new Error('call gone');
  if (call.write(message)) return;
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      call.off('drain', done);
      call.off('close', gone);
      resolve();
    };
    const gone = () => {
      call.off('drain', done);
      reject(new Error('call gone'));
    };
    call.once('drain', done);
    call.once('close', gone);
  });
};

const fail = (call: ReadCall, code: status, details: string, meta: Record<string, string> = {}) => {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(meta)) metadata.set(k, v);
  call.destroy(Object.assign(new Error(details), { code, details, metadata }));
};

const countOf = (options: ReadOptions): number => {
  const count = BigInt(options.getCount() || '0');
  return count > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(count);
};

const filterOf = (
  options: ReadOptions,
): { match: Filter; window: number; multiplier: number } | undefined => {
  if (!options.hasFilter()) return undefined;
  const f = options.getFilter()!;
  const onType = f.hasEventType();
  const expr = onType ? f.getEventType()! : f.getStreamIdentifier()!;
  const regex = expr.getRegex() ? new RegExp(expr.getRegex()) : undefined;
  const prefixes = expr.getPrefixList();
  const match: Filter = (e) => {
    const subject = onType ? e.type : e.stream;
    return regex ? regex.test(subject) : prefixes.some((p) => subject.startsWith(p));
  };
  return {
    match,
    window: f.hasMax() ? f.getMax() : DEFAULT_WINDOW,
    multiplier: f.getCheckpointintervalmultiplier() || 1,
  };
};

const readStream = async (ctx: ReadContext, call: ReadCall, structured: boolean) => {
  const options = call.request.getOptions()!;
  const so = options.getStream()!;
  const name = streamNameOf(so.getStreamIdentifier());
  if (ctx.store.isDeleted(name)) {
    fail(call, status.FAILED_PRECONDITION, `Event stream '${name}' is deleted.`, {
      exception: 'stream-deleted',
      'stream-name': name,
    });
    return;
  }
  const events = ctx.store.streamEvents(name);
  if (!events || events.length === 0) {
    const notFound = new streamsPb.ReadResp.StreamNotFound().setStreamIdentifier(streamIdentifier(name));
    await send(call, new streamsPb.ReadResp().setStreamNotFound(notFound));
    call.end();
    return;
  }
  const backwards = options.getReadDirection() === BACKWARDS;
  const last = events.length - 1;
  const from = so.hasRevision()
    ? Number(BigInt(so.getRevision()))
    : so.hasEnd()
      ? backwards
        ? last
        : last + 1
      : backwards
        ? -1
        : 0;
  let left = countOf(options);
  for (let i = Math.min(from, last); backwards ? i >= 0 : i <= last; backwards ? i-- : i++) {
    if (left-- <= 0) break;
    if (i < 0) break;
    await send(call, toReadEvent(events[i]!, structured));
  }
  call.end();
};

const positionOf = (all: NonNullable<ReturnType<ReadOptions['getAll']>>) => {
  if (all.hasPosition()) return BigInt(all.getPosition()!.getCommitPosition());
  return all.hasEnd() ? 'end' : 'start';
};

const readAll = async (ctx: ReadContext, call: ReadCall, structured: boolean) => {
  const options = call.request.getOptions()!;
  const filter = filterOf(options);
  const from = positionOf(options.getAll()!);
  const backwards = options.getReadDirection() === BACKWARDS;
  const all = ctx.store.all;
  let left = countOf(options);
  if (backwards) {
    let i = from === 'end' ? all.length - 1 : from === 'start' ? -1 : ctx.store.indexAtOrAfter(from) - 1;
    for (; i >= 0 && left > 0; i--) {
      if (filter && !filter.match(all[i]!)) continue;
      left--;
      await send(call, toReadEvent(all[i]!, structured));
    }
  } else {
    let i = from === 'end' ? all.length : from === 'start' ? 0 : ctx.store.indexAtOrAfter(from);
    for (; i < all.length && left > 0; i++) {
      if (filter && !filter.match(all[i]!)) continue;
      left--;
      await send(call, toReadEvent(all[i]!, structured));
    }
  }
  call.end();
};

const checkpoint = (position: bigint): ReadResp =>
  new streamsPb.ReadResp().setCheckpoint(
    new streamsPb.ReadResp.Checkpoint()
      .setCommitPosition(position.toString())
      .setPreparePosition(position.toString()),
  );

const caughtUp = (): ReadResp => {
  // The 6.2 client's CaughtUp has no fields; newer servers add a timestamp and position, which it skips.
  return new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp());
};

/**
 * $all subscription: events strictly after the start position, through catch-up and then live, in one
 * walk over the log (writes only ever append to it). `waitForWrite` parks the walk at the end of the log.
 */
const subscribeAll = async (ctx: ReadContext, call: ReadCall, structured: boolean) => {
  const options = call.request.getOptions()!;
  const filter = filterOf(options);
  const interval = filter ? filter.window * filter.multiplier : 0;
  const all = ctx.store.all;
  const from = positionOf(options.getAll()!);
  let i = from === 'start' ? 0 : from === 'end' ? all.length : ctx.store.indexAtOrAfter(from + 1n);
  let wake: (() => void) | undefined;
  const unsubscribe = ctx.store.onWrite(() => wake?.());
  const closed = new Promise<void>((resolve) => call.once('close', resolve));
  try {
    await send(
      call,
      new streamsPb.ReadResp().setConfirmation(
        new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID()),
      ),
    );
    let considered = 0;
    let lastConsidered = i > 0 ? all[i - 1]!.position : -1n;
    let live = false;
    for (;;) {
      while (i < all.length) {
        const e = all[i++]!;
        lastConsidered = e.position;
        if (!filter || filter.match(e)) await send(call, toReadEvent(e, structured));
        if (filter && ++considered >= interval) {
          considered = 0;
          await send(call, checkpoint(lastConsidered));
        }
      }
      if (!live) {
        live = true;
        if (filter && lastConsidered >= 0n) await send(call, checkpoint(lastConsidered));
        await send(call, caughtUp());
      }
      const written = new Promise<void>((resolve) => {
        wake = resolve;
      });
      if (i < all.length) continue;
      await Promise.race([written, closed]);
      if (call.cancelled || call.destroyed) return;
    }
  } catch {
    // the client went away; nothing to tell it
  } finally {
    unsubscribe();
  }
};

export const handleRead = (ctx: ReadContext) => (call: ReadCall) => {
  ctx.open.add(call);
  call.once('close', () => ctx.open.delete(call));
  const options = call.request.getOptions();
  if (!options?.hasUuidOption()) {
    fail(call, status.INVALID_ARGUMENT, "Required argument 'uuidOption' was not set.");
    return;
  }
  const structured = options.getUuidOption()!.hasStructured();
  const run = options.hasStream()
    ? options.hasSubscription()
      ? Promise.reject(new Error('stream subscriptions are not implemented by the stand-in'))
      : readStream(ctx, call, structured)
    : options.hasSubscription()
      ? subscribeAll(ctx, call, structured)
      : readAll(ctx, call, structured);
  run.catch((error: unknown) => {
    if (call.cancelled || call.destroyed) return;
    fail(call, status.UNIMPLEMENTED, error instanceof Error ? error.message : String(error));
  });
};
