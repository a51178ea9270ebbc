// Runs a reactor: reads the log like a projection (one instance at a time, from a checkpoint) but
// its work is a side effect outside the database — a Telegram call, a webhook — whose outcome the
// reactor records as events. The checkpoint moves only after a batch is handled, so a crash repeats
// at most the work in flight (at least once); reactors consult the conversation's state, in which
// earlier outcomes are recorded, to skip what is already done.
import { setMaxListeners } from 'node:events';
import type { EventLog, LogPosition, RecordedEvent } from '../domain/event-log.ts';
import { startOfLog } from '../domain/event-log.ts';
import type { RunnerLogger } from './runner.ts';
import { lockedSession, releaseLockedSession, type SqlDatabase, type SqlSession } from './sql.ts';

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
  readonly db: SqlDatabase;
  readonly log: EventLog;
  readonly reactor: Reactor;
  readonly logger?: RunnerLogger;
  readonly batchSize?: number;
  readonly standbyRetryMs?: number;
  readonly retryMs?: number;
}

export interface ReactorRunner {
  readonly leading: Promise<void>;
  isLeader(): boolean;
  stop(): Promise<void>;
}

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

export const startReactorRunner = (options: ReactorRunnerOptions): ReactorRunner => {
  const {
    db,
    log,
    reactor,
    logger = silent,
    batchSize = 200,
    standbyRetryMs = 1000,
    retryMs = 1000,
  } = options;
  const abort = new AbortController();
  // Every conversation in flight waits on this signal (a burst settling, a backoff): more than
  // Node's default of ten listeners is normal, not a leak.
  setMaxListeners(0, abort.signal);
  let leader = false;
  let session: SqlSession | undefined;
  let stopSubscription: (() => Promise<void>) | undefined;
  let markLeading: () => void = () => {};
  const leading = new Promise<void>((resolve) => {
    markLeading = resolve;
  });
  // The listener goes when the pause ends: a standby instance pauses once a second for as long as it
  // runs, and each pause's listener would otherwise stay on the signal for good.
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      abort.signal.addEventListener('abort', done);
    });

  const acquire = async (): Promise<SqlSession | undefined> => {
    while (!abort.signal.aborted) {
      const s = await lockedSession(db, `topicdesk:reactor:${reactor.name}`);
      if (s) return s;
      await pause(standbyRetryMs);
    }
    return undefined;
  };

  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        session = await acquire();
        if (!session) return;
        const s = session;
        leader = true;
        markLeading();
        const from = await readCheckpoint(s, reactor.name);
        const subscription = log.subscribeAll({ from, batchSize }, async (batch) => {
          await reactor.handle(batch, abort.signal);
          if (abort.signal.aborted) return;
          const last = batch[batch.length - 1]!.position;
          await s.query(
            `UPDATE td_reactors SET checkpoint_commit = $2, checkpoint_prepare = $3, events_handled = events_handled + $4,
               updated_at = now() WHERE name = $1`,
            [reactor.name, last.commit.toString(), last.prepare.toString(), batch.length],
          );
        });
        stopSubscription = () => subscription.stop();
        if (abort.signal.aborted) await subscription.stop();
        await subscription.done;
      } catch (error) {
        if (abort.signal.aborted) break;
        logger.error({ reactor: reactor.name, err: error }, 'reactor failed; retrying from its checkpoint');
        session?.release(true);
        session = undefined;
        leader = false;
        await pause(retryMs);
      } finally {
        stopSubscription = undefined;
      }
    }
  };

  const done = loop();
  return {
    leading,
    isLeader: () => leader,
    async stop() {
      abort.abort();
      await stopSubscription?.();
      await done;
      if (session) {
        await releaseLockedSession(session);
        session = undefined;
      }
      leader = false;
    },
  };
};
