// Messages in the order they were sent. A burst (a forwarded batch, a long text Telegram splits in
// parts, a manager pasting several answers) reaches the webhooks as concurrent deliveries and is
// recorded in any order; the copies in the topic and the answers the client gets follow the sender's
// own numbering all the same — on one instance and on two.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Update } from 'grammy/types';
import pino from 'pino';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import { vkConversationId } from '../../src/adapters/vk/refs.ts';
import { type App, startApp } from '../../src/app/app.ts';
import { loadConfig } from '../../src/app/config.ts';
import { telegramStandInEnv } from '../support/app-env.ts';
import { type Harness, startHarness, WEBHOOK_SECRET, waitFor } from '../support/app-harness.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { client, type Message } from './api-helpers.ts';

/** The production default: these tests check what a team gets without tuning anything. */
const ORDER_ENV = { ORDER_WAIT_MS: '1000' };
const ROUNDS = Number(process.env.SENDER_ORDER_ROUNDS ?? 3);
/** The rounds at once, each with a sender of its own: every one waits out ORDER_WAIT_MS, not in turn. */
const eachRound = (round: (n: number) => Promise<void>) =>
  Promise.all(Array.from({ length: ROUNDS }, (_, n) => round(n)));

/** A deterministic shuffle (a small LCG), so a failing round can be told again. */
const shuffled = <T>(items: readonly T[], seed: number): T[] => {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

/** Posts every update at once, in `order`, each a few ms after the last (connections opening). */
const postAtOnce = async (post: (u: Update) => Promise<Response>, updates: readonly Update[]) => {
  const answers = await Promise.all(
    updates.map(async (u, i) => {
      await new Promise((r) => setTimeout(r, (i * 7) % 20));
      return post(u);
    }),
  );
  for (const a of answers) assert.equal(a.status, 200, await a.text());
};

/** Long enough for anything still in flight (a repeated send) to have arrived. */
const settled = () => new Promise((r) => setTimeout(r, 1500));

const textsInTopic = (h: { tg: Harness['tg'] }, threadId: number, prefix: string) =>
  h.tg
    .messagesIn(h.tg.supportChatId, threadId)
    .map((m) => m.text ?? m.caption ?? '')
    .filter((t) => t.startsWith(prefix));

describe('sender order: telegram', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(ORDER_ENV);
  });
  after(async () => {
    await h.stop();
  });

  it("a new client's burst, delivered at once in shuffled order, shows in the topic as sent", async () => {
    await eachRound(async (round) => {
      const user = h.tg.addUser({ first_name: `Burst${round}` });
      const count = 5 + (round % 6);
      const prefix = `new ${round}:`;
      const updates = Array.from({ length: count }, (_, i) =>
        h.tg.privateMessage(user, { text: `${prefix} part ${i + 1} of ${count}` }),
      );
      await postAtOnce((u) => h.postUpdate(u), shuffled(updates, round + 1));
      const topic = await h.topicOf(user.id);
      const texts = await waitFor(`round ${round}: all ${count} in the topic`, () => {
        const t = textsInTopic(h, topic, prefix);
        return t.length >= count ? t : undefined;
      });
      assert.deepEqual(
        texts,
        updates.map((u) => u.message!.text),
        `round ${round}`,
      );
    });
  });

  it("a known client's burst comes in order after what they wrote before", async () => {
    await eachRound(async (round) => {
      const user = h.tg.addUser({ first_name: `Known${round}` });
      const first = h.tg.privateMessage(user, { text: `known ${round}: hello` });
      await h.send(first);
      await h.topicCopyOf(user.id, first.message!.message_id);
      const count = 10 - (round % 5);
      const updates = Array.from({ length: count }, (_, i) =>
        h.tg.privateMessage(user, { text: `known ${round}: line ${i + 1}` }),
      );
      await postAtOnce((u) => h.postUpdate(u), shuffled(updates, 100 + round));
      const topic = await h.topicOf(user.id);
      const texts = await waitFor(`round ${round}: the burst in the topic`, () => {
        const t = textsInTopic(h, topic, `known ${round}:`);
        return t.length >= count + 1 ? t : undefined;
      });
      assert.deepEqual(
        texts,
        [first, ...updates].map((u) => u.message!.text),
      );
      // Nothing twice: one forwarded event per message (the last one is recorded just after its copy).
      const forwarded = async () =>
        (await h.events({ type: 'ClientMessageForwarded', conversationId: h.conversationOf(user.id) }))
          .length;
      await waitFor('every copy recorded', async () => ((await forwarded()) >= count + 1 ? true : undefined));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await forwarded(), count + 1);
      assert.equal(textsInTopic(h, topic, `known ${round}:`).length, count + 1);
    });
  });

  it('a message of a burst Telegram refuses is reported in the topic once; the rest come in order', async () => {
    const user = h.tg.addUser({ first_name: 'Vanish' });
    const hello = h.tg.privateMessage(user, { text: 'vanish: hello' });
    await h.send(hello);
    await h.topicCopyOf(user.id, hello.message!.message_id);
    const topic = await h.topicOf(user.id);
    const burst = [1, 2, 3].map((i) => h.tg.privateMessage(user, { text: `vanish: ${i}` }));
    // The client deletes the second before the bot copies it: Telegram answers "message to copy not found".
    h.tg.deleteMessageByHand(user.chat.id, burst[1]!.message!.message_id);
    // In order: the first one's event carries the whole burst, the refused one's own event comes after.
    for (const update of burst) await h.send(update);
    await h.topicCopyOf(user.id, burst[2]!.message!.message_id);
    // Carried after every event before it, the refused message's own among them.
    const later = h.tg.privateMessage(user, { text: 'vanish: 4' });
    await h.send(later);
    await h.topicCopyOf(user.id, later.message!.message_id);
    assert.deepEqual(textsInTopic(h, topic, 'vanish:'), [
      'vanish: hello',
      'vanish: 1',
      'vanish: 3',
      'vanish: 4',
    ]);
    assert.deepEqual(textsInTopic(h, topic, '⚠️ A client message could not be shown here'), [
      '⚠️ A client message could not be shown here (Bad Request: message to copy not found). Its text: vanish: 2',
    ]);
  });

  it("a manager's burst reaches the client in the order it was written", async () => {
    const user = h.tg.addUser({ first_name: 'Reader' });
    const hello = h.tg.privateMessage(user, { text: 'reader: hello' });
    await h.send(hello);
    const topic = await h.topicOf(user.id);
    const manager = h.tg.addManager({ first_name: 'Paster' });
    const answers = Array.from({ length: 7 }, (_, i) =>
      h.tg.groupMessage(manager, topic, { text: `answer part ${i + 1}` }),
    );
    await postAtOnce((u) => h.postUpdate(u), shuffled(answers, 7));
    const got = await waitFor('the answers in the client chat', () => {
      const t = h.tg
        .messagesIn(user.chat.id)
        .map((m) => m.text ?? '')
        .filter((t) => t.startsWith('answer part'));
      return t.length >= answers.length ? t : undefined;
    });
    assert.deepEqual(
      got,
      answers.map((u) => u.message!.text),
    );
    await settled();
    assert.equal(
      h.tg.messagesIn(user.chat.id).filter((m) => m.text?.startsWith('answer part')).length,
      answers.length,
      'each answer once',
    );
  });
});

describe('sender order: two instances', () => {
  let h: Harness;
  let second: App;
  before(async () => {
    h = await startHarness(ORDER_ENV);
    // A second instance of the app on the same database and the same Bot API: updates are spread
    // over both, as a load balancer would; whichever holds the reactor's lock carries them.
    second = await startApp(
      loadConfig({
        DATABASE_URL: h.db.url,
        PORT: '0',
        HOST: '127.0.0.1',
        ...telegramStandInEnv(h.tg, WEBHOOK_SECRET),
        ...ORDER_ENV,
        LOG_LEVEL: 'silent',
      }),
      pino({ level: 'silent' }),
    );
  });
  after(async () => {
    await second.stop();
    await h.stop();
  });

  it('a burst spread over two instances shows in the topic as sent', async () => {
    const postTo = (i: number) => (u: Update) =>
      fetch(`${i % 2 === 0 ? h.url : second.address()}/webhooks/telegram`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
        body: JSON.stringify(u),
      });
    await eachRound(async (round) => {
      const user = h.tg.addUser({ first_name: `Spread${round}` });
      const updates = Array.from({ length: 8 }, (_, i) =>
        h.tg.privateMessage(user, { text: `spread ${round}: ${i + 1}` }),
      );
      const order = shuffled(updates, 50 + round);
      await Promise.all(
        order.map(async (u, i) => {
          await new Promise((r) => setTimeout(r, (i * 5) % 15));
          const res = await postTo(i)(u);
          assert.equal(res.status, 200, await res.text());
        }),
      );
      const topic = await h.topicOf(user.id);
      const texts = await waitFor(`round ${round}: the burst in the topic`, () => {
        const t = textsInTopic(h, topic, `spread ${round}:`);
        return t.length >= updates.length ? t : undefined;
      });
      assert.deepEqual(
        texts,
        updates.map((u) => u.message!.text),
      );
    });
  });
});

describe('sender order: vk', () => {
  let h: VkHarness;
  before(async () => {
    h = await startVkHarness({ env: ORDER_ENV });
  });
  after(async () => {
    await h.stop();
  });

  it("a VK client's burst shows in the topic in the dialog's own order", async () => {
    await eachRound(async (round) => {
      const user = h.vk.addUser({ first_name: `Vk${round}` });
      const events = Array.from({ length: 6 }, (_, i) =>
        h.vk.messageNew(user, { text: `vk ${round}: ${i + 1}` }),
      );
      await Promise.all(
        shuffled(events, 200 + round).map(async (e, i) => {
          await new Promise((r) => setTimeout(r, (i * 7) % 20));
          const res = await h.postEvent(e);
          assert.equal(res.status, 200, res.body);
        }),
      );
      const topic = await waitFor(`round ${round}: the topic`, () =>
        h.tg.topics().find((t) => t.name.includes(`Vk${round}`)),
      );
      const texts = await waitFor(`round ${round}: the burst in the topic`, () => {
        const t = textsInTopic(h, topic.message_thread_id, `vk ${round}:`);
        return t.length >= events.length ? t : undefined;
      });
      assert.deepEqual(
        texts,
        events.map((e) => e.message.text),
      );
    });
  });

  it("a manager's burst reaches the VK client in the order it was written", async () => {
    const user = h.vk.addUser({ first_name: 'VkReader' });
    const hello = await h.postEvent(h.vk.messageNew(user, { text: 'vk reader: hello' }));
    assert.equal(hello.status, 200);
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('VkReader')));
    const manager = h.tg.addManager({ first_name: 'VkPaster' });
    const answers = Array.from({ length: 6 }, (_, i) =>
      h.tg.groupMessage(manager, topic.message_thread_id, { text: `vk answer ${i + 1}` }),
    );
    await postAtOnce((u) => h.postUpdate(u), shuffled(answers, 9));
    const got = await waitFor('the answers in VK', () => {
      const t = h.vk
        .sentTo(user.id)
        .map((m) => m.text)
        .filter((t) => t.startsWith('vk answer'));
      return t.length >= answers.length ? t : undefined;
    });
    assert.deepEqual(
      got,
      answers.map((u) => u.message!.text),
    );
    await settled();
    assert.equal(h.vk.sentTo(user.id).filter((m) => m.text.startsWith('vk answer')).length, answers.length);
    const delivered = await h.app.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM td_events WHERE type = 'ReplyDelivered' AND stream = $1`,
      [`conversation-${vkConversationId(user.id)}`],
    );
    assert.equal(delivered.rows[0]!.n, answers.length, 'each delivery recorded once');
  });
});

describe('sender order: webhooks to a source', () => {
  let h: Harness;
  let receiver: WebhookReceiver;
  before(async () => {
    h = await startHarness(ORDER_ENV);
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await h.stop();
    await receiver.close();
  });

  it("a manager's burst is posted to the source's webhook in the order it was written", async () => {
    const created = await createSource(h.app.log, 'ordered', await receiver.hook('/hook'));
    await waitFor('the token', async () => (await authenticate(h.app.db.pool, created.token)) ?? undefined);
    const api = client(h, { code: 'ordered', token: created.token, tokenId: created.tokenId });
    const sent = await api.post<Message>('/api/external/buyer/messages', { json: { text: 'buyer: hello' } });
    assert.equal(sent.status, 201);
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('buyer')));
    const manager = h.tg.addManager({ first_name: 'HookPaster' });
    const answers = Array.from({ length: 6 }, (_, i) =>
      h.tg.groupMessage(manager, topic.message_thread_id, { text: `hook answer ${i + 1}` }),
    );
    await postAtOnce((u) => h.postUpdate(u), shuffled(answers, 11));
    const got = await waitFor('the answers at the webhook', () => {
      const t = receiver
        .at('/hook')
        .filter((r) => r.ok)
        .map((r) => JSON.parse(r.body) as { event: string; message: { text: string } })
        .filter((b) => b.event === 'message.created')
        .map((b) => b.message.text);
      return t.length >= answers.length ? t : undefined;
    });
    assert.deepEqual(
      got,
      answers.map((u) => u.message!.text),
    );
  });
});
