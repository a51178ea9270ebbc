// Telegram end to end, client → topic: every message type, albums, reply threading. Updates are
// POSTed to /webhooks/telegram; what managers see is read back from the Bot API stand-in.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message } from 'grammy/types';
import { type Harness, startHarness } from '../support/app-harness.ts';
import type { IncomingContent, StandInUser } from '../support/telegram-stand-in.ts';

describe('telegram: every message type reaches the topic', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  const copyOf = (userId: number, messageId: number) => h.topicCopyOf(userId, messageId);

  it('text with formatting: the copy keeps the entities', async () => {
    const user = h.tg.addUser({ first_name: 'Olga', username: 'olga_w' });
    const update = h.tg.privateMessage(user, {
      text: '<b>Order 1234</b> is <i>late</i>, see <a href="https://example.com/o/1234">the page</a> and <code>ERR-7</code>',
      parse_mode: 'HTML',
    });
    assert.equal(await h.send(update), 'recorded');
    const original = update.message!;
    const copy = await copyOf(user.id, original.message_id);
    const topic = await h.topicOf(user.id);
    assert.equal(copy.message_thread_id, topic);
    assert.equal(copy.text, original.text);
    assert.deepEqual(copy.entities, original.entities);
    assert.ok(
      copy.entities?.some((e) => e.type === 'text_link'),
      'links survive',
    );
    assert.equal(copy.forward_origin, undefined, 'a copy, not a forward');
    const copyCall = h.tg
      .callsTo('copyMessage')
      .find((c) => c.params.message_id === original.message_id && c.params.from_chat_id === user.id);
    assert.ok(copyCall, 'carried with copyMessage');
  });

  it('photo, document, video, audio, voice, video note, animation, sticker, location, venue, contact, poll, dice', async () => {
    const user = h.tg.addUser({ first_name: 'Pavel', last_name: 'Sidorov' });
    const kinds: Array<[keyof Message, IncomingContent]> = [
      ['photo', { photo: true, caption: 'The <b>broken</b> part', parse_mode: 'HTML' }],
      ['document', { document: { file_name: 'invoice.pdf' }, caption: 'my invoice' }],
      ['video', { video: { duration: 7, width: 640, height: 360 } }],
      ['audio', { audio: { file_name: 'call.mp3', performer: 'Pavel', title: 'Call', duration: 61 } }],
      ['voice', { voice: { duration: 4 } }],
      ['video_note', { video_note: { length: 240, duration: 5 } }],
      ['animation', { animation: { file_name: 'what.mp4' } }],
      ['sticker', { sticker: { emoji: '👍' } }],
      ['location', { location: { latitude: 55.7539, longitude: 37.6208 } }],
      [
        'venue',
        {
          venue: {
            location: { latitude: 59.9398, longitude: 30.3146 },
            title: 'Hermitage',
            address: 'Palace Square 2',
          },
        },
      ],
      ['contact', { contact: { phone_number: '+79990001122', first_name: 'Masha' } }],
      ['poll', { poll: { question: 'Which plan?', options: ['Basic', 'Pro', 'Team'] } }],
      ['dice', { dice: { emoji: '🎲', value: 5 } }],
    ];
    const sent: Array<[keyof Message, Message]> = [];
    for (const [kind, content] of kinds) {
      const update = h.tg.privateMessage(user, content);
      assert.equal(await h.send(update), 'recorded', kind);
      sent.push([kind, update.message!]);
    }
    const topic = await h.topicOf(user.id);
    for (const [kind, original] of sent) {
      const copy = await copyOf(user.id, original.message_id);
      assert.equal(copy.message_thread_id, topic, `${kind} is in the client's topic`);
      // A copied poll is a new poll, with its own id.
      const comparable = (m: Message) => (kind === 'poll' ? { ...m.poll, id: undefined } : m[kind]);
      assert.deepEqual(comparable(copy), comparable(original), `${kind} is carried as it is`);
      assert.equal(copy.caption, original.caption, `${kind}: caption`);
      assert.deepEqual(copy.caption_entities, original.caption_entities, `${kind}: caption formatting`);
    }
    // What the log describes of them (the API and the audit history read this).
    const received = await h.events({
      type: 'ClientMessageReceived',
      conversationId: h.conversationOf(user.id),
    });
    assert.deepEqual(
      received.map((e) => (e.data.attachments as { kind: string }[])[0]?.kind),
      ['photo', 'document', 'video', 'audio', 'voice', 'video_note', 'animation', 'sticker'].concat([
        'location',
        'venue',
        'contact',
        'poll',
        'dice',
      ]),
    );
    // In the topic, in the order the client sent them, after the contact card.
    const inTopic = h.tg.messagesIn(h.tg.supportChatId, topic);
    assert.match(String(inTopic[0]?.text), /Pavel Sidorov/);
    assert.equal(inTopic.length, 1 + kinds.length);
  });

  /** Sends a three-item album and checks the topic shows it as one album, copied in one call. */
  const albumKeptTogether = async (user: StandInUser) => {
    const before = h.tg.callsTo('copyMessages').length;
    const album = h.tg.privateAlbum(user, [
      { photo: true, caption: 'front' },
      { photo: true },
      { video: true, caption: 'and a video' },
    ]);
    for (const update of album) assert.equal(await h.send(update), 'recorded');

    const copies = await Promise.all(album.map((u) => copyOf(user.id, u.message!.message_id)));
    const topic = await h.topicOf(user.id);
    const groups = new Set(copies.map((c) => c.media_group_id));
    assert.equal(groups.size, 1, 'one media group in the topic');
    assert.ok([...groups][0], 'the copies carry a media_group_id');
    assert.notEqual([...groups][0], album[0]!.message!.media_group_id, "the topic's own group id");
    assert.deepEqual(
      copies.map((c) => c.caption),
      ['front', undefined, 'and a video'],
    );
    assert.deepEqual(
      copies.map((c) => c.message_thread_id),
      [topic, topic, topic],
    );
    const calls = h.tg.callsTo('copyMessages').slice(before);
    assert.equal(calls.length, 1, 'copied in one call');
    assert.deepEqual(
      calls[0]!.params.message_ids,
      album.map((u) => u.message!.message_id),
    );
    assert.equal(
      h.tg
        .callsTo('copyMessage')
        .filter(
          (c) => c.params.from_chat_id === user.id && c.params.message_id === album[1]!.message!.message_id,
        ).length,
      0,
      'not copied one by one',
    );
    // The log records each item as received once and forwarded once, pointing at its own copy.
    const conversationId = h.conversationOf(user.id);
    const received = (await h.events({ type: 'ClientMessageReceived', conversationId })).filter(
      (e) => e.data.mediaGroupId === album[0]!.message!.media_group_id,
    );
    assert.equal(received.length, 3);
    const ids = new Set(received.map((e) => e.data.messageId));
    const forwarded = (await h.events({ type: 'ClientMessageForwarded', conversationId })).filter((e) =>
      ids.has(e.data.messageId),
    );
    assert.deepEqual(
      forwarded.map((e) => Number((e.data.groupMessage as { messageId: string }).messageId)),
      copies.map((c) => c.message_id),
    );
    return topic;
  };

  it('an album as the first message opens the topic and arrives as one album', async () => {
    const user = h.tg.addUser({ first_name: 'Album', last_name: 'First' });
    const topic = await albumKeptTogether(user);
    const inTopic = h.tg.messagesIn(h.tg.supportChatId, topic);
    assert.match(String(inTopic[0]?.text), /Album First/, 'the contact card first');
    assert.equal(inTopic.length, 4);
    assert.equal(h.tg.topics().filter((t) => t.name.includes('Album First')).length, 1);
  });

  it('an album later in the conversation arrives as one album', async () => {
    const user = h.tg.addUser({ first_name: 'Album', last_name: 'Later' });
    const first = h.tg.privateMessage(user, { text: 'photos of the damage:' });
    await h.send(first);
    await copyOf(user.id, first.message!.message_id);
    await albumKeptTogether(user);
  });

  /** A client with a first message in the topic; returns that message and its topic copy. */
  const clientWithMessage = async (user: StandInUser, text: string) => {
    const first = h.tg.privateMessage(user, { text });
    await h.send(first);
    return { first: first.message!, firstCopy: await copyOf(user.id, first.message!.message_id) };
  };

  it("an album replying to an earlier message arrives as one album replying to that message's copy", async () => {
    const user = h.tg.addUser({ first_name: 'Album', last_name: 'Reply' });
    const { first, firstCopy } = await clientWithMessage(user, 'The parcel arrived damaged');
    const album = h.tg.privateAlbum(
      user,
      [
        { photo: true, caption: 'the <b>box</b>', parse_mode: 'HTML' },
        { photo: true },
        { video: true, caption: 'unpacking' },
      ],
      { reply_to_message_id: first.message_id },
    );
    for (const update of album) assert.equal(await h.send(update), 'recorded');

    const copies = await Promise.all(album.map((u) => copyOf(user.id, u.message!.message_id)));
    const topic = await h.topicOf(user.id);
    assert.equal(new Set(copies.map((c) => c.media_group_id)).size, 1, 'one album in the topic');
    assert.ok(copies[0]!.media_group_id);
    assert.deepEqual(
      copies.map((c) => c.reply_to_message?.message_id),
      [firstCopy.message_id, firstCopy.message_id, firstCopy.message_id],
      "every item replies to the first message's copy",
    );
    assert.deepEqual(
      copies.map((c) => c.message_thread_id),
      [topic, topic, topic],
    );
    const originals = album.map((u) => u.message!);
    assert.deepEqual(
      copies.map((c) => [c.caption, c.caption_entities]),
      originals.map((o) => [o.caption, o.caption_entities]),
      'captions and their formatting are kept',
    );
    assert.deepEqual(
      copies.map((c) => c.photo?.at(-1)?.file_unique_id ?? c.video?.file_unique_id),
      originals.map((o) => o.photo?.at(-1)?.file_unique_id ?? o.video?.file_unique_id),
      'the same files, in the order sent',
    );
  });

  it('an album reply Telegram will not take as one album arrives item by item, each still replying', async () => {
    const user = h.tg.addUser({ first_name: 'Album', last_name: 'Refused' });
    const { first, firstCopy } = await clientWithMessage(user, 'Here is what I ordered');
    h.tg.failNext('sendMediaGroup', { error_code: 400, description: 'Bad Request: MEDIA_EMPTY' });
    const album = h.tg.privateAlbum(user, [{ photo: true, caption: 'one' }, { photo: true }], {
      reply_to_message_id: first.message_id,
    });
    for (const update of album) assert.equal(await h.send(update), 'recorded');
    const copies = await Promise.all(album.map((u) => copyOf(user.id, u.message!.message_id)));
    assert.deepEqual(
      copies.map((c) => [c.caption, c.reply_to_message?.message_id]),
      [
        ['one', firstCopy.message_id],
        [undefined, firstCopy.message_id],
      ],
    );
    assert.ok(
      h.tg.callsTo('sendMediaGroup').some((c) => c.status === 400),
      'the album was tried first',
    );
  });

  it("replies keep their threading: the topic copy replies to the earlier message's copy", async () => {
    const user = h.tg.addUser({ first_name: 'Threads' });
    const first = h.tg.privateMessage(user, { text: 'My order number is 7781' });
    await h.send(first);
    const firstCopy = await copyOf(user.id, first.message!.message_id);
    const reply = h.tg.privateMessage(
      user,
      { text: 'Sorry, I meant 7787' },
      { reply_to_message_id: first.message!.message_id },
    );
    await h.send(reply);
    const replyCopy = await copyOf(user.id, reply.message!.message_id);
    assert.equal(replyCopy.reply_to_message?.message_id, firstCopy.message_id);

    // And the manager's answer as a reply to that copy reaches the client as a reply to the original.
    const topic = await h.topicOf(user.id);
    const manager = h.tg.addManager({ first_name: 'Nina' });
    const answerUpdate = h.tg.groupMessage(
      manager,
      topic,
      { text: 'Got it, 7787.' },
      { reply_to_message_id: replyCopy.message_id },
    );
    await h.send(answerUpdate);
    const managerMessage = answerUpdate.message!;
    const answer = await h.clientCopyOf(user.id, managerMessage.message_id);
    assert.equal(answer.text, 'Got it, 7787.');
    assert.equal(answer.reply_to_message?.message_id, reply.message!.message_id);

    // The client replying to that answer: the topic copy replies to the manager's message.
    const thanks = h.tg.privateMessage(user, { text: 'Thanks!' }, { reply_to_message_id: answer.message_id });
    await h.send(thanks);
    const thanksCopy = await copyOf(user.id, thanks.message!.message_id);
    assert.equal(thanksCopy.reply_to_message?.message_id, managerMessage?.message_id);
  });

  it("a service message in the client's chat (a pin) is not a message: nothing recorded, nothing sent", async () => {
    const user = h.tg.addUser({ first_name: 'Pinner' });
    const first = h.tg.privateMessage(user, { text: 'hello' });
    await h.send(first);
    await copyOf(user.id, first.message!.message_id);
    const conversationId = h.conversationOf(user.id);
    const before = (await h.events({ conversationId })).length;
    const pin = {
      update_id: first.update_id + 1_000_000,
      message: {
        message_id: first.message!.message_id + 1_000_000,
        from: user.user,
        chat: user.chat,
        date: Math.floor(Date.now() / 1000),
        pinned_message: { ...first.message!, reply_to_message: undefined },
      },
    };
    assert.equal(await h.send(pin), 'ignored');
    assert.equal((await h.events({ conversationId })).length, before);
  });
});
