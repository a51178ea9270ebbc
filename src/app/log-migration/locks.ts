// log:migrate and log:reset run with the app stopped: they take every leader lock the app's loops
// take (docs/design.md, "The leader loop") and hold them to the end, so a running instance is
// refused up front and one started meanwhile stands by instead of moving a checkpoint.
import type pg from 'pg';
import { SCHEDULER_LOCK_KEY } from '../../adapters/webhooks/scheduler.ts';
import { allProjections } from '../../projections/index.ts';
import { reactorLockKey } from '../../projections/reactor-runner.ts';
import { rebuildLockKey } from '../../projections/rebuild.ts';
import { lockKey } from '../../projections/runner.ts';

/** The reactors the app runs; td_reactors may name more (an older release's). */
const REACTORS = ['telegram', 'vk', 'webhooks'];

export const leaderLockKeys = async (db: Pick<pg.Pool, 'query'>): Promise<string[]> => {
  const { rows } = await db.query<{ name: string }>('SELECT name FROM td_reactors');
  const reactors = [...new Set([...REACTORS, ...rows.map((r) => r.name)])];
  return [
    ...allProjections.map((p) => lockKey(p.name)),
    ...allProjections.map((p) => rebuildLockKey(p.name)),
    ...reactors.map(reactorLockKey),
    SCHEDULER_LOCK_KEY,
  ];
};

export interface HeldLocks {
  /** Keys another session holds (only when forced: otherwise nothing is held and this is thrown). */
  readonly busy: readonly string[];
  release(): Promise<void>;
}

/** The app (or a rebuild) holds a leader lock. */
export class AppRunningError extends Error {
  override readonly name = 'AppRunningError';
  readonly code = 'app_running';
  constructor(readonly busy: readonly string[]) {
    super(
      `the app is running (it holds ${busy.join(', ')}): stop every instance first, or pass --force if you are sure nothing writes to the log`,
    );
  }
}

/** Takes every key on one connection; throws AppRunningError when one is taken, unless `force`. */
export const holdLeaderLocks = async (
  pool: pg.Pool,
  keys: readonly string[],
  force: boolean,
): Promise<HeldLocks> => {
  const client = await pool.connect();
  const busy: string[] = [];
  const release = async () => {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    client.release();
  };
  try {
    for (const key of keys) {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
        [key],
      );
      if (!rows[0]?.ok) busy.push(key);
    }
  } catch (error) {
    client.release(true);
    throw error;
  }
  if (busy.length > 0 && !force) {
    await release();
    throw new AppRunningError(busy);
  }
  return { busy, release };
};
