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
    // A held connection that the server drops (restart, admin command) emits 'error'; without a
    // listener that would crash the process. The next query fails instead and the owner recovers.
    let lost = false;
    const onError = () => {
      lost = true;
    };
    client.on('error', onError);
    return {
      query: queryOn(client),
      release: (broken) => {
        client.off('error', onError);
        client.release(broken || lost ? true : undefined);
      },
    };
  },
});
