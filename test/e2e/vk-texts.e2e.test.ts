// The client's language and the automatic replies for a VK client, end to end (the whole app, the
// VK API and Bot API stand-ins, WELCOME=on, working hours that are closed now): VK's lang_id decides
// the language, the welcome and one off-hours answer reach the client through messages.send and are
// shown in the topic, and a banned client, or one whose conversation support closed, is told so in
// their language.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../support/app-harness.ts';
import type { VkStandInUser } from '../support/vk-stand-in.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';

const ADMIN_TOKEN = 'admin-token-for-the-vk-texts-test-012';

describe('vk: texts in the client’s language, welcome and working hours', () => {
  let h: VkHarness;
  before(async () => {
    h = await startVkHarness({ env: { WELCOME: 'on', ADMIN_TOKEN } });
    // Closed every day: every message is off hours, and support never opens within 400 days.
    const res = await fetch(`${h.app.address()}/api/admin/hours`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ time_zone: 'Europe/Moscow', weekly: {} }),
    });
    assert.equal(res.status, 200, await res.text());
  });
  after(async () => {
    await h.stop();
  });

  const sent = (user: VkStandInUser) => h.vk.sentTo(user.id).map((m) => m.text);
  const topicOf = (user: VkStandInUser) =>
    waitFor(`the topic of ${user.first_name}`, () =>
      h.tg.topics().find((t) => t.name.includes(`${user.first_name} ${user.last_name}`.trim())),
    );
  const topicTexts = (threadId: number) =>
    h.tg.messagesIn(h.tg.supportChatId, threadId).map((m) => m.text ?? m.caption ?? '');

  it('a Russian VK client writing twice gets one welcome and one off-hours answer, in Russian, shown in the topic', async () => {
    const user = h.vk.addUser({ first_name: 'Олег', last_name: 'Смирнов', lang_id: 0 });
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'Добрый вечер' }))).status, 200);
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'Есть кто?' }))).status, 200);
    const expected = [
      'Здравствуйте! Ваше сообщение получила служба поддержки. Мы ответим здесь, как только сможем.',
      'Спасибо за сообщение! Сейчас поддержка не работает; мы ответим, как только сможем.',
    ];
    await waitFor('two answers', () => (sent(user).length >= 2 ? true : undefined), 15_000);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(sent(user), expected);
    const topic = await topicOf(user);
    await waitFor('the copies in the topic', () =>
      topicTexts(topic.message_thread_id).filter((t) => t.startsWith('🤖')).length >= 2 ? true : undefined,
    );
    assert.ok(
      topicTexts(topic.message_thread_id).includes(
        `🤖 Sent to the client automatically (outside working hours):\n${expected[1]}`,
      ),
    );
  });

  it('an English VK client is written to in English', async () => {
    const user = h.vk.addUser({ first_name: 'Emma', last_name: 'Stone', lang_id: 3 });
    await h.postEvent(h.vk.messageNew(user, { text: 'Hi' }));
    await waitFor('two answers', () => (sent(user).length >= 2 ? true : undefined), 15_000);
    assert.equal(
      sent(user)[0],
      'Hello! Your message has reached our support team. We will answer here as soon as we can.',
    );
  });

  it('a banned Russian VK client is told so in Russian', async () => {
    const user = h.vk.addUser({ first_name: 'Спам', last_name: 'Спамов', lang_id: 0 });
    await h.postEvent(h.vk.messageNew(user, { text: 'Купите' }));
    const topic = await topicOf(user);
    await waitFor('the first answers', () => (sent(user).length >= 2 ? true : undefined), 15_000);
    const manager = h.tg.addManager({ first_name: 'Alice' });
    const ban = h.tg.groupMessage(manager, topic.message_thread_id, {
      text: '/ban',
      entities: [{ type: 'bot_command', offset: 0, length: 4 }],
    });
    assert.equal((await h.postUpdate(ban)).status, 200);
    await h.postEvent(h.vk.messageNew(user, { text: 'Купите ещё' }));
    await waitFor('the ban notice', () => (sent(user).length >= 3 ? true : undefined), 15_000);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(sent(user).slice(2), ['Сейчас ваши сообщения не передаются в поддержку.']);
  });

  it('a Russian VK client is told once, in Russian, that support closed the conversation', async () => {
    const user = h.vk.addUser({ first_name: 'Ирина', last_name: 'Закрытова', lang_id: 0 });
    await h.postEvent(h.vk.messageNew(user, { text: 'Спасибо, вопрос решён' }));
    const topic = await topicOf(user);
    await waitFor('the first answers', () => (sent(user).length >= 2 ? true : undefined), 15_000);
    const manager = h.tg.addManager({ first_name: 'Alice' });
    const close = h.tg.groupMessage(manager, topic.message_thread_id, {
      text: '/close',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    });
    assert.equal((await h.postUpdate(close)).status, 200);
    await waitFor('the close notice', () => (sent(user).length >= 3 ? true : undefined), 15_000);
    // The same /close delivered again: the conversation is closed already, nobody is told twice.
    assert.equal((await h.postUpdate(close)).status, 200);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(sent(user).slice(2), [
      'Поддержка закрыла этот диалог. Напишите снова в любое время — он откроется.',
    ]);
  });
});
