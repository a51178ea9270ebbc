// Notes, commands and saved answers end to end: the whole app on a real PostgreSQL, the Bot API
// stand-in as the support group and the clients' Telegram, the VK stand-in, and a source's webhook
// receiver. What managers write in a topic, what the client sees (and never sees), what the audit
// shows.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Message, User } from 'grammy/types';
import { commandEventId, conversationIdOf } from '../../src/adapters/ids.ts';
import { createSource } from '../../src/adapters/sources/sources.ts';
import { vkConversationId } from '../../src/adapters/vk/refs.ts';
import { type CommandHandler, createCommandHandler } from '../../src/domain/command-handler.ts';
import { type Harness, type LoggedEvent, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const ADMIN_TOKEN = 'admin-token-for-the-notes-tests-0123';

/** Sets a saved answer's text through the admin API, as an operator would. */
const putTemplate = async (baseUrl: string, name: string, locale: string, text: string) => {
  const res = await fetch(`${baseUrl}/api/admin/templates/${name}/texts/${locale}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  assert.ok(
    res.status === 200 || res.status === 201,
    `PUT template answered ${res.status}: ${JSON.stringify(body)}`,
  );
  return body as { name: string; version: number; texts: Record<string, string> };
};

const auditOf = async (baseUrl: string, conversationId: string) => {
  const res = await fetch(`${baseUrl}/api/admin/conversations/${conversationId}/events`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(res.status, 200);
  return (
    (await res.json()) as {
      events: {
        type: string;
        summary: string;
        actor: { kind: string; id: string; name: string | null };
        data: Record<string, unknown>;
      }[];
    }
  ).events;
};

describe('notes, commands and saved answers in a Telegram topic', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ ADMIN_TOKEN });
  });
  after(async () => {
    await h.stop();
  });

  const clientWithTopic = async (user: StandInUser, text = 'Hi there') => {
    const first = h.tg.privateMessage(user, { text });
    await h.send(first);
    await h.topicCopyOf(user.id, first.message!.message_id);
    return h.topicOf(user.id);
  };
  const topicMessages = (topic: number) => h.tg.messagesIn(h.tg.supportChatId, topic);
  /** What the bot wrote in the topic after message `after`. */
  const botSaid = (topic: number, afterId: number) =>
    topicMessages(topic).filter((m) => m.from?.is_bot && m.message_id > afterId);
  const clientTexts = (user: StandInUser) =>
    h.tg
      .messagesIn(user.chat.id)
      .filter((m) => m.from?.is_bot)
      .map((m) => m.text ?? '');
  /** An answer sent and delivered: everything the manager wrote before it has been handled. */
  const answerAndWait = async (manager: User, topic: number, user: StandInUser, text: string) => {
    const answer = h.tg.groupMessage(manager, topic, { text });
    assert.equal(await h.send(answer), 'recorded');
    return h.clientCopyOf(user.id, answer.message!.message_id);
  };

  it('a note (/note or the // prefix) is recorded, marked with a reaction, in the audit, and never reaches the client', async () => {
    const user = h.tg.addUser({ first_name: 'Nora' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Gina' });

    const note = h.tg.groupMessage(manager, topic, { text: '/note the parcel left on Monday' });
    assert.equal(await h.send(note), 'recorded');
    const prefixed = h.tg.groupMessage(manager, topic, { text: '// she was refunded once already' });
    assert.equal(await h.send(prefixed), 'recorded');
    for (const m of [note, prefixed])
      await waitFor(
        'the ✍ mark',
        () => h.tg.reactionsOn(h.tg.supportChatId, m.message!.message_id).length > 0,
      );
    assert.deepEqual(h.tg.reactionsOn(h.tg.supportChatId, note.message!.message_id), [
      { type: 'emoji', emoji: '✍' },
    ]);

    // An answer after them is delivered: the notes, recorded before it, were not.
    await answerAndWait(manager, topic, user, 'We are on it');
    assert.deepEqual(clientTexts(user), ['We are on it']);
    assert.equal(
      h.tg.calls.some(
        (c) => c.params.chat_id === user.id && /Monday|refunded/.test(JSON.stringify(c.params)),
      ),
      false,
      'no call to the client carried a note',
    );

    const conversationId = h.conversationOf(user.id);
    const notes = await h.events({ type: 'NoteAdded', conversationId });
    assert.deepEqual(
      notes.map((e) => e.data.text),
      ['the parcel left on Monday', 'she was refunded once already'],
    );
    assert.deepEqual(notes[0]!.data.groupMessage, {
      chatId: String(h.tg.supportChatId),
      messageId: String(note.message!.message_id),
    });
    const audit = (await auditOf(h.url, conversationId)).filter((e) => e.type === 'NoteAdded');
    assert.equal(audit.length, 2);
    assert.equal(audit[0]!.actor.kind, 'manager');
    assert.equal(audit[0]!.actor.id, String(manager.id));
    assert.match(audit[0]!.summary, /note by Gina \(internal, not sent\): "the parcel left on Monday"/);
    // No manager message, no webhook, no delivery for a note: the messages read model never has it.
    const { rows } = await h.db.pool.query('SELECT text FROM rm_messages WHERE conversation_id = $1', [
      conversationId,
    ]);
    assert.deepEqual(rows.map((r) => r.text).sort(), ['Hi there', 'We are on it']);

    // A note's edit changes nothing anywhere.
    const before = (await h.events({ conversationId })).length;
    assert.equal(
      await h.send(
        h.tg.editedGroupMessage(manager, note.message!.message_id, {
          text: '/note the parcel left on Tuesday',
        }),
      ),
      'ignored',
    );
    assert.equal((await h.events({ conversationId })).length, before);
  });

  it('/clsoe never reaches the client; the topic gets the command list', async () => {
    const user = h.tg.addUser({ first_name: 'Typo' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Hank' });
    const typo = h.tg.groupMessage(manager, topic, { text: '/clsoe' });
    assert.equal(await h.send(typo), 'ignored');
    const [list] = botSaid(topic, typo.message!.message_id);
    assert.ok(list?.text, 'the bot answered in the topic');
    assert.match(list.text, /^⛔ Not sent: \/clsoe is not a command/);
    for (const command of [
      '/note',
      '/send',
      '/t',
      '/pin',
      '/unpin',
      '/info',
      '/close',
      '/reopen',
      '/ban',
      '/unban',
      '/delete',
    ])
      assert.match(list.text, new RegExp(`^${command} `, 'm'), `${command} is listed`);
    assert.equal(list.reply_to_message?.message_id, typo.message!.message_id);
    // Another bot's command is not ours and not the client's either.
    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/start@other_bot' })), 'ignored');

    await answerAndWait(manager, topic, user, 'Closing soon');
    assert.deepEqual(clientTexts(user), ['Closing soon']);
    const conversationId = h.conversationOf(user.id);
    assert.equal((await h.events({ type: 'ManagerReplied', conversationId })).length, 1);
    assert.equal((await h.events({ type: 'ConversationClosed', conversationId })).length, 0);
  });

  it('/send /x reaches the client as /x, shown in the topic as it went out', async () => {
    const user = h.tg.addUser({ first_name: 'Slash' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Ida' });
    const send = h.tg.groupMessage(manager, topic, { text: '/send /start to begin again' });
    assert.equal(await h.send(send), 'recorded');
    const conversationId = h.conversationOf(user.id);
    const [replied] = await h.events({ type: 'ManagerReplied', conversationId });
    assert.equal(replied?.data.text, '/start to begin again');
    const post = h.tg.message(
      h.tg.supportChatId,
      Number((replied!.data.groupMessage as { messageId: string }).messageId),
    );
    assert.equal(post?.text, '/start to begin again', 'the bot shows in the topic what went out');
    assert.equal(post?.reply_to_message?.message_id, send.message!.message_id);
    await waitFor(
      'the client got it',
      () => clientTexts(user).includes('/start to begin again') || undefined,
    );
    assert.deepEqual(clientTexts(user), ['/start to begin again']);

    // A manager's reply to the bot's post threads with the answer; /delete on it deletes the answer.
    const del = h.tg.groupMessage(
      manager,
      topic,
      { text: '/delete' },
      { reply_to_message_id: post!.message_id },
    );
    assert.equal(await h.send(del), 'recorded');
    const [deleted] = await h.events({ type: 'ManagerReplyDeleted', conversationId });
    assert.equal(deleted?.data.messageId, replied!.data.messageId);
    await waitFor('gone from the client', () => (clientTexts(user).length === 0 ? true : undefined));
    // Re-delivering the /send update posts and records nothing new.
    const posts = botSaid(topic, 0).length;
    assert.equal(await h.send(send), 'duplicate');
    assert.equal(botSaid(topic, 0).length, posts);
    assert.equal((await h.events({ type: 'ManagerReplied', conversationId })).length, 1);
  });

  it('/pin is shown by /info under the contact card; /unpin removes it', async () => {
    const user = h.tg.addUser({ first_name: 'Vera', username: 'vera_v' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Max' });
    const pin = h.tg.groupMessage(manager, topic, { text: '/pin VIP since 2021, prefers email' });
    assert.equal(await h.send(pin), 'recorded');
    assert.match(botSaid(topic, pin.message!.message_id)[0]?.text ?? '', /Pinned to this client/);
    const info = h.tg.groupMessage(manager, topic, { text: '/info' });
    await h.send(info);
    const card = botSaid(topic, info.message!.message_id)[0];
    assert.match(
      card?.text ?? '',
      /Vera[\s\S]*@vera_v[\s\S]*📌 Note: VIP since 2021, prefers email \(Max\)$/,
    );

    const conversationId = h.conversationOf(user.id);
    const [pinned] = await h.events({ type: 'NotePinned', conversationId });
    assert.deepEqual(pinned?.data, {
      text: 'VIP since 2021, prefers email',
      managerId: String(manager.id),
      managerName: 'Max',
    });

    const unpin = h.tg.groupMessage(manager, topic, { text: '/unpin' });
    assert.equal(await h.send(unpin), 'recorded');
    const again = h.tg.groupMessage(manager, topic, { text: '/info' });
    await h.send(again);
    assert.doesNotMatch(botSaid(topic, again.message!.message_id)[0]?.text ?? '', /📌/);
    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/unpin' })), 'ignored');
    assert.equal((await h.events({ type: 'NoteUnpinned', conversationId })).length, 1);
    assert.equal(clientTexts(user).length, 0, 'the client saw none of it');
  });

  it('/t greeting reaches a Russian-speaking client in Russian; the audit names the saved answer and its version', async () => {
    await putTemplate(h.url, 'greeting', 'en', 'Hello {client_name}! {manager_name} here, how can I help?');
    const ru = await putTemplate(
      h.url,
      'greeting',
      'ru',
      'Здравствуйте, {client_name}! Это {manager_name}, чем помочь?',
    );
    assert.equal(ru.version, 2);
    const user = h.tg.addUser({ first_name: 'Ivan', language_code: 'ru' });
    const topic = await clientWithTopic(user, 'Привет');
    const manager = h.tg.addManager({ first_name: 'Olga' });

    const command = h.tg.groupMessage(manager, topic, { text: '/t greeting' });
    assert.equal(await h.send(command), 'recorded');
    const expected = 'Здравствуйте, Ivan! Это Olga, чем помочь?';
    await waitFor('the client got the saved answer', () => clientTexts(user).includes(expected) || undefined);
    assert.deepEqual(clientTexts(user), [expected]);
    const conversationId = h.conversationOf(user.id);
    const [replied] = await h.events({ type: 'ManagerReplied', conversationId });
    assert.deepEqual(replied?.data.template, { name: 'greeting', version: 2, locale: 'ru' });
    const post = botSaid(topic, command.message!.message_id).find((m) => m.text === expected);
    assert.ok(post, 'the topic shows what went out');

    const audit = (await auditOf(h.url, conversationId)).find((e) => e.type === 'ManagerReplied');
    assert.equal(audit?.actor.id, String(manager.id));
    assert.match(audit?.summary ?? '', /from saved answer greeting v2 \(ru\)/);
    assert.deepEqual(audit?.data.template, { name: 'greeting', version: 2, locale: 'ru' });

    // An English client gets English; an unknown name is said in the topic and sends nothing.
    const en = h.tg.addUser({ first_name: 'Ann', language_code: 'en-GB' });
    const enTopic = await clientWithTopic(en);
    await h.send(h.tg.groupMessage(manager, enTopic, { text: '/T Greeting' }));
    await waitFor(
      'the English text',
      () => clientTexts(en).includes('Hello Ann! Olga here, how can I help?') || undefined,
    );
    const unknown = h.tg.groupMessage(manager, enTopic, { text: '/t greting' });
    assert.equal(await h.send(unknown), 'ignored');
    assert.match(
      botSaid(enTopic, unknown.message!.message_id)[0]?.text ?? '',
      /no saved answer “greting”\. Saved answers: greeting/,
    );
    assert.equal(
      (await h.events({ type: 'ManagerReplied', conversationId: h.conversationOf(en.id) })).length,
      1,
    );
  });

  it('/t alone shows the saved answers as buttons (tpl:<name>)', async () => {
    await putTemplate(h.url, 'refund', 'en', 'Your refund is on its way.');
    await putTemplate(h.url, 'bygone', 'en', 'An answer about to be removed.');
    const user = h.tg.addUser({ first_name: 'Buttons' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Pia' });
    const command = h.tg.groupMessage(manager, topic, { text: '/t' });
    assert.equal(await h.send(command), 'ignored');
    const picker: Message | undefined = botSaid(topic, command.message!.message_id)[0];
    assert.match(picker?.text ?? '', /Pick a saved answer/);
    const buttons = picker?.reply_markup?.inline_keyboard.flat() ?? [];
    assert.deepEqual(
      buttons.map((b) => ({ text: b.text, data: 'callback_data' in b ? b.callback_data : undefined })),
      [
        { text: 'bygone', data: 'tpl:bygone' },
        { text: 'greeting', data: 'tpl:greeting' },
        { text: 'refund', data: 'tpl:refund' },
      ],
    );
    assert.equal(clientTexts(user).length, 0);

    // A press sends that saved answer to the client, as the manager who pressed.
    const press = h.tg.pressButton(manager, h.tg.supportChatId, picker!.message_id, 'tpl:refund');
    assert.equal(await h.send(press), 'recorded');
    await waitFor('the saved answer at the client', () =>
      clientTexts(user).includes('Your refund is on its way.') ? true : undefined,
    );
    assert.deepEqual(clientTexts(user), ['Your refund is on its way.']);
    assert.equal(
      h.tg.presses().find((p) => p.id === press.callback_query!.id)?.answer?.text,
      'Saved answer “refund” sent to the client.',
    );
    const conversationId = h.conversationOf(user.id);
    const replied = await h.events({ type: 'ManagerReplied', conversationId });
    assert.equal(replied.length, 1);
    assert.equal(replied[0]!.data.managerId, String(manager.id));
    assert.deepEqual(replied[0]!.data.template, { name: 'refund', version: 1, locale: 'en' });
    // The topic shows the text sent, as the bot's reply to the message with the buttons.
    const post = botSaid(topic, picker!.message_id).find((m) => m.text === 'Your refund is on its way.');
    assert.equal(post?.reply_to_message?.message_id, picker!.message_id);

    // The same press delivered again sends nothing more.
    assert.equal(await h.send(press), 'duplicate');
    assert.equal((await h.events({ type: 'ManagerReplied', conversationId })).length, 1);

    // A saved answer removed meanwhile: the presser gets an alert, the client nothing.
    const removed = await fetch(`${h.url}/api/admin/templates/bygone`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(removed.status, 204);
    const stale = h.tg.pressButton(manager, h.tg.supportChatId, picker!.message_id, 'tpl:bygone');
    assert.equal(await h.send(stale), 'ignored');
    const alert = h.tg.presses().find((p) => p.id === stale.callback_query!.id)?.answer;
    assert.equal(alert?.show_alert, true);
    assert.match(alert?.text ?? '', /no saved answer “bygone”/);
    assert.equal((await h.events({ type: 'ManagerReplied', conversationId })).length, 1);
    assert.deepEqual(clientTexts(user), ['Your refund is on its way.']);
  });

  it('the admin API sets, lists and removes saved answers, refusing a bad field by name', async () => {
    const call = async (method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) => {
      const res = await fetch(`${h.url}/api/admin/templates${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
    };
    const created = await call('PUT', '/closing/texts/en', {
      text: 'Closing this, {client_name}. Write any time!',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body?.version, 1);
    assert.deepEqual(created.body?.updated_by, { kind: 'system', id: 'admin-api', name: null });
    const changed = await call('PUT', '/closing/texts/ru', { text: 'Закрываем, {client_name}.' });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body?.texts, {
      en: 'Closing this, {client_name}. Write any time!',
      ru: 'Закрываем, {client_name}.',
    });
    const one = await call('GET', '/closing');
    assert.equal(one.status, 200);
    assert.equal(one.body?.version, 2);
    const list = await call('GET', '');
    assert.ok(((list.body?.templates ?? []) as { name: string }[]).some((t) => t.name === 'closing'));

    const fieldOf = (r: { body?: Record<string, unknown> }) =>
      ((r.body?.errors ?? []) as { field: string; message: string }[])[0] ?? { field: '', message: '' };
    const badVariable = await call('PUT', '/closing/texts/en', { text: 'Order {order_id} closed' });
    assert.equal(badVariable.status, 400);
    assert.equal(fieldOf(badVariable).field, 'body.text');
    assert.match(fieldOf(badVariable).message, /unknown variable \{order_id\}/);
    const badName = await call('PUT', '/Closing!/texts/en', { text: 'x' });
    assert.equal(badName.status, 400);
    assert.equal(fieldOf(badName).field, 'params.name');
    const badLocale = await call('PUT', '/closing/texts/de', { text: 'x' });
    assert.equal(badLocale.status, 400);
    assert.equal(fieldOf(badLocale).field, 'params.locale');
    const empty = await call('PUT', '/closing/texts/en', { text: '' });
    assert.equal(empty.status, 400);
    assert.equal(fieldOf(empty).field, 'body.text');
    assert.equal((await call('GET', '', undefined, null)).status, 401);

    const ruGone = await call('DELETE', '/closing/texts/ru');
    assert.equal(ruGone.status, 200);
    assert.deepEqual(ruGone.body?.texts, { en: 'Closing this, {client_name}. Write any time!' });
    assert.equal((await call('DELETE', '/closing/texts/ru')).status, 404);
    assert.equal((await call('DELETE', '/closing')).status, 204);
    const missing = await call('GET', '/closing');
    assert.equal(missing.status, 404);
    assert.equal(missing.body?.code, 'template_not_found');
    assert.equal((await call('DELETE', '/closing')).status, 404);
  });

  it('a saved answer to a source goes out through its webhook, with the saved answer named', async () => {
    const receiver: WebhookReceiver = await startWebhookReceiver();
    try {
      await createSource(h.app.log, 'shop', await receiver.hook('/hooks/shop'));
      const handler: CommandHandler = createCommandHandler({ log: h.app.log, eventId: commandEventId });
      const conversationId = conversationIdOf('external', 'shop', 'cust-9');
      await handler.execute(
        conversationId,
        {
          type: 'ReceiveClientMessage',
          conversationId,
          channel: 'external',
          source: 'shop',
          clientId: 'cust-9',
          profile: { firstName: 'Mia' },
          messageId: randomUUID(),
          content: { text: 'Where is my refund?', attachments: [] },
        },
        { commandId: randomUUID(), actor: { kind: 'source', id: 'shop' } },
      );
      const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('Mia')));
      const manager = h.tg.addManager({ first_name: 'Rob' });
      assert.equal(
        await h.send(h.tg.groupMessage(manager, topic.message_thread_id, { text: '/t refund' })),
        'recorded',
      );
      const delivered = await waitFor('message.created', () => receiver.at('/hooks/shop')[0], 20_000);
      const body = JSON.parse(delivered.body) as {
        event: string;
        message: { text: string; template?: { name: string; version: number; locale: string } };
      };
      assert.equal(body.event, 'message.created');
      assert.equal(body.message.text, 'Your refund is on its way.');
      assert.deepEqual(body.message.template, { name: 'refund', version: 1, locale: 'en' });
    } finally {
      await receiver.close();
    }
  });
});

describe('a saved answer to a VK client', () => {
  let h: VkHarness;
  before(async () => {
    h = await startVkHarness({ env: { ADMIN_TOKEN } });
  });
  after(async () => {
    await h.stop();
  });

  it('goes out through VK in the client’s language (VK lang 0: Russian)', async () => {
    await putTemplate(h.app.address(), 'greeting', 'en', 'Hello {client_name}!');
    await putTemplate(h.app.address(), 'greeting', 'ru', 'Здравствуйте, {client_name}!');
    const user = h.vk.addUser({ first_name: 'Pyotr', last_name: 'Ivanov', lang_id: 0 });
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'добрый день' }))).status, 200);
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('Pyotr')));
    const manager = h.tg.addManager({ first_name: 'Alice' });
    const res = await h.postUpdate(
      h.tg.groupMessage(manager, topic.message_thread_id, { text: '/t greeting' }),
    );
    assert.equal(res.status, 200);
    await waitFor('the VK client got it', () =>
      h.vk.sentTo(user.id).find((m) => m.text === 'Здравствуйте, Pyotr Ivanov!'),
    );
    const { rows } = await h.db.pool.query<Pick<LoggedEvent, 'data'>>(
      `SELECT data FROM td_events WHERE stream = $1 AND type = 'ManagerReplied'`,
      [`conversation-${vkConversationId(user.id)}`],
    );
    assert.deepEqual(rows[0]?.data.template, { name: 'greeting', version: 2, locale: 'ru' });
  });
});
