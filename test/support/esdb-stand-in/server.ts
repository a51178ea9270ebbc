// The stand-in's gRPC server: the client's own service definitions (Streams, ServerFeatures) bound on
// a private loopback port behind the relay, with per-method request counts for the bench.
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { handleAppend, handleBatchAppend } from './append.ts';
import { featuresGrpc, featuresPb, streamsGrpc } from './proto.ts';
import { handleRead } from './read.ts';
import type { Store } from './store.ts';

export type CountedMethod = 'read' | 'append' | 'batchAppend' | 'batchAppendStream' | 'getSupportedMethods';

export interface GrpcOptions {
  readonly store: Store;
  readonly maxAppendSize: number;
  /** Advertised in ServerFeatures; the client picks BatchAppend only when it is listed. */
  readonly serverVersion: string;
  readonly batchAppend: boolean;
  readonly counts: Map<CountedMethod, number>;
}

const count = (counts: Map<CountedMethod, number>, method: CountedMethod) =>
  counts.set(method, (counts.get(method) ?? 0) + 1);

/** What GetSupportedMethods lists, as a node of that version does for the streams and features services. */
const supportedMethods = (opts: GrpcOptions) => {
  const method = (service: string, name: string, features: string[] = []) =>
    new featuresPb.SupportedMethod().setServiceName(service).setMethodName(name).setFeaturesList(features);
  const streams = 'event_store.client.streams.streams';
  const methods = [
    method(streams, 'read', ['position', 'events']),
    method(streams, 'append'),
    method(streams, 'delete'),
    method(streams, 'tombstone'),
    ...(opts.batchAppend ? [method(streams, 'batchappend', ['deadline_duration'])] : []),
    method('event_store.client.server_features.serverfeatures', 'getsupportedmethods'),
  ];
  return new featuresPb.SupportedMethods()
    .setEventStoreServerVersion(opts.serverVersion)
    .setMethodsList(methods);
};

const unimplemented = (what: string) => (_call: unknown, reply: sendUnaryData<never>) =>
  reply({ code: status.UNIMPLEMENTED, details: `${what} is not implemented by the stand-in` });

export interface GrpcServer {
  readonly port: number;
  stop(): Promise<void>;
}

export const startGrpc = async (opts: GrpcOptions): Promise<GrpcServer> => {
  const server = new Server({ 'grpc.max_receive_message_length': 17 * 1024 * 1024 });
  const open = new Set<{ cancelled: boolean }>();
  server.addService(streamsGrpc.StreamsService, {
    read: (call: Parameters<ReturnType<typeof handleRead>>[0]) => {
      count(opts.counts, 'read');
      handleRead({ store: opts.store, open })(call);
    },
    append: handleAppend({
      store: opts.store,
      maxAppendSize: opts.maxAppendSize,
      count: (m) => count(opts.counts, m),
    }),
    batchAppend: (call: Parameters<ReturnType<typeof handleBatchAppend>>[0]) => {
      count(opts.counts, 'batchAppendStream');
      handleBatchAppend({
        store: opts.store,
        maxAppendSize: opts.maxAppendSize,
        count: (m) => count(opts.counts, m),
      })(call);
    },
    delete: unimplemented('Delete'),
    tombstone: unimplemented('Tombstone'),
  });
  server.addService(featuresGrpc.ServerFeaturesService, {
    getSupportedMethods: (_call: ServerUnaryCall<unknown, unknown>, reply: sendUnaryData<unknown>) => {
      count(opts.counts, 'getSupportedMethods');
      reply(null, supportedMethods(opts));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    async stop() {
      server.forceShutdown();
    },
  };
};
