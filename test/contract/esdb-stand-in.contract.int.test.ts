// The shared event-log contract against the EventStoreDB adapter talking, through the real client and
// real gRPC, to the in-process stand-in (docs/design.md, "The EventStoreDB stand-in"). It runs on every
// machine; esdb.contract.int.test.ts runs the same contract against a real server when one is given.
// Positions start above 2^53, so anything that squeezes them through a JavaScript number shows.
import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import { startEsdbStandIn } from '../support/esdb-stand-in.ts';
import { runEventLogContract } from './event-log-contract.ts';

runEventLogContract('EventStoreDB adapter against the stand-in', async () => {
  const esdb = await startEsdbStandIn({ firstPosition: 2n ** 53n + 1n });
  const log = createEsdbEventLog({ connectionString: esdb.url });
  await log.ping();
  return {
    log,
    noSlowAppend:
      'EventStoreDB commits each append atomically; a client cannot hold one open to take a position early',
    teardown: () => esdb.stop(),
  };
});
