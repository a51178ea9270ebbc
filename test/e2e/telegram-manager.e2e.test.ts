// Telegram end to end, manager → client and edits both ways: answers copied to the client and
// recorded, what is not an answer ignored, a client who blocked the bot (or whose chat is gone)
// reported once, edits carried to the other side's copy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

describe('telegram: managers answer in topics; edits go both ways', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  /** A client whose first message stands in its topic: the topic's thread id. */
  const clientWithTopic = async (user: StandInUser, text = 'Hello, I need help') => {
    const first = h.tg.privateMessage(user, { text });
    await h.send(first);
    await h.topicCopyOf(user.id, first.message!.message_id);
    return h.topicOf(user.id);
  };

  /** Calls that would put something in front of anyone. */
  const visibleCalls = () =>
    h.tg.calls.filter(
      (c) => /^(send|copy|forward|edit|delete)/.test(c.method) || /ForumTopic$/.test(c.method),
    ).length;

  it('an answer is copied to the client (no forward header, no manager name) and recorded as delivered', async () => {
    const user = h.tg.addUser({ first_name: 'Ivan' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Alice', last_name: 'Manager' });
    const answer = h.tg.groupMessage(manager, topic, {
      text: 'We <b>refunded</b> your order',
      parse_mode: 'HTML',
    });
    assert.equal(await h.send(answer), 'recorded');
    const copy = await h.clientCopyOf(user.id, answer.message!.message_id);
    assert.equal(copy.text, 'We refunded your order');
    assert.deepEqual(copy.entities, answer.message!.entities, 'formatting kept');
    assert.equal(copy.forward_origin, undefined);
    assert.equal(copy.from?.id, h.tg.botInfo.id, 'sent by the bot');
    assert.ok(!JSON.stringify(copy).includes('Alice'), "the manager's name is not shown");
    const call = h.tg
      .callsTo('copyMessage')
      .find((c) => c.params.chat_id === user.id && c.params.message_id === answer.message!.message_id);
    assert.equal(call?.params.from_chat_id, h.tg.supportChatId);

    const conversationId = h.conversationOf(user.id);
    const [replied] = await h.events({ type: 'ManagerReplied', conversationId });
    assert.equal(replied?.data.managerId, String(manager.id));
    assert.equal(replied?.data.managerName, 'Alice Manager');
    assert.deepEqual(replied?.metadata.actor, {
      kind: 'manager',
      id: String(manager.id),
      name: 'Alice Manager',
    });
    const delivered = await h.events({ type: 'ReplyDelivered', conversationId });
    assert.deepEqual(delivered.at(-1)?.data, {
      messageId: replied?.data.messageId,
      operation: 'send',
      channelMessage: { chatId: String(user.id), messageId: String(copy.message_id) },
    });

    // A photo answer goes the same way.
    const photo = h.tg.groupMessage(manager, topic, { photo: true, caption: 'the receipt' });
    await h.send(photo);
    const photoCopy = await h.clientCopyOf(user.id, photo.message!.message_id);
    assert.deepEqual(photoCopy.photo, photo.message!.photo);
    assert.equal(photoCopy.caption, 'the receipt');
  });

  it("a manager's album reaches the client as one album", async () => {
    const user = h.tg.addUser({ first_name: 'Gallery' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Boris' });
    const group = '13799999999999999001';
    const items = [
      h.tg.groupMessage(manager, topic, { photo: true, caption: 'step 1', media_group_id: group }),
      h.tg.groupMessage(manager, topic, { photo: true, caption: 'step 2', media_group_id: group }),
    ];
    for (const item of items) await h.send(item);
    const copies = await Promise.all(items.map((i) => h.clientCopyOf(user.id, i.message!.message_id)));
    assert.deepEqual(
      copies.map((c) => c.caption),
      ['step 1', 'step 2'],
    );
    assert.equal(new Set(copies.map((c) => c.media_group_id)).size, 1);
    assert.ok(copies[0]!.media_group_id);
  });

  it("a manager's album replying to a client message reaches the client as one album replying to it", async () => {
    const user = h.tg.addUser({ first_name: 'Gallery', last_name: 'Reply' });
    const question = h.tg.privateMessage(user, { text: 'How do I fit the filter?' });
    await h.send(question);
    const questionCopy = await h.topicCopyOf(user.id, question.message!.message_id);
    const topic = await h.topicOf(user.id);
    const manager = h.tg.addManager({ first_name: 'Boris' });
    const group = '13799999999999999002';
    const items = [
      h.tg.groupMessage(
        manager,
        topic,
        { photo: true, caption: 'open the <i>lid</i>', parse_mode: 'HTML', media_group_id: group },
        { reply_to_message_id: questionCopy.message_id },
      ),
      h.tg.groupMessage(
        manager,
        topic,
        { video: true, caption: 'then click it in', media_group_id: group },
        { reply_to_message_id: questionCopy.message_id },
      ),
    ];
    for (const item of items) await h.send(item);
    const copies = await Promise.all(items.map((i) => h.clientCopyOf(user.id, i.message!.message_id)));
    assert.equal(new Set(copies.map((c) => c.media_group_id)).size, 1, 'one album for the client');
    assert.ok(copies[0]!.media_group_id);
    assert.deepEqual(
      copies.map((c) => c.reply_to_message?.message_id),
      [question.message!.message_id, question.message!.message_id],
      "a reply to the client's own message",
    );
    assert.deepEqual(
      copies.map((c) => [c.caption, c.caption_entities]),
      items.map((i) => [i.message!.caption, i.message!.caption_entities]),
    );
    assert.equal(copies[0]!.photo?.at(-1)?.file_unique_id, items[0]!.message!.photo?.at(-1)?.file_unique_id);
    assert.equal(copies[1]!.video?.file_unique_id, items[1]!.message!.video?.file_unique_id);
    assert.equal(copies[0]!.from?.id, h.tg.botInfo.id, 'sent by the bot, no manager shown');
  });

  it("General-topic messages, service messages, other bots' messages and hand-made topics are ignored", async () => {
    const user = h.tg.addUser({ first_name: 'Quiet' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Carl' });
    const bot = h.tg.addOtherBot({ first_name: 'Stats', username: 'stats_bot' });
    await settle();
    const eventsBefore = (await h.events()).length;
    const callsBefore = visibleCalls();

    const handMade = h.tg.topicCreatedByManager(manager, 'Team chat');
    const updates = [
      h.tg.generalMessage(manager, { text: 'Morning, team!' }),
      h.tg.generalMessage(manager, { photo: true, caption: 'lunch' }),
      handMade.update,
      h.tg.groupMessage(manager, handMade.threadId, { text: 'who takes the night shift?' }),
      h.tg.topicClosedByManager(manager, handMade.threadId),
      h.tg.newChatMembers(manager, [h.tg.addManager({ first_name: 'Newbie' })]),
      h.tg.otherBotMessage(bot, topic, { text: 'Ticket #5 escalated' }),
      h.tg.otherBotMessage(bot, undefined, { text: 'Daily stats: 42 tickets' }),
    ];
    for (const update of updates) assert.equal(await h.send(update), 'ignored');
    await settle(300);
    assert.equal((await h.events()).length, eventsBefore, 'nothing appended');
    assert.equal(visibleCalls(), callsBefore, 'nothing sent');
    assert.deepEqual(
      h.tg.messagesIn(user.chat.id).map((m) => m.text),
      ['Hello, I need help'],
      'the client saw nothing',
    );
  });

  it('an answer in a topic the bot has opened but not yet recorded is not dropped: Telegram is asked again', async () => {
    // The bot records TopicOpened only after Telegram created the topic: a quick manager can write
    // in between. The topic's creation message says the bot opened it, so the update is not ignored.
    const manager = h.tg.addManager({ first_name: 'Quick' });
    const threadId = h.tg.topicCreatedByBot('Opening… (42)');
    const eventsBefore = (await h.events()).length;
    const res = await h.postUpdate(h.tg.groupMessage(manager, threadId, { text: 'on it' }));
    assert.equal(res.status, 503, 'Telegram delivers the update again later');
    assert.equal((await h.events()).length, eventsBefore, 'nothing appended');
  });

  it('a client who blocked the bot: one notice in the topic however many answers fail; DeliveryFailed permanent', async () => {
    const user = h.tg.addUser({ first_name: 'Blocker' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Dora' });
    h.tg.blockBot(user.id);
    const conversationId = h.conversationOf(user.id);

    // Three answers at once (likely one reactor batch), then two more one by one.
    await Promise.all(
      ['one', 'two', 'three'].map((text) => h.send(h.tg.groupMessage(manager, topic, { text }))),
    );
    for (const text of ['four', 'five']) {
      await h.send(h.tg.groupMessage(manager, topic, { text }));
      await settle(50);
    }
    const failed = await waitFor('five failures', async () => {
      const f = await h.events({ type: 'DeliveryFailed', conversationId });
      return f.length === 5 ? f : undefined;
    });
    for (const f of failed) {
      assert.equal(f.data.permanent, true);
      assert.equal(f.data.operation, 'send');
      assert.match(String(f.data.reason), /blocked/);
    }
    await settle(300);
    const notices = h.tg
      .messagesIn(h.tg.supportChatId, topic)
      .filter((m) => /blocked the bot/.test(m.text ?? ''));
    assert.equal(notices.length, 1, 'reported once');
    assert.equal(h.tg.messagesIn(user.chat.id).length, 1, 'only the client’s own message');
    assert.equal((await h.events({ type: 'ReplyDelivered', conversationId })).length, 0);

    // Writing again unblocks the bot (as in Telegram): answers flow again.
    await h.send(h.tg.privateMessage(user, { text: 'sorry, unblocked you' }));
    const again = h.tg.groupMessage(manager, topic, { text: 'welcome back' });
    await h.send(again);
    const copy = await h.clientCopyOf(user.id, again.message!.message_id);
    assert.equal(copy.text, 'welcome back');
  });

  it('a client whose chat Telegram no longer finds: the topic is told once that answers cannot reach them', async () => {
    const user = h.tg.addUser({ first_name: 'Vanished' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Ines' });
    const conversationId = h.conversationOf(user.id);
    // What Telegram answers for a chat it does not know (e.g. the bot's token now belongs to another bot).
    h.tg.failNext('copyMessage', { error_code: 400, description: 'Bad Request: chat not found' }, 2);
    for (const text of ['first try', 'second try']) await h.send(h.tg.groupMessage(manager, topic, { text }));
    const failed = await waitFor('two failures', async () => {
      const f = await h.events({ type: 'DeliveryFailed', conversationId });
      return f.length === 2 ? f : undefined;
    });
    assert.deepEqual(
      failed.map((f) => [f.data.permanent, f.data.reason]),
      [
        [true, 'Bad Request: chat not found'],
        [true, 'Bad Request: chat not found'],
      ],
    );
    await settle(300);
    assert.deepEqual(
      h.tg
        .messagesIn(h.tg.supportChatId, topic)
        .map((m) => m.text ?? '')
        .filter((t) => t.startsWith('⚠️')),
      ['⚠️ Answers cannot reach the client (Bad Request: chat not found).'],
      'reported once',
    );
  });

  it("a client's edit edits the topic copy (text and caption)", async () => {
    const user = h.tg.addUser({ first_name: 'Editor' });
    const text = h.tg.privateMessage(user, { text: 'My oder is late' });
    await h.send(text);
    const textCopy = await h.topicCopyOf(user.id, text.message!.message_id);
    const photo = h.tg.privateMessage(user, { photo: true, caption: 'the box' });
    await h.send(photo);
    const photoCopy = await h.topicCopyOf(user.id, photo.message!.message_id);

    const edit = h.tg.editedPrivateMessage(user, text.message!.message_id, {
      text: 'My <b>order</b> is late',
      parse_mode: 'HTML',
    });
    assert.equal(await h.send(edit), 'recorded');
    const edited = await waitFor('the topic copy edited', () => {
      const m = h.tg.message(h.tg.supportChatId, textCopy.message_id);
      return m?.text === 'My order is late' ? m : undefined;
    });
    assert.deepEqual(edited.entities, edit.edited_message!.entities);
    assert.ok(edited.edit_date);
    assert.ok(
      h.tg.callsTo('editMessageText').some((c) => c.params.message_id === textCopy.message_id),
      'editMessageText',
    );

    assert.equal(
      await h.send(
        h.tg.editedPrivateMessage(user, photo.message!.message_id, { caption: 'the damaged box' }),
      ),
      'recorded',
    );
    await waitFor(
      'the caption edited',
      () =>
        h.tg.message(h.tg.supportChatId, photoCopy.message_id)?.caption === 'the damaged box' || undefined,
    );
    assert.ok(
      h.tg.callsTo('editMessageCaption').some((c) => c.params.message_id === photoCopy.message_id),
      'editMessageCaption',
    );

    const conversationId = h.conversationOf(user.id);
    const edits = await h.events({ type: 'ClientMessageEdited', conversationId });
    assert.deepEqual(
      edits.map((e) => [e.data.previousText, e.data.text]),
      [
        ['My oder is late', 'My order is late'],
        ['the box', 'the damaged box'],
      ],
    );
  });

  it("a manager's edit edits the client's copy, recorded as delivered", async () => {
    const user = h.tg.addUser({ first_name: 'Reader' });
    const topic = await clientWithTopic(user);
    const manager = h.tg.addManager({ first_name: 'Eve' });
    const answer = h.tg.groupMessage(manager, topic, { text: 'Yuor refund is on its way' });
    await h.send(answer);
    const copy = await h.clientCopyOf(user.id, answer.message!.message_id);
    const edit = h.tg.editedGroupMessage(manager, answer.message!.message_id, {
      text: 'Your refund is on its way',
    });
    assert.equal(await h.send(edit), 'recorded');
    await waitFor(
      "the client's copy edited",
      () => h.tg.message(user.chat.id, copy.message_id)?.text === 'Your refund is on its way' || undefined,
    );
    const conversationId = h.conversationOf(user.id);
    const edited = await h.events({ type: 'ManagerReplyEdited', conversationId });
    assert.equal(edited.length, 1);
    assert.equal(edited[0]!.data.previousText, 'Yuor refund is on its way');
    await waitFor('the edit recorded as delivered', async () =>
      (await h.events({ type: 'ReplyDelivered', conversationId })).find((e) => e.data.operation === 'edit'),
    );
  });

  it('an edited_message whose content did not change appends nothing (either side)', async () => {
    const user = h.tg.addUser({ first_name: 'Same' });
    const topic = await clientWithTopic(user, 'nothing changes');
    const manager = h.tg.addManager({ first_name: 'Fred' });
    const answer = h.tg.groupMessage(manager, topic, { text: 'indeed' });
    await h.send(answer);
    await h.clientCopyOf(user.id, answer.message!.message_id);
    await settle();
    const before = (await h.events()).length;
    const firstId = h.tg.messagesIn(user.chat.id)[0]!.message_id;
    assert.equal(
      await h.send(h.tg.editedPrivateMessage(user, firstId, { text: 'nothing changes' })),
      'ignored',
    );
    assert.equal(
      await h.send(h.tg.editedGroupMessage(manager, answer.message!.message_id, { text: 'indeed' })),
      'ignored',
    );
    await settle();
    assert.equal((await h.events()).length, before);
  });
});
