// The Telegram stand-in driven through grammY's own client, as the app drives the real Bot API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Bot, GrammyError, HttpError, InputFile } from 'grammy';
import type { Message } from 'grammy/types';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';

// A 2×1 PNG, so the stand-in can read real dimensions from the upload.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000002000000010806000000f478d4fa0000000d49444154789c63f8cfc0f01f0005000201' +
    'a5f6c1d20000000049454e44ae426082',
  'hex',
);

const rejection = async (promise: Promise<unknown>): Promise<GrammyError> => {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof GrammyError, `expected a GrammyError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
};

describe('Telegram stand-in through grammY', () => {
  let tg: TelegramStandIn;
  let bot: Bot;

  before(async () => {
    tg = await startTelegramStandIn();
    bot = new Bot(tg.token, { client: { apiRoot: tg.apiRoot, timeoutSeconds: 5 }, botInfo: tg.botInfo });
  });
  after(async () => {
    await tg.close();
  });

  it('answers getMe, getChat and getChatMember like Telegram', async () => {
    const me = await bot.api.getMe();
    assert.equal(me.id, tg.botInfo.id);
    assert.equal(me.is_bot, true);
    const chat = await bot.api.getChat(tg.supportChatId);
    assert.equal(chat.type, 'supergroup');
    assert.equal(chat.is_forum, true);
    const member = await bot.api.getChatMember(tg.supportChatId, tg.botInfo.id);
    assert.equal(member.status, 'administrator');
    assert.equal(member.status === 'administrator' && member.can_manage_topics, true);
    const missing = await rejection(bot.api.getChat(-1009999999999));
    assert.equal(missing.error_code, 400);
    assert.equal(missing.description, 'Bad Request: chat not found');
  });

  it('creates a forum topic and sends into its thread', async () => {
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Alice · telegram');
    assert.equal(topic.name, 'Alice · telegram');
    assert.equal(typeof topic.icon_color, 'number');
    const sent = await bot.api.sendMessage(tg.supportChatId, 'Hello <b>team</b>', {
      message_thread_id: topic.message_thread_id,
      parse_mode: 'HTML',
    });
    assert.equal(sent.message_thread_id, topic.message_thread_id);
    assert.equal(sent.is_topic_message, true);
    assert.ok(sent.message_id > topic.message_thread_id);
    assert.equal(sent.text, 'Hello team');
    assert.deepEqual(sent.entities, [{ type: 'bold', offset: 6, length: 4 }]);
    // Telegram points a topic message without an explicit reply at the topic's creation message.
    assert.equal(sent.reply_to_message?.message_id, topic.message_thread_id);
    assert.equal(sent.reply_to_message?.forum_topic_created?.name, 'Alice · telegram');
    assert.deepEqual(
      tg.messagesIn(tg.supportChatId, topic.message_thread_id).map((m) => m.text),
      ['Hello team'],
    );
    assert.equal(tg.topics().find((t) => t.message_thread_id === topic.message_thread_id)?.closed, false);
  });

  it('copies a private message into a topic with its formatting', async () => {
    const alice = tg.addUser({ first_name: 'Alice', username: 'alice' });
    const incoming = tg.privateMessage(alice, { text: 'Order *42* please', parse_mode: 'MarkdownV2' });
    const original = incoming.message!;
    assert.equal(original.text, 'Order 42 please');
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Alice');
    const copied = await bot.api.copyMessage(tg.supportChatId, alice.id, original.message_id, {
      message_thread_id: topic.message_thread_id,
    });
    const copy = tg.message(tg.supportChatId, copied.message_id);
    assert.equal(copy?.text, 'Order 42 please');
    assert.deepEqual(copy?.entities, original.entities);
    assert.equal(copy?.message_thread_id, topic.message_thread_id);
    assert.equal(copy?.forward_origin, undefined);

    const gone = await rejection(bot.api.copyMessage(tg.supportChatId, alice.id, 999_999));
    assert.equal(gone.description, 'Bad Request: message to copy not found');
  });

  it('answers "message thread not found" for a topic deleted by hand', async () => {
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Doomed');
    await bot.api.sendMessage(tg.supportChatId, 'first', { message_thread_id: topic.message_thread_id });
    tg.deleteTopic(topic.message_thread_id);
    assert.deepEqual(tg.messagesIn(tg.supportChatId, topic.message_thread_id), []);
    const error = await rejection(
      bot.api.sendMessage(tg.supportChatId, 'second', { message_thread_id: topic.message_thread_id }),
    );
    assert.equal(error.error_code, 400);
    assert.match(error.description, /message thread not found/);
    const reopen = await rejection(bot.api.reopenForumTopic(tg.supportChatId, topic.message_thread_id));
    assert.equal(reopen.description, 'Bad Request: TOPIC_ID_INVALID');
  });

  it('closes and reopens topics, refusing a no-op with TOPIC_NOT_MODIFIED', async () => {
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Closing');
    assert.equal(await bot.api.closeForumTopic(tg.supportChatId, topic.message_thread_id), true);
    const again = await rejection(bot.api.closeForumTopic(tg.supportChatId, topic.message_thread_id));
    assert.equal(again.description, 'Bad Request: TOPIC_NOT_MODIFIED');
    // The bot is an administrator: it may still write into a closed topic.
    await bot.api.sendMessage(tg.supportChatId, 'still here', { message_thread_id: topic.message_thread_id });
    await bot.api.reopenForumTopic(tg.supportChatId, topic.message_thread_id);
    assert.equal(tg.topics().find((t) => t.message_thread_id === topic.message_thread_id)?.closed, false);
  });

  it('surfaces an injected 429 as error.parameters.retry_after, and enforces rate limits', async () => {
    const bob = tg.addUser({ first_name: 'Bob' });
    tg.failNext('sendMessage', { error_code: 429, retry_after: 7 });
    const injected = await rejection(bot.api.sendMessage(bob.id, 'hi'));
    assert.equal(injected.error_code, 429);
    assert.equal(injected.description, 'Too Many Requests: retry after 7');
    assert.equal(injected.parameters.retry_after, 7);
    assert.equal(tg.messagesIn(bob.id).length, 0, 'a rejected call has no effect');

    tg.rateLimit({ perChatPerSecond: 1 });
    try {
      await bot.api.sendMessage(bob.id, 'one');
      const limited = await rejection(bot.api.sendMessage(bob.id, 'two'));
      assert.equal(limited.error_code, 429);
      assert.equal(limited.parameters.retry_after, 1);
    } finally {
      tg.rateLimit(false);
    }
    assert.deepEqual(
      tg.messagesIn(bob.id).map((m) => m.text),
      ['one'],
    );
  });

  it('turns a reset connection into an HttpError', async () => {
    tg.failNext('sendMessage', 'reset');
    const carol = tg.addUser({ first_name: 'Carol' });
    await assert.rejects(bot.api.sendMessage(carol.id, 'lost'), HttpError);
    assert.equal(tg.callsTo('sendMessage').at(-1)?.fault, 'reset');
    assert.equal(tg.messagesIn(carol.id).length, 0);
  });

  it('answers 403 once the user blocked the bot', async () => {
    const dave = tg.addUser({ first_name: 'Dave' });
    await bot.api.sendMessage(dave.id, 'welcome');
    tg.blockBot(dave.id);
    const error = await rejection(bot.api.sendMessage(dave.id, 'are you there?'));
    assert.equal(error.error_code, 403);
    assert.equal(error.description, 'Forbidden: bot was blocked by the user');
    const stranger = tg.addUser({ first_name: 'Eve', started: false });
    const never = await rejection(bot.api.sendMessage(stranger.id, 'hi'));
    assert.equal(never.description, "Forbidden: bot can't initiate conversation with a user");
  });

  it('uploads a photo, then serves it through getFile and the file route', async () => {
    const frank = tg.addUser({ first_name: 'Frank' });
    const sent = await bot.api.sendPhoto(frank.id, new InputFile(PNG, 'dot.png'), { caption: ' a dot ' });
    assert.ok(Array.isArray(sent.photo) && sent.photo.length > 0);
    const largest = sent.photo.at(-1)!;
    assert.equal(largest.width, 2);
    assert.equal(largest.height, 1);
    assert.ok(largest.file_id.length > 30);
    assert.equal(sent.caption, 'a dot', 'Telegram trims captions');
    assert.deepEqual(
      tg
        .callsTo('sendPhoto')
        .at(-1)
        ?.uploads.map((u) => u.size),
      [PNG.length],
    );

    const file = await bot.api.getFile(largest.file_id);
    assert.equal(file.file_unique_id, largest.file_unique_id);
    assert.match(file.file_path ?? '', /^photos\/file_\d+\.jpg$/, 'Telegram keeps photos as JPEG');
    const res = await fetch(`${tg.apiRoot}/file/bot${tg.token}/${file.file_path}`);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), PNG);

    // Sending it again by file_id gives the same photo; a document's id is the wrong type.
    const again = await bot.api.sendPhoto(frank.id, largest.file_id);
    assert.equal(again.photo.at(-1)?.file_unique_id, largest.file_unique_id);
    const doc = await bot.api.sendDocument(frank.id, new InputFile(Buffer.from('a,b\n1,2\n'), 'report.csv'));
    assert.equal(doc.document.file_name, 'report.csv');
    assert.equal(doc.document.mime_type, 'text/csv');
    assert.equal(doc.document.file_size, 8);
    const mismatch = await rejection(bot.api.sendPhoto(frank.id, doc.document.file_id));
    assert.equal(mismatch.description, 'Bad Request: type of file mismatch');
    const bad = await rejection(bot.api.getFile('no-such-file'));
    assert.equal(bad.description, 'Bad Request: invalid file_id');
  });

  it('sends an album of uploads', async () => {
    const gina = tg.addUser({ first_name: 'Gina' });
    const album = await bot.api.sendMediaGroup(gina.id, [
      { type: 'photo', media: new InputFile(PNG, 'a.png'), caption: 'first' },
      { type: 'photo', media: new InputFile(PNG, 'b.png') },
    ]);
    assert.equal(album.length, 2);
    const groups = album.map((m: Message) => m.media_group_id);
    assert.ok(groups[0]);
    assert.equal(groups[0], groups[1]);
    assert.equal(album[0]!.caption, 'first');
  });

  it('sends an album by file ids into a topic as a reply; documents and audio go only with their own kind', async () => {
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Albums');
    const thread = { message_thread_id: topic.message_thread_id };
    const question = await bot.api.sendMessage(tg.supportChatId, 'Which parts?', thread);
    const photo = await bot.api.sendPhoto(tg.supportChatId, new InputFile(PNG, 'p.png'), thread);
    const video = await bot.api.sendVideo(
      tg.supportChatId,
      new InputFile(Buffer.from('mp4'), 'v.mp4'),
      thread,
    );
    const doc = await bot.api.sendDocument(
      tg.supportChatId,
      new InputFile(Buffer.from('pdf'), 'd.pdf'),
      thread,
    );
    const audio = await bot.api.sendAudio(
      tg.supportChatId,
      new InputFile(Buffer.from('mp3'), 'a.mp3'),
      thread,
    );
    const photoId = photo.photo.at(-1)!.file_id;

    const album = await bot.api.sendMediaGroup(
      tg.supportChatId,
      [
        { type: 'photo', media: photoId, caption: '<b>these</b>', parse_mode: 'HTML' },
        { type: 'video', media: video.video.file_id },
      ],
      {
        ...thread,
        reply_parameters: { message_id: question.message_id, allow_sending_without_reply: true },
      },
    );
    assert.equal(album.length, 2);
    assert.equal(new Set(album.map((m: Message) => m.media_group_id)).size, 1);
    for (const m of album) {
      assert.equal(m.message_thread_id, topic.message_thread_id);
      assert.equal(m.is_topic_message, true);
      assert.equal(m.reply_to_message?.message_id, question.message_id, 'every item replies');
    }
    assert.equal(album[0]!.caption, 'these');
    assert.deepEqual(album[0]!.caption_entities, [{ type: 'bold', offset: 0, length: 5 }]);
    assert.equal(album[1]!.caption, undefined);
    assert.equal(
      (album[1] as Message).video?.file_unique_id,
      video.video.file_unique_id,
      'the same file again',
    );

    // Without a reply, an album in a topic replies to the topic's creation, like any topic message.
    const plain = await bot.api.sendMediaGroup(
      tg.supportChatId,
      [
        { type: 'document', media: doc.document.file_id },
        { type: 'document', media: doc.document.file_id },
      ],
      thread,
    );
    assert.equal(plain[0]!.reply_to_message?.message_id, topic.message_thread_id);

    const gone = await rejection(
      bot.api.sendMediaGroup(
        tg.supportChatId,
        [
          { type: 'photo', media: photoId },
          { type: 'photo', media: photoId },
        ],
        { ...thread, reply_parameters: { message_id: 999_999 } },
      ),
    );
    assert.equal(gone.description, 'Bad Request: message to be replied not found');
    const mixedDoc = await rejection(
      bot.api.sendMediaGroup(tg.supportChatId, [
        { type: 'photo', media: photoId },
        { type: 'document', media: doc.document.file_id },
      ] as never),
    );
    assert.equal(mixedDoc.description, "Bad Request: document can't be mixed with other media types");
    const mixedAudio = await rejection(
      bot.api.sendMediaGroup(tg.supportChatId, [
        { type: 'audio', media: audio.audio.file_id },
        { type: 'video', media: video.video.file_id },
      ] as never),
    );
    assert.equal(mixedAudio.description, "Bad Request: audio can't be mixed with other media types");
  });

  it('refuses an edit that changes nothing, and applies one that does', async () => {
    const hank = tg.addUser({ first_name: 'Hank' });
    const sent = await bot.api.sendMessage(hank.id, 'Your ticket is open');
    const same = await rejection(bot.api.editMessageText(hank.id, sent.message_id, 'Your ticket is open'));
    assert.equal(
      same.description,
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    );
    const edited = await bot.api.editMessageText(hank.id, sent.message_id, 'Your ticket is closed');
    assert.ok(edited !== true && edited.edit_date);
    assert.equal(tg.message(hank.id, sent.message_id)?.text, 'Your ticket is closed');
    const missing = await rejection(bot.api.editMessageText(hank.id, 999_999, 'x'));
    assert.equal(missing.description, 'Bad Request: message to edit not found');
    const empty = await rejection(bot.api.sendMessage(hank.id, '   '));
    assert.equal(empty.description, 'Bad Request: message text is empty');
    const broken = await rejection(bot.api.sendMessage(hank.id, '<b>open', { parse_mode: 'HTML' }));
    assert.match(broken.description, /^Bad Request: can't parse entities: /);

    await bot.api.deleteMessage(hank.id, sent.message_id);
    assert.equal(tg.message(hank.id, sent.message_id), undefined);
    const twice = await rejection(bot.api.deleteMessage(hank.id, sent.message_id));
    assert.equal(twice.description, 'Bad Request: message to delete not found');
  });

  it('sets a reaction like Telegram: one listed emoji on a message that is there', async () => {
    const manager = tg.addManager({ first_name: 'Rita' });
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Reactions');
    const note = tg.groupMessage(manager, topic.message_thread_id, { text: '// checked the warehouse' });
    const id = note.message!.message_id;
    assert.equal(
      await bot.api.setMessageReaction(tg.supportChatId, id, [{ type: 'emoji', emoji: '✍' }]),
      true,
    );
    assert.deepEqual(tg.reactionsOn(tg.supportChatId, id), [{ type: 'emoji', emoji: '✍' }]);

    const missing = await rejection(
      bot.api.setMessageReaction(tg.supportChatId, 999_999, [{ type: 'emoji', emoji: '✍' }]),
    );
    assert.equal(missing.error_code, 400);
    assert.equal(missing.description, 'Bad Request: message to react not found');
    const unlisted = await rejection(
      bot.api.setMessageReaction(tg.supportChatId, id, [{ type: 'emoji', emoji: '📝' as '✍' }]),
    );
    assert.equal(unlisted.description, 'Bad Request: REACTION_INVALID');
    const two = await rejection(
      bot.api.setMessageReaction(tg.supportChatId, id, [
        { type: 'emoji', emoji: '👍' },
        { type: 'emoji', emoji: '👀' },
      ]),
    );
    assert.equal(two.description, 'Bad Request: REACTIONS_TOO_MANY');
    const service = await rejection(
      bot.api.setMessageReaction(tg.supportChatId, topic.message_thread_id, [{ type: 'emoji', emoji: '👍' }]),
    );
    assert.equal(service.description, 'Bad Request: REACTION_INVALID', 'the topic-created service message');
    const nowhere = await rejection(
      bot.api.setMessageReaction(-1009999999999, id, [{ type: 'emoji', emoji: '👍' }]),
    );
    assert.equal(nowhere.description, 'Bad Request: chat not found');
    assert.deepEqual(
      tg.reactionsOn(tg.supportChatId, id),
      [{ type: 'emoji', emoji: '✍' }],
      'refusals change nothing',
    );

    // An empty list takes the bot's reaction off; a deleted message keeps none.
    await bot.api.setMessageReaction(tg.supportChatId, id, []);
    assert.deepEqual(tg.reactionsOn(tg.supportChatId, id), []);
    await bot.api.setMessageReaction(tg.supportChatId, id, [{ type: 'emoji', emoji: '👌' }]);
    await bot.api.deleteMessage(tg.supportChatId, id);
    assert.deepEqual(tg.reactionsOn(tg.supportChatId, id), []);
    const gone = await rejection(
      bot.api.setMessageReaction(tg.supportChatId, id, [{ type: 'emoji', emoji: '👌' }]),
    );
    assert.equal(gone.description, 'Bad Request: message to react not found');
  });

  it('stores manager messages so a later reply carries the full message', async () => {
    const ivy = tg.addUser({ first_name: 'Ivy' });
    const manager = tg.addManager({ first_name: 'Max', username: 'max_support' });
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Ivy');
    const card = await bot.api.sendMessage(tg.supportChatId, 'Contact card', {
      message_thread_id: topic.message_thread_id,
    });
    const answer = tg.groupMessage(manager, topic.message_thread_id, { text: 'Hi Ivy!' });
    assert.equal(answer.message?.is_topic_message, true);
    assert.equal(answer.message?.message_thread_id, topic.message_thread_id);
    assert.equal(answer.message?.reply_to_message?.message_id, topic.message_thread_id);
    const command = tg.groupMessage(
      manager,
      topic.message_thread_id,
      { text: '/delete' },
      { reply_to_message_id: card.message_id },
    );
    assert.equal(command.message?.reply_to_message?.text, 'Contact card');
    assert.deepEqual(command.message?.entities, [{ type: 'bot_command', offset: 0, length: 7 }]);
    assert.ok(command.update_id > answer.update_id);

    const general = tg.generalMessage(manager, { text: 'lunch?' });
    assert.equal(general.message?.message_thread_id, undefined);
    const reply = await bot.api.copyMessage(ivy.id, tg.supportChatId, answer.message!.message_id);
    assert.equal(tg.message(ivy.id, reply.message_id)?.text, 'Hi Ivy!');
  });

  it('serves queued updates through getUpdates, honouring offset and timeout', async () => {
    const jack = tg.addUser({ first_name: 'Jack' });
    const first = tg.privateMessage(jack, { text: 'one' });
    const second = tg.privateMessage(jack, { text: 'two' });
    tg.queueUpdate(first, second);
    const both = await bot.api.getUpdates({ timeout: 0 });
    assert.deepEqual(
      both.map((u) => u.update_id),
      [first.update_id, second.update_id],
    );
    assert.deepEqual(both[0], first);
    const rest = await bot.api.getUpdates({ offset: first.update_id + 1, timeout: 0 });
    assert.deepEqual(
      rest.map((u) => u.message?.text),
      ['two'],
    );
    const none = await bot.api.getUpdates({ offset: second.update_id + 1, timeout: 0 });
    assert.deepEqual(none, []);

    const started = Date.now();
    const waiting = bot.api.getUpdates({ offset: second.update_id + 1, timeout: 5 });
    setTimeout(() => tg.queueUpdate(tg.privateMessage(jack, { text: 'three' })), 100);
    const late = await waiting;
    assert.deepEqual(
      late.map((u) => u.message?.text),
      ['three'],
    );
    assert.ok(Date.now() - started < 3000, 'a long poll is answered as soon as an update arrives');
    await bot.api.getUpdates({ offset: late[0]!.update_id + 1, timeout: 0 });

    await bot.api.setWebhook('http://127.0.0.1:9/telegram', { secret_token: 'abc' });
    const conflict = await rejection(bot.api.getUpdates({ timeout: 0 }));
    assert.equal(conflict.error_code, 409);
    assert.equal((await bot.api.getWebhookInfo()).url, 'http://127.0.0.1:9/telegram');
    await bot.api.deleteWebhook();
  });

  it('runs a grammY bot with long polling end to end', async () => {
    const kim = tg.addUser({ first_name: 'Kim' });
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Kim');
    const poller = new Bot(tg.token, { client: { apiRoot: tg.apiRoot }, botInfo: tg.botInfo });
    const copied = new Promise<number>((resolve) => {
      poller.on('message', async (ctx) => {
        const copy = await ctx.copyMessage(tg.supportChatId, { message_thread_id: topic.message_thread_id });
        resolve(copy.message_id);
      });
    });
    tg.queueUpdate(tg.privateMessage(kim, { photo: { data: PNG, width: 2, height: 1 }, caption: 'look' }));
    const running = poller.start({ timeout: 1 });
    const id = await copied;
    await poller.stop();
    await running;
    const copy = tg.message(tg.supportChatId, id);
    assert.equal(copy?.caption, 'look');
    assert.ok(copy?.photo?.length);
    assert.equal(tg.pendingUpdates().length, 0, 'stop() confirmed the handled update');
  });

  it('inline buttons: a press is a callback_query update that waits for answerCallbackQuery', async () => {
    const manager = tg.addManager({ first_name: 'Mia' });
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Buttons');
    const card = await bot.api.sendMessage(tg.supportChatId, 'card', {
      message_thread_id: topic.message_thread_id,
      reply_markup: { inline_keyboard: [[{ text: 'Close', callback_data: 'card:close:1' }]] },
    });
    assert.throws(
      () => tg.pressButton(manager, tg.supportChatId, card.message_id, 'card:ban:1'),
      /no button/,
    );

    const press = tg.pressButton(manager, tg.supportChatId, card.message_id, 'card:close:1');
    const q = press.callback_query!;
    assert.equal(q.data, 'card:close:1');
    assert.equal(q.from.id, manager.id);
    assert.equal(q.message?.message_id, card.message_id);
    assert.deepEqual(
      tg.unansweredPresses().map((p) => p.id),
      [q.id],
    );

    assert.equal(await bot.api.answerCallbackQuery(q.id, { text: 'Closed' }), true);
    assert.deepEqual(tg.unansweredPresses(), []);
    assert.deepEqual(tg.presses().find((p) => p.id === q.id)?.answer, { text: 'Closed' });
    // A second answer, or one for a query Telegram never sent, is refused as Telegram refuses it.
    for (const id of [q.id, '12345']) {
      const refused = await rejection(bot.api.answerCallbackQuery(id));
      assert.equal(
        refused.description,
        'Bad Request: query is too old and response timeout expired or query ID is invalid',
      );
    }
  });

  it('getChatMember tells members from people outside the group; inline keyboards are checked', async () => {
    const member = tg.addManager({ first_name: 'Nia' });
    const stranger = tg.addUser({ first_name: 'Otto' });
    assert.equal((await bot.api.getChatMember(tg.supportChatId, member.id)).status, 'member');
    assert.equal((await bot.api.getChatMember(tg.supportChatId, stranger.id)).status, 'left');

    const tooLong = await rejection(
      bot.api.sendMessage(tg.supportChatId, 'x', {
        reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'x'.repeat(65) }]] },
      }),
    );
    assert.equal(tooLong.description, 'Bad Request: BUTTON_DATA_INVALID');
    const badUrl = await rejection(
      bot.api.sendMessage(stranger.id, 'x', {
        reply_markup: { inline_keyboard: [[{ text: 'A', url: 'ftp://example.com' }]] },
      }),
    );
    assert.match(badUrl.description, /inline keyboard button URL 'ftp:\/\/example\.com' is invalid/);

    const sent = await bot.api.sendMessage(stranger.id, 'links', {
      reply_markup: { inline_keyboard: [[{ text: 'Open', url: 'https://example.com/o/1' }]] },
    });
    assert.deepEqual(tg.keyboardOf(stranger.id, sent.message_id), [
      [{ text: 'Open', url: 'https://example.com/o/1' }],
    ]);
    const markup = { inline_keyboard: [[{ text: 'Track', url: 'https://example.com/t/1' }]] };
    await bot.api.editMessageReplyMarkup(stranger.id, sent.message_id, { reply_markup: markup });
    assert.deepEqual(tg.keyboardOf(stranger.id, sent.message_id), markup.inline_keyboard);
    const same = await rejection(
      bot.api.editMessageReplyMarkup(stranger.id, sent.message_id, { reply_markup: markup }),
    );
    assert.match(same.description, /^Bad Request: message is not modified/);
  });

  it('getForumTopicIconStickers lists custom emoji stickers', async () => {
    const stickers = await bot.api.getForumTopicIconStickers();
    assert.ok(stickers.some((st) => st.emoji === '💬' && st.custom_emoji_id));
  });

  it('rejects a wrong token with 401 and an unknown method with 404', async () => {
    const wrong = new Bot('7000000001:wrong', { client: { apiRoot: tg.apiRoot }, botInfo: tg.botInfo });
    const unauthorized = await rejection(wrong.api.getMe());
    assert.equal(unauthorized.error_code, 401);
    assert.equal(unauthorized.description, 'Unauthorized');
    const res = await fetch(`${tg.apiRoot}/bot${tg.token}/sendTelepathy`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { ok: false, error_code: 404, description: 'Not Found' });
  });
});
