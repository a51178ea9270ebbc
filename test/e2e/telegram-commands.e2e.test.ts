// Telegram end to end, manager commands in a topic: /delete (as a reply), /ban, /unban, /close,
// /reopen, /info — what Telegram shows on both sides, and what the log records.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';

const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));

describe('telegram: manager commands in a topic', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
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
  const topicTexts = (topic: number) =>
    h.tg.messagesIn(h.tg.supportChatId, topic).map((m) => m.text ?? m.caption ?? '');
  const clientTexts = (user: StandInUser) =>
    h.tg
      .messagesIn(user.chat.id)
      .filter((m) => m.from?.is_bot)
      .map((m) => m.text ?? '');

  it("/delete as a reply to an answer removes it from the client's chat and records it", async () => {
    const user = h.tg.addUser({ first_name: 'Del' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Gina' });
    const answer = h.tg.groupMessage(manager, topic, { text: 'Your password is hunter2' });
    await h.send(answer);
    const copy = await h.clientCopyOf(user.id, answer.message!.message_id);

    const command = h.tg.groupMessage(
      manager,
      topic,
      { text: '/delete' },
      { reply_to_message_id: answer.message!.message_id },
    );
    assert.equal(await h.send(command), 'recorded');
    await waitFor(
      'the copy gone',
      () => h.tg.message(user.chat.id, copy.message_id) === undefined || undefined,
    );
    assert.ok(
      h.tg
        .callsTo('deleteMessage')
        .some((c) => c.params.chat_id === user.id && c.params.message_id === copy.message_id),
    );
    const conversationId = h.conversationOf(user.id);
    const [deleted] = await h.events({ type: 'ManagerReplyDeleted', conversationId });
    assert.ok(deleted, 'ManagerReplyDeleted');
    assert.equal(deleted.metadata.actor && (deleted.metadata.actor as { kind: string }).kind, 'manager');
    await waitFor('the deletion recorded as delivered', async () =>
      (await h.events({ type: 'ReplyDelivered', conversationId })).find(
        (e) => e.data.operation === 'delete' && e.data.messageId === deleted.data.messageId,
      ),
    );
    assert.ok(topicTexts(topic).includes('Answer deleted.'), 'the manager is told');
    // The answer stays in the audit history.
    const [replied] = await h.events({ type: 'ManagerReplied', conversationId });
    assert.equal(replied?.data.text, 'Your password is hunter2');

    // /delete that replies to nothing names what to do and changes nothing.
    const eventsBefore = (await h.events()).length;
    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/delete' })), 'ignored');
    assert.equal((await h.events()).length, eventsBefore);
    assert.ok(topicTexts(topic).some((t) => /Reply \/delete to one of your answers/.test(t)));
  });

  it('/ban: later messages are recorded suppressed, not forwarded, the client told once; /unban lifts it', async () => {
    const user = h.tg.addUser({ first_name: 'Spammer' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Hank' });
    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/ban advertising' })), 'recorded');
    const conversationId = h.conversationOf(user.id);
    const [banned] = await h.events({ type: 'ClientBanned', conversationId });
    assert.deepEqual(banned?.data, { reason: 'advertising' });
    assert.ok(topicTexts(topic).some((t) => t.startsWith('Client banned')));

    const inTopicBefore = h.tg.messagesIn(h.tg.supportChatId, topic).length;
    await Promise.all(
      ['BUY NOW', 'CHEAP', 'CLICK'].map((text) => h.send(h.tg.privateMessage(user, { text }))),
    );
    await h.send(h.tg.privateMessage(user, { photo: true, caption: 'ad' }));
    const received = await waitFor('four suppressed messages', async () => {
      const r = (await h.events({ type: 'ClientMessageReceived', conversationId })).filter(
        (e) => e.data.suppressed === true,
      );
      return r.length === 4 ? r : undefined;
    });
    assert.deepEqual(new Set(received.map((e) => e.data.text)), new Set(['BUY NOW', 'CHEAP', 'CLICK', 'ad']));
    await waitFor(
      'the client told',
      () => clientTexts(user).some((t) => /not being forwarded/.test(t)) || undefined,
    );
    await settle(300);
    assert.equal(clientTexts(user).filter((t) => /not being forwarded/.test(t)).length, 1, 'told once');
    assert.equal(h.tg.messagesIn(h.tg.supportChatId, topic).length, inTopicBefore, 'nothing forwarded');
    assert.equal((await h.events({ type: 'ClientMessageForwarded', conversationId })).length, 1);
    assert.equal((await h.events({ type: 'ClientNotified', conversationId })).length, 1);

    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/unban' })), 'recorded');
    assert.equal((await h.events({ type: 'ClientUnbanned', conversationId })).length, 1);
    const after = h.tg.privateMessage(user, { text: 'sorry, a real question now' });
    await h.send(after);
    const copy = await h.topicCopyOf(user.id, after.message!.message_id);
    assert.equal(copy.text, 'sorry, a real question now');

    // /ban twice is refused with an answer, not an error.
    await h.send(h.tg.groupMessage(manager, topic, { text: '/ban' }));
    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/ban' })), 'ignored');
    assert.ok(topicTexts(topic).some((t) => /^Not done: .*already banned/.test(t)));
  });

  it("/close closes the topic and tells the client; the client's next message reopens it", async () => {
    const user = h.tg.addUser({ first_name: 'Closer' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Ida' });
    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/close' })), 'recorded');
    await waitFor('the topic closed', () => h.tg.topics().find((t) => t.message_thread_id === topic)?.closed);
    assert.ok(h.tg.callsTo('closeForumTopic').some((c) => c.params.message_thread_id === topic));
    await waitFor(
      'the client told',
      () => clientTexts(user).some((t) => /closed by support/.test(t)) || undefined,
    );
    const conversationId = h.conversationOf(user.id);
    assert.equal((await h.events({ type: 'ConversationClosed', conversationId })).length, 1);

    const back = h.tg.privateMessage(user, { text: 'one more thing' });
    await h.send(back);
    const copy = await h.topicCopyOf(user.id, back.message!.message_id);
    assert.equal(copy.message_thread_id, topic, 'the same topic');
    await waitFor(
      'the topic reopened',
      () => h.tg.topics().find((t) => t.message_thread_id === topic)?.closed === false || undefined,
    );
    assert.equal((await h.events({ type: 'ConversationReopened', conversationId })).length, 1);
    assert.equal(h.tg.topics().filter((t) => t.name.includes('Closer')).length, 1, 'no second topic');
  });

  it('/reopen reopens a closed topic; /info posts the contact card again', async () => {
    const user = h.tg.addUser({ first_name: 'Info', last_name: 'Seeker', username: 'info_seeker' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Jon' });
    await h.send(h.tg.groupMessage(manager, topic, { text: '/close' }));
    await waitFor('closed', () => h.tg.topics().find((t) => t.message_thread_id === topic)?.closed);
    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/reopen' })), 'recorded');
    await waitFor(
      'reopened',
      () => h.tg.topics().find((t) => t.message_thread_id === topic)?.closed === false || undefined,
    );
    assert.ok(h.tg.callsTo('reopenForumTopic').some((c) => c.params.message_thread_id === topic));
    const conversationId = h.conversationOf(user.id);
    assert.equal((await h.events({ type: 'ConversationReopened', conversationId })).length, 1);

    const eventsBefore = (await h.events()).length;
    assert.equal(await h.send(h.tg.groupMessage(manager, topic, { text: '/info' })), 'ignored');
    const cards = h.tg
      .messagesIn(h.tg.supportChatId, topic)
      .filter((m) => m.from?.is_bot && m.text?.includes(conversationId));
    assert.equal(cards.length, 2, 'the card at the top and the one /info posted');
    assert.equal(cards[1]!.text, cards[0]!.text);
    assert.deepEqual(cards[1]!.entities, cards[0]!.entities);
    assert.ok(
      cards[1]!.entities?.some((e) => e.type === 'text_link' && e.url === 'https://t.me/info_seeker'),
    );
    assert.equal((await h.events()).length, eventsBefore, '/info records nothing');
  });
});
