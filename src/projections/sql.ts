// The database port of the projections layer: as much of a PostgreSQL driver as projections use.
// src/adapters/postgres/sql.ts implements it on a pg pool.

export interface QueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A statement with its parameters, as `query` takes them. */
export interface Statement {
  readonly text: string;
  readonly params?: readonly unknown[];
}

/** One connection held on to: transactions and session advisory locks live on it. */
export interface SqlSession extends SqlClient {
  /** `broken`: the connection is in an unknown state (a failed COMMIT, a lost lock) and must not be reused. */
  release(broken?: boolean): void;
  /**
   * The statements sent together, in one round trip, run in order; the result of each. A failing
   * statement ends the script: none after it runs. Optional: a port without it sends them one by one.
   */
  script?(statements: readonly Statement[]): Promise<QueryResult<Record<string, unknown>>[]>;
}

export interface SqlDatabase extends SqlClient {
  session(): Promise<SqlSession>;
}

/** A session a leader holds its advisory lock on (leader.ts): it tells when it is lost, and it can LISTEN. */
export interface LeaderSession extends SqlSession {
  /** `listener` runs once when the server drops the connection (or at once if it is lost already). */
  onLost(listener: (error: Error) => void): void;
  /** LISTENs on `channel`: `listener` runs at each notification on it until the session is released. */
  listen(channel: string, listener: () => void): Promise<void>;
}

export interface LeaderDatabase extends SqlDatabase {
  session(): Promise<LeaderSession>;
}

/** Opens a transaction whose commit does not wait for the disk (inTransaction's `durable: false`). */
export const BEGIN_NOT_DURABLE = 'BEGIN; SET LOCAL synchronous_commit = off';

/**
 * `work` in one transaction. `durable: false` commits without waiting for the disk: for writes the
 * log can replay after a crash (a projection's batch and its checkpoint), sent with BEGIN in one trip.
 */
export const inTransaction = async <T>(
  session: SqlSession,
  work: () => Promise<T>,
  options: { readonly durable?: boolean } = {},
): Promise<T> => {
  await session.query(options.durable === false ? BEGIN_NOT_DURABLE : 'BEGIN');
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
 * Whether a failure is the database's or the connection's rather than the statement's own: lost or
 * refused connections, a server shutting down or out of resources, a deadlock or serialization
 * failure (SQLSTATE classes 08, 40, 53, 57, 58), or the driver's socket errors. Retrying helps
 * these; a constraint violation, a bad statement or a bug in the code does not.
 */
export const isConnectionFailure = (error: unknown): boolean => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // The driver's socket errors first: EPIPE has a SQLSTATE's shape, and no SQLSTATE class starts with E.
  if (typeof code === 'string' && code.startsWith('E')) return true;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|40|53|57|58)/.test(code);
  return typeof message === 'string' && /connection|terminated|not queryable|timeout/i.test(message);
};
