// The service as `npm start` runs it, on a real PostgreSQL: health, readiness, metrics, docs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/adapters/logging/logger.ts';
import { type App, startApp } from '../../src/app/app.ts';
import { loadConfig } from '../../src/app/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('operations endpoints', () => {
  let db: TestDatabase;
  let app: App;
  // Configured as documented: the service role runs the app, the owner role migrates.
  const config = () =>
    loadConfig({
      DATABASE_URL: db.roles!.serviceUrl,
      DATABASE_OWNER_URL: db.roles!.ownerUrl,
      PORT: '0',
      HOST: '127.0.0.1',
    });
  before(async () => {
    db = await createTestDatabase({ migrate: false, roles: true });
    app = await startApp(config(), createLogger({ level: 'silent' }));
  });
  after(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('starts with one warning per channel not configured, naming its variables, and no other', async () => {
    const lines: Array<{ level: number; msg: string; channel?: string }> = [];
    const capture = createLogger({
      level: 'info',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const other = await startApp(config(), capture);
    await other.stop();
    const warnings = lines.filter((l) => l.level >= 40);
    assert.deepEqual(
      warnings.map((w) => w.channel),
      ['telegram', 'vk', 'admin'],
      warnings.map((w) => w.msg).join('\n'),
    );
    assert.match(
      warnings[0]!.msg,
      /^telegram: not configured — set TELEGRAM_BOT_TOKEN and TELEGRAM_SUPPORT_CHAT_ID/,
    );
    assert.match(
      warnings[1]!.msg,
      /^vk: not configured — set VK_TOKEN, VK_GROUP_ID, VK_CONFIRMATION and VK_SECRET/,
    );
    assert.match(warnings[2]!.msg, /^admin: not configured — set ADMIN_TOKEN/);
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${app.address()}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('answers /readyz with each dependency checked, having migrated the log on start', async () => {
    const res = await fetch(`${app.address()}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ready', checks: { eventLog: 'ok', database: 'ok' } });
  });

  it('serves Prometheus metrics including request latency', async () => {
    await fetch(`${app.address()}/healthz`);
    const res = await fetch(`${app.address()}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(
      text,
      /topicdesk_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const doc = (await (await fetch(`${app.address()}/openapi.json`)).json()) as {
      openapi: string;
      paths: object;
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok('/readyz' in doc.paths);
    assert.equal((await fetch(`${app.address()}/docs/`)).status, 200);
  });

  it('answers an unknown route with problem+json', async () => {
    const res = await fetch(`${app.address()}/nope`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(((await res.json()) as { status: number }).status, 404);
  });

  it('reports not ready when the database is unreachable', async () => {
    const other = await createTestDatabase({ migrate: false });
    const broken = await startApp(
      loadConfig({ DATABASE_URL: other.url, PORT: '0', HOST: '127.0.0.1' }),
      createLogger({ level: 'silent' }),
    );
    const name = new URL(other.url).pathname.slice(1);
    const admin = new pg.Client(other.url.replace(`/${name}`, '/postgres'));
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
      await broken.db.pool.query('SELECT 1').catch(() => undefined); // let the pool notice its dead connections
      const res = await fetch(`${broken.address()}/readyz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { status: string; checks: Record<string, string> };
      assert.equal(body.status, 'unavailable');
      assert.notEqual(body.checks.database, 'ok');
    } finally {
      await broken.stop();
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
      await other.drop();
    }
  });
});
