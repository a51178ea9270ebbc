// `npm start` without DATABASE_URL, on a data directory an earlier release left behind (everything
// owned by the superuser `postgres`, which the app connected as): the app now connects as the
// service role, which cannot change or remove events, while the old events and read models carry
// on; `projections:rebuild` works as the operator runs it, and a second start changes nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { freePort, startEmbeddedPostgres } from '../../src/adapters/postgres/embedded.ts';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import { type App, startApp } from '../../src/app/app.ts';
import { loadConfig } from '../../src/app/config.ts';
import { waitFor } from '../support/app-harness.ts';
import { cli } from '../support/cli.ts';

const quiet = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const post = async (app: App, token: string, externalId: string, text: string) =>
  fetch(`${app.address()}/api/external/${externalId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });

const listed = async (app: App, token: string) => {
  const res = await fetch(`${app.address()}/api/external/messages?limit=200`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text);
};

describe('the embedded default on a data directory from before the database roles', () => {
  let dataDir: string;
  let port: number;
  let token: string;
  let app: App | undefined;
  const superuser = async () => {
    const password = (await readFile(join(dataDir, 'postgres', 'password'), 'utf8')).trim();
    const client = new pg.Client({
      connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/topicdesk`,
    });
    await client.connect();
    return client;
  };
  const env = () => ({
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(port),
    PORT: '0',
    HOST: '127.0.0.1',
    API_WRITE_WAIT_MS: '10000',
  });
  const start = async () => {
    app = await startApp(loadConfig(env()), quiet());
    return app;
  };

  before(async () => {
    // Not mkdtemp: its 0700 directory would shut out the unprivileged `postgres` user when run as root.
    dataDir = join(tmpdir(), `topicdesk-embedded-roles-${process.pid}-${randomBytes(3).toString('hex')}`);
    port = await freePort();
    // What an earlier release did: the superuser creates `topicdesk` and the app runs as the superuser.
    const server = await startEmbeddedPostgres({
      dataDir: join(dataDir, 'postgres'),
      port,
      unsafeFast: true,
    });
    try {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query('CREATE DATABASE topicdesk');
      await admin.end();
      const old = await startApp(
        loadConfig({ ...env(), DATABASE_URL: server.url.replace(/\/postgres(?=\?|$)/, '/topicdesk') }),
        quiet(),
      );
      try {
        const source = await createSource(old.log, 'shop', null);
        token = source.token;
        await waitFor('the token', async () => Boolean(await authenticate(old.db.pool, token)));
        assert.equal((await post(old, token, 'ada', 'written before the roles')).status, 201);
      } finally {
        await old.stop();
      }
    } finally {
      await server.stop();
    }
  });
  after(async () => {
    await app?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('connects as topicdesk_app, which owns the read models but not the log', async () => {
    await start();
    const su = await superuser();
    try {
      const { rows } = await su.query<{ usename: string }>(
        `SELECT DISTINCT usename FROM pg_stat_activity
          WHERE datname = 'topicdesk' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      assert.deepEqual(
        rows.map((r) => r.usename),
        ['topicdesk_app'],
      );
      const owners = await su.query<{ relname: string; owner: string }>(
        `SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class
          WHERE relname IN ('td_events', 'td_projections', 'rm_messages', 'rm_messages_g1') ORDER BY relname`,
      );
      assert.deepEqual(owners.rows, [
        { relname: 'rm_messages', owner: 'topicdesk_app' },
        { relname: 'rm_messages_g1', owner: 'topicdesk_app' },
        { relname: 'td_events', owner: 'topicdesk_owner' },
        { relname: 'td_projections', owner: 'topicdesk_owner' },
      ]);
    } finally {
      await su.end();
    }
    for (const file of ['owner-password', 'app-password']) {
      assert.equal((await stat(join(dataDir, 'postgres', file))).mode & 0o777, 0o600, `${file} is 0600`);
    }
  });

  it('the role the app connects as cannot change or remove events', async () => {
    const su = await superuser();
    try {
      const { rows } = await su.query<{ usename: string }>(
        `SELECT usename FROM pg_stat_activity WHERE datname = 'topicdesk' AND backend_type = 'client backend'
            AND pid <> pg_backend_pid() LIMIT 1`,
      );
      const before = (await su.query('SELECT * FROM td_events ORDER BY position')).rows;
      await su.query(`SET ROLE ${su.escapeIdentifier(rows[0]!.usename)}`);
      const refused: string[] = [];
      for (const sql of [
        `UPDATE td_events SET data = '{}'`,
        'DELETE FROM td_events',
        'TRUNCATE td_events',
        'ALTER TABLE td_events DISABLE TRIGGER ALL',
        'SET session_replication_role = replica',
      ]) {
        const error = await su.query(sql).then(
          () => undefined,
          (e: { code?: string }) => e.code,
        );
        if (error === '42501') refused.push(sql);
      }
      await su.query('RESET ROLE');
      assert.equal(refused.length, 5, `refused only: ${refused.join('; ')}`);
      assert.deepEqual((await su.query('SELECT * FROM td_events ORDER BY position')).rows, before);
    } finally {
      await su.end();
    }
  });

  it('keeps the old messages and records new ones', async () => {
    assert.ok(app);
    assert.equal((await post(app, token, 'ada', 'written as topicdesk_app')).status, 201);
    assert.deepEqual(await listed(app, token), ['written before the roles', 'written as topicdesk_app']);
  });

  it('rebuilds a projection with the CLI on the embedded server, and starts again on it', async () => {
    await app?.stop();
    app = undefined;
    const run = await cli(['projections:rebuild', 'messages'], env());
    assert.equal(run.code, 0, run.stderr);
    await start();
    assert.deepEqual(await listed(app!, token), ['written before the roles', 'written as topicdesk_app']);
    const su = await superuser();
    try {
      const { rows } = await su.query<{ owner: string }>(
        `SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'rm_messages_g2'`,
      );
      assert.deepEqual(rows, [{ owner: 'topicdesk_app' }]);
    } finally {
      await su.end();
    }
  });
});
