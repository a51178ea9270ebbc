// The EventStoreDB adapter's column of `npm run bench -- log`: the same figures through the production
// adapter, the real client and real gRPC, against the in-process stand-in (test/support/esdb-stand-in.ts),
// with the gRPC requests the adapter made per operation, counted by the stand-in.
// The stand-in keeps events in memory and shares this process's CPU: its speed says nothing about a
// real server's. What the column shows is the adapter's own cost — client, encoding, round trips — and
// how many calls each operation takes.
import { createEsdbEventLog } from '../src/adapters/eventstore/esdb-event-log.ts';
import { type EventLog, startOfLog } from '../src/domain/event-log.ts';
import { type EsdbStandIn, startEsdbStandIn } from '../test/support/esdb-stand-in.ts';

export const ESDB_COLUMN = 'EventStoreDB adapter → stand-in¹';
export const ESDB_FOOTNOTE =
  '¹ The EventStoreDB adapter through the real client and gRPC against the in-memory stand-in, in this ' +
  "process: its speed says nothing about a real server's, only about the adapter's own cost; calls are " +
  'gRPC requests the stand-in received (reads, appends, BatchAppend requests, feature queries).';

export interface EsdbBench {
  readonly log: EventLog;
  /** gRPC requests the stand-in received since the last call to `calls`. */
  calls(): number;
  close(): Promise<void>;
}

const requests = (esdb: EsdbStandIn): number => {
  const c = esdb.counts();
  return c.read + c.append + c.batchAppend + c.getSupportedMethods;
};

export const openEsdbBench = async (): Promise<EsdbBench> => {
  // Positions above 2^53, as on a long-lived server, so nothing in the path gets to use plain numbers.
  const esdb = await startEsdbStandIn({ firstPosition: 2n ** 53n + 1n });
  const log = createEsdbEventLog({ connectionString: esdb.url });
  await log.ping();
  let seen = requests(esdb);
  return {
    log,
    calls() {
      const now = requests(esdb);
      const delta = now - seen;
      seen = now;
      return delta;
    },
    async close() {
      await log.close();
      await esdb.stop();
    },
  };
};

/** Reads the whole log in batches of 1000 through the port, as the PostgreSQL figure does. */
export const readAllInBatches = async (log: EventLog): Promise<number> => {
  let pos = startOfLog;
  let n = 0;
  for (;;) {
    const batch = await log.readAll(pos, 1000);
    if (batch.length === 0) return n;
    n += batch.length;
    pos = batch[batch.length - 1]!.position;
  }
};

/** Subscribes from the start and resolves with the count once `events` have arrived. */
export const catchUp = (log: EventLog, events: number) =>
  new Promise<number>((resolve, reject) => {
    let n = 0;
    const sub = log.subscribeAll({ from: startOfLog, batchSize: 1000 }, async (batch) => {
      n += batch.length;
      if (n >= events) void sub.stop().then(() => resolve(n));
    });
    sub.done.catch(reject);
  });
