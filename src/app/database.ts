// The read-model database and (by default) the event log: DATABASE_URL, or an embedded PostgreSQL
// under DATA_DIR that survives restarts.
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { startEmbeddedPostgres } from '../adapters/postgres/embedded.ts';
import type { Config } from './config.ts';

// bigint columns (counts, positions) arrive as strings; the adapters convert them where they need numbers.
export interface Database {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly embedded: boolean;
  close(): Promise<void>;
}

export const openDatabase = async (config: Config, logger: Logger): Promise<Database> => {
  if (config.DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 20 });
    pool.on('error', (err) => logger.warn({ err }, 'idle database connection failed'));
    return { url: config.DATABASE_URL, pool, embedded: false, close: () => pool.end() };
  }
  const started = Date.now();
  const server = await startEmbeddedPostgres({
    dataDir: join(resolve(config.DATA_DIR), 'postgres'),
    port: config.EMBEDDED_PG_PORT,
    log: (line) => logger.info({ component: 'embedded-postgres' }, line),
  });
  const admin = new pg.Client(server.url);
  await admin.connect();
  const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'topicdesk'`);
  if (exists.rowCount === 0) await admin.query('CREATE DATABASE topicdesk');
  await admin.end();
  const url = server.url.replace(/\/postgres$/, '/topicdesk');
  logger.info(
    { component: 'embedded-postgres', ms: Date.now() - started },
    `embedded PostgreSQL ready (set DATABASE_URL to use your own server)`,
  );
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on('error', (err) => logger.warn({ err }, 'idle database connection failed'));
  return {
    url,
    pool,
    embedded: true,
    async close() {
      await pool.end();
      await server.stop();
    },
  };
};
