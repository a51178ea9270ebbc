// Webhooks to a source on a real PostgreSQL and a real HTTP receiver on 127.0.0.1: the reactor queues,
// the scheduler posts, signs, retries and records every outcome. The scheduler's clock is a test
// clock, so a day of retries takes a second.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import { createSource, readSource, runSourceCommand } from '../../src/adapters/sources/sources.ts';
import {
  deliveryIdOf,
  listFailedDeliveries,
  webhookDeliveriesMigration,
} from '../../src/adapters/webhooks/deliveries.ts';
import type { WebhookOutcome } from '../../src/adapters/webhooks/delivery-outcomes.ts';
import { backoffMs, defaultRetryPolicy } from '../../src/adapters/webhooks/delivery-policy.ts';
import { createWebhookReactor } from '../../src/adapters/webhooks/reactor.ts';
import { startWebhookScheduler, type WebhookScheduler } from '../../src/adapters/webhooks/scheduler.ts';
import { verifyWebhook } from '../../src/adapters/webhooks/signature.ts';
import type { CommandHandler } from '../../src/domain/command-handler.ts';
import type { ConversationCommand } from '../../src/domain/conversation-commands.ts';
import type { EventLog, RecordedEvent } from '../../src/domain/event-log.ts';
import { type Actor, type Attachment, conversationStream } from '../../src/domain/events.ts';
import { reactorMigration, registryMigrations } from '../../src/projections/index.ts';
import { type ReactorRunner, startReactorRunner } from '../../src/projections/reactor-runner.ts';
import { waitFor } from '../support/app-harness.ts';
import { handlerFor } from '../support/conversations.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  type ReceivedRequest,
  receiverPolicy,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

// ---- conversations -----------------------------------------------------------------------------------

const MANAGER_ID = '918273645';

const conversation = (handler: CommandHandler, source: string, clientId: string) => {
  const conversationId = conversationIdOf('external', source, clientId);
  const manager: Actor = { kind: 'manager', id: MANAGER_ID, name: 'Alice' };
  const run = (command: ConversationCommand, actor: Actor) =>
    handler.execute(conversationId, command, { commandId: randomUUID(), actor });
  return {
    conversationId,
    clientWrites: (text: string) =>
      run(
        {
          type: 'ReceiveClientMessage',
          conversationId,
          channel: 'external',
          source,
          clientId,
          profile: { firstName: clientId },
          messageId: randomUUID(),
          content: { text, attachments: [] },
        },
        { kind: 'source', id: source },
      ),
    answer: async (text: string, extra: { attachments?: Attachment[] } = {}) => {
      const messageId = randomUUID();
      await run(
        {
          type: 'ReplyAsManager',
          messageId,
          managerId: MANAGER_ID,
          managerName: 'Alice',
          content: { text, attachments: extra.attachments ?? [] },
        },
        manager,
      );
      return messageId;
    },
    edit: (messageId: string, text: string) =>
      run({ type: 'EditManagerReply', messageId, content: { text, attachments: [] } }, manager),
    remove: (messageId: string) => run({ type: 'DeleteManagerReply', messageId }, manager),
  };
};

const outcomesOf = async (log: EventLog, conversationId: string, messageId: string) =>
  (await log.readStream(conversationStream(conversationId))).filter(
    (e) =>
      (e.type === 'ReplyDelivered' || e.type === 'DeliveryFailed') &&
      (e.data as { messageId: string }).messageId === messageId,
  );

const json = (r: ReceivedRequest) =>
  JSON.parse(r.body) as {
    event: string;
    source: string;
    external_id: string;
    message: Record<string, unknown>;
  };

describe('webhooks to a source', () => {
  let db: TestDatabase;
  let log: EventLog;
  let handler: CommandHandler;
  let receiver: WebhookReceiver;
  let reactor: ReactorRunner;
  let scheduler: WebhookScheduler;
  const clock = { t: new Date() };
  const outcomes: WebhookOutcome[] = [];

  before(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, [...registryMigrations, reactorMigration, webhookDeliveriesMigration]);
    log = createPgEventLog({ pool: db.pool, connectionString: db.url, pollIntervalMs: 100 });
    handler = handlerFor(log);
    receiver = await startWebhookReceiver();
    scheduler = startWebhookScheduler({
      pool: db.pool,
      log,
      handler,
      now: () => clock.t,
      timeoutMs: 2500,
      concurrency: 4,
      perSourceConcurrency: 2,
      random: () => 0,
      onOutcome: (o) => outcomes.push(o),
      allowPrivate: receiverPolicy,
    });
    reactor = startReactorRunner({
      db: sqlDatabase(db.pool),
      log,
      reactor: createWebhookReactor({
        pool: db.pool,
        log,
        reader: handler.reader,
        now: () => clock.t,
        onEnqueued: scheduler.wake,
        publicUrl: 'https://support.example.com/',
        // Answers here go one at a time: a short hold for earlier ones keeps each test quick, as
        // test/support/app-env.ts does (test/e2e/sender-order.e2e.test.ts runs with the default).
        orderWaitMs: 100,
      }),
      retryMs: 100,
    });
    await Promise.all([scheduler.leading, reactor.leading]);
  });
  after(async () => {
    await reactor.stop();
    await scheduler.stop();
    await receiver.close();
    await log.close();
    await db.drop();
  });
  beforeEach(() => {
    clock.t = new Date();
  });

  it('backs off exponentially from 10 s, capped at 1 h, jitter only shortening the wait', () => {
    const p = defaultRetryPolicy;
    assert.deepEqual(
      [1, 2, 3, 4, 9, 10, 11, 30].map((n) => backoffMs(n, p, () => 0)),
      [10_000, 20_000, 40_000, 80_000, 2_560_000, 3_600_000, 3_600_000, 3_600_000],
    );
    for (let i = 0; i < 100; i++) {
      const ms = backoffMs(3, p);
      assert.ok(ms <= 40_000 && ms >= 32_000, `jittered ${ms}`);
    }
  });

  it('posts message.created with the message resource, signed, and records ReplyDelivered', async () => {
    await createSource(log, 'shop', await receiver.hook('/shop'));
    const c = conversation(handler, 'shop', 'client-1');
    await c.clientWrites('Where is my order?');
    const photo: Attachment = {
      kind: 'photo',
      fileRef: 'AgACAgIAAxkBAAIB',
      fileUniqueId: 'AQADBq4xG',
      mimeType: 'image/jpeg',
      size: 51_234,
    };
    const messageId = await c.answer('It ships today', { attachments: [photo] });

    const [request] = await waitFor('the delivery', () => {
      const got = receiver.at('/shop');
      return got.length > 0 ? got : undefined;
    });
    const { webhookSecret } = await readSource(log, 'shop');
    const h = request!.headers;
    assert.equal(h['content-type'], 'application/json');
    assert.match(String(h['user-agent']), /^topicdesk-webhooks\//);
    assert.equal(h['x-topicdesk-delivery'], deliveryIdOf(c.conversationId, messageId, 'send'));
    assert.equal(String(h['x-topicdesk-timestamp']), String(Math.floor(clock.t.getTime() / 1000)));
    assert.deepEqual(
      verifyWebhook(webhookSecret!, String(h['x-topicdesk-signature']), request!.body, { now: clock.t }),
      {
        timestamp: Math.floor(clock.t.getTime() / 1000),
        deliveryId: deliveryIdOf(c.conversationId, messageId, 'send'),
      },
      'the signature verifies with the source secret and signs the delivery id',
    );
    const body = json(request!);
    assert.equal(body.event, 'message.created');
    assert.equal(body.source, 'shop');
    assert.equal(body.external_id, 'client-1');
    assert.deepEqual(Object.keys(body.message).sort(), [
      'attachments',
      'buttons',
      'created_at',
      'cursor',
      'deleted_at',
      'direction',
      'edited_at',
      'external_id',
      'id',
      'recorded_at',
      'reply_to',
      'status',
      'text',
    ]);
    assert.equal(body.message.id, messageId);
    assert.equal(body.message.direction, 'outgoing');
    assert.equal(body.message.text, 'It ships today');
    assert.deepEqual(body.message.buttons, [], 'an answer without buttons has none');
    assert.equal(body.message.cursor, null, 'no read model runs in this test');
    assert.deepEqual(body.message.attachments, [
      {
        id: 'AQADBq4xG',
        kind: 'photo',
        file_name: null,
        mime_type: 'image/jpeg',
        size: 51_234,
        url: 'https://support.example.com/api/external/files/AQADBq4xG',
      },
    ]);
    assert.equal(request!.body.includes(MANAGER_ID), false, "the manager's Telegram id is never sent");
    assert.equal(request!.body.includes('AgACAgIAAxkBAAIB'), false, "Telegram's file_id is not sent");

    const recorded = await waitFor('the outcome', async () => {
      const o = await outcomesOf(log, c.conversationId, messageId);
      return o.length > 0 ? o : undefined;
    });
    assert.deepEqual(
      recorded.map((e) => [e.type, (e.data as { operation: string }).operation, e.metadata.actor.id]),
      [['ReplyDelivered', 'send', 'webhooks']],
    );
    const replied = (await log.readStream(conversationStream(c.conversationId))).find(
      (e) => e.type === 'ManagerReplied',
    )!;
    assert.equal(recorded[0]!.metadata.causationId, replied.id);
    await waitFor('the metrics hook', () =>
      outcomes.some((o) => o.source === 'shop' && o.outcome === 'delivered'),
    );
  });

  it('posts nothing to a source without a webhook URL, and a replayed batch queues nothing twice', async () => {
    await createSource(log, 'poller', null);
    const p = conversation(handler, 'poller', 'client-p');
    await p.clientWrites('hi');
    await p.answer('hello poller');
    // The reactor reads in log order: once a later delivery arrives, the poller's events were handled.
    await createSource(log, 'marker', await receiver.hook('/marker'));
    const m = conversation(handler, 'marker', 'client-m');
    await m.clientWrites('hi');
    await m.answer('hello marker');
    await waitFor('the marker delivery', () => receiver.at('/marker').length > 0 || undefined);
    const { rows } = await db.pool.query(`SELECT * FROM td_webhook_deliveries WHERE source = 'poller'`);
    assert.equal(rows.length, 0);

    // Replay every conversation event through a second reactor: nothing new is queued.
    const before = (await db.pool.query('SELECT count(*)::int AS n FROM td_webhook_deliveries')).rows[0].n;
    let added = 0;
    const replay = createWebhookReactor({
      pool: db.pool,
      log,
      reader: handler.reader,
      now: () => clock.t,
      onEnqueued: () => {
        added += 1;
      },
    });
    const all: RecordedEvent[] = [];
    for (let batch = await log.readAll({ commit: -1n, prepare: -1n }, 500); batch.length > 0; ) {
      all.push(...batch);
      batch = await log.readAll(batch.at(-1)!.position, 500);
    }
    await replay.handle(all, new AbortController().signal);
    const afterReplay = (await db.pool.query('SELECT count(*)::int AS n FROM td_webhook_deliveries')).rows[0]
      .n;
    assert.equal(afterReplay, before);
    assert.equal(added, 0);
  });

  it('keeps order within a conversation, and a failing source holds up no other', async () => {
    await createSource(log, 'slow', await receiver.hook('/slow'));
    await createSource(log, 'fast', await receiver.hook('/fast'));
    receiver.on('/slow', () => 500);
    const s = conversation(handler, 'slow', 'client-s');
    await s.clientWrites('hello');
    const first = await s.answer('first');
    const second = await s.answer('second');
    const f = conversation(handler, 'fast', 'client-f');
    await f.clientWrites('hello');
    await f.answer('fast answer');

    await waitFor('the fast delivery', () => receiver.at('/fast').length > 0 || undefined);
    await waitFor(
      'the first failure recorded',
      async () => (await outcomesOf(log, s.conversationId, first)).length > 0,
    );
    await scheduler.tick();
    assert.deepEqual(
      receiver.at('/slow').map((r) => json(r).message.text),
      ['first'],
      'the second answer waits while the first is pending',
    );
    const [failed] = await outcomesOf(log, s.conversationId, first);
    assert.equal(failed!.type, 'DeliveryFailed');
    assert.deepEqual(
      { ...(failed!.data as object), reason: undefined },
      {
        messageId: first,
        operation: 'send',
        reason: undefined,
        permanent: false,
        attempt: 1,
        nextAttemptAt: new Date(clock.t.getTime() + 10_000).toISOString(),
      },
    );
    assert.equal((failed!.data as { reason: string }).reason, 'HTTP 500', 'the status only, not the answer');

    // Not due yet: nothing is sent before the backoff has passed.
    clock.t = new Date(clock.t.getTime() + 9_000);
    await scheduler.tick();
    assert.equal(receiver.at('/slow').length, 1);

    receiver.on('/slow', () => 200);
    clock.t = new Date(clock.t.getTime() + 1_000);
    await scheduler.tick();
    assert.deepEqual(
      receiver.at('/slow').map((r) => json(r).message.text),
      ['first', 'first', 'second'],
    );
    assert.deepEqual(
      (await outcomesOf(log, s.conversationId, first)).map((e) => e.type),
      ['DeliveryFailed', 'ReplyDelivered'],
    );
    assert.deepEqual(
      (await outcomesOf(log, s.conversationId, second)).map((e) => e.type),
      ['ReplyDelivered'],
    );
  });

  it('a receiver that does not answer times out while other sources are served', async () => {
    await createSource(log, 'hang', await receiver.hook('/hang'));
    await createSource(log, 'quick', await receiver.hook('/quick'));
    receiver.on('/hang', () => 'hang');
    const h = conversation(handler, 'hang', 'client-h');
    await h.clientWrites('hello');
    const answer = await h.answer('into the void');
    await waitFor('the hanging request', () => receiver.hanging() > 0 || undefined);
    const q = conversation(handler, 'quick', 'client-q');
    await q.clientWrites('hello');
    await q.answer('quick answer');
    await waitFor('the quick delivery', () => receiver.at('/quick').length > 0 || undefined);
    assert.equal(
      (await outcomesOf(log, h.conversationId, answer)).length,
      0,
      'served while the other receiver still hangs',
    );
    const [failed] = await waitFor('the timeout', async () => {
      const o = await outcomesOf(log, h.conversationId, answer);
      return o.length > 0 ? o : undefined;
    });
    assert.equal(failed!.type, 'DeliveryFailed');
    assert.match((failed!.data as { reason: string }).reason, /no answer within 2500 ms/);
    receiver.on('/hang', () => 200);
  });

  it('carries edits and deletions; an edit overtaken by a later one is not sent', async () => {
    await createSource(log, 'editor', await receiver.hook('/editor'));
    receiver.on('/editor', () => 500);
    const e = conversation(handler, 'editor', 'client-e');
    await e.clientWrites('hello');
    const answer = await e.answer('v0');
    await waitFor(
      'the first attempt',
      async () => (await outcomesOf(log, e.conversationId, answer)).length > 0,
    );
    await e.edit(answer, 'v1');
    await e.edit(answer, 'v2');
    await e.remove(answer);
    await waitFor('the deletion queued', async () => {
      const { rows } = await db.pool.query(
        `SELECT 1 FROM td_webhook_deliveries WHERE message_id = $1 AND operation = 'delete'`,
        [answer],
      );
      return rows.length > 0 || undefined;
    });
    receiver.on('/editor', () => 200);
    clock.t = new Date(clock.t.getTime() + 10_000);
    await scheduler.tick();
    const got = receiver.at('/editor').map(json);
    assert.deepEqual(
      got.map((b) => [b.event, b.message.text]),
      [
        ['message.created', 'v0'],
        ['message.created', 'v0'],
        ['message.edited', 'v2'],
        ['message.deleted', 'v2'],
      ],
    );
    const edited = got[2]!.message;
    assert.equal(typeof edited.edited_at, 'string');
    assert.equal(edited.deleted_at, null, 'the edit is posted as it was at the edit');
    assert.equal(typeof got[3]!.message.deleted_at, 'string');
    assert.deepEqual(
      (await outcomesOf(log, e.conversationId, answer)).map((x) => [
        x.type,
        (x.data as { operation: string }).operation,
      ]),
      [
        ['DeliveryFailed', 'send'],
        ['ReplyDelivered', 'send'],
        ['ReplyDelivered', 'edit'],
        ['ReplyDelivered', 'delete'],
      ],
    );
    const { rows } = await db.pool.query(
      `SELECT edit_number, status FROM td_webhook_deliveries WHERE message_id = $1 AND operation = 'edit' ORDER BY edit_number`,
      [answer],
    );
    assert.deepEqual(rows, [
      { edit_number: 1, status: 'superseded' },
      { edit_number: 2, status: 'delivered' },
    ]);
  });

  it('a receiver down for 25 hours: retried with growing gaps for 24 h, then given up and listed', async () => {
    await createSource(log, 'down', await receiver.hook('/down'));
    receiver.on('/down', () => 500);
    const d = conversation(handler, 'down', 'client-d');
    await d.clientWrites('hello');
    const started = new Date(clock.t);
    const answer = await d.answer('are you there?');
    const deliveryId = deliveryIdOf(d.conversationId, answer, 'send');
    await waitFor(
      'the first attempt',
      async () => (await outcomesOf(log, d.conversationId, answer)).length > 0,
    );

    const wall = Date.now();
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.pool.query<{ status: string; next_attempt_at: Date }>(
        'SELECT status, next_attempt_at FROM td_webhook_deliveries WHERE delivery_id = $1',
        [deliveryId],
      );
      if (rows[0]!.status !== 'pending') break;
      clock.t = rows[0]!.next_attempt_at; // the receiver stays down: jump to the next retry
      await scheduler.tick();
    }
    clock.t = new Date(started.getTime() + 25 * 3_600_000);
    await scheduler.tick();
    assert.ok(Date.now() - wall < 60_000, 'a simulated day takes seconds');

    const requests = receiver.at('/down');
    assert.ok(requests.length > 20, `${requests.length} attempts`);
    assert.deepEqual(new Set(requests.map((r) => r.headers['x-topicdesk-delivery'])), new Set([deliveryId]));
    const { webhookSecret } = await readSource(log, 'down');
    for (const r of requests) {
      const ts = String(r.headers['x-topicdesk-timestamp']);
      assert.equal(
        verifyWebhook(webhookSecret!, String(r.headers['x-topicdesk-signature']), r.body, {
          now: new Date(Number(ts) * 1000),
        })?.deliveryId,
        deliveryId,
      );
    }

    const failures = await outcomesOf(log, d.conversationId, answer);
    assert.equal(failures.length, requests.length, 'one DeliveryFailed per attempt');
    const data = failures.map(
      (e) => e.data as { attempt: number; permanent: boolean; nextAttemptAt?: string; reason: string },
    );
    assert.deepEqual(
      data.map((x) => x.attempt),
      data.map((_, i) => i + 1),
    );
    assert.ok(data.slice(0, -1).every((x) => !x.permanent && x.nextAttemptAt));
    assert.equal(data.at(-1)!.permanent, true);
    assert.equal(data.at(-1)!.nextAttemptAt, undefined);

    const times = failures.map((e) => new Date(e.metadata.occurredAt).getTime());
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.deepEqual(gaps.slice(0, 4), [10_000, 20_000, 40_000, 80_000]);
    for (let i = 1; i < gaps.length - 1; i++) assert.ok(gaps[i]! >= gaps[i - 1]!, `gaps grow: ${gaps}`);
    assert.ok(Math.max(...gaps) <= 3_600_000, 'capped at one hour');
    assert.equal(times.at(-1)! - times[0]!, 24 * 3_600_000, 'the last attempt is 24 h after the first');
    assert.ok(outcomes.some((o) => o.source === 'down' && o.outcome === 'failed' && o.status === 500));

    const listed = await listFailedDeliveries(db.pool, 'down', { limit: 10 });
    assert.equal(listed.length, 1);
    const [f] = listed;
    assert.equal(f!.delivery_id, deliveryId);
    assert.equal(f!.event, 'message.created');
    assert.equal(f!.message_id, answer);
    assert.equal(f!.external_id, 'client-d');
    assert.equal(f!.attempts, requests.length);
    assert.equal(f!.status, 'failed');
    assert.equal(f!.next_attempt_at, null);
    assert.match(f!.last_error!, /^HTTP 500/);
    assert.equal(
      new Date(f!.last_attempt_at!).getTime() - new Date(f!.first_attempt_at!).getTime(),
      86_400_000,
    );
    assert.deepEqual(await listFailedDeliveries(db.pool, 'down', { limit: 10, after: deliveryId }), []);
    assert.deepEqual(
      await listFailedDeliveries(db.pool, 'shop', { limit: 10 }),
      [],
      'one source sees only its own',
    );
  });

  it('gives up at once when the source has dropped its webhook URL', async () => {
    await createSource(log, 'dropper', await receiver.hook('/dropper'));
    receiver.on('/dropper', () => 500);
    const d = conversation(handler, 'dropper', 'client-x');
    await d.clientWrites('hello');
    const answer = await d.answer('first');
    await waitFor(
      'the first attempt',
      async () => (await outcomesOf(log, d.conversationId, answer)).length > 0,
    );
    await runSourceCommand(log, 'dropper', { type: 'ChangeSourceWebhook', webhookUrl: null });
    clock.t = new Date(clock.t.getTime() + 10_000);
    await scheduler.tick();
    const outcomesNow = await outcomesOf(log, d.conversationId, answer);
    assert.deepEqual(
      outcomesNow.map((e) => [
        (e.data as { attempt: number }).attempt,
        (e.data as { permanent: boolean }).permanent,
      ]),
      [
        [1, false],
        [2, true],
      ],
    );
    assert.equal(receiver.at('/dropper').length, 1);
    const listed = await listFailedDeliveries(db.pool, 'dropper', { limit: 5 });
    assert.match(listed[0]!.last_error!, /no webhook URL/);
  });

  it('a receiver hanging on many conversations holds up no other source behind its queue', async () => {
    await createSource(log, 'jam', await receiver.hook('/jam'));
    await createSource(log, 'prompt', await receiver.hook('/prompt'));
    receiver.on('/jam', () => 'hang');
    // More of its deliveries due than one look at the queue reads (4 × the free slots).
    const jammed = Array.from({ length: 12 }, (_, i) => conversation(handler, 'jam', `client-j${i}`));
    for (const j of jammed) {
      await j.clientWrites('hello');
      await j.answer('stuck');
    }
    await waitFor('all twelve queued', async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM td_webhook_deliveries WHERE source = 'jam'`,
      );
      return rows[0]!.n === 12 || undefined;
    });
    await waitFor('its share of slots taken', () => receiver.at('/jam').length === 2 || undefined);
    const p = conversation(handler, 'prompt', 'client-p');
    await p.clientWrites('hello');
    await p.answer('on time');
    await waitFor('the prompt delivery', () => receiver.at('/prompt').length > 0 || undefined);
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM td_webhook_deliveries WHERE source = 'jam' AND attempt > 0`,
    );
    assert.equal(rows[0]!.n, 0, 'delivered while the first two to the hanging receiver were still waiting');

    // Let the jam clear so nothing is left in flight: the rest now, the two that time out at their retry.
    receiver.on('/jam', () => 200);
    await scheduler.tick();
    clock.t = new Date(clock.t.getTime() + 3_600_000);
    await scheduler.tick();
    assert.equal(
      new Set(
        receiver
          .at('/jam')
          .filter((r) => r.ok)
          .map((r) => json(r).external_id),
      ).size,
      12,
    );
  });
});
