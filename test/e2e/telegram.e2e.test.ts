// Telegram end to end: updates POSTed to /webhooks/telegram, the whole app on a real PostgreSQL,
// and the Bot API stand-in on the other side.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';

describe('telegram: client ↔ topic', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('refuses an update without the right secret and records nothing', async () => {
    const user = h.tg.addUser({ first_name: 'Mallory' });
    for (const secret of [null, 'wrong']) {
      const res = await h.postUpdate(h.tg.privateMessage(user, { text: 'sneaky' }), secret);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    }
    const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM td_events');
    assert.equal(rows[0].n, 0);
  });

  it('a first message opens a topic with a contact card and lands in it; the answer reaches the client', async () => {
    const user = h.tg.addUser({ first_name: 'Ivan', last_name: 'Petrov', username: 'ivanp' });
    const res = await h.postUpdate(h.tg.privateMessage(user, { text: 'Hello, my order is late' }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, outcome: 'recorded' });

    const topic = await waitFor('a topic', () => h.tg.topics().find((t) => t.name.includes('Ivan')));
    assert.match(topic.name, /Ivan Petrov/);
    const inTopic = await waitFor('the message in the topic', () => {
      const msgs = h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id);
      return msgs.length >= 2 ? msgs : undefined;
    });
    assert.match(String(inTopic[0]!.text), /ivanp/, 'the contact card comes first');
    assert.equal(inTopic[1]!.text, 'Hello, my order is late');

    const manager = h.tg.addManager({ first_name: 'Alice' });
    const answer = await h.postUpdate(
      h.tg.groupMessage(manager, topic.message_thread_id, { text: 'We are on it!' }),
    );
    assert.equal(answer.status, 200);
    const delivered = await waitFor('the answer in the client chat', () =>
      h.tg.messagesIn(user.chat.id).find((m) => m.text === 'We are on it!'),
    );
    assert.equal(delivered.forward_origin, undefined, 'copied, not forwarded: no manager name');
  });

  it('the same update delivered twice appends once', async () => {
    const user = h.tg.addUser({ first_name: 'Dup' });
    const update = h.tg.privateMessage(user, { text: 'once' });
    const before = (await h.db.pool.query('SELECT count(*)::int AS n FROM td_events')).rows[0].n;
    const first = await h.postUpdate(update);
    const second = await h.postUpdate(update);
    assert.deepEqual(await first.json(), { ok: true, outcome: 'recorded' });
    assert.deepEqual(await second.json(), { ok: true, outcome: 'duplicate' });
    const afterCount = (
      await h.db.pool.query(
        `SELECT count(*)::int AS n FROM td_events WHERE type IN ('ConversationStarted','ClientMessageReceived')`,
      )
    ).rows[0].n;
    assert.ok(afterCount >= 2);
    const { rows } = await h.db.pool.query(
      `SELECT count(*)::int AS n FROM td_events WHERE type = 'ClientMessageReceived' AND data->>'text' = 'once'`,
    );
    assert.equal(rows[0].n, 1);
    assert.ok(before >= 0);
  });

  it('five concurrent first messages of a new client open exactly one topic', async () => {
    const user = h.tg.addUser({ first_name: 'Rush' });
    const updates = Array.from({ length: 5 }, (_, i) => h.tg.privateMessage(user, { text: `rush ${i}` }));
    const answers = await Promise.all(updates.map((u) => h.postUpdate(u)));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200],
    );
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('Rush')));
    await waitFor(
      'all five in the topic',
      () =>
        h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id).filter((m) => m.text?.startsWith('rush'))
          .length === 5 || undefined,
    );
    assert.equal(h.tg.topics().filter((t) => t.name.includes('Rush')).length, 1);
  });
});

describe('telegram: long polling (TELEGRAM_MODE=polling)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ TELEGRAM_MODE: 'polling' });
  });
  after(async () => {
    await h.stop();
  });

  it('updates come from getUpdates instead of the webhook, and are confirmed once recorded', async () => {
    const user = h.tg.addUser({ first_name: 'Poller' });
    const update = h.tg.privateMessage(user, { text: 'hello by long polling' });
    h.tg.queueUpdate(update);
    const copy = await h.topicCopyOf(user.id, update.message!.message_id);
    assert.equal(copy.text, 'hello by long polling');
    assert.equal(copy.message_thread_id, await h.topicOf(user.id));

    // The manager's answer comes the same way and reaches the client.
    const manager = h.tg.addManager({ first_name: 'Polly' });
    const answer = h.tg.groupMessage(manager, copy.message_thread_id!, { text: 'polled answer' });
    h.tg.queueUpdate(answer);
    const delivered = await h.clientCopyOf(user.id, answer.message!.message_id);
    assert.equal(delivered.text, 'polled answer');

    // Confirmed: the next getUpdates moved the offset past them.
    await waitFor('the queue confirmed', () => h.tg.pendingUpdates().length === 0 || undefined);
    const polls = h.tg.callsTo('getUpdates');
    assert.ok(polls.length >= 2);
    assert.ok(
      polls.every((c) => c.params.timeout === 25),
      'long polls',
    );
    assert.equal(h.tg.callsTo('deleteWebhook').length, 1, 'the webhook is removed before polling');

    // The webhook endpoint is off in this mode.
    const res = await h.postUpdate(h.tg.privateMessage(user, { text: 'via webhook?' }));
    assert.equal(res.status, 404);
  });

  it("a press of the contact card's buttons comes by getUpdates too (callback_query is asked for)", async () => {
    const user = h.tg.addUser({ first_name: 'Presser' });
    const first = h.tg.privateMessage(user, { text: 'hello' });
    h.tg.queueUpdate(first);
    await h.topicCopyOf(user.id, first.message!.message_id);
    const conversationId = h.conversationOf(user.id);
    const [card] = await waitFor('the card', async () => {
      const e = await h.events({ type: 'ContactCardPosted', conversationId });
      return e.length ? e : undefined;
    });
    const manager = h.tg.addManager({ first_name: 'Pressing' });
    const cardId = Number((card!.data.groupMessage as { messageId: string }).messageId);
    h.tg.queueUpdate(h.tg.pressButton(manager, h.tg.supportChatId, cardId, `card:close:${conversationId}`));
    await waitFor(
      'closed by the press',
      async () => (await h.events({ type: 'ConversationClosed', conversationId }))[0],
    );
    await waitFor('the press answered', () => (h.tg.unansweredPresses().length === 0 ? true : undefined));
    assert.deepEqual(h.tg.callsTo('getUpdates').at(-1)?.params.allowed_updates, [
      'message',
      'edited_message',
      'callback_query',
    ]);
  });
});
