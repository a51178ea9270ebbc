// Which log the checkpoints belong to (td_checkpoint_log, see migrations.ts): claimed at the first
// start, checked at every start, moved only by log:migrate and log:reset (docs/design.md, "Moving
// the log to EventStoreDB").
import type pg from 'pg';

export type LogKind = 'postgres' | 'esdb';

/** EVENT_STORE names one log while the checkpoints hold positions of the other. */
export class CheckpointLogMismatchError extends Error {
  override readonly name = 'CheckpointLogMismatchError';
  readonly code = 'checkpoint_log_mismatch';
  constructor(
    readonly configured: LogKind,
    readonly recorded: LogKind,
  ) {
    super(
      `EVENT_STORE=${configured}, but the projection and reactor checkpoints are positions in the ${recorded} log ` +
        `(read as ${configured} positions they would skip or repeat events). ` +
        (configured === 'esdb'
          ? `Copy the log first: topicdesk log:migrate --to esdb (with the app stopped); `
          : `Set EVENT_STORE=${recorded} again; `) +
        `or, to start afresh on the ${configured} log, topicdesk log:reset --yes (rebuilds every projection from it ` +
        `and starts the reactors at its head)`,
    );
  }
}

type Queryable = Pick<pg.Pool, 'query'>;

export const readCheckpointLog = async (db: Queryable): Promise<LogKind | undefined> =>
  (await db.query<{ log: LogKind }>('SELECT log FROM td_checkpoint_log')).rows[0]?.log;

/** Whether any projection generation in use or any reactor has moved off the start of the log. */
export const hasCheckpoints = async (db: Queryable): Promise<boolean> =>
  (
    await db.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM td_reactors WHERE checkpoint_commit IS NOT NULL)
           OR EXISTS (SELECT 1 FROM td_projections WHERE checkpoint_commit IS NOT NULL AND status <> 'retired') AS any`,
    )
  ).rows[0]!.any;

export const setCheckpointLog = async (db: Queryable, log: LogKind): Promise<void> => {
  await db.query(
    `INSERT INTO td_checkpoint_log (log) VALUES ($1)
     ON CONFLICT (singleton) DO UPDATE SET log = EXCLUDED.log, updated_at = now()`,
    [log],
  );
};

/**
 * At start: the checkpoints must belong to the configured log. With no checkpoint anywhere (a fresh
 * install, or nothing read yet) the configured log simply claims them.
 */
export const claimCheckpointLog = async (db: Queryable, configured: LogKind): Promise<void> => {
  const recorded = await readCheckpointLog(db);
  if (recorded === configured) return;
  if (recorded !== undefined && (await hasCheckpoints(db)))
    throw new CheckpointLogMismatchError(configured, recorded);
  await setCheckpointLog(db, configured);
};
