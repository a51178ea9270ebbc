// docker compose's PostgreSQL init script (deploy/postgres-init), run with psql as the postgres image
// runs it, against a real server of its own (the role name is fixed, so not the shared test server):
// it creates topicdesk_app, running it again changes the password, and the app configured as
// docker-compose.yml configures it (the image's superuser migrates) runs as topicdesk_app, which
// cannot delete events.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/adapters/postgres/embedded.ts';
import { startApp } from '../../src/app/app.ts';
import { loadConfig } from '../../src/app/config.ts';

const root = join(import.meta.dirname, '..', '..');
const script = join(root, 'deploy/postgres-init/10-topicdesk-app-role.sh');
const psql = spawnSync('psql', ['--version']).status === 0;

/** Runs the script as the image's entrypoint does: POSTGRES_USER, POSTGRES_DB and the password in its environment. */
const runInit = (server: EmbeddedPostgres, env: Record<string, string>) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const url = new URL(server.url);
    const child = spawn('sh', [script], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        PGHOST: '127.0.0.1',
        PGPORT: String(server.port),
        PGPASSWORD: decodeURIComponent(url.password),
        POSTGRES_USER: 'postgres',
        POSTGRES_DB: 'topicdesk',
        ...env,
      },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('close', (code) => resolve({ code, output }));
  });

const login = (server: EmbeddedPostgres, user: string, password: string) => {
  const u = new URL(server.url);
  u.username = user;
  u.password = password;
  u.pathname = '/topicdesk';
  return u.toString();
};

describe('the postgres init script of docker compose', {
  skip: psql ? false : 'no psql on this machine',
}, () => {
  let server: EmbeddedPostgres;

  before(async () => {
    server = await startEmbeddedPostgres({
      dataDir: join(tmpdir(), `topicdesk-compose-init-${process.pid}-${randomBytes(3).toString('hex')}`),
      throwaway: true,
      unsafeFast: true,
    });
    // What the image does before it runs the scripts: POSTGRES_USER (a superuser) and POSTGRES_DB.
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE topicdesk');
    await admin.end();
  });
  after(async () => {
    await server?.stop();
  });

  it('refuses to run without POSTGRES_APP_PASSWORD, naming it', async () => {
    const run = await runInit(server, {});
    assert.notEqual(run.code, 0);
    assert.match(run.output, /POSTGRES_APP_PASSWORD/);
  });

  it('creates topicdesk_app, and sets its password again when run again', async () => {
    const first = await runInit(server, { POSTGRES_APP_PASSWORD: 'first0password' });
    assert.equal(first.code, 0, first.output);
    const again = await runInit(server, { POSTGRES_APP_PASSWORD: 'second0password' });
    assert.equal(again.code, 0, again.output);
    const client = new pg.Client({ connectionString: login(server, 'topicdesk_app', 'second0password') });
    await client.connect();
    const { rows } = await client.query<{ role: string; superuser: boolean }>(
      'SELECT current_user AS role, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
    );
    await client.end();
    assert.deepEqual(rows, [{ role: 'topicdesk_app', superuser: false }]);
  });

  it('the app as compose configures it migrates as the superuser and runs as topicdesk_app', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const app = await startApp(
      loadConfig({
        DATABASE_URL: login(server, 'topicdesk_app', 'second0password'),
        DATABASE_OWNER_URL: server.url.replace(/\/postgres(?=\?|$)/, '/topicdesk'),
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_TOKEN: 'an-admin-token-of-32-characters',
      }),
      capture,
    );
    try {
      const ready = await fetch(`${app.address()}/readyz`);
      assert.equal(ready.status, 200);
      const me = await app.db.pool.query<{ role: string }>('SELECT current_user AS role');
      assert.equal(me.rows[0]!.role, 'topicdesk_app');
      assert.deepEqual(
        lines.filter((l) => /append-only/.test(l.msg)).map((l) => [l.level, l.msg]),
        [
          [
            30,
            'append-only: the service role topicdesk_app can read and append events, not change or remove them',
          ],
        ],
      );
      const refused = await app.db.pool.query('DELETE FROM td_events').then(
        () => undefined,
        (e: { code?: string }) => e.code,
      );
      assert.equal(refused, '42501');
    } finally {
      await app.stop();
    }
  });
});
