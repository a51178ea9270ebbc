// The client's language end to end (the whole app, the Bot API stand-in, LOCALE=ru): a Russian
// Telegram client is told in Russian that support closed the conversation and that they are banned,
// an English one in English; the topic speaks LOCALE's language; an operator's override through the
// admin API changes exactly that text, is refused with the field named when it is wrong, and shows
// in the settings' audit history with its actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';
import { client } from './api-helpers.ts';

const ADMIN_TOKEN = 'admin-token-for-the-texts-tests-0123';

interface Problem {
  status: number;
  errors?: Array<{ field: string; message: string }>;
  code?: string;
}

describe('texts in the client’s language (whole app, LOCALE=ru)', () => {
  let h: Harness;
  const admin = () => client(h, { code: 'admin', token: ADMIN_TOKEN, tokenId: 'admin' });
  before(async () => {
    h = await startHarness({ ADMIN_TOKEN, LOCALE: 'ru' });
  });
  after(async () => {
    await h.stop();
  });

  const manager = () => h.tg.addManager({ first_name: 'Ольга' });
  const clientWithTopic = async (user: StandInUser, text: string) => {
    const first = h.tg.privateMessage(user, { text });
    await h.send(first);
    await h.topicCopyOf(user.id, first.message!.message_id);
    return h.topicOf(user.id);
  };
  const topicTexts = (topic: number) =>
    h.tg.messagesIn(h.tg.supportChatId, topic).map((m) => m.text ?? m.caption ?? '');
  const botTexts = (user: StandInUser) =>
    h.tg
      .messagesIn(user.chat.id)
      .filter((m) => m.from?.is_bot)
      .map((m) => m.text ?? '');
  const told = (user: StandInUser, what: string) => waitFor(what, () => botTexts(user).at(-1));

  it('tells a Russian client in Russian that support closed the conversation, and an English one in English', async () => {
    const ivan = h.tg.addUser({ first_name: 'Иван', language_code: 'ru' });
    const ann = h.tg.addUser({ first_name: 'Ann', language_code: 'en-GB' });
    const ivanTopic = await clientWithTopic(ivan, 'Здравствуйте');
    const annTopic = await clientWithTopic(ann, 'Hello');
    const olga = manager();
    await h.send(h.tg.groupMessage(olga, ivanTopic, { text: '/close' }));
    await h.send(h.tg.groupMessage(olga, annTopic, { text: '/close' }));
    assert.equal(
      await told(ivan, 'the close notice to Ivan'),
      'Поддержка закрыла этот диалог. Напишите снова в любое время — он откроется.',
    );
    assert.equal(
      await told(ann, 'the close notice to Ann'),
      'This conversation was closed by support. Write again any time to reopen it.',
    );
    // The topic speaks LOCALE's language whoever the client is: the card and the command's answer.
    assert.ok(topicTexts(annTopic).some((t) => t.includes('📨 Канал: telegram · Источник: telegram')));
    assert.ok(topicTexts(annTopic).includes('Диалог закрыт; клиенту сообщили.'));
    assert.ok(topicTexts(ivanTopic).some((t) => t.includes('🌐 Язык: ru')));
  });

  it('tells a banned Russian client in Russian, once', async () => {
    const petr = h.tg.addUser({ first_name: 'Пётр', language_code: 'ru-RU' });
    const topic = await clientWithTopic(petr, 'Привет');
    await h.send(h.tg.groupMessage(manager(), topic, { text: '/ban' }));
    await h.send(h.tg.privateMessage(petr, { text: 'Ответьте!' }));
    assert.equal(await told(petr, 'the ban notice'), 'Сейчас ваши сообщения не передаются в поддержку.');
    await h.send(h.tg.privateMessage(petr, { text: 'Ау?' }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(botTexts(petr).length, 1, 'told once');
  });

  it('a client whose language changes is written to in the new one', async () => {
    const user = h.tg.addUser({ first_name: 'Mila', language_code: 'en' });
    const topic = await clientWithTopic(user, 'Hi');
    // Mila switches her Telegram to Russian; her next message says so.
    (user.user as { language_code?: string }).language_code = 'ru';
    await h.send(h.tg.privateMessage(user, { text: 'Теперь по-русски' }));
    await h.send(h.tg.groupMessage(manager(), topic, { text: '/close' }));
    assert.equal(
      await told(user, 'the close notice'),
      'Поддержка закрыла этот диалог. Напишите снова в любое время — он откроется.',
    );
    const received = await h.events({
      type: 'ClientMessageReceived',
      conversationId: h.conversationOf(user.id),
    });
    assert.deepEqual(
      received.map((e) => e.data.languageCode),
      [undefined, 'ru'],
      'recorded once, when it changed',
    );
  });

  it('an override through the admin API changes exactly that text, in that language', async () => {
    const set = await admin().call('PUT', '/api/admin/texts/ru/client.closed', {
      json: { text: 'Мы закрыли диалог. Пишите, если что-то ещё нужно.' },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual((set.body as { changed: boolean }).changed, true);

    const vera = h.tg.addUser({ first_name: 'Вера', language_code: 'ru' });
    const bob = h.tg.addUser({ first_name: 'Bob', language_code: 'en' });
    const veraTopic = await clientWithTopic(vera, 'Добрый день');
    const bobTopic = await clientWithTopic(bob, 'Good day');
    const olga = manager();
    await h.send(h.tg.groupMessage(olga, veraTopic, { text: '/close' }));
    await h.send(h.tg.groupMessage(olga, bobTopic, { text: '/close' }));
    assert.equal(
      await told(vera, 'the overridden notice'),
      'Мы закрыли диалог. Пишите, если что-то ещё нужно.',
    );
    assert.equal(
      await told(bob, 'the English notice'),
      'This conversation was closed by support. Write again any time to reopen it.',
    );
    // Another Russian text is untouched.
    const list = await admin().get<{ texts: { key: string; text: string; origin: string }[] }>(
      '/api/admin/texts?locale=ru',
    );
    const banned = list.body.texts.find((t) => t.key === 'client.banned');
    assert.deepEqual(banned, {
      key: 'client.banned',
      locale: 'ru',
      text: 'Сейчас ваши сообщения не передаются в поддержку.',
      origin: 'shipped',
      vars: [],
      required: [],
    });
  });

  it('refuses a wrong override with 400 naming the field, and records nothing', async () => {
    const before = (await h.events({ type: ['TextOverrideSet', 'TextOverrideRemoved'] })).length;
    const cases: [string, unknown, string, RegExp][] = [
      ['/api/admin/texts/ru/client.nope', { text: 'x' }, 'params.key', /unknown text key "client\.nope"/],
      ['/api/admin/texts/de/client.closed', { text: 'x' }, 'params.locale', /unknown locale "de"/],
      ['/api/admin/texts/en/client.closed', { text: 'Bye, {name}' }, 'body.text', /uses \{name\}/],
      ['/api/admin/texts/ru/client.off_hours', { text: 'Мы закрыты.' }, 'body.text', /must use \{opens_at\}/],
      ['/api/admin/texts/ru/client.closed', { text: '' }, 'body.text', /fewer than 1 characters/],
    ];
    for (const [path, json, field, message] of cases) {
      const res = await admin().call<Problem>('PUT', path, { json });
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errors?.[0]?.field, field, JSON.stringify(res.body));
      assert.match(res.body.errors?.[0]?.message ?? '', message);
    }
    const missing = await admin().call<Problem>('DELETE', '/api/admin/texts/en/client.banned');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'override_not_found');
    assert.equal((await h.events({ type: ['TextOverrideSet', 'TextOverrideRemoved'] })).length, before);
  });

  it('the settings audit lists the change with the admin API as its actor', async () => {
    const res = await admin().get<{
      kind: string;
      events: { type: string; actor: { kind: string; id: string }; summary: string }[];
    }>('/api/admin/settings/texts/history');
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.events.map((e) => [e.type, `${e.actor.kind}:${e.actor.id}`, e.summary]),
      [
        [
          'TextOverrideSet',
          'system:admin-api',
          'text client.closed (ru) set: "Мы закрыли диалог. Пишите, если что-то ещё нужно."',
        ],
      ],
    );
    const removed = await admin().call('DELETE', '/api/admin/texts/ru/client.closed');
    assert.equal(removed.status, 204);
    const after = await admin().get<{ events: { type: string }[] }>('/api/admin/settings/texts/history');
    assert.deepEqual(
      after.body.events.map((e) => e.type),
      ['TextOverrideSet', 'TextOverrideRemoved'],
    );
  });
});
