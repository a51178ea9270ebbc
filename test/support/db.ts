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

/** A throwaway server of its own, for a database no other test file shares a cluster with. */
const isolatedServer = () =>
  startEmbeddedPostgres({
    dataDir: join(tmpdir(), `topicdesk-test-isolated-${process.pid}-${randomBytes(3).toString('hex')}`),
    throwaway: true,
    unsafeFast: true,
  });

export const createTestDatabase = async (
  options: {
    migrate?: boolean;
    /** Owner and service roles of this database's own (role names are cluster-wide: unique per database). */
    roles?: boolean;
    /**
     * On a server of its own, stopped with `drop()`. For tests that count the log's reads: its horizon
     * is the whole cluster's oldest open transaction, which other files' transactions would hold back.
     */
    isolated?: boolean;
  } = {},
): Promise<TestDatabase> => {
  const isolated = options.isolated ? await isolatedServer() : undefined;
  const admin = isolated?.url ?? (await serverUrl());
  const suffix = randomBytes(6).toString('hex');
  const name = `td_test_${suffix}`;
  const login = (role: string) => ({ name: `${role}_${suffix}`, password: randomBytes(12).toString('hex') });
  const owner = login('td_owner');
  const service = login('td_app');
  if (options.roles) {
    await setUpRoles({ superuserUrl: admin, database: name, owner, service });
  } else {
    const client = new pg.Client(admin);
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
  }
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
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (options.roles) {
        await c.query(`DROP ROLE IF EXISTS ${service.name}`);
        await c.query(`DROP ROLE IF EXISTS ${owner.name}`);
      }
      await c.end();
      if (isolated) return void (await isolated.stop());
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
