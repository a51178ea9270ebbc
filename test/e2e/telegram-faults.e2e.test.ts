// Telegram end to end, when things go wrong: 429 with retry_after, a topic deleted by hand, and the
// app restarted in the middle of delivery. Nothing accepted is lost; order within a conversation
// is kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';

describe('telegram: limits, lost topics, restarts', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  const clientWithTopic = async (user: StandInUser, text = 'first') => {
    const first = h.tg.privateMessage(user, { text });
    await h.send(first);
    await h.topicCopyOf(user.id, first.message!.message_id);
    return h.topicOf(user.id);
  };
  const textsIn = (chatId: number, thread?: number) =>
    h.tg.messagesIn(chatId, thread).map((m) => m.text ?? m.caption ?? '');

  it('a 429 on the copy into the topic is retried after retry_after: nothing lost, order kept', async () => {
    const user = h.tg.addUser({ first_name: 'Flood' });
    const topic = await clientWithTopic(user);
    h.tg.failNext('copyMessage', { error_code: 429, retry_after: 1 });
    const texts = ['q1', 'q2', 'q3', 'q4', 'q5'];
    for (const text of texts) await h.send(h.tg.privateMessage(user, { text }));
    await waitFor(
      'all five in the topic',
      () => textsIn(h.tg.supportChatId, topic).filter((t) => /^q\d$/.test(t)).length === 5 || undefined,
    );
    assert.deepEqual(
      textsIn(h.tg.supportChatId, topic).filter((t) => /^q\d$/.test(t)),
      texts,
      'in the order the client wrote, each once',
    );
    const copies = h.tg.callsTo('copyMessage').filter((c) => c.params.from_chat_id === user.id);
    const refused = copies.find((c) => c.status === 429);
    assert.ok(refused, 'Telegram said 429');
    assert.equal((refused.response as { parameters?: { retry_after?: number } }).parameters?.retry_after, 1);
    const retry = copies.find((c) => c.params.message_id === refused.params.message_id && c.status === 200);
    assert.ok(retry, 'the same message copied again');
    assert.ok(retry.at - refused.at >= 950, `waited retry_after (${retry.at - refused.at} ms)`);
    const conversationId = h.conversationOf(user.id);
    await waitFor(
      'each recorded as forwarded once',
      async () =>
        (await h.events({ type: 'ClientMessageForwarded', conversationId })).length === 6 || undefined,
    );

    // The same on the way to the client.
    const manager = h.tg.addManager({ first_name: 'Kim' });
    h.tg.failNext('copyMessage', { error_code: 429, retry_after: 1 });
    const answers = ['a1', 'a2', 'a3'];
    for (const text of answers) await h.send(h.tg.groupMessage(manager, topic, { text }));
    await waitFor(
      'all answers delivered',
      () => textsIn(user.chat.id).filter((t) => /^a\d$/.test(t)).length === 3 || undefined,
    );
    assert.deepEqual(
      textsIn(user.chat.id).filter((t) => /^a\d$/.test(t)),
      answers,
    );
    assert.equal(
      (await h.events({ type: 'DeliveryFailed', conversationId })).length,
      0,
      'a 429 is not a failure',
    );
  });

  it('a topic deleted by hand: TopicLost, a new topic with the contact card, the message re-sent there', async () => {
    const user = h.tg.addUser({ first_name: 'Lost', username: 'lost_one' });
    const old = await clientWithTopic(user);
    h.tg.deleteTopic(old);
    const again = h.tg.privateMessage(user, { text: 'anyone there?' });
    await h.send(again);
    const copy = await h.topicCopyOf(user.id, again.message!.message_id);
    const topic = await h.topicOf(user.id);
    assert.notEqual(topic, old, 'a new topic');
    assert.equal(copy.message_thread_id, topic);
    assert.ok(
      h.tg.calls.some(
        (c) =>
          c.method === 'copyMessage' &&
          c.params.message_thread_id === old &&
          /message thread not found/.test(JSON.stringify(c.response)),
      ),
      'Telegram said the thread is gone',
    );
    const conversationId = h.conversationOf(user.id);
    const lost = await h.events({ type: 'TopicLost', conversationId });
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.data.topicId, String(old));
    assert.match(String(lost[0]!.data.reason), /message thread not found/);
    const opened = await h.events({ type: 'TopicOpened', conversationId });
    assert.deepEqual(
      opened.map((e) => Number(e.data.topicId)),
      [old, topic],
    );
    const inTopic = h.tg.messagesIn(h.tg.supportChatId, topic);
    assert.match(String(inTopic[0]?.text), /lost_one/, 'the contact card first');
    assert.equal(inTopic[1]?.text, 'anyone there?');
    assert.equal(h.tg.topics().filter((t) => !t.deleted && t.name.includes('Lost')).length, 1);

    // Managers answer in the new topic as before.
    const manager = h.tg.addManager({ first_name: 'Lena' });
    const answer = h.tg.groupMessage(manager, topic, { text: 'Here! Your old topic was removed.' });
    assert.equal(await h.send(answer), 'recorded');
    const delivered = await h.clientCopyOf(user.id, answer.message!.message_id);
    assert.equal(delivered.text, 'Here! Your old topic was removed.');
  });

  it('a restart in the middle of delivery: every accepted message reaches its destination', {
    timeout: 60_000,
  }, async () => {
    const alice = h.tg.addUser({ first_name: 'Restart A' });
    const bob = h.tg.addUser({ first_name: 'Restart B' });
    const aliceTopic = await clientWithTopic(alice);
    const bobTopic = await clientWithTopic(bob);
    const manager = h.tg.addManager({ first_name: 'Max' });

    // The next copy hangs (Telegram never answers); everything behind it waits.
    h.tg.failNext('copyMessage', 'timeout');
    const clientTexts = ['r1', 'r2', 'r3', 'r4'];
    const answerTexts = ['s1', 's2', 's3'];
    await Promise.all([
      (async () => {
        for (const text of clientTexts) await h.send(h.tg.privateMessage(alice, { text }));
      })(),
      (async () => {
        for (const text of answerTexts) await h.send(h.tg.groupMessage(manager, bobTopic, { text }));
      })(),
    ]);
    await waitFor('a call hanging', () => h.tg.calls.some((c) => c.fault === 'timeout') || undefined);

    const stoppedAt = Date.now();
    await h.restart();
    assert.ok(
      Date.now() - stoppedAt < 10_000,
      `the restart does not wait for the hung call (${Date.now() - stoppedAt} ms)`,
    );

    // More traffic after the restart.
    await h.send(h.tg.privateMessage(alice, { text: 'r5' }));
    await h.send(h.tg.groupMessage(manager, bobTopic, { text: 's4' }));

    const want = (texts: string[], chat: number, thread?: number) =>
      waitFor(`${texts.join(',')} delivered`, () => {
        const seen = textsIn(chat, thread);
        return texts.every((t) => seen.includes(t)) ? seen.filter((t) => texts.includes(t)) : undefined;
      });
    const inAliceTopic = await want([...clientTexts, 'r5'], h.tg.supportChatId, aliceTopic);
    const inBobChat = await want([...answerTexts, 's4'], bob.chat.id);
    // At least once, in order: a repeat may only follow its original directly (a call in flight at
    // the restart that went through but whose answer was lost).
    const dedupe = (xs: string[]) => xs.filter((x, i) => x !== xs[i - 1]);
    assert.deepEqual(dedupe(inAliceTopic), [...clientTexts, 'r5']);
    assert.deepEqual(dedupe(inBobChat), [...answerTexts, 's4']);
    const conversationId = h.conversationOf(alice.id);
    await waitFor('each recorded as forwarded', async () => {
      const forwarded = await h.events({ type: 'ClientMessageForwarded', conversationId });
      return new Set(forwarded.map((e) => e.data.messageId)).size === 6 || undefined;
    });
    assert.equal(h.tg.topics().filter((t) => t.name.includes('Restart')).length, 2, 'no extra topics');
  });
});
