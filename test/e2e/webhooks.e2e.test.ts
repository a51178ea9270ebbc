// Webhooks to a source, end to end: the whole app on a real PostgreSQL, the Telegram stand-in for
// the managers, and a local HTTP receiver standing in for the source's webhook endpoint.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { commandEventId, conversationIdOf } from '../../src/adapters/ids.ts';
import { authenticate, createSource, readSource } from '../../src/adapters/sources/sources.ts';
import { deliveryIdOf } from '../../src/adapters/webhooks/deliveries.ts';
import { verifyWebhook } from '../../src/adapters/webhooks/signature.ts';
import { type CommandHandler, createCommandHandler } from '../../src/domain/command-handler.ts';
import { conversationStream } from '../../src/domain/events.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import {
  type ReceivedRequest,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

const json = (r: ReceivedRequest) =>
  JSON.parse(r.body) as {
    event: string;
    source: string;
    external_id: string;
    message: Record<string, unknown> & { id: string; text: string; cursor: number | null };
  };

const bot = (text: string) => ({
  text,
  entities: [{ type: 'bot_command' as const, offset: 0, length: text.length }],
});

const ADMIN_TOKEN = 'admin-token-for-the-webhook-tests-0123';

describe('webhooks to a source (whole app)', () => {
  let h: Harness;
  let receiver: WebhookReceiver;
  let handler: CommandHandler;

  before(async () => {
    h = await startHarness({ WEBHOOK_RETRY_INITIAL_MS: '100', WEBHOOK_TIMEOUT_MS: '2000', ADMIN_TOKEN });
    receiver = await startWebhookReceiver();
    handler = createCommandHandler({ log: h.app.log, eventId: commandEventId });
  });
  after(async () => {
    await h.stop();
    await receiver.close();
  });

  /** An external client writes (as the API records it); the Telegram reactor opens their topic. */
  const externalClient = async (source: string, clientId: string, name: string) => {
    const conversationId = conversationIdOf('external', source, clientId);
    await handler.execute(
      conversationId,
      {
        type: 'ReceiveClientMessage',
        conversationId,
        channel: 'external',
        source,
        clientId,
        profile: { firstName: name },
        messageId: randomUUID(),
        content: { text: `Hello, this is ${name} from the website`, attachments: [] },
      },
      { commandId: randomUUID(), actor: { kind: 'source', id: source } },
    );
    const topic = await waitFor(`${name}'s topic`, () => h.tg.topics().find((t) => t.name.includes(name)));
    return { conversationId, threadId: topic.message_thread_id };
  };

  const outcomes = async (conversationId: string) =>
    (await h.app.log.readStream(conversationStream(conversationId))).filter(
      (e) => e.type === 'ReplyDelivered' || e.type === 'DeliveryFailed',
    );

  const verified = async (source: string, r: ReceivedRequest) => {
    const { webhookSecret } = await readSource(h.app.log, source);
    const verified = verifyWebhook(webhookSecret!, String(r.headers['x-topicdesk-signature']), r.body);
    return verified !== undefined && verified.deliveryId === r.headers['x-topicdesk-delivery'];
  };

  it("posts a manager's answer, its edit and its /delete to the source, signed", async () => {
    await createSource(h.app.log, 'shop', await receiver.hook('/hooks/shop'));
    const c = await externalClient('shop', 'cust-1', 'Olga');
    const manager = h.tg.addManager({ first_name: 'Alice', last_name: 'Support' });

    const answer = h.tg.groupMessage(manager, c.threadId, { text: 'Hi Olga, it ships today' });
    assert.equal((await h.postUpdate(answer)).status, 200);
    const [created] = await waitFor(
      'message.created',
      () => {
        const got = receiver.at('/hooks/shop');
        return got.length >= 1 ? got : undefined;
      },
      20_000,
    );
    assert.ok(await verified('shop', created!), 'signed with the source secret');
    assert.equal(created!.headers['content-type'], 'application/json');
    assert.match(String(created!.headers['user-agent']), /^topicdesk-webhooks\//);
    const body = json(created!);
    assert.equal(body.event, 'message.created');
    assert.equal(body.source, 'shop');
    assert.equal(body.external_id, 'cust-1');
    assert.equal(body.message.text, 'Hi Olga, it ships today');
    assert.equal(body.message.direction, 'outgoing');
    assert.equal(body.message.external_id, 'cust-1');
    assert.deepEqual(body.message.attachments, []);
    assert.equal(body.message.edited_at, null);
    assert.equal(created!.body.includes(String(manager.id)), false, "the manager's Telegram id is not sent");
    assert.equal(
      created!.headers['x-topicdesk-delivery'],
      deliveryIdOf(c.conversationId, body.message.id, 'send'),
    );

    const edit = h.tg.editedGroupMessage(manager, answer.message!.message_id, {
      text: 'Hi Olga, it ships tomorrow',
    });
    assert.equal((await h.postUpdate(edit)).status, 200);
    const edited = await waitFor('message.edited', () => receiver.at('/hooks/shop')[1], 20_000);
    assert.ok(await verified('shop', edited));
    const e = json(edited);
    assert.equal(e.event, 'message.edited');
    assert.equal(e.message.id, body.message.id);
    assert.equal(e.message.text, 'Hi Olga, it ships tomorrow');
    assert.equal(typeof e.message.edited_at, 'string');
    assert.notEqual(edited.headers['x-topicdesk-delivery'], created!.headers['x-topicdesk-delivery']);

    const del = h.tg.groupMessage(manager, c.threadId, bot('/delete'), {
      reply_to_message_id: answer.message!.message_id,
    });
    assert.equal((await h.postUpdate(del)).status, 200);
    const deleted = await waitFor('message.deleted', () => receiver.at('/hooks/shop')[2], 20_000);
    assert.ok(await verified('shop', deleted));
    const d = json(deleted);
    assert.equal(d.event, 'message.deleted');
    assert.equal(d.message.id, body.message.id);
    assert.equal(typeof d.message.deleted_at, 'string');
    const { rows } = await h.db.pool.query<{ cursor: string }>(
      'SELECT cursor::text AS cursor FROM rm_messages WHERE message_id = $1',
      [body.message.id],
    );
    assert.equal(d.message.cursor, Number(rows[0]!.cursor), "the API's cursor for the message");

    const recorded = await waitFor('three outcomes', async () => {
      const o = await outcomes(c.conversationId);
      return o.length >= 3 ? o : undefined;
    });
    assert.deepEqual(
      recorded.map((x) => [x.type, (x.data as { operation: string }).operation, x.metadata.actor.id]),
      [
        ['ReplyDelivered', 'send', 'webhooks'],
        ['ReplyDelivered', 'edit', 'webhooks'],
        ['ReplyDelivered', 'delete', 'webhooks'],
      ],
    );
    assert.equal(receiver.at('/hooks/shop').length, 3, 'each posted once');
  });

  it('a receiver failing three times gets the same delivery id each time, then succeeds', async () => {
    await createSource(h.app.log, 'flaky', await receiver.hook('/hooks/flaky'));
    receiver.on('/hooks/flaky', (n) => (n <= 3 ? 500 : 200));
    const c = await externalClient('flaky', 'cust-2', 'Boris');
    const manager = h.tg.addManager({ first_name: 'Bob' });
    assert.equal(
      (await h.postUpdate(h.tg.groupMessage(manager, c.threadId, { text: 'Hello Boris' }))).status,
      200,
    );
    const recorded = await waitFor(
      'the delivery after three failures',
      async () => {
        const o = await outcomes(c.conversationId);
        return o.some((x) => x.type === 'ReplyDelivered') ? o : undefined;
      },
      30_000,
    );
    assert.deepEqual(
      recorded.map((x) => {
        const data = x.data as { attempt?: number; permanent?: boolean; nextAttemptAt?: string };
        return [x.type, data.attempt, data.permanent, typeof data.nextAttemptAt];
      }),
      [
        ['DeliveryFailed', 1, false, 'string'],
        ['DeliveryFailed', 2, false, 'string'],
        ['DeliveryFailed', 3, false, 'string'],
        ['ReplyDelivered', undefined, undefined, 'undefined'],
      ],
    );
    const attempts = receiver.at('/hooks/flaky');
    assert.equal(attempts.length, 4);
    assert.equal(new Set(attempts.map((r) => r.headers['x-topicdesk-delivery'])).size, 1, 'one delivery id');
    for (const r of attempts) assert.ok(await verified('flaky', r));
    assert.ok(attempts.every((r) => json(r).message.text === 'Hello Boris'));

    const metrics = await waitFor('the counters', async () => {
      const text = await (await fetch(`${h.url}/metrics`)).text();
      return /topicdesk_webhook_deliveries_total\{source="flaky",outcome="delivered"\} 1/.test(text)
        ? text
        : undefined;
    });
    assert.match(metrics, /topicdesk_webhook_deliveries_total\{source="flaky",outcome="retry"\} 3/);
  });

  it('what a failing receiver answers reaches neither the source nor the admin API: only its status', async () => {
    const marker = `db01.corp.internal-${randomUUID()}`;
    receiver.on('/hooks/leaky', () => ({
      status: 500,
      body: `<html><title>Internal</title><body>upstream ${marker} refused</body></html>`,
    }));
    const { token } = await createSource(h.app.log, 'leaky', await receiver.hook('/hooks/leaky'));
    await waitFor('the token', async () => ((await authenticate(h.db.pool, token)) ? true : undefined));
    const c = await externalClient('leaky', 'cust-3', 'Vera');
    const manager = h.tg.addManager({ first_name: 'Carol' });
    assert.equal(
      (await h.postUpdate(h.tg.groupMessage(manager, c.threadId, { text: 'Hi Vera' }))).status,
      200,
    );
    await waitFor(
      'two failed attempts',
      () => (receiver.at('/hooks/leaky').length >= 2 ? true : undefined),
      20_000,
    );

    const get = async (path: string, bearer: string) => {
      const res = await fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
      assert.equal(res.status, 200, path);
      return res.text();
    };
    const seen = {
      source: await get('/api/external/webhooks/failed', token),
      admin: await get('/api/admin/sources/leaky/deliveries/failed', ADMIN_TOKEN),
      audit: await get(`/api/admin/conversations/${c.conversationId}/events`, ADMIN_TOKEN),
    };
    const listed = JSON.parse(seen.source) as { deliveries: Array<{ last_error: string }> };
    assert.equal(listed.deliveries[0]?.last_error, 'HTTP 500', 'the status is what the source learns');
    for (const [where, text] of Object.entries(seen))
      assert.ok(
        !text.includes(marker),
        `the receiver's answer is not shown in ${where}: ${text.slice(0, 300)}`,
      );
  });
});
