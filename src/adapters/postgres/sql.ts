// The projections' database port on a pg pool.
import type pg from 'pg';
import type { QueryResult, SqlClient, SqlDatabase } from '../../projections/sql.ts';

const queryOn =
  (target: pg.Pool | pg.PoolClient): SqlClient['query'] =>
  <R>(text: string, params?: readonly unknown[]) =>
    target.query(text, params as unknown[]) as unknown as Promise<QueryResult<R>>;

export const sqlDatabase = (pool: pg.Pool): SqlDatabase => ({
  query: queryOn(pool),
  async session() {
    const client = await pool.connect();
    return { query: queryOn(client), release: (broken) => client.release(broken ? true : undefined) };
  },
});
