// The append-only promise against the app's own database role: set up as start-up sets it up (an
// owner role migrates, the service role runs the app), the service role appends, reads, builds and
// rebuilds its read models, and every way of changing or removing a stored event is refused to it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import { loadConfig } from '../../src/app/config.ts';
import { allMigrations, prepareDatabase } from '../../src/app/context.ts';
import { type Database, openDatabase } from '../../src/app/database.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { allProjections } from '../../src/projections/index.ts';
import { messagesProjection } from '../../src/projections/read-models/messages.ts';
import { rebuildProjection } from '../../src/projections/rebuild.ts';
import { ensureActiveGeneration } from '../../src/projections/registry.ts';
import { startProjectionRunner } from '../../src/projections/runner.ts';
import { handlerFor, scriptedConversation } from '../support/conversations.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';

const quiet = pino({ level: 'silent' });

// Runners catching up on a busy machine: longer than waitFor's default.
const waitUntil = (what: string, check: () => Promise<boolean>, timeoutMs = 15_000) =>
  waitFor(what, check, timeoutMs);

/** Every stored event as it is, to compare before and after the attempts. */
const storedEvents = async (db: TestDatabase) =>
  (await db.pool.query('SELECT * FROM td_events ORDER BY position')).rows;

/** Runs one statement on a connection of its own as `url`'s role; the error it failed with, if any. */
const attempt = async (url: string, sql: string): Promise<{ code?: string; message: string } | undefined> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
    return undefined;
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  } finally {
    await client.end();
  }
};

/** What a service role that went rogue would try, one statement each. */
const tampering = [
  `UPDATE td_events SET data = '{"text":"rewritten"}'`,
  'DELETE FROM td_events',
  'TRUNCATE td_events',
  'ALTER TABLE td_events DISABLE TRIGGER td_events_append_only',
  'ALTER TABLE td_events DISABLE TRIGGER ALL',
  'SET session_replication_role = replica',
  'DROP TABLE td_events',
  'ALTER TABLE td_events RENAME TO td_events_old',
  `CREATE OR REPLACE FUNCTION td_append(p_stream text, p_expected bigint, p_ids uuid[], p_types text[],
     p_data jsonb[], p_meta jsonb[]) RETURNS TABLE (next_revision bigint, commit_id xid8, last_position bigint)
     LANGUAGE sql AS 'SELECT 0::bigint, pg_current_xact_id(), 0::bigint'`,
  `CREATE OR REPLACE FUNCTION td_try_append(p_stream text, p_expected bigint, p_ids uuid[], p_types text[],
     p_data jsonb[], p_meta jsonb[]) RETURNS TABLE (outcome text, next_revision bigint, commit_id xid8,
     last_position bigint, detail text) LANGUAGE sql AS 'SELECT ''appended'', 0::bigint, pg_current_xact_id(), 0::bigint, NULL'`,
  `CREATE OR REPLACE FUNCTION td_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'`,
  'CREATE RULE td_events_keep AS ON INSERT TO td_events DO INSTEAD NOTHING',
  'SELECT * FROM td_events FOR UPDATE',
  // A backdated event: the position, transaction id and recording time are the database's alone.
  `INSERT INTO td_events (event_id, stream, revision, type, data, metadata, recorded_at)
     VALUES (gen_random_uuid(), 'forged', 0, 'ClientMessageReceived', '{}', '{}', now() - interval '1 year')`,
  `INSERT INTO td_events (position, event_id, stream, revision, type, data, metadata) OVERRIDING SYSTEM VALUE
     VALUES (1000000, gen_random_uuid(), 'forged', 0, 'ClientMessageReceived', '{}', '{}')`,
  'CREATE SCHEMA td_shadow',
];

describe('the service role on a database set up as start-up sets it up', () => {
  let db: TestDatabase;
  let database: Database;
  let log: EventLog;
  let roles: NonNullable<TestDatabase['roles']>;

  before(async () => {
    db = await createTestDatabase({ migrate: false, roles: true });
    roles = db.roles!;
    const config = loadConfig({ DATABASE_URL: roles.serviceUrl, DATABASE_OWNER_URL: roles.ownerUrl });
    database = await openDatabase(config, quiet);
    await prepareDatabase(config, database, quiet);
    log = createPgEventLog({ pool: database.pool, connectionString: database.url, pollIntervalMs: 100 });
  });
  after(async () => {
    await log?.close();
    await database?.close();
    await db?.drop();
  });

  it('the owner role owns the log, its triggers and functions; the service role connects as itself', async () => {
    const { rows } = await db.pool.query<{ object: string; owner: string }>(
      `SELECT 'td_events' AS object, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'td_events'::regclass
       UNION ALL SELECT proname, pg_get_userbyid(proowner) FROM pg_proc
        WHERE proname IN ('td_append', 'td_try_append', 'td_try_append_many', 'td_stored_append', 'td_events_refuse_change')
        ORDER BY 1`,
    );
    assert.deepEqual(rows, [
      { object: 'td_append', owner: roles.owner },
      { object: 'td_events', owner: roles.owner },
      { object: 'td_events_refuse_change', owner: roles.owner },
      { object: 'td_stored_append', owner: roles.owner },
      { object: 'td_try_append', owner: roles.owner },
      { object: 'td_try_append_many', owner: roles.owner },
    ]);
    const me = await database.pool.query<{ role: string }>('SELECT current_user AS role');
    assert.equal(me.rows[0]!.role, roles.service);
  });

  it('appends, reads, and builds and rebuilds every read model as the service role', async () => {
    const service = sqlDatabase(database.pool);
    for (const projection of allProjections) await ensureActiveGeneration(service, projection);
    const runner = startProjectionRunner({ db: service, log, projections: allProjections });
    const handler = handlerFor(log);
    await scriptedConversation(handler, 'shop', 'before-rebuild', { messages: 2 });
    const listed = async (clientId: string) =>
      (await database.pool.query('SELECT 1 FROM rm_messages WHERE external_id = $1', [clientId])).rowCount;
    await waitUntil('the messages read model', async () => (await listed('before-rebuild')) === 4);

    // projections:rebuild as the service: a new generation beside the one in service, then the swap.
    const rebuilt = await rebuildProjection({ db: service, log, projection: messagesProjection });
    assert.equal(rebuilt.generation, 2);
    const owners = await db.pool.query<{ relname: string; owner: string }>(
      `SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class
        WHERE relname IN ('rm_messages', 'rm_messages_g2') ORDER BY relname`,
    );
    assert.deepEqual(
      owners.rows.map((r) => r.owner),
      [roles.service, roles.service],
    );
    await scriptedConversation(handler, 'shop', 'after-rebuild', { messages: 1 });
    await waitUntil('the rebuilt read model to follow', async () => (await listed('after-rebuild')) === 2);
    assert.equal(await listed('before-rebuild'), 4);
    await runner.stop();

    const read = await log.readStream(
      (await database.pool.query<{ stream: string }>('SELECT stream FROM td_events LIMIT 1')).rows[0]!.stream,
    );
    assert.ok(read.length > 0, 'the service reads the log');
  });

  it('refuses the service role every change to stored events, as a missing privilege, and keeps them as they were', async () => {
    const before = await storedEvents(db);
    assert.ok(before.length > 0);
    const outcomes = [];
    for (const sql of tampering)
      outcomes.push({ sql: sql.split('\n')[0], error: await attempt(roles.serviceUrl, sql) });
    assert.deepEqual(
      outcomes.filter((o) => o.error?.code !== '42501'),
      [],
      'each statement fails with insufficient_privilege (42501), not with the trigger or not at all',
    );
    assert.deepEqual(await storedEvents(db), before);
    assert.equal(
      (
        await db.pool.query(
          `SELECT 1 FROM pg_proc WHERE proname IN ('td_append', 'td_try_append') AND prosrc LIKE '%0::bigint%'`,
        )
      ).rowCount,
      0,
    );
  });

  it('an owner of the table, which the service was before, gets around the trigger: what the roles take away', async () => {
    // The control: the same statements bite for the owner role (rolled back: nothing changes).
    const owner = new pg.Client({ connectionString: roles.ownerUrl });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query('ALTER TABLE td_events DISABLE TRIGGER td_events_append_only');
      const { rowCount } = await owner.query(`UPDATE td_events SET data = '{"text":"rewritten"}'`);
      assert.ok((rowCount ?? 0) > 0, 'the owner rewrote events once the trigger was off');
      await owner.query('ROLLBACK');
    } finally {
      await owner.end();
    }
  });

  it('start-up says the service role cannot change events, and warns when it connects as one that can', async () => {
    const lines: Array<{ level: number; msg: string; risks?: string[] }> = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const config = loadConfig({ DATABASE_URL: roles.serviceUrl, DATABASE_OWNER_URL: roles.ownerUrl });
    await prepareDatabase(config, database, capture);
    assert.deepEqual(
      lines.filter((l) => l.level >= 40),
      [],
    );
    assert.ok(
      lines.some((l) =>
        l.msg.startsWith(`append-only: the service role ${roles.service} can read and append`),
      ),
    );

    // Migrated already (`topicdesk migrate` as a deploy step): the service starts without the owner's URL.
    lines.length = 0;
    const serviceOnly = loadConfig({ DATABASE_URL: roles.serviceUrl });
    const alone = await openDatabase(serviceOnly, capture);
    try {
      assert.deepEqual(await prepareDatabase(serviceOnly, alone, capture), []);
    } finally {
      await alone.close();
    }
    assert.deepEqual(
      lines.filter((l) => l.level >= 40),
      [],
    );

    // One URL for everything, as before the roles: the app runs as the superuser and is told so.
    lines.length = 0;
    const single = loadConfig({ DATABASE_URL: db.url });
    const superuser = await openDatabase(single, capture);
    try {
      await prepareDatabase(single, superuser, capture);
    } finally {
      await superuser.close();
    }
    const warnings = lines.filter((l) => l.level >= 40);
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.deepEqual(warnings[0]!.risks, ['is a superuser']);
    assert.match(warnings[0]!.msg, /could change or remove events.*DATABASE_OWNER_URL/);
  });
});

describe('an installation migrated by one role, then split into an owner and a service role', () => {
  let db: TestDatabase;
  let roles: NonNullable<TestDatabase['roles']>;

  before(async () => {
    db = await createTestDatabase({ migrate: false, roles: true });
    roles = db.roles!;
  });
  after(async () => {
    await db?.drop();
  });

  it('hands the read models to the service role at the first start with both URLs, and rebuilds work', async () => {
    // Before: the owner's URL was the only one: it migrated and built the read models itself.
    const before = loadConfig({ DATABASE_URL: roles.ownerUrl });
    const single = await openDatabase(before, quiet);
    try {
      await migrate(single.pool, allMigrations(before));
      for (const projection of allProjections)
        await ensureActiveGeneration(sqlDatabase(single.pool), projection);
      const ownerLog = createPgEventLog({ pool: single.pool, connectionString: single.url });
      await scriptedConversation(handlerFor(ownerLog), 'shop', 'old', { messages: 1 });
      await ownerLog.close();
    } finally {
      await single.close();
    }

    const after = loadConfig({ DATABASE_URL: roles.serviceUrl, DATABASE_OWNER_URL: roles.ownerUrl });
    const split = await openDatabase(after, quiet);
    const log = createPgEventLog({ pool: split.pool, connectionString: split.url, pollIntervalMs: 100 });
    try {
      // Without the membership the owner may not give the read models away: start-up says what to run.
      await db.pool.query(`REVOKE ${roles.service} FROM ${roles.owner}`);
      await assert.rejects(
        prepareDatabase(after, split, quiet),
        new RegExp(`belongs to ${roles.owner}.*GRANT ${roles.service} TO ${roles.owner}`),
      );
      await db.pool.query(`GRANT ${roles.service} TO ${roles.owner}`);
      await prepareDatabase(after, split, quiet);
      const { rows } = await db.pool.query<{ relname: string; owner: string }>(
        `SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class
          WHERE relkind IN ('r', 'v') AND relname LIKE 'rm\\_%' ORDER BY relname`,
      );
      assert.ok(rows.length >= 10, JSON.stringify(rows));
      assert.deepEqual(
        rows.filter((r) => r.owner !== roles.service),
        [],
      );
      const service = sqlDatabase(split.pool);
      const runner = startProjectionRunner({ db: service, log, projections: [messagesProjection] });
      const rebuilt = await rebuildProjection({ db: service, log, projection: messagesProjection });
      assert.equal(rebuilt.generation, 2);
      await runner.stop();
      assert.equal((await attempt(roles.serviceUrl, 'DELETE FROM td_events'))?.code, '42501');
      // And again: a second start changes nothing and fails on nothing.
      await prepareDatabase(after, split, quiet);
    } finally {
      await log.close();
      await split.close();
    }
  });
});
