// The database port of the projections layer: as much of a PostgreSQL driver as projections use.
// src/adapters/postgres/sql.ts implements it on a pg pool.

export interface QueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** One connection held on to: transactions and session advisory locks live on it. */
export interface SqlSession extends SqlClient {
  /** `broken`: the connection is in an unknown state (a failed COMMIT, a lost lock) and must not be reused. */
  release(broken?: boolean): void;
}

export interface SqlDatabase extends SqlClient {
  session(): Promise<SqlSession>;
}

export const inTransaction = async <T>(session: SqlSession, work: () => Promise<T>): Promise<T> => {
  await session.query('BEGIN');
  try {
    const result = await work();
    await session.query('COMMIT');
    return result;
  } catch (error) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
};

/**
 * A session holding the session-level advisory lock `key` (whoever holds it leads that work), or
 * undefined when another session holds it. A session whose lock query failed is in an unknown state:
 * it is discarded, not pooled.
 */
export const lockedSession = async (db: SqlDatabase, key: string): Promise<SqlSession | undefined> => {
  const s = await db.session();
  try {
    const { rows } = await s.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [key]);
    if (rows[0]?.ok) return s;
  } catch (error) {
    s.release(true);
    throw error;
  }
  s.release();
  return undefined;
};

/** Gives the lock up and the session back to the pool. */
export const releaseLockedSession = async (s: SqlSession): Promise<void> => {
  await s.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
  s.release();
};
