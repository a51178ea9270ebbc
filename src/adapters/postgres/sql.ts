// The projections' database port on a pg pool.
import type pg from 'pg';
import type { LeaderDatabase, LeaderSession, QueryResult, SqlClient } from '../../projections/sql.ts';

const queryOn =
  (target: pg.Pool | pg.PoolClient): SqlClient['query'] =>
  <R>(text: string, params?: readonly unknown[]) =>
    target.query(text, params as unknown[]) as unknown as Promise<QueryResult<R>>;

/** One pooled connection, watched: a connection the server dropped is never pooled again. */
const sessionOn = (client: pg.PoolClient): LeaderSession => {
  // A held connection that the server drops (restart, admin command) emits 'error'; without a
  // listener that would crash the process. Its owner is told, and its next query fails.
  let lost: Error | undefined;
  const watchers: ((error: Error) => void)[] = [];
  const onError = (error: Error) => {
    if (lost) return;
    lost = error;
    for (const watcher of watchers.splice(0)) watcher(error);
  };
  const onEnd = () => onError(new Error('Connection terminated'));
  const channels = new Map<string, () => void>();
  const onNotification = (n: pg.Notification) => channels.get(n.channel)?.();
  client.on('error', onError);
  client.on('end', onEnd);
  client.on('notification', onNotification);
  return {
    query: queryOn(client),
    onLost(listener) {
      if (lost) queueMicrotask(() => listener(lost!));
      else watchers.push(listener);
    },
    async listen(channel, listener) {
      channels.set(channel, listener);
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    },
    release: (broken) => {
      client.off('error', onError);
      client.off('end', onEnd);
      client.off('notification', onNotification);
      client.release(broken || lost ? true : undefined);
    },
  };
};

export const sqlDatabase = (pool: pg.Pool): LeaderDatabase => ({
  query: queryOn(pool),
  session: async () => sessionOn(await pool.connect()),
});
