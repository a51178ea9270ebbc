// Where webhooks may go, at send time, and how they are signed across a secret rotation: the
// scheduler on a real PostgreSQL posting to a real receiver on 127.0.0.1. Each test starts its own
// scheduler with the operator's policy it needs (WEBHOOK_ALLOW_PRIVATE) and, where DNS is the point,
// a resolver standing in for the DNS server (the names end in .test, which no real DNS answers).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { after, afterEach, before, describe, it } from 'node:test';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import { createSource, readSource, rotateWebhookSecret } from '../../src/adapters/sources/sources.ts';
import {
  checkWebhookUrl,
  type PrivateAddressPolicy,
  PUBLIC_ONLY,
  parsePrivateAddressPolicy,
  type Resolve,
} from '../../src/adapters/webhooks/address-guard.ts';
import { listFailedDeliveries, webhookDeliveriesMigration } from '../../src/adapters/webhooks/deliveries.ts';
import { createWebhookReactor } from '../../src/adapters/webhooks/reactor.ts';
import { startWebhookScheduler, type WebhookScheduler } from '../../src/adapters/webhooks/scheduler.ts';
import { verifyWebhook } from '../../src/adapters/webhooks/signature.ts';
import type { CommandHandler } from '../../src/domain/command-handler.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { conversationStream } from '../../src/domain/events.ts';
import { reactorMigration, registryMigrations } from '../../src/projections/index.ts';
import { type ReactorRunner, startReactorRunner } from '../../src/projections/reactor-runner.ts';
import { waitFor } from '../support/app-harness.ts';
import { handlerFor } from '../support/conversations.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

describe('webhooks: where they may go at send time, and signatures across a rotation', () => {
  let db: TestDatabase;
  let log: EventLog;
  let handler: CommandHandler;
  let receiver: WebhookReceiver;
  let reactor: ReactorRunner;
  let scheduler: WebhookScheduler | undefined;
  const clock = { t: new Date() };
  let port: number;

  const startScheduler = async (allowPrivate: PrivateAddressPolicy, resolve?: Resolve) => {
    scheduler = startWebhookScheduler({
      pool: db.pool,
      log,
      handler,
      now: () => clock.t,
      timeoutMs: 2500,
      random: () => 0,
      allowPrivate,
      ...(resolve ? { resolve } : {}),
    });
    await scheduler.leading;
    return scheduler;
  };

  /** A client of `source` writes and a manager answers; resolves once the delivery is queued. */
  const answer = async (source: string, text: string) => {
    const clientId = `client-${randomUUID().slice(0, 8)}`;
    const conversationId = conversationIdOf('external', source, clientId);
    const run = (command: Parameters<CommandHandler['execute']>[1], kind: 'source' | 'manager') =>
      handler.execute(conversationId, command, {
        commandId: randomUUID(),
        actor: kind === 'source' ? { kind, id: source } : { kind, id: '918273645', name: 'Alice' },
      });
    await run(
      {
        type: 'ReceiveClientMessage',
        conversationId,
        channel: 'external',
        source,
        clientId,
        profile: { firstName: clientId },
        messageId: randomUUID(),
        content: { text: 'hello', attachments: [] },
      },
      'source',
    );
    const messageId = randomUUID();
    await run(
      {
        type: 'ReplyAsManager',
        messageId,
        managerId: '918273645',
        managerName: 'Alice',
        content: { text, attachments: [] },
      },
      'manager',
    );
    await waitFor('the delivery queued', async () => {
      const { rowCount } = await db.pool.query('SELECT 1 FROM td_webhook_deliveries WHERE message_id = $1', [
        messageId,
      ]);
      return (rowCount ?? 0) > 0 || undefined;
    });
    return { conversationId, messageId };
  };

  const failures = async (conversationId: string) =>
    (await log.readStream(conversationStream(conversationId)))
      .filter((e) => e.type === 'DeliveryFailed')
      .map((e) => e.data as { reason: string; permanent: boolean });

  before(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, [...registryMigrations, reactorMigration, webhookDeliveriesMigration]);
    log = createPgEventLog({ pool: db.pool, connectionString: db.url, pollIntervalMs: 100 });
    handler = handlerFor(log);
    receiver = await startWebhookReceiver();
    port = Number(new URL(receiver.url('/')).port);
    reactor = startReactorRunner({
      db: sqlDatabase(db.pool),
      log,
      reactor: createWebhookReactor({
        pool: db.pool,
        log,
        reader: handler.reader,
        now: () => clock.t,
        onEnqueued: () => scheduler?.wake(),
        // Answers here go one at a time: a short hold for earlier ones keeps each test quick, as
        // test/support/app-env.ts does (test/e2e/sender-order.e2e.test.ts runs with the default).
        orderWaitMs: 100,
      }),
      retryMs: 100,
    });
    await reactor.leading;
  });
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
  });
  after(async () => {
    await reactor.stop();
    await receiver.close();
    await log.close();
    await db.drop();
  });

  it('a host name that resolves to loopback at send time is refused, and the source is not told the address', async () => {
    // Registered while the operator allowed private addresses; the service now runs without that.
    const url = await checkWebhookUrl(`http://localhost:${port}/local`, parsePrivateAddressPolicy('true'));
    await createSource(log, 'local', url);
    const s = await startScheduler(PUBLIC_ONLY);
    clock.t = new Date();
    const { conversationId } = await answer('local', 'to localhost');
    await s.tick();

    assert.equal(receiver.at('/local').length, 0, 'nothing reached the loopback receiver');
    const [failed] = await failures(conversationId);
    assert.equal(
      failed?.reason,
      'refused: the webhook host does not resolve to a public address (WEBHOOK_ALLOW_PRIVATE)',
    );
    assert.equal(
      failed?.permanent,
      false,
      'retried like any failure: the operator may allow it, DNS may change',
    );
    const [listed] = await listFailedDeliveries(db.pool, 'local');
    assert.equal(listed?.last_error, failed?.reason);
    assert.doesNotMatch(JSON.stringify(listed), /127\.0\.0\.1|::1/, 'no resolved address reaches the source');
  });

  it('connects only to the address checked at send time: a second DNS answer is never asked for', async () => {
    // hooks.pinned.test exists only in this resolver: a request that resolved the name again
    // (instead of connecting to the checked address) would fail with ENOTFOUND.
    const resolve: Resolve = async (host) => {
      if (host === 'hooks.pinned.test') return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    };
    const policy = parsePrivateAddressPolicy('127.0.0.1');
    const url = await checkWebhookUrl(`http://hooks.pinned.test:${port}/pinned`, policy, resolve);
    await createSource(log, 'pinned', url);
    const s = await startScheduler(policy, resolve);
    clock.t = new Date();
    const { conversationId } = await answer('pinned', 'to a pinned address');
    await s.tick();

    const [request] = receiver.at('/pinned');
    assert.ok(request, `delivered (failures: ${JSON.stringify(await failures(conversationId))})`);
    assert.equal(request.headers.host, `hooks.pinned.test:${port}`, 'sent with the name as its Host');
  });

  it('DNS rebinding: a name that was public when registered and is loopback at send time is refused', async () => {
    const answers: LookupAddress[][] = [
      [{ address: '93.184.215.14', family: 4 }], // at registration
      [{ address: '127.0.0.1', family: 4 }], // at send time
    ];
    const resolve: Resolve = async () => answers.shift() ?? [{ address: '127.0.0.1', family: 4 }];
    const url = await checkWebhookUrl(`http://hooks.rebind.test:${port}/rebind`, PUBLIC_ONLY, resolve);
    await createSource(log, 'rebind', url);
    const s = await startScheduler(PUBLIC_ONLY, resolve);
    clock.t = new Date();
    const { conversationId } = await answer('rebind', 'rebound');
    await s.tick();

    assert.equal(receiver.at('/rebind').length, 0);
    assert.match((await failures(conversationId))[0]?.reason ?? '', /^refused: /);
  });

  it('does not follow a redirect: the signed request goes nowhere else', async () => {
    receiver.on('/moved', () => ({ status: 302, headers: { location: receiver.url('/elsewhere') } }));
    await createSource(log, 'moved', await receiver.hook('/moved'));
    const s = await startScheduler(parsePrivateAddressPolicy('127.0.0.1'));
    clock.t = new Date();
    const { conversationId } = await answer('moved', 'follow me');
    await s.tick();

    assert.equal(receiver.at('/moved').length, 1);
    assert.equal(receiver.at('/elsewhere').length, 0, 'the redirect was not followed');
    assert.equal((await failures(conversationId))[0]?.reason, 'HTTP 302 (redirects are not followed)');
  });

  it('keeps nothing of a failing receiver’s answer but its status', async () => {
    const marker = `internal-${randomUUID()}`;
    receiver.on('/leaky', () => ({ status: 500, body: `<h1>db01.corp: ${marker}</h1>` }));
    await createSource(log, 'leaky', await receiver.hook('/leaky'));
    const s = await startScheduler(parsePrivateAddressPolicy('127.0.0.1'));
    clock.t = new Date();
    const { conversationId } = await answer('leaky', 'hello');
    await s.tick();

    assert.equal(receiver.at('/leaky').length, 1);
    assert.equal((await failures(conversationId))[0]?.reason, 'HTTP 500');
    const stored = await db.pool.query(`SELECT * FROM td_webhook_deliveries WHERE source = 'leaky'`);
    assert.doesNotMatch(JSON.stringify(stored.rows), new RegExp(marker));
    const events = await log.readStream(conversationStream(conversationId));
    assert.doesNotMatch(JSON.stringify(events.map((e) => e.data)), new RegExp(marker));
  });

  it('signs with both secrets during a rotation’s grace period and only with the new one after it', async () => {
    await createSource(log, 'rotating', await receiver.hook('/rotating'));
    const old = (await readSource(log, 'rotating')).webhookSecret!;
    const s = await startScheduler(parsePrivateAddressPolicy('127.0.0.1'));
    clock.t = new Date();
    const rotated = await rotateWebhookSecret(log, 'rotating', 3_600_000, 'test', clock.t);
    assert.notEqual(rotated.webhookSecret, old);

    await answer('rotating', 'during the grace period');
    await s.tick();
    const [during] = receiver.at('/rotating');
    assert.ok(during);
    const header = String(during.headers['x-topicdesk-signature']);
    assert.equal(header.match(/v1=/g)?.length, 2, header);
    const now = { now: clock.t };
    assert.equal(
      verifyWebhook(rotated.webhookSecret, header, during.body, now)?.deliveryId,
      during.headers['x-topicdesk-delivery'],
    );
    assert.equal(
      verifyWebhook(old, header, during.body, now)?.deliveryId,
      during.headers['x-topicdesk-delivery'],
    );

    clock.t = new Date(clock.t.getTime() + 3_600_000 + 1000);
    await answer('rotating', 'after the grace period');
    await s.tick();
    const afterGrace = receiver.at('/rotating')[1];
    assert.ok(afterGrace);
    const header2 = String(afterGrace.headers['x-topicdesk-signature']);
    assert.equal(header2.match(/v1=/g)?.length, 1, header2);
    assert.ok(
      verifyWebhook(rotated.webhookSecret, header2, afterGrace.body, { now: clock.t }),
      'the new secret verifies',
    );
    assert.equal(
      verifyWebhook(old, header2, afterGrace.body, { now: clock.t }),
      undefined,
      'the old one no longer does',
    );

    const [event] = (await log.readStream('source-rotating')).filter(
      (e) => e.type === 'SourceWebhookSecretRotated',
    );
    assert.equal(event?.metadata.actor.id, 'test', 'the rotation is recorded with who did it');
  });
});
