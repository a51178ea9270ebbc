// The tests' EventStoreDB stand-in as a server of its own (docs/design.md, "The EventStoreDB stand-in"):
// to run the real-server contract file against it, or to try `EVENT_STORE=esdb` by hand.
//
//   node --import tsx scripts/esdb-stand-in.ts [--port 2113] [--first-position 9007199254740993]
//   EVENTSTORE_URL='esdb://127.0.0.1:2113?tls=false' node --import tsx --test test/contract/esdb.contract.int.test.ts
//
// Events live in memory and are gone when it stops (Ctrl-C).
import { Command } from 'commander';
import { startEsdbStandIn } from '../test/support/esdb-stand-in.ts';

const program = new Command('esdb-stand-in')
  .option('--port <port>', 'gRPC port', '2113')
  .option('--first-position <n>', 'log position of the first record', '0')
  .parse();
const opts = program.opts<{ port: string; firstPosition: string }>();

const esdb = await startEsdbStandIn({ port: Number(opts.port), firstPosition: BigInt(opts.firstPosition) });
console.log(`EventStoreDB stand-in listening: EVENTSTORE_URL='${esdb.url}'`);
const stop = () => {
  void esdb.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
