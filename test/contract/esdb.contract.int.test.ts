// The shared event-log contract against EventStoreDB / KurrentDB (docs/design.md, "The event-log
// contract"). Needs a server:
// EVENTSTORE_URL=esdb://admin:changeit@localhost:2113?tls=false (reading $all needs a user allowed to).
// None can be installed on the development machines, so without it the suite is reported as skipped.
// The suite gives every run its own stream prefix, so runs against one shared server do not collide.
import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import { runEventLogContract } from './event-log-contract.ts';

const url = process.env.EVENTSTORE_URL;

runEventLogContract(
  'EventStoreDB',
  async () => {
    const log = createEsdbEventLog({ connectionString: url! });
    await log.ping();
    return {
      log,
      noSlowAppend:
        'EventStoreDB commits each append atomically; a client cannot hold one open to take a position early',
      teardown: async () => {},
    };
  },
  { skip: url ? false : 'EVENTSTORE_URL not set: no EventStoreDB server on this machine' },
);
