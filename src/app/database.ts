// The read-model database and (by default) the event log: DATABASE_URL, or an embedded PostgreSQL
// under DATA_DIR that survives restarts. The app connects as the service role; migrations run as
// the owner role (DATABASE_OWNER_URL), see docs/design.md, "The append-only guarantee".
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { startEmbeddedPostgres } from '../adapters/postgres/embedded.ts';
import { EMBEDDED_ROLES, type LoginRole, setUpRoles } from '../adapters/postgres/roles.ts';
import type { Config } from './config.ts';

// bigint columns (counts, positions) arrive as strings; the adapters convert them where they need numbers.
export interface Database {
  /** Where the service role connects: the app's pool and its LISTEN connections. */
  readonly url: string;
  readonly pool: pg.Pool;
  /** Where the owner role connects, for migrations only; absent: they run on `url` (one role for all). */
  readonly ownerUrl?: string;
  readonly embedded: boolean;
  close(): Promise<void>;
}

const EMBEDDED_DATABASE = 'topicdesk';

const servicePool = (url: string, logger: Logger) => {
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on('error', (err) => logger.warn({ err }, 'idle database connection failed'));
  return pool;
};

/** `url` logging in as `role` to `database`. */
const loginUrl = (url: string, role: LoginRole, database: string): string => {
  const u = new URL(url);
  u.username = role.name;
  u.password = role.password;
  u.pathname = `/${database}`;
  return u.toString();
};

export const openDatabase = async (config: Config, logger: Logger): Promise<Database> => {
  if (config.DATABASE_URL) {
    const pool = servicePool(config.DATABASE_URL, logger);
    return {
      url: config.DATABASE_URL,
      pool,
      ...(config.DATABASE_OWNER_URL ? { ownerUrl: config.DATABASE_OWNER_URL } : {}),
      embedded: false,
      close: () => pool.end(),
    };
  }
  const started = Date.now();
  const server = await startEmbeddedPostgres({
    dataDir: join(resolve(config.DATA_DIR), 'postgres'),
    port: config.EMBEDDED_PG_PORT,
    log: (line) => logger.info({ component: 'embedded-postgres' }, line),
  });
  try {
    // The superuser only sets the two roles up; their passwords are kept beside its own.
    const owner = { name: EMBEDDED_ROLES.owner, password: await server.secret('owner-password') };
    const service = { name: EMBEDDED_ROLES.service, password: await server.secret('app-password') };
    await setUpRoles({ superuserUrl: server.url, database: EMBEDDED_DATABASE, owner, service });
    const url = loginUrl(server.url, service, EMBEDDED_DATABASE);
    logger.info(
      {
        component: 'embedded-postgres',
        ms: Date.now() - started,
        role: service.name,
        shared: !server.started,
      },
      `embedded PostgreSQL ready (set DATABASE_URL to use your own server)`,
    );
    const pool = servicePool(url, logger);
    return {
      url,
      pool,
      ownerUrl: loginUrl(server.url, owner, EMBEDDED_DATABASE),
      embedded: true,
      async close() {
        await pool.end();
        // Stops the server unless another topicdesk process (the app, a CLI command) still uses it.
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
};
