// A team switching from tg-support-bot keeps its .env and its channels' webhook addresses for a while:
// the app configured only under the old variable names (TELEGRAM_TOKEN, TELEGRAM_GROUP_ID,
// TELEGRAM_SECRET_KEY, VK_CONFIRM_CODE, VK_SECRET_CODE, TELEGRAM_TOPIC_NAME) takes updates at
// /api/telegram/bot and /api/vk/bot as at its own addresses, with the same secrets checked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';

const postTo = (url: string, update: unknown, secret: string | null) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
    },
    body: JSON.stringify(update),
  });

describe('Telegram under tg-support-bot’s names, at /api/telegram/bot', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(
      { TELEGRAM_TOPIC_NAME: '{first_name} {last_name} {platform}' },
      { tgSupportBotNames: true },
    );
  });
  after(async () => {
    await h.stop();
  });

  it('a client’s message posted to the old address opens a topic titled by the old template', async () => {
    const user = h.tg.addUser({ first_name: 'Olga', last_name: 'Sidorova' });
    const update = h.tg.privateMessage(user, { text: 'Здравствуйте, где мой заказ?' });
    const res = await postTo(`${h.url}/api/telegram/bot`, update, WEBHOOK_SECRET);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, outcome: 'recorded' });
    const copy = await h.topicCopyOf(user.id, update.message!.message_id);
    assert.equal(copy.text, 'Здравствуйте, где мой заказ?');
    const topic = h.tg.topics().find((t) => t.message_thread_id === copy.message_thread_id);
    assert.equal(topic?.name, 'Olga Sidorova telegram');
    // The same update again through the new address: one event, as with any re-delivery.
    const again = await postTo(`${h.url}/webhooks/telegram`, update, WEBHOOK_SECRET);
    assert.deepEqual(await again.json(), { ok: true, outcome: 'duplicate' });
  });

  it('checks TELEGRAM_SECRET_KEY at the old address too: a wrong secret records nothing', async () => {
    const user = h.tg.addUser({ first_name: 'Mallory' });
    const update = h.tg.privateMessage(user, { text: 'sneaky' });
    for (const secret of ['wrong', null]) {
      const res = await postTo(`${h.url}/api/telegram/bot`, update, secret);
      assert.equal(res.status, 401);
    }
    assert.equal((await h.events({ conversationId: h.conversationOf(user.id) })).length, 0);
  });

  it('a manager’s answer in the topic reaches the client', async () => {
    const user = h.tg.addUser({ first_name: 'Pavel', last_name: 'Orlov' });
    const question = h.tg.privateMessage(user, { text: 'Is it shipped?' });
    await postTo(`${h.url}/api/telegram/bot`, question, WEBHOOK_SECRET);
    const topicId = await h.topicOf(user.id);
    const manager = h.tg.addManager({ first_name: 'Alice' });
    const answer = h.tg.groupMessage(manager, topicId, { text: 'Yes, today.' });
    const res = await postTo(`${h.url}/api/telegram/bot`, answer, WEBHOOK_SECRET);
    assert.equal(res.status, 200);
    const delivered = await h.clientCopyOf(user.id, answer.message!.message_id);
    assert.equal(delivered.text, 'Yes, today.');
  });
});

describe('VK under tg-support-bot’s names, at /api/vk/bot', () => {
  let h: VkHarness;
  before(async () => {
    h = await startVkHarness({ tgSupportBotNames: true, callbackPath: '/api/vk/bot' });
  });
  after(async () => {
    await h.stop();
  });

  it('answers the confirmation event with VK_CONFIRM_CODE and refuses a wrong VK_SECRET_CODE', async () => {
    assert.match(h.callbackUrl, /\/api\/vk\/bot$/);
    const res = await h.postEvent(h.vk.confirmationEvent());
    assert.deepEqual([res.status, res.body], [200, h.vk.confirmation]);
    const wrong = await h.postEvent(h.vk.confirmationEvent(), { secret: 'wrong' });
    assert.equal(wrong.status, 403);
  });

  it('a VK client’s message posted to the old address lands in a topic', async () => {
    const user = h.vk.addUser({ first_name: 'Anna', last_name: 'Kuznetsova' });
    const res = await h.postEvent(h.vk.messageNew(user, { text: 'Добрый день' }));
    assert.deepEqual([res.status, res.body], [200, 'ok']);
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('Anna')));
    await waitFor('the copy', () =>
      h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id).find((m) => m.text === 'Добрый день'),
    );
  });
});
