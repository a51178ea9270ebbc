// Streams.Append and Streams.BatchAppend of the stand-in, with KurrentDB's answers
// (docs/design.md, "The EventStoreDB stand-in"): a conflict on Append is a WrongExpectedVersion result
// message, on BatchAppend a google.rpc.Status (ALREADY_EXISTS) packing event_store.client.WrongExpectedVersion;
// an append past the maximum size is refused whole — on Append as an INVALID_ARGUMENT call error with
// exception metadata, on BatchAppend as a MaximumAppendSizeExceeded status — and nothing is written.
import {
  Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import {
  type AppendReq,
  type AppendResp,
  type BatchAppendReq,
  type BatchAppendResp,
  empty,
  rpcStatus,
  sharedEmpty,
  sharedPb,
  streamIdentifier,
  streamNameOf,
  streamsPb,
  uuidOf,
} from './proto.ts';
import { type AppendOutcome, type Expected, eventSize, type ProposedEvent, type Store } from './store.ts';

export interface AppendContext {
  readonly store: Store;
  readonly maxAppendSize: number;
  /** Counts one logical request (an Append call, or one correlation id on a BatchAppend stream). */
  count(method: 'append' | 'batchAppend'): void;
}

type Proposed = {
  getId(): Parameters<typeof uuidOf>[0];
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
};

const toProposed = (m: Proposed): ProposedEvent => ({
  id: uuidOf(m.getId()),
  type: m.getMetadataMap().get('type') ?? '',
  contentType: m.getMetadataMap().get('content-type') ?? 'application/octet-stream',
  data: m.getData_asU8(),
  metadata: m.getCustomMetadata_asU8(),
});

const callError = (code: status, details: string, meta: Record<string, string>) => {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(meta)) metadata.set(k, v);
  return Object.assign(new Error(details), { code, details, metadata });
};

const maxSizeError = (max: number) =>
  callError(status.INVALID_ARGUMENT, `Maximum Append Size of ${max} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(max),
  });

export const handleAppend =
  (ctx: AppendContext) =>
  (call: ServerReadableStream<AppendReq, AppendResp>, reply: sendUnaryData<AppendResp>) => {
    ctx.count('append');
    let options: ReturnType<AppendReq['getOptions']>;
    const events: ProposedEvent[] = [];
    let size = 0;
    let failed = false;
    call.on('data', (req: AppendReq) => {
      if (failed) return;
      if (!options) {
        options = req.getOptions();
        if (!options) {
          failed = true;
          reply(
            callError(
              status.INVALID_ARGUMENT,
              'Operation is not valid due to the current state of the object.',
              {},
            ),
          );
        }
        return;
      }
      const event = toProposed(req.getProposedMessage()!);
      size += eventSize(event);
      if (size > ctx.maxAppendSize) {
        failed = true;
        reply(maxSizeError(ctx.maxAppendSize));
        return;
      }
      events.push(event);
    });
    call.on('end', () => {
      if (failed || !options) return;
      const stream = streamNameOf(options.getStreamIdentifier());
      const expected: Expected = options.hasRevision()
        ? BigInt(options.getRevision())
        : options.hasNoStream()
          ? 'no_stream'
          : options.hasStreamExists()
            ? 'stream_exists'
            : 'any';
      const outcome = ctx.store.append(stream, expected, events);
      if (outcome.kind === 'stream_deleted') {
        reply(
          callError(status.FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, {
            exception: 'stream-deleted',
            'stream-name': stream,
          }),
        );
        return;
      }
      const resp = new streamsPb.AppendResp();
      if (outcome.kind === 'wrong_expected_version') {
        const wev = new streamsPb.AppendResp.WrongExpectedVersion();
        if (outcome.current < 0n) wev.setCurrentNoStream(sharedEmpty()).setNoStream2060(sharedEmpty());
        else
          wev.setCurrentRevision(outcome.current.toString()).setCurrentRevision2060(Number(outcome.current));
        if (typeof expected === 'bigint')
          wev.setExpectedRevision(expected.toString()).setExpectedRevision2060(Number(expected));
        else if (expected === 'any') wev.setExpectedAny(sharedEmpty()).setAny2060(sharedEmpty());
        else if (expected === 'stream_exists')
          wev.setExpectedStreamExists(sharedEmpty()).setStreamExists2060(sharedEmpty());
        else wev.setExpectedNoStream(sharedEmpty());
        reply(null, resp.setWrongExpectedVersion(wev));
        return;
      }
      const success = new streamsPb.AppendResp.Success();
      if (outcome.revision < 0n) success.setNoStream(sharedEmpty());
      else success.setCurrentRevision(outcome.revision.toString());
      // The server answers the commit position as both commit and prepare.
      success.setPosition(
        new streamsPb.AppendResp.Position()
          .setCommitPosition(outcome.position.toString())
          .setPreparePosition(outcome.position.toString()),
      );
      reply(null, resp.setSuccess(success));
    });
  };

/** A BatchAppend error status for one request, as the server packs it. */
const batchError = (
  outcome: Exclude<AppendOutcome, { revision: bigint }>,
  stream: string,
  expected: Expected,
) => {
  if (outcome.kind === 'stream_deleted') {
    return rpcStatus(
      5, // NOT_FOUND
      'StreamDeleted',
      new sharedPb.StreamDeleted().setStreamIdentifier(streamIdentifier(stream)),
      'event_store.client.StreamDeleted',
    );
  }
  const wev = new sharedPb.WrongExpectedVersion();
  if (outcome.current < 0n) wev.setCurrentNoStream(empty());
  else wev.setCurrentStreamRevision(outcome.current.toString());
  if (typeof expected === 'bigint') wev.setExpectedStreamPosition(expected.toString());
  else if (expected === 'any') wev.setExpectedAny(empty());
  else if (expected === 'stream_exists') wev.setExpectedStreamExists(empty());
  else wev.setExpectedNoStream(empty());
  return rpcStatus(
    6 /* ALREADY_EXISTS */,
    'WrongExpectedVersion',
    wev,
    'event_store.client.WrongExpectedVersion',
  );
};

interface Pending {
  readonly stream: string;
  readonly expected: Expected;
  readonly events: ProposedEvent[];
  size: number;
  readonly expired: boolean;
}

export const handleBatchAppend =
  (ctx: AppendContext) => (call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>) => {
    const pending = new Map<string, Pending>();
    const answer = (req: BatchAppendReq, stream: string, fill: (resp: BatchAppendResp) => void) => {
      const resp = new streamsPb.BatchAppendResp()
        .setCorrelationId(req.getCorrelationId())
        .setStreamIdentifier(streamIdentifier(stream));
      fill(resp);
      if (!call.cancelled && !call.destroyed) call.write(resp);
    };
    call.on('data', (req: BatchAppendReq) => {
      const id = uuidOf(req.getCorrelationId());
      const options = req.getOptions();
      if (options) {
        ctx.count('batchAppend');
        const expected: Expected = options.hasStreamPosition()
          ? BigInt(options.getStreamPosition())
          : options.hasNoStream()
            ? 'no_stream'
            : options.hasStreamExists()
              ? 'stream_exists'
              : 'any';
        const deadline = options.getDeadline()?.toDate().getTime() ?? Number.POSITIVE_INFINITY;
        if (!pending.has(id))
          pending.set(id, {
            stream: streamNameOf(options.getStreamIdentifier()),
            expected,
            events: [],
            size: 0,
            expired: deadline <= Date.now(),
          });
      }
      const request = pending.get(id);
      if (!request) return; // refused already: the rest of its chunks are ignored
      for (const m of req.getProposedMessagesList()) {
        const event = toProposed(m);
        request.size += eventSize(event);
        request.events.push(event);
      }
      if (request.size > ctx.maxAppendSize) {
        pending.delete(id);
        answer(req, request.stream, (resp) =>
          resp.setError(
            rpcStatus(
              3, // INVALID_ARGUMENT
              'MaximumAppendSizeExceeded',
              new sharedPb.MaximumAppendSizeExceeded().setMaxappendsize(ctx.maxAppendSize),
              'event_store.client.MaximumAppendSizeExceeded',
            ),
          ),
        );
        return;
      }
      if (!req.getIsFinal()) return;
      pending.delete(id);
      if (request.expired) {
        answer(req, request.stream, (resp) =>
          resp.setError(rpcStatus(4, 'Timeout', new sharedPb.Timeout(), 'event_store.client.Timeout')),
        );
        return;
      }
      const outcome = ctx.store.append(request.stream, request.expected, request.events);
      answer(req, request.stream, (resp) => {
        if ('revision' in outcome) {
          const success = new streamsPb.BatchAppendResp.Success();
          if (outcome.revision < 0n) success.setNoStream(empty());
          else success.setCurrentRevision(outcome.revision.toString());
          success.setPosition(
            new sharedPb.AllStreamPosition()
              .setCommitPosition(outcome.position.toString())
              .setPreparePosition(outcome.position.toString()),
          );
          resp.setSuccess(success);
        } else {
          resp.setError(batchError(outcome, request.stream, request.expected));
        }
      });
    });
    call.on('end', () => {
      if (!call.cancelled && !call.destroyed) call.end();
    });
    call.on('error', () => undefined);
  };
