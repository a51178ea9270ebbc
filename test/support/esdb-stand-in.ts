// A wire-level stand-in for EventStoreDB / KurrentDB (docs/design.md, "The EventStoreDB stand-in"): a real
// gRPC server on 127.0.0.1 speaking the protocol that @eventstore/db-client speaks, with the events in
// memory, so the production adapter (src/adapters/eventstore) runs against something in every test run.
//
//   const esdb = await startEsdbStandIn({ firstPosition: 2n ** 53n });
//   const log = createEsdbEventLog({ connectionString: esdb.url });
//   ...
//   esdb.dropConnections();   // every TCP connection cut
//   esdb.silence(true);       // connections accepted, nothing answered
//   await esdb.restart();     // same port, same events, recent-id cache forgotten
//   await esdb.stop();
//
// Implemented: Streams.Read (stream and $all reads both ways, $all subscriptions with filters,
// checkpoints, confirmation and caught-up), Streams.Append, Streams.BatchAppend, ServerFeatures.
// Not: stream subscriptions, delete/tombstone over gRPC, persistent subscriptions, projections, users,
// gossip, TLS and authentication (credentials are accepted and ignored, as an insecure node does).

import { startRelay } from './esdb-stand-in/proxy.ts';
import { type CountedMethod, type GrpcServer, startGrpc } from './esdb-stand-in/server.ts';
import { createStore, type StoredEvent, writeStartupRecords } from './esdb-stand-in/store.ts';

export type { StoredEvent } from './esdb-stand-in/store.ts';

export interface EsdbStandInOptions {
  /** Log position of the first record (the startup system events come first). Default 0. */
  readonly firstPosition?: bigint;
  /** Public port; default a free one. */
  readonly port?: number;
  /** The server's maximum append size in bytes (data + metadata + 2 × type length). Default 1048576. */
  readonly maxAppendSize?: number;
  /** Version advertised by ServerFeatures. Default 24.10.0. */
  readonly serverVersion?: string;
  /** Whether ServerFeatures lists BatchAppend (the client then appends through it). Default true. */
  readonly batchAppend?: boolean;
  /** Ids remembered for `any` idempotency. Default 10000. */
  readonly idCacheSize?: number;
}

export interface EsdbStandIn {
  /** `esdb://127.0.0.1:PORT?tls=false` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops and starts again on the same port with the same events (the recent-id cache is lost). */
  restart(): Promise<void>;
  /** Cuts every open connection at the TCP level. */
  dropConnections(): void;
  /** While on, connections are accepted and nothing is answered (nor read). */
  silence(on: boolean): void;
  /** Every event in $all order, system events included. */
  events(): readonly StoredEvent[];
  /** Requests per method since start (or resetCounts): read and append calls, BatchAppend requests. */
  counts(): Record<CountedMethod, number>;
  resetCounts(): void;
  /** Writes a system event (type and stream starting with `$`), as the server does on its own. */
  appendSystemEvent(type?: string): void;
}

export const startEsdbStandIn = async (options: EsdbStandInOptions = {}): Promise<EsdbStandIn> => {
  const store = createStore({
    ...(options.firstPosition === undefined ? {} : { firstPosition: options.firstPosition }),
    ...(options.idCacheSize === undefined ? {} : { idCacheSize: options.idCacheSize }),
  });
  writeStartupRecords(store);
  const counts = new Map<CountedMethod, number>();
  const grpcOptions = {
    store,
    counts,
    maxAppendSize: options.maxAppendSize ?? 1_048_576,
    serverVersion: options.serverVersion ?? '24.10.0',
    batchAppend: options.batchAppend ?? true,
  };
  let grpc: GrpcServer = await startGrpc(grpcOptions);
  let relay = await startRelay(options.port ?? 0, () => grpc.port);
  const port = relay.port;
  let silent = false;

  const stopAll = async () => {
    await relay.close();
    await grpc.stop();
  };

  return {
    url: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    stop: stopAll,
    async restart() {
      await stopAll();
      store.forgetRecentIds();
      grpc = await startGrpc(grpcOptions);
      relay = await startRelay(port, () => grpc.port);
      relay.silence(silent);
    },
    dropConnections: () => relay.dropConnections(),
    silence(on) {
      silent = on;
      relay.silence(on);
    },
    events: () => [...store.all],
    counts: () =>
      Object.fromEntries(
        (['read', 'append', 'batchAppend', 'batchAppendStream', 'getSupportedMethods'] as const).map((m) => [
          m,
          counts.get(m) ?? 0,
        ]),
      ) as Record<CountedMethod, number>,
    resetCounts: () => counts.clear(),
    appendSystemEvent(type = '$statsCollected') {
      store.append('$stats-127.0.0.1:2113', 'any', [
        {
          id: crypto.randomUUID(),
          type,
          contentType: 'application/json',
          data: Buffer.from('{}'),
          metadata: new Uint8Array(),
        },
      ]);
    },
  };
};
