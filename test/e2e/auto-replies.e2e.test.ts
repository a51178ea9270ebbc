// Welcome and working hours end to end (the whole app, the Bot API stand-in, a source's webhook
// receiver, WELCOME=on). The working hours are set through the admin API so that now is outside
// them: a Russian Telegram client writing twice gets one welcome and one off-hours answer, in
// Russian, both shown in the topic; /start welcomes once per conversation; an API source gets the
// automatic replies through its webhook, marked automatic; every one is in the audit with its actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import { createSource } from '../../src/adapters/sources/sources.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { client } from './api-helpers.ts';

const ADMIN_TOKEN = 'admin-token-for-the-auto-reply-tests-01';

describe('welcome and working hours (whole app)', () => {
  let h: Harness;
  let receiver: WebhookReceiver;
  const admin = () => client(h, { code: 'admin', token: ADMIN_TOKEN, tokenId: 'admin' });
  // Open yesterday 09:00-10:00 and in five days 09:00-10:00 in Berlin, closed otherwise: now is in an
  // off-period that began yesterday at 10:00 and ends in five days.
  const berlin = DateTime.now().setZone('Europe/Berlin').startOf('day');
  const yesterday = berlin.minus({ days: 1 });
  const reopening = berlin.plus({ days: 5 });

  before(async () => {
    h = await startHarness({ ADMIN_TOKEN, WELCOME: 'on', WEBHOOK_RETRY_INITIAL_MS: '100' });
    receiver = await startWebhookReceiver();
    const set = await admin().call('PUT', '/api/admin/hours', {
      json: {
        time_zone: 'Europe/Berlin',
        weekly: {},
        exceptions: [
          { date: yesterday.toISODate(), hours: ['09:00-10:00'] },
          { date: reopening.toISODate(), hours: ['09:00-10:00'], note: 'back in the office' },
        ],
      },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const view = set.body as { open_now: boolean; closed_since: string; opens_at: string };
    assert.equal(view.open_now, false);
    assert.equal(
      view.closed_since,
      yesterday.set({ hour: 10 }).toUTC().toISO({ suppressMilliseconds: false }),
    );
    assert.equal(view.opens_at, reopening.set({ hour: 9 }).toUTC().toISO({ suppressMilliseconds: false }));
  });
  after(async () => {
    await h.stop();
    await receiver.close();
  });

  const botTexts = (user: StandInUser) =>
    h.tg
      .messagesIn(user.chat.id)
      .filter((m) => m.from?.is_bot)
      .map((m) => m.text ?? '');
  const topicTexts = (topic: number) =>
    h.tg.messagesIn(h.tg.supportChatId, topic).map((m) => m.text ?? m.caption ?? '');
  const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));
  const opensAt = (locale: string) =>
    `${reopening.set({ hour: 9 }).setLocale(locale).toLocaleString({ weekday: 'long', day: 'numeric', month: 'long' })}, 09:00 (Europe/Berlin)`;

  it('a Telegram client writing twice off hours gets one welcome and one off-hours answer, in their language', async () => {
    const user = h.tg.addUser({ first_name: 'Дарья', language_code: 'ru' });
    const first = h.tg.privateMessage(user, { text: 'Здравствуйте, вопрос по заказу' });
    await h.send(first);
    await h.send(h.tg.privateMessage(user, { text: 'Вы тут?' }));
    const expected = [
      'Здравствуйте! Ваше сообщение получила служба поддержки. Мы ответим здесь, как только сможем.',
      `Спасибо за сообщение! Сейчас поддержка не работает; мы ответим, когда снова откроемся: ${opensAt('ru')}.`,
    ];
    await waitFor('both automatic replies delivered', () => (botTexts(user).length >= 2 ? true : undefined));
    await settle();
    assert.deepEqual(botTexts(user), expected, 'one welcome and one off-hours answer for two messages');

    const conversationId = h.conversationOf(user.id);
    const replies = await h.events({ type: 'ManagerReplied', conversationId });
    assert.deepEqual(
      replies.map((e) => [e.data.automatic, (e.metadata.actor as { id: string }).id]),
      [
        [{ reason: 'welcome' }, 'auto-reply'],
        [{ reason: 'off_hours', period: yesterday.set({ hour: 10 }).toUTC().toISO() }, 'auto-reply'],
      ],
    );
    // The topic shows the managers what was sent, after the client's message.
    const topic = await h.topicOf(user.id);
    await waitFor('the copies in the topic', () =>
      topicTexts(topic).filter((t) => t.startsWith('🤖')).length >= 2 ? true : undefined,
    );
    const texts = topicTexts(topic);
    assert.ok(texts.indexOf('Здравствуйте, вопрос по заказу') < texts.findIndex((t) => t.startsWith('🤖')));
    assert.ok(texts.includes(`🤖 Sent to the client automatically (welcome):\n${expected[0]}`));
    assert.ok(texts.includes(`🤖 Sent to the client automatically (outside working hours):\n${expected[1]}`));
    // Carried like an answer: delivered, recorded.
    const delivered = await waitFor('both recorded as delivered', async () => {
      const d = await h.events({ type: 'ReplyDelivered', conversationId });
      return d.length >= 2 ? d : undefined;
    });
    assert.equal(delivered.length, 2);
  });

  it('/start welcomes once per conversation', async () => {
    const user = h.tg.addUser({ first_name: 'Sam', language_code: 'en' });
    const start = { text: '/start', entities: [{ type: 'bot_command' as const, offset: 0, length: 6 }] };
    await h.send(h.tg.privateMessage(user, start));
    await h.send(h.tg.privateMessage(user, start));
    await waitFor('the replies', () => (botTexts(user).length >= 2 ? true : undefined));
    await settle();
    const welcomes = botTexts(user).filter((t) => t.startsWith('Hello! Your message has reached'));
    assert.equal(welcomes.length, 1);
    assert.equal(botTexts(user).length, 2, 'the welcome and the off-hours answer, nothing more');
  });

  it('an API source receives the automatic replies through its webhook, marked automatic', async () => {
    const { token, tokenId } = await createSource(h.app.log, 'site', await receiver.hook('/hooks/site'));
    const api = client(h, { code: 'site', token, tokenId });
    await waitFor('the token works', async () =>
      (await api.get('/api/external/messages')).status === 200 ? true : undefined,
    );
    // A language that is no language tag is refused, naming the field, and records nothing.
    const refused = await api.post<{ errors: { field: string }[] }>('/api/external/visitor-7/messages', {
      json: { text: 'Hallo?', language: 'russian please' },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors[0]?.field, 'body.language');
    assert.equal(
      (await h.events({ conversationId: conversationIdOf('external', 'site', 'visitor-7') })).length,
      0,
    );
    const sent = await api.post('/api/external/visitor-7/messages', {
      json: { text: 'Hallo? Is anyone there?', language: 'ru' },
    });
    assert.ok(sent.status === 201 || sent.status === 202, JSON.stringify(sent.body));
    await api.post('/api/external/visitor-7/messages', { json: { text: 'Hello again' } });
    const posts = await waitFor(
      'two webhooks',
      () => (receiver.at('/hooks/site').length >= 2 ? receiver.at('/hooks/site') : undefined),
      20_000,
    );
    await settle();
    assert.equal(receiver.at('/hooks/site').length, 2, 'one welcome, one off-hours answer');
    const bodies = posts.map(
      (p) => JSON.parse(p.body) as { event: string; external_id: string; message: Record<string, unknown> },
    );
    assert.deepEqual(
      bodies.map((b) => [b.event, b.external_id, b.message.direction, b.message.automatic]),
      [
        ['message.created', 'visitor-7', 'outgoing', 'welcome'],
        ['message.created', 'visitor-7', 'outgoing', 'off_hours'],
      ],
    );
    assert.equal(
      bodies[1]!.message.text,
      `Спасибо за сообщение! Сейчас поддержка не работает; мы ответим, когда снова откроемся: ${opensAt('ru')}.`,
    );
    // Polling sees them too, as outgoing messages.
    const listed = await api.get<{ messages: { text: string; direction: string }[] }>(
      '/api/external/visitor-7/messages?direction=outgoing',
    );
    assert.equal(listed.body.messages.length, 2);
    const conversationId = conversationIdOf('external', 'site', 'visitor-7');
    const delivered = await waitFor('recorded as delivered by the webhook', async () => {
      const d = await h.events({ type: 'ReplyDelivered', conversationId });
      return d.length >= 2 ? d : undefined;
    });
    assert.equal(delivered.length, 2);
  });

  it('a manager’s answer is not marked automatic', async () => {
    const { token, tokenId } = await createSource(h.app.log, 'shop', await receiver.hook('/hooks/shop'));
    const api = client(h, { code: 'shop', token, tokenId });
    await waitFor('the token works', async () =>
      (await api.get('/api/external/messages')).status === 200 ? true : undefined,
    );
    await api.post('/api/external/buyer-1/messages', { json: { text: 'Where is it?' } });
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('buyer-1')));
    await waitFor(
      'the automatic ones',
      () => (receiver.at('/hooks/shop').length >= 2 ? true : undefined),
      20_000,
    );
    const manager = h.tg.addManager({ first_name: 'Alice' });
    await h.send(h.tg.groupMessage(manager, topic.message_thread_id, { text: 'It ships on Monday' }));
    const third = await waitFor('the answer', () => receiver.at('/hooks/shop')[2], 20_000);
    const body = JSON.parse(third.body) as { message: Record<string, unknown> };
    assert.equal(body.message.text, 'It ships on Monday');
    assert.equal('automatic' in body.message, false);
  });

  it('the working hours and every automatic reply are in the audit, with their actors', async () => {
    const hours = await admin().get<{ events: { type: string; actor: { id: string } }[] }>(
      '/api/admin/settings/hours/history',
    );
    assert.deepEqual(
      hours.body.events.map((e) => [e.type, e.actor.id]),
      [['WorkingHoursSet', 'admin-api']],
    );
    const all = await h.events({ type: 'ManagerReplied' });
    const automatic = all.filter((e) => e.data.automatic !== undefined);
    assert.equal(automatic.length, 8, 'two per conversation: Дарья, Sam, visitor-7, buyer-1');
    for (const e of automatic) assert.deepEqual(e.metadata.actor, { kind: 'system', id: 'auto-reply' });
  });
});
