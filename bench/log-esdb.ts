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
  'gRPC requests the stand-in received (reads, appends, BatchAppend requests, feature queries), events ' +
  'read are the events it sent back to them.';

export interface Traffic {
  /** gRPC requests the stand-in received. */
  readonly calls: number;
  /** Events it sent back to reads (an append that first reads the stream's tail shows here). */
  readonly eventsRead: number;
}

export interface EsdbBench {
  readonly log: EventLog;
  /** What the stand-in saw since the last call to `traffic`. */
  traffic(): Traffic;
  close(): Promise<void>;
}

const totals = (esdb: EsdbStandIn): Traffic => {
  const c = esdb.counts();
  return { calls: c.read + c.append + c.batchAppend + c.getSupportedMethods, eventsRead: c.eventsRead };
};

/** "2.0 calls, 37.5 events read per append" */
export const perOperation = (t: Traffic, n: number, what: string) =>
  `${(t.calls / n).toFixed(1)} calls, ${(t.eventsRead / n).toFixed(1)} events read per ${what}`;

export const openEsdbBench = async (): Promise<EsdbBench> => {
  // Positions above 2^53, as on a long-lived server, so nothing in the path gets to use plain numbers.
  const esdb = await startEsdbStandIn({ firstPosition: 2n ** 53n + 1n });
  const log = createEsdbEventLog({ connectionString: esdb.url });
  await log.ping();
  let seen = totals(esdb);
  return {
    log,
    traffic() {
      const now = totals(esdb);
      const delta = { calls: now.calls - seen.calls, eventsRead: now.eventsRead - seen.eventsRead };
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
