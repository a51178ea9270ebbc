// A fresh database per test file on the run's throwaway PostgreSQL (started by scripts/test.ts,
// or here when a file is run on its own). Real PostgreSQL, never a stand-in.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/adapters/postgres/embedded.ts';
import { eventLogMigrations, migrate } from '../../src/adapters/postgres/migrations.ts';
import { setUpRoles } from '../../src/adapters/postgres/roles.ts';

let ownServer: Promise<EmbeddedPostgres> | undefined;
let open = 0;

/** A throwaway server, fast and not durable, in a directory named after `kind` and this process. */
const throwawayServer = (kind: string) =>
  startEmbeddedPostgres({
    dataDir: join(tmpdir(), `topicdesk-${kind}-${process.pid}-${randomBytes(3).toString('hex')}`),
    throwaway: true,
    unsafeFast: true,
  });

const serverUrl = async (): Promise<string> => {
  const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (url) return url;
  ownServer ??= throwawayServer('test');
  return (await ownServer).url;
};

export interface TestDatabase {
  /** The superuser's URL of this database (`pool` connects with it). */
  readonly url: string;
  readonly pool: pg.Pool;
  /** With `roles`: the owner and service roles, set up as the embedded start-up sets them up. */
  readonly roles?: {
    readonly owner: string;
    readonly service: string;
    /** DATABASE_OWNER_URL: the owner role, migrations only. */
    readonly ownerUrl: string;
    /** DATABASE_URL: the service role the app connects as. */
    readonly serviceUrl: string;
  };
  drop(): Promise<void>;
}

const withDatabase = (url: string, name: string, login?: { name: string; password: string }): string => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  if (login) {
    u.username = login.name;
    u.password = login.password;
  }
  return u.toString();
};

export const createTestDatabase = async (
  options: {
    migrate?: boolean;
    /** Owner and service roles of this database's own (role names are cluster-wide: unique per database). */
    roles?: boolean;
    /**
     * On a server of its own, stopped with `drop()`. For tests that depend on what the log's reads see:
     * its horizon is the whole cluster's oldest open transaction, which other files' would hold back.
     */
    isolated?: boolean;
  } = {},
): Promise<TestDatabase> => {
  const isolated = options.isolated ? await throwawayServer('test-isolated') : undefined;
  const admin = isolated?.url ?? (await serverUrl());
  const suffix = randomBytes(6).toString('hex');
  const name = `td_test_${suffix}`;
  const login = (role: string) => ({ name: `${role}_${suffix}`, password: randomBytes(12).toString('hex') });
  const owner = login('td_owner');
  const service = login('td_app');
  const create = async () => {
    if (options.roles) return setUpRoles({ superuserUrl: admin, database: name, owner, service });
    const client = new pg.Client(admin);
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
  };
  // A server of its own that fails to take the database is stopped, not left running.
  await create().catch(async (error: unknown) => {
    await isolated?.stop();
    throw error;
  });
  if (!isolated) open += 1;
  const url = withDatabase(admin, name);
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on('error', () => undefined); // an idle connection dropped by a test that terminates backends
  // With roles the owner migrates, as the app does at start (prepareDatabase), not the superuser.
  if (options.migrate !== false && !options.roles) await migrate(pool, eventLogMigrations);
  return {
    url,
    pool,
    ...(options.roles
      ? {
          roles: {
            owner: owner.name,
            service: service.name,
            ownerUrl: withDatabase(admin, name, owner),
            serviceUrl: withDatabase(admin, name, service),
          },
        }
      : {}),
    async drop() {
      await pool.end();
      // A server of its own goes with its database: nothing to drop first.
      if (isolated) return void (await isolated.stop());
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (options.roles) {
        await c.query(`DROP ROLE IF EXISTS ${service.name}`);
        await c.query(`DROP ROLE IF EXISTS ${owner.name}`);
      }
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

/** The backends that hold the session advisory lock named `key` (as the leader loop takes it) now. */
export const lockHolders = async (pool: pg.Pool, key: string): Promise<number[]> => {
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext($1)::bigint`,
    [key],
  );
  return rows.map((r) => r.pid);
};
