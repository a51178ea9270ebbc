// sources:create, tokens:create, tokens:revoke and sources:list run as `npx topicdesk` runs them (the
// CLI in a child process) against a real database: what they print is what an operator copies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import { authenticate, createSource, readSource } from '../../src/adapters/sources/sources.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { registryMigrations } from '../../src/projections/index.ts';
import { sourcesProjection } from '../../src/projections/read-models/sources.ts';
import { catchUpProjection } from '../../src/projections/runner.ts';
import { cli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('source commands (CLI, real database)', () => {
  let db: TestDatabase;
  let log: EventLog;
  const env = () => ({ DATABASE_URL: db.url });
  const fresh = () => catchUpProjection({ db: sqlDatabase(db.pool), log, projection: sourcesProjection });

  before(async () => {
    db = await createTestDatabase();
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
  });
  after(async () => {
    await log.close();
    await db.drop();
  });

  it('sources:create prints the webhook secret and, alone on the last line, a token that works', async () => {
    const run = await cli(
      ['sources:create', 'shop', '--webhook-url', 'https://shop.example.com/hooks'],
      env(),
    );
    assert.equal(run.code, 0, run.stderr);
    const token = run.lines.at(-1)!;
    assert.match(token, /^td_/);
    const secretLine = run.lines.find((l) => l.startsWith('webhook secret'));
    const secret = /whsec_\S+/.exec(secretLine ?? '')?.[0];
    assert.ok(secret, run.stdout);
    assert.equal(
      secret,
      (await readSource(log, 'shop')).webhookSecret,
      'the secret the webhooks are signed with',
    );

    await fresh();
    assert.equal((await authenticate(db.pool, token))?.code, 'shop');

    const polling = await cli(['sources:create', 'forms'], env());
    assert.equal(polling.code, 0, polling.stderr);
    assert.ok(!polling.stdout.includes('whsec_'), 'no webhook, no webhook secret');
  });

  it('tokens:create issues another token; tokens:revoke ends one; sources:list shows both', async () => {
    const created = await cli(['tokens:create', 'shop'], env());
    assert.equal(created.code, 0, created.stderr);
    const token = created.lines.at(-1)!;
    const tokenId = /token id: (\S+)/.exec(created.stdout)?.[1];
    assert.ok(tokenId, created.stdout);
    await fresh();
    assert.equal((await authenticate(db.pool, token))?.code, 'shop');

    const revoked = await cli(['tokens:revoke', tokenId], env());
    assert.equal(revoked.code, 0, revoked.stderr);
    await fresh();
    assert.equal(await authenticate(db.pool, token), undefined, 'the revoked token is refused');

    const list = await cli(['sources:list', '--json'], env());
    assert.equal(list.code, 0, list.stderr);
    const sources = JSON.parse(list.stdout) as Array<{ code: string; tokens: string }>;
    const shop = sources.find((s) => s.code === 'shop');
    assert.match(shop?.tokens ?? '', new RegExp(`${tokenId} \\(revoked\\)`));
    assert.deepEqual(
      sources.map((s) => s.code),
      ['forms', 'shop'],
    );

    const unknown = await cli(['tokens:revoke', 'nope'], env());
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no token nope/);
  });

  it("sources:create --compat and sources:compat set the dialect a source's token is answered in", async () => {
    const run = await cli(
      ['sources:create', 'widget', '--compat', 'tg-support-bot@5', '--time-zone', 'Asia/Yekaterinburg'],
      env(),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /speaks tg-support-bot@5 \(dates in Asia\/Yekaterinburg\)/);
    await fresh();
    assert.deepEqual((await authenticate(db.pool, run.lines.at(-1)!))?.compat, {
      dialect: 'tg-support-bot',
      version: 5,
      timeZone: 'Asia/Yekaterinburg',
    });

    const changed = await cli(['sources:compat', 'widget', 'tg-support-bot@6'], env());
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal((await readSource(log, 'widget')).compat?.version, 6);
    assert.equal((await readSource(log, 'widget')).compat?.timeZone, 'Europe/Moscow');
    const listed = await cli(['sources:list'], env());
    assert.match(listed.stdout, /tg-support-bot@6 \(Europe\/Moscow\)/);
    assert.equal((await cli(['sources:compat', 'widget', 'none'], env())).code, 0);
    assert.equal((await readSource(log, 'widget')).compat, undefined);

    const refused = await cli(['sources:create', 'legacy', '--compat', 'tg-support-bot@2'], env());
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /tg-support-bot@3, @4, @5 or @6/);
    assert.equal((await readSource(log, 'legacy')).registered, false, 'nothing recorded');
  });

  it('sources:create refuses a webhook URL on loopback, a private network or a metadata address, unless allowed', async () => {
    const refused: Array<[string, RegExp]> = [
      ['http://127.0.0.1:8080/hooks', /127\.0\.0\.1 is a loopback address/],
      ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local address/],
      ['http://[::1]/hooks', /::1 is a loopback address/],
      ['http://10.0.0.1/', /10\.0\.0\.1 is a private network address/],
      ['http://localhost:8080/hooks', /localhost resolves to .*loopback/],
    ];
    for (const [url, why] of refused) {
      const run = await cli(['sources:create', 'intranet', '--webhook-url', url], env());
      assert.equal(run.code, 1, `${url}: ${run.stdout}`);
      assert.match(run.stderr, /^topicdesk: --webhook-url /, url);
      assert.match(run.stderr, why, url);
      assert.match(run.stderr, /WEBHOOK_ALLOW_PRIVATE/, url);
      assert.equal(run.stdout, '', 'no token printed');
    }
    assert.equal((await readSource(log, 'intranet')).registered, false, 'nothing recorded');

    const allowed = await cli(
      ['sources:create', 'intranet', '--webhook-url', 'http://127.0.0.1:8080/hooks'],
      {
        ...env(),
        WEBHOOK_ALLOW_PRIVATE: '127.0.0.1',
      },
    );
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal((await readSource(log, 'intranet')).webhookUrl, 'http://127.0.0.1:8080/hooks');
    const changed = await cli(['app:generate-token', 'intranet', 'http://192.168.0.10/hooks'], {
      ...env(),
      WEBHOOK_ALLOW_PRIVATE: '127.0.0.1',
    });
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /the webhook URL 192\.168\.0\.10 is a private network address/);
    assert.equal((await readSource(log, 'intranet')).webhookUrl, 'http://127.0.0.1:8080/hooks', 'unchanged');
  });

  it('sources:rotate-webhook-secret prints the new secret once, alone on the last line; the old one signs until the grace ends', async () => {
    const before = (await readSource(log, 'shop')).webhookSecret;
    const started = Date.now();
    const run = await cli(['sources:rotate-webhook-secret', 'shop', '--grace', '2h'], env());
    assert.equal(run.code, 0, run.stderr);
    const secret = run.lines.at(-1)!;
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{32}$/);
    assert.match(run.stdout, /shown only this once/);
    const source = await readSource(log, 'shop');
    assert.equal(source.webhookSecret, secret);
    assert.equal(source.previousWebhookSecret, before);
    const until = Date.parse(source.previousValidUntil!);
    assert.ok(Math.abs(until - started - 2 * 3_600_000) < 60_000, source.previousValidUntil);
    assert.match(
      run.stdout,
      new RegExp(`until ${source.previousValidUntil} every webhook is signed with both secrets`),
    );
    const [event] = (await log.readStream('source-shop')).filter(
      (e) => e.type === 'SourceWebhookSecretRotated',
    );
    assert.equal(event?.metadata.actor.id, 'cli', 'audited: who rotated it');

    const bad = await cli(['sources:rotate-webhook-secret', 'shop', '--grace', 'a while'], env());
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--grace must be a duration up to 30d/);
    const unknown = await cli(['sources:rotate-webhook-secret', 'nope'], env());
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no source nope/);
  });
});

describe('catch-up for a command, behind an open transaction', () => {
  it('waits for events committed behind an older transaction instead of reporting without them', async () => {
    const db = await createTestDatabase();
    await migrate(db.pool, [...registryMigrations]);
    const log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    const blocker = await db.pool.connect();
    let committing: Promise<unknown> = Promise.resolve();
    try {
      await createSource(log, 'early', null);
      // An older transaction with an id, still open: what is appended now is committed but hidden.
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      await createSource(log, 'late', null);
      committing = new Promise((r) => setTimeout(r, 300)).then(() => blocker.query('COMMIT'));
      const result = await catchUpProjection({
        db: sqlDatabase(db.pool),
        log,
        projection: sourcesProjection,
      });
      assert.equal(result, 'caught-up');
      const { rows } = await db.pool.query<{ code: string }>('SELECT code FROM rm_sources ORDER BY code');
      assert.deepEqual(
        rows.map((r) => r.code),
        ['early', 'late'],
        'the source appended behind the open transaction is there',
      );
    } finally {
      await committing.catch(() => undefined);
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      await log.close();
      await db.drop();
    }
  });
});
