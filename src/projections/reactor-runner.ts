// Runs a reactor: reads the log like a projection (one instance at a time, from a checkpoint) but
// its work is a side effect outside the database — a Telegram call, a webhook — whose outcome the
// reactor records as events. The checkpoint moves only after a batch is handled, so a crash repeats
// at most the work in flight (at least once); reactors consult the conversation's state, in which
// earlier outcomes are recorded, to skip what is already done. For the same reason the checkpoint's
// commit does not wait for the disk (docs/design.md, "Reactors").
import { setMaxListeners } from 'node:events';
import type { EventLog, LogPosition, RecordedEvent } from '../domain/event-log.ts';
import { startOfLog } from '../domain/event-log.ts';
import { isImported } from '../domain/events.ts';
import { followWhileLeading, type Leader, type LeaderTerm, startLeaderLoop } from './leader.ts';
import type { RunnerLogger } from './runner.ts';
import type { LeaderDatabase, SqlSession } from './sql.ts';

export const reactorMigration = {
  id: '003_reactor_checkpoints',
  sql: `
CREATE TABLE td_reactors (
  name               text PRIMARY KEY,
  checkpoint_commit  bigint,
  checkpoint_prepare bigint,
  events_handled     bigint NOT NULL DEFAULT 0,
  updated_at         timestamptz NOT NULL DEFAULT now()
);`,
  grants: (role: string) => `GRANT SELECT, INSERT, UPDATE, DELETE ON td_reactors TO ${role}`,
};

export interface Reactor {
  readonly name: string;
  /** Handles a batch in log order; throwing makes the runner retry the batch from the checkpoint. */
  handle(events: readonly RecordedEvent[], signal: AbortSignal): Promise<void>;
}

export interface ReactorRunnerOptions {
  readonly db: LeaderDatabase;
  readonly log: EventLog;
  readonly reactor: Reactor;
  readonly logger?: RunnerLogger;
  readonly batchSize?: number;
  readonly standbyRetryMs?: number;
  readonly retryMs?: number;
}

export type ReactorRunner = Leader;

const silent: RunnerLogger = { info() {}, warn() {}, error() {} };

const readCheckpoint = async (s: SqlSession, name: string): Promise<LogPosition> => {
  await s.query('INSERT INTO td_reactors (name) VALUES ($1) ON CONFLICT DO NOTHING', [name]);
  const { rows } = await s.query<{ c: string | null; p: string | null }>(
    'SELECT checkpoint_commit AS c, checkpoint_prepare AS p FROM td_reactors WHERE name = $1',
    [name],
  );
  const r = rows[0];
  return r?.c == null ? startOfLog : { commit: BigInt(r.c), prepare: BigInt(r.p ?? '0') };
};

/** Handles batches from the checkpoint until the term ends; the reactor's waits end with it. */
const runWhileLeading = async (options: ReactorRunnerOptions, { session: s, signal }: LeaderTerm) => {
  const { log, reactor, batchSize = 200 } = options;
  // Every conversation in flight waits on this signal (a burst settling, a backoff): more than
  // Node's default of ten listeners is normal, not a leak.
  setMaxListeners(0, signal);
  const from = await readCheckpoint(s, reactor.name);
  const subscription = log.subscribeAll({ from, batchSize }, async (batch) => {
    // Imported history was carried by the tool it came from: nothing to send, open or close again.
    const live = batch.filter((e) => !isImported(e.metadata));
    if (live.length > 0) await reactor.handle(live, signal);
    if (signal.aborted) return;
    const last = batch[batch.length - 1]!.position;
    // Not waiting for the disk: set_config(…, true) lasts until this statement's own commit.
    await s.query(
      `UPDATE td_reactors SET checkpoint_commit = $2, checkpoint_prepare = $3, events_handled = events_handled + $4,
         updated_at = now() FROM (SELECT set_config('synchronous_commit', 'off', true)) AS not_durable WHERE name = $1`,
      [reactor.name, last.commit.toString(), last.prepare.toString(), batch.length],
    );
  });
  await followWhileLeading(subscription, signal);
};

export const reactorLockKey = (name: string) => `topicdesk:reactor:${name}`;

export const startReactorRunner = (options: ReactorRunnerOptions): ReactorRunner => {
  const { db, reactor, logger = silent, standbyRetryMs = 1000, retryMs = 1000 } = options;
  return startLeaderLoop({
    db,
    key: reactorLockKey(reactor.name),
    standbyRetryMs,
    retryMs,
    lead: (term) => runWhileLeading(options, term),
    onError: (err) =>
      logger.error({ reactor: reactor.name, err }, 'reactor failed; retrying from its checkpoint'),
  });
};
