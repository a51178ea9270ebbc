// A fresh database per test file on the run's throwaway PostgreSQL (started by scripts/test.ts,
// or here when a file is run on its own). Real PostgreSQL, never a stand-in.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/adapters/postgres/embedded.ts';
import { eventLogMigrations, migrate } from '../../src/adapters/postgres/migrations.ts';

let ownServer: Promise<EmbeddedPostgres> | undefined;
let open = 0;

const serverUrl = async (): Promise<string> => {
  const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (url) return url;
  ownServer ??= startEmbeddedPostgres({
    dataDir: join(tmpdir(), `topicdesk-test-${process.pid}-${randomBytes(3).toString('hex')}`),
    throwaway: true,
    unsafeFast: true,
  });
  return (await ownServer).url;
};

export interface TestDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

const withDatabase = (url: string, name: string): string => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

export const createTestDatabase = async (options: { migrate?: boolean } = {}): Promise<TestDatabase> => {
  const admin = await serverUrl();
  const name = `td_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client(admin);
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  open += 1;
  const url = withDatabase(admin, name);
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on('error', () => undefined); // an idle connection dropped by a test that terminates backends
  if (options.migrate !== false) await migrate(pool, eventLogMigrations);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      open -= 1;
      // A file run on its own started its own server: the last database takes it down with it.
      if (open === 0 && ownServer) await stopOwnServer();
    },
  };
};

/** Stops the server this process started for itself (standalone runs only). */
export const stopOwnServer = async (): Promise<void> => {
  if (ownServer) await (await ownServer).stop();
  ownServer = undefined;
};
