// Who may do what in topicdesk's PostgreSQL database. The owner role owns the event log (td_events,
// its triggers and functions) and the bookkeeping tables, and runs the migrations; the service role,
// which the running app connects as, may read the log and append to it, and owns the read models it
// builds and rebuilds. Without ownership, superuser or UPDATE/DELETE/TRUNCATE rights, the service
// role cannot change or remove an event (docs/design.md, "The append-only guarantee").
import pg from 'pg';
import type { Migration } from './migrations.ts';

export interface LoginRole {
  readonly name: string;
  readonly password: string;
}

/** The roles the embedded server sets up (an operator's own server may name them otherwise). */
export const EMBEDDED_ROLES = { owner: 'topicdesk_owner', service: 'topicdesk_app' } as const;

/** The advisory lock the migrations take: grants race like migrations do ("tuple concurrently updated"). */
const MIGRATE_LOCK = `hashtext('topicdesk:migrate')`;
/** Taken while the roles are set up: ALTER ROLE races like that too. */
const ROLES_LOCK = `hashtext('topicdesk:roles')`;

const connect = async (url: string): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
};

const withDatabase = (url: string, database: string): string => {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
};

/**
 * As a superuser (the embedded start-up, the tests): creates the owner and service login roles or
 * resets their passwords and attributes, makes the owner own the database, and hands the owner what
 * an earlier release created as the superuser. Idempotent; run at every embedded start.
 */
export const setUpRoles = async (options: {
  readonly superuserUrl: string;
  readonly database: string;
  readonly owner: LoginRole;
  readonly service: LoginRole;
}): Promise<void> => {
  const { owner, service, database } = options;
  const admin = await connect(options.superuserUrl);
  try {
    // Processes sharing one embedded server (the app, a CLI command) set the roles up at once.
    await admin.query(`SELECT pg_advisory_lock(${ROLES_LOCK})`);
    const id = (name: string) => admin.escapeIdentifier(name);
    for (const role of [owner, service]) {
      const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.name]);
      // Neither role may bypass privileges: the guarantee rests on what they are granted.
      await admin.query(
        `${exists.rowCount === 0 ? 'CREATE' : 'ALTER'} ROLE ${id(role.name)} LOGIN NOSUPERUSER NOCREATEDB
         NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${admin.escapeLiteral(role.password)}`,
      );
    }
    // The owner may hand read models an earlier release created to the service role (ALTER … OWNER
    // needs that membership); the other way round would give the service the owner's rights.
    const member = await admin.query(
      `SELECT 1 FROM pg_auth_members WHERE roleid = to_regrole($1) AND member = to_regrole($2)`,
      [service.name, owner.name],
    );
    if (member.rowCount === 0) await admin.query(`GRANT ${id(service.name)} TO ${id(owner.name)}`);
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (db.rowCount === 0) await admin.query(`CREATE DATABASE ${id(database)} OWNER ${id(owner.name)}`);
    // The database owner owns its public schema (PostgreSQL 15+): the owner role, never the service.
    else await admin.query(`ALTER DATABASE ${id(database)} OWNER TO ${id(owner.name)}`);
    const inDb = await connect(withDatabase(options.superuserUrl, database));
    try {
      await adoptSuperuserObjects(inDb, owner.name, service.name);
    } finally {
      await inDb.end();
    }
  } finally {
    await admin.end(); // ends the session, and with it the lock
  }
};

/**
 * Releases before the two roles ran everything as the superuser, which then owned the log: its
 * tables, views and functions in the schema go to the owner (the owner's grant step then hands the
 * read models on to the service role).
 */
const adoptSuperuserObjects = async (client: pg.Client, owner: string, service: string): Promise<void> => {
  const objects = await client.query<{ kind: string; name: string }>(
    `SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
              WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
            format('%I', c.relname) AS name
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace
        AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        AND c.relowner NOT IN (to_regrole($1), to_regrole($2))
        -- identity and serial sequences follow their table
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
     UNION ALL
     SELECT 'FUNCTION', p.oid::regprocedure::text
       FROM pg_proc p
      WHERE p.pronamespace = current_schema()::regnamespace
        AND p.proowner NOT IN (to_regrole($1), to_regrole($2))
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')`,
    [owner, service],
  );
  for (const o of objects.rows) {
    await client.query(`ALTER ${o.kind} ${o.name} OWNER TO ${client.escapeIdentifier(owner)}`);
  }
};

/**
 * As the owner, after the migrations and at every start: what the service role needs. Each
 * migration grants on what it created (`grants`); the service may create tables in the schema for
 * its read models, and read models the owner holds (an earlier release's) become the service's, so
 * that it can drop and rebuild them.
 */
export const grantServiceRole = async (
  pool: pg.Pool,
  options: {
    readonly service: string;
    readonly migrations: readonly Migration[];
    /** The read models' table and view names (projections' `tables`); generations are `<name>_g<n>`. */
    readonly readModels: readonly string[];
  },
): Promise<void> => {
  const client = await pool.connect();
  try {
    const service = client.escapeIdentifier(options.service);
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATE_LOCK})`);
    const { rows } = await client.query<{ me: string; schema: string }>(
      'SELECT current_user AS me, current_schema() AS schema',
    );
    const { me, schema } = rows[0]!;
    if (me === options.service) {
      // One role for both: nothing to grant (revoking from it would take the owner's own rights).
      await client.query('COMMIT');
      return;
    }
    await client.query(`GRANT USAGE, CREATE ON SCHEMA ${client.escapeIdentifier(schema)} TO ${service}`);
    // Seeing that nothing is left to migrate lets the service start without the owner's credentials.
    await client.query(`GRANT SELECT ON td_migrations TO ${service}`);
    for (const m of options.migrations) if (m.grants) await client.query(m.grants(service));
    const canCreate = await client.query<{ ok: boolean }>(
      `SELECT has_schema_privilege($1, $2, 'CREATE') AS ok`,
      [options.service, schema],
    );
    if (!canCreate.rows[0]?.ok) {
      throw new Error(
        `the service role ${options.service} cannot create its read models in schema ${schema}, and ${me} may not grant it: as the schema's owner or a superuser, GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${options.service}`,
      );
    }
    await handOverReadModels(client, me, options.service, options.readModels);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
};

const handOverReadModels = async (
  client: pg.PoolClient,
  me: string,
  service: string,
  names: readonly string[],
): Promise<void> => {
  const { rows } = await client.query<{ name: string; view: boolean; holder: string }>(
    `SELECT c.relname AS name, c.relkind = 'v' AS view, pg_get_userbyid(c.relowner) AS holder
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace
        AND c.relkind IN ('r', 'p', 'v')
        AND c.relowner <> to_regrole($1)
        AND (c.relname = ANY ($2) OR substring(c.relname FROM '^(.*)_g[0-9]+$') = ANY ($2))
      ORDER BY c.relname`,
    [service, names],
  );
  for (const r of rows) {
    const name = client.escapeIdentifier(r.name);
    try {
      await client.query(
        `ALTER ${r.view ? 'VIEW' : 'TABLE'} ${name} OWNER TO ${client.escapeIdentifier(service)}`,
      );
    } catch (error) {
      throw new Error(
        `the read model ${r.name} belongs to ${r.holder}, and ${me} cannot hand it to the service role ${service} (${(error as Error).message}): as a superuser, GRANT ${service} TO ${me}, or ALTER ${r.view ? 'VIEW' : 'TABLE'} ${r.name} OWNER TO ${service}`,
      );
    }
  }
};

/**
 * What the role `pool` connects as could do to the stored events, each as a short clause; empty
 * when it can only read and append. Checked at start-up so that a setup that leaves the log open
 * to the running service says so.
 */
export const appendOnlyRisks = async (pool: pg.Pool): Promise<{ role: string; risks: string[] }> => {
  const { rows } = await pool.query<{
    role: string;
    superuser: boolean;
    owner: string;
    owns: boolean;
    schema: string;
    owns_schema: boolean;
    update: boolean;
    delete: boolean;
    truncate: boolean;
    trigger: boolean;
    replication_role: boolean;
  }>(
    `SELECT current_user AS role, r.rolsuper AS superuser,
            pg_get_userbyid(c.relowner) AS owner, pg_has_role(c.relowner, 'MEMBER') AS owns,
            n.nspname AS schema, pg_has_role(n.nspowner, 'MEMBER') AS owns_schema,
            has_table_privilege(c.oid, 'UPDATE') AS update, has_table_privilege(c.oid, 'DELETE') AS delete,
            has_table_privilege(c.oid, 'TRUNCATE') AS truncate, has_table_privilege(c.oid, 'TRIGGER') AS trigger,
            CASE WHEN current_setting('server_version_num')::int >= 150000
                 THEN has_parameter_privilege('session_replication_role', 'SET') ELSE r.rolsuper END AS replication_role
       FROM pg_roles r, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE r.rolname = current_user AND c.oid = to_regclass('td_events')`,
  );
  const r = rows[0];
  if (!r) {
    const me = await pool.query<{ role: string }>('SELECT current_user AS role');
    return { role: me.rows[0]!.role, risks: [] };
  }
  if (r.superuser) return { role: r.role, risks: ['is a superuser'] };
  const risks: string[] = [];
  if (r.owns)
    risks.push(r.owner === r.role ? 'owns td_events' : `is a member of ${r.owner}, which owns td_events`);
  else if (r.owns_schema) risks.push(`owns the schema ${r.schema}, so it can drop td_events`);
  const rights = (['update', 'delete', 'truncate', 'trigger'] as const).filter((p) => r[p]);
  if (!r.owns && rights.length > 0)
    risks.push(`has ${rights.map((p) => p.toUpperCase()).join(', ')} on td_events`);
  if (r.replication_role) risks.push('may SET session_replication_role (which skips triggers)');
  return { role: r.role, risks };
};
