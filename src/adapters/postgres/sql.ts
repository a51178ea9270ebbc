// The projections' database port on a pg pool.
import { createRequire } from 'node:module';
import type pg from 'pg';
import type {
  LeaderDatabase,
  LeaderSession,
  QueryResult,
  SqlClient,
  SqlSession,
  Statement,
} from '../../projections/sql.ts';

// pg's own conversion of a parameter to its text form (arrays, dates, objects as JSON), so a
// parameter written into a script means what it means when sent beside its statement.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): string | Buffer | null;
};

const queryOn =
  (target: pg.Pool | pg.PoolClient): SqlClient['query'] =>
  <R>(text: string, params?: readonly unknown[]) =>
    target.query(text, params as unknown[]) as unknown as Promise<QueryResult<R>>;

/** A parameter as a literal of unknown type, as the server takes a parameter sent without one. */
const literal = (value: unknown): string => {
  const text = prepareValue(value);
  if (text === null) return 'NULL';
  const s = typeof text === 'string' ? text : `\\x${text.toString('hex')}`;
  // An E'' string reads the same whatever standard_conforming_strings says.
  return `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
};

/** `$n` placeholders replaced by their values; the statements' texts hold no `$` of their own. */
export const inlined = ({ text, params = [] }: Statement): string =>
  text.replace(/\$(\d+)/g, (_, n: string) => {
    if (Number(n) < 1 || Number(n) > params.length) throw new Error(`no parameter $${n} for: ${text}`);
    return literal(params[Number(n) - 1]);
  });

/**
 * The statements as one simple-protocol query: one round trip, where sending them one by one costs
 * one each, and a round trip is what a loaded machine makes slow (docs/design.md, "Projections and rebuilds").
 */
const scriptOn =
  (client: pg.PoolClient): NonNullable<SqlSession['script']> =>
  async (statements) => {
    const result = (await client.query(statements.map(inlined).join(';\n'))) as unknown as
      | QueryResult<Record<string, unknown>>
      | QueryResult<Record<string, unknown>>[];
    return Array.isArray(result) ? result : [result];
  };

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
    script: scriptOn(client),
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
