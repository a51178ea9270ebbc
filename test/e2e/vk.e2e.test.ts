// VK end to end: Callback API events POSTed to /webhooks/vk, the whole app on a real PostgreSQL,
// the Telegram Bot API stand-in as the support group (and file store) and the VK API stand-in as VK.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Message } from 'grammy/types';
import { telegramMessageId } from '../../src/adapters/telegram/refs.ts';
import { randomIdOf, vkConversationId } from '../../src/adapters/vk/refs.ts';
import { waitFor } from '../support/app-harness.ts';
import { fakeJpeg, type VkStandInUser } from '../support/vk-stand-in.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';

const count = async (h: VkHarness, where: string, params: unknown[] = []): Promise<number> =>
  (await h.db.pool.query(`SELECT count(*)::int AS n FROM td_events WHERE ${where}`, params)).rows[0].n;

const streamOf = (user: VkStandInUser) => `conversation-${vkConversationId(user.id)}`;

describe('vk: community messages ↔ forum topics', () => {
  let h: VkHarness;
  before(async () => {
    h = await startVkHarness();
  });
  after(async () => {
    await h.stop();
  });

  /** The topic of a VK user, once the Telegram reactor opened it. */
  const topicOf = (user: VkStandInUser) =>
    waitFor(`the topic of ${user.first_name}`, () =>
      h.tg.topics().find((t) => t.name.includes(`${user.first_name} ${user.last_name}`.trim())),
    );
  const inTopic = (threadId: number) => h.tg.messagesIn(h.tg.supportChatId, threadId);
  const waitInTopic = (threadId: number, what: string, probe: (m: Message) => boolean) =>
    waitFor(what, () => inTopic(threadId).find(probe));

  /** A VK client who has written once; their topic is open. */
  const client = async (first: string, last = 'Testov') => {
    const user = h.vk.addUser({ first_name: first, last_name: last });
    const res = await h.postEvent(h.vk.messageNew(user, { text: `hello from ${first}` }));
    assert.equal(res.status, 200);
    const topic = await topicOf(user);
    await waitInTopic(topic.message_thread_id, 'the first message', (m) => m.text === `hello from ${first}`);
    return { user, topic };
  };

  /** A manager's answer in the topic, as Telegram delivers it. */
  const answer = async (threadId: number, content: Parameters<typeof h.tg.groupMessage>[2]) => {
    const manager = h.tg.addManager({ first_name: 'Alice' });
    const update = h.tg.groupMessage(manager, threadId, content);
    const res = await h.postUpdate(update);
    assert.equal(res.status, 200);
    return { manager, message: update.message! };
  };

  it('answers the confirmation event with VK_CONFIRMATION', async () => {
    const res = await h.postEvent(h.vk.confirmationEvent());
    assert.equal(res.status, 200);
    assert.equal(res.body, h.vk.confirmation);
    assert.match(String(res.type), /^text\/plain/);
  });

  it('refuses an event whose secret is not VK_SECRET (403) and records nothing', async () => {
    const user = h.vk.addUser({ first_name: 'Mallory', last_name: 'Evil' });
    for (const secret of ['wrong', null]) {
      const res = await h.postEvent(h.vk.messageNew(user, { text: 'sneaky' }), { secret });
      assert.equal(res.status, 403);
      assert.notEqual(res.body, 'ok');
    }
    const confirmation = await h.postEvent(h.vk.confirmationEvent(), { secret: 'wrong' });
    assert.equal(confirmation.status, 403);
    assert.notEqual(confirmation.body, h.vk.confirmation);
    assert.equal(await count(h, 'stream = $1', [streamOf(user)]), 0);
  });

  it('a first message opens a topic titled with the VK profile, with a contact card linking it', async () => {
    const user = h.vk.addUser({
      first_name: 'Ivan',
      last_name: 'Petrov',
      screen_name: 'ivan.petrov',
      lang_id: 3,
    });
    const res = await h.postEvent(h.vk.messageNew(user, { text: 'Hello, my order is late' }));
    assert.deepEqual([res.status, res.body], [200, 'ok']);
    // `ok` only after the events are appended.
    assert.equal(await count(h, `stream = $1 AND type = 'ClientMessageReceived'`, [streamOf(user)]), 1);

    const topic = await topicOf(user);
    assert.match(topic.name, /Ivan Petrov/);
    const card = await waitInTopic(topic.message_thread_id, 'the contact card', (m) =>
      Boolean(m.text?.includes('Channel: vk')),
    );
    assert.ok(
      card.entities?.some((e) => e.type === 'text_link' && e.url === `https://vk.com/id${user.id}`),
      'the card links the VK profile',
    );
    assert.match(String(card.text), /Language: en/);
    await waitInTopic(topic.message_thread_id, 'the message', (m) => m.text === 'Hello, my order is late');
    const { rows } = await h.db.pool.query(
      `SELECT data FROM td_events WHERE stream = $1 AND type = 'ConversationStarted'`,
      [streamOf(user)],
    );
    assert.deepEqual(rows[0].data.profile, {
      firstName: 'Ivan',
      lastName: 'Petrov',
      username: 'ivan.petrov',
      languageCode: 'en',
      link: `https://vk.com/id${user.id}`,
    });
    assert.equal(rows[0].data.channel, 'vk');
    assert.equal(rows[0].data.source, 'vk');
    assert.equal(rows[0].data.clientId, String(user.id));
  });

  it('the same event_id delivered twice appends once (and uploads its file once)', async () => {
    const user = h.vk.addUser({ first_name: 'Dup', last_name: 'Licate' });
    const event = h.vk.messageNew(user, { text: 'once', attachments: [h.vk.attachments.photo(user)] });
    const mark = h.tg.calls.length;
    const [first, second] = await Promise.all([h.postEvent(event), h.postEvent(event)]);
    const third = await h.postEvent(event);
    assert.deepEqual([first.body, second.body, third.body], ['ok', 'ok', 'ok']);
    assert.equal(await count(h, `stream = $1 AND type = 'ClientMessageReceived'`, [streamOf(user)]), 1);
    const topic = await topicOf(user);
    await waitInTopic(topic.message_thread_id, 'the photo', (m) => Boolean(m.photo) && m.caption === 'once');
    const fileStoreUploads = h.tg.calls
      .slice(mark)
      .filter(
        (c) => c.method === 'sendPhoto' && c.uploads.length > 0 && c.params.message_thread_id === undefined,
      );
    assert.equal(fileStoreUploads.length, 1);
  });

  it('ignores the community’s own messages: message_reply echoes and out=1', async () => {
    const { user, topic } = await client('Echo');
    await answer(topic.message_thread_id, { text: 'An answer' });
    const sent = await waitFor('the answer in VK', () =>
      h.vk.sentTo(user.id).find((m) => m.text === 'An answer'),
    );
    await waitFor(
      'the delivery recorded',
      async () =>
        (await count(h, `stream = $1 AND type = 'ReplyDelivered'`, [streamOf(user)])) === 1 || undefined,
    );
    const before = await count(h, 'stream = $1', [streamOf(user)]);
    const echo = await h.postEvent(h.vk.messageReply(sent));
    assert.deepEqual([echo.status, echo.body], [200, 'ok']);
    const out = await h.postEvent(h.vk.otherEvent('message_new', { message: { ...sent }, client_info: {} }));
    assert.deepEqual([out.status, out.body], [200, 'ok']);
    const typing = await h.postEvent(
      h.vk.otherEvent('message_typing_state', { state: 'typing', from_id: user.id }),
    );
    assert.deepEqual([typing.status, typing.body], [200, 'ok']);
    assert.equal(await count(h, 'stream = $1', [streamOf(user)]), before);
  });

  it('every kind of VK attachment reaches the topic: files re-uploaded, the rest readable', async () => {
    const { user, topic } = await client('Olga', 'Attachments');
    const thread = topic.message_thread_id;
    const send = async (content: Parameters<typeof h.vk.messageNew>[1]) => {
      const res = await h.postEvent(h.vk.messageNew(user, content));
      assert.deepEqual([res.status, res.body], [200, 'ok']);
    };
    const photoBytes = fakeJpeg('olga-photo');
    await send({ text: 'my receipt', attachments: [h.vk.attachments.photo(user, photoBytes)] });
    const photo = await waitInTopic(thread, 'the photo', (m) => m.caption === 'my receipt');
    assert.deepEqual(h.tg.fileBytes(photo.photo!.at(-1)!.file_id), photoBytes);

    const pdf = Buffer.from('%PDF-1.4 invoice');
    await send({ attachments: [h.vk.attachments.doc(user, 'invoice.pdf', pdf)] });
    const doc = await waitInTopic(thread, 'the document', (m) => m.document?.file_name === 'invoice.pdf');
    assert.deepEqual(h.tg.fileBytes(doc.document!.file_id), pdf);

    const ogg = Buffer.from('OggS-voice-of-olga');
    await send({ attachments: [h.vk.attachments.audioMessage(user, ogg)] });
    const voice = await waitInTopic(thread, 'the voice message', (m) => Boolean(m.voice));
    assert.deepEqual(h.tg.fileBytes(voice.voice!.file_id), ogg);

    await send({ attachments: [h.vk.attachments.sticker(9046, Buffer.from('PNG-sticker'))] });
    const sticker = await waitInTopic(
      thread,
      'the sticker picture',
      (m) => Boolean(m.photo) && h.tg.fileBytes(m.photo!.at(-1)!.file_id)?.toString() === 'PNG-sticker',
    );
    assert.ok(sticker);

    await send({ geo: { latitude: 55.7558, longitude: 37.6173, title: 'Red Square' } });
    await waitInTopic(
      thread,
      'the location',
      (m) => m.text === '📍 Location: https://maps.google.com/?q=55.7558,37.6173',
    );

    const video = h.vk.attachments.video('Unboxing');
    await send({ text: 'look', attachments: [video] });
    const v = video.video as { owner_id: number; id: number };
    await waitInTopic(
      thread,
      'the video link',
      (m) => m.text === `look\n\n🎬 Video: Unboxing — https://vk.com/video${v.owner_id}_${v.id}`,
    );

    await send({ attachments: [h.vk.attachments.audio('Kino', 'Gruppa krovi')] });
    await waitInTopic(thread, 'the audio', (m) => m.text === '🎵 Audio: Kino — Gruppa krovi');

    const wall = h.vk.attachments.wall('Our new collection is out');
    await send({ attachments: [wall] });
    const w = wall.wall as { owner_id: number; id: number };
    await waitInTopic(
      thread,
      'the wall post',
      (m) =>
        m.text === `📰 Wall post: https://vk.com/wall${w.owner_id}_${w.id} — “Our new collection is out”`,
    );

    await send({ attachments: [h.vk.attachments.link('https://example.com/order/42', 'Order 42')] });
    await waitInTopic(thread, 'the link', (m) => m.text === '🔗 Order 42 — https://example.com/order/42');
    // A link VK snipped from the text itself is not repeated.
    await send({
      text: 'see https://example.com/faq',
      attachments: [h.vk.attachments.link('https://example.com/faq', 'FAQ')],
    });
    await waitInTopic(thread, 'the text with its link', (m) => m.text === 'see https://example.com/faq');

    await send({ attachments: [h.vk.attachments.market('Blue mug', '990 ₽')] });
    await waitInTopic(thread, 'the product', (m) =>
      Boolean(m.text?.startsWith('🛍 Product: Blue mug (990 ₽) — https://vk.com/product')),
    );

    await send({ attachments: [h.vk.attachments.poll('Which size?', ['S', 'M', 'L'])] });
    await waitInTopic(thread, 'the poll', (m) => m.text === '📊 Poll: Which size? — S / M / L');

    // Several files in one message: the first with the text, each further one on its own.
    const a = fakeJpeg('first');
    const b = fakeJpeg('second');
    await send({
      text: 'two photos',
      attachments: [h.vk.attachments.photo(user, a), h.vk.attachments.photo(user, b)],
    });
    const firstPhoto = await waitInTopic(thread, 'the first of two', (m) => m.caption === 'two photos');
    assert.deepEqual(h.tg.fileBytes(firstPhoto.photo!.at(-1)!.file_id), a);
    await waitInTopic(
      thread,
      'the second of two',
      (m) => Boolean(m.photo) && h.tg.fileBytes(m.photo!.at(-1)!.file_id)?.equals(b) === true,
    );

    // A file too big for Telegram is shown as its VK link.
    await send({ attachments: [h.vk.attachments.hugeDoc(user, 'backup.zip', 60 * 1024 * 1024)] });
    await waitInTopic(thread, 'the big file as a link', (m) =>
      Boolean(m.text?.startsWith('📎 Document: backup.zip — http')),
    );

    // The file store leaves nothing behind in the General topic.
    assert.deepEqual(
      h.tg.generalMessages().filter((m) => m.photo || m.document || m.voice),
      [],
    );
    // The log records Telegram's file_id and VK's URL.
    const { rows } = await h.db.pool.query(
      `SELECT data FROM td_events WHERE stream = $1 AND type = 'ClientMessageReceived' AND data->>'text' = 'my receipt'`,
      [streamOf(user)],
    );
    const recorded = rows[0].data.attachments[0];
    assert.equal(recorded.kind, 'photo');
    assert.equal(recorded.fileRef, photo.photo!.at(-1)!.file_id);
    assert.match(recorded.details.url, /^http:\/\/127\.0\.0\.1:\d+\/cdn\//);
    assert.match(recorded.details.vk, /^photo\d+_\d+_\w+$/);
  });

  it('a message too long for the topic once described is shown cut, and the conversation goes on', async () => {
    const { user, topic } = await client('Lev', 'Longread');
    const thread = topic.message_thread_id;
    // VK takes 4096 characters of text; with the link's description the topic message is longer
    // than Telegram accepts.
    const long = `${'слово '.repeat(682)}end`;
    assert.equal(long.length, 4095);
    const res = await h.postEvent(
      h.vk.messageNew(user, {
        text: long,
        attachments: [h.vk.attachments.link('https://example.com/x', 'X')],
      }),
    );
    assert.deepEqual([res.status, res.body], [200, 'ok']);
    const shown = await waitInTopic(thread, 'the long message, cut', (m) =>
      Boolean(m.text?.startsWith('⚠️ A client message could not be shown here')),
    );
    assert.ok(shown.text!.length <= 4096);
    assert.ok(shown.text!.includes('слово слово'), 'its text, as far as it fits');
    await h.postEvent(h.vk.messageNew(user, { text: 'and after that' }));
    await waitInTopic(thread, 'the next message', (m) => m.text === 'and after that');
  });

  it('downloads files only from VK_FILE_HOSTS: another host, or a redirect to one, is not fetched and the topic gets the link', async () => {
    // Another HTTP server on this machine: what a forged URL in an event would point at.
    const elsewhere: string[] = [];
    const server = createServer((req, res) => {
      elsewhere.push(req.url ?? '/');
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(fakeJpeg('not from VK'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const other = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { user, topic } = await client('Mallory', 'Hosts');
      const thread = topic.message_thread_id;
      /** A photo attachment whose every size is at `to(url)`. */
      const photoAt = (to: (url: string) => string) => {
        const a = h.vk.attachments.photo(user, fakeJpeg(`mallory-${Math.random()}`));
        const photo = a.photo as { sizes: Array<{ url: string }> };
        for (const size of photo.sizes) size.url = to(size.url);
        return a;
      };
      const send = async (text: string, attachment: Record<string, unknown>) => {
        const res = await h.postEvent(h.vk.messageNew(user, { text, attachments: [attachment as never] }));
        assert.deepEqual([res.status, res.body], [200, 'ok']);
      };

      const direct = photoAt(() => `${other}/direct.jpg`);
      await send('direct', direct);
      await waitInTopic(
        thread,
        'the link instead of the file',
        (m) => m.text === `direct\n\n🖼 Photo: ${other}/direct.jpg`,
      );

      const redirect = `${h.vk.baseUrl}/redirect?to=${encodeURIComponent(`${other}/redirected.jpg`)}`;
      const redirected = photoAt(() => redirect);
      await send('redirected', redirected);
      await waitInTopic(thread, 'the link instead of the redirected file', (m) =>
        Boolean(m.text?.startsWith('redirected\n\n🖼 Photo: ')),
      );
      assert.deepEqual(elsewhere, [], 'nothing was fetched from a host not allowed');

      // A redirect that stays on an allowed host (here the stand-in's CDN) is followed.
      let original = '';
      const within = photoAt((url) => {
        if (!original || !url.includes('?')) original = url;
        return `${h.vk.baseUrl}/redirect?to=${encodeURIComponent(url)}`;
      });
      await send('within', within);
      const carried = await waitInTopic(
        thread,
        'the file behind an allowed redirect',
        (m) => m.caption === 'within',
      );
      assert.deepEqual(h.tg.fileBytes(carried.photo!.at(-1)!.file_id), h.vk.fileAt(original));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a file VK cannot serve right now is answered 503 and recorded on the next delivery', async () => {
    const { user } = await client('Retry', 'Later');
    const event = h.vk.messageNew(user, { text: 'photo', attachments: [h.vk.attachments.photo(user)] });
    const received = `stream = $1 AND type = 'ClientMessageReceived'`;
    const before = await count(h, received, [streamOf(user)]);
    h.vk.failNext('cdn', 'http-500');
    const first = await h.postEvent(event);
    assert.equal(first.status, 503);
    assert.equal(await count(h, received, [streamOf(user)]), before);
    const second = await h.postEvent(event);
    assert.deepEqual([second.status, second.body], [200, 'ok']);
    assert.equal(
      await count(h, `stream = $1 AND type = 'ClientMessageReceived' AND data->>'text' = 'photo'`, [
        streamOf(user),
      ]),
      1,
    );
  });

  it('a manager’s answer goes out with messages.send and a random_id derived from the message', async () => {
    const { user, topic } = await client('Petr');
    const { message } = await answer(topic.message_thread_id, { text: 'We are on it!' });
    const sent = await waitFor('the answer in VK', () =>
      h.vk.sentTo(user.id).find((m) => m.text === 'We are on it!'),
    );
    const messageId = telegramMessageId(h.tg.supportChatId, message.message_id);
    assert.equal(sent.random_id, randomIdOf(messageId));
    assert.equal(sent.from_id, -h.vk.groupId);
    const delivered = await waitFor('ReplyDelivered', async () => {
      const { rows } = await h.db.pool.query(
        `SELECT data FROM td_events WHERE stream = $1 AND type = 'ReplyDelivered' AND data->>'messageId' = $2`,
        [streamOf(user), messageId],
      );
      return rows[0]?.data;
    });
    assert.deepEqual(delivered.channelMessage, { chatId: String(user.id), messageId: String(sent.id) });
  });

  it('photos, documents and voice answers are uploaded through VK’s upload servers; stickers go as their emoji', async () => {
    const { user, topic } = await client('Media', 'Answers');
    const thread = topic.message_thread_id;
    await answer(thread, { photo: { data: 'manager-photo-bytes' }, caption: 'the label' });
    const photo = await waitFor('the photo in VK', () =>
      h.vk.sentTo(user.id).find((m) => m.text === 'the label'),
    );
    assert.equal(photo.attachments[0]?.type, 'photo');
    const photoUpload = h.vk.uploads.find(
      (u) => u.kind === 'photo' && u.data.toString() === 'manager-photo-bytes',
    );
    assert.ok(photoUpload, 'the photo bytes went to the photo upload server');

    await answer(thread, { document: { data: '%PDF terms', file_name: 'terms.pdf' } });
    const doc = await waitFor('the document in VK', () =>
      h.vk.sentTo(user.id).find((m) => m.attachments[0]?.type === 'doc'),
    );
    assert.equal((doc.attachments[0]!.doc as { title: string }).title, 'terms.pdf');

    await answer(thread, { voice: { data: 'OggS manager voice' } });
    const voice = await waitFor('the voice in VK', () =>
      h.vk.sentTo(user.id).find((m) => m.attachments[0]?.type === 'audio_message'),
    );
    assert.ok(voice);
    assert.ok(
      h.vk.uploads.some((u) => u.kind === 'audio_message' && u.data.toString() === 'OggS manager voice'),
    );

    await answer(thread, { sticker: { emoji: '👍' } });
    await waitFor('the sticker as emoji', () => h.vk.sentTo(user.id).find((m) => m.text === '👍'));

    await answer(thread, { location: { latitude: 59.93, longitude: 30.31 } });
    const geo = await waitFor('the location', () => h.vk.sentTo(user.id).find((m) => m.geo));
    assert.deepEqual(geo.geo?.coordinates, { latitude: 59.93, longitude: 30.31 });
  });

  it('edits go both ways', async () => {
    const { user, topic } = await client('Edith');
    const thread = topic.message_thread_id;

    // Client → topic: message_edit changes the copy in the topic.
    const original = h.vk.messageNew(user, { text: 'I ordered 2 mugs' });
    await h.postEvent(original);
    const copy = await waitInTopic(thread, 'the copy', (m) => m.text === 'I ordered 2 mugs');
    const edit = h.vk.messageEdit(original.message, { text: 'I ordered 3 mugs' });
    assert.equal((await h.postEvent(edit)).body, 'ok');
    assert.equal((await h.postEvent(edit)).body, 'ok');
    await waitFor(
      'the edited copy',
      () => h.tg.message(h.tg.supportChatId, copy.message_id)?.text === 'I ordered 3 mugs' || undefined,
    );
    assert.equal(await count(h, `stream = $1 AND type = 'ClientMessageEdited'`, [streamOf(user)]), 1);

    // Manager → client: an edited answer is edited in VK with messages.edit.
    const { manager, message } = await answer(thread, { text: 'Your parcel leaves on Monday' });
    const sent = await waitFor('the answer', () =>
      h.vk.sentTo(user.id).find((m) => m.text === 'Your parcel leaves on Monday'),
    );
    const res = await h.postUpdate(
      h.tg.editedGroupMessage(manager, message.message_id, { text: 'Your parcel leaves on Tuesday' }),
    );
    assert.equal(res.status, 200);
    await waitFor('the edit in VK', () =>
      h.vk.messagesIn(user.id).find((m) => m.id === sent.id && m.text === 'Your parcel leaves on Tuesday'),
    );
    assert.equal(h.vk.callsTo('messages.edit').length >= 1, true);
    await waitFor(
      'the edit recorded as delivered',
      async () =>
        (await count(h, `stream = $1 AND type = 'ReplyDelivered' AND data->>'operation' = 'edit'`, [
          streamOf(user),
        ])) === 1 || undefined,
    );
  });

  it('/delete removes the answer from the client’s VK chat (delete_for_all)', async () => {
    const { user, topic } = await client('Del');
    const { manager, message } = await answer(topic.message_thread_id, { text: 'oops, wrong client' });
    const sent = await waitFor('the answer', () =>
      h.vk.sentTo(user.id).find((m) => m.text === 'oops, wrong client'),
    );
    const del = h.tg.groupMessage(
      manager,
      topic.message_thread_id,
      { text: '/delete', entities: [{ type: 'bot_command', offset: 0, length: 7 }] },
      { reply_to_message_id: message.message_id },
    );
    assert.equal((await h.postUpdate(del)).status, 200);
    await waitFor('the deletion in VK', () =>
      h.vk.messagesIn(user.id, { includeDeleted: true }).find((m) => m.id === sent.id && m.deleted),
    );
    const call = h.vk.callsTo('messages.delete').at(-1)!;
    assert.equal(call.params.delete_for_all, '1');
    await waitFor(
      'the deletion recorded',
      async () =>
        (await count(h, `stream = $1 AND type = 'ReplyDelivered' AND data->>'operation' = 'delete'`, [
          streamOf(user),
        ])) === 1 || undefined,
    );
  });

  it('flood control (error 9) and a lost answer are retried without a duplicate message', async () => {
    const { user, topic } = await client('Flood');
    h.vk.failNext('messages.send', { error_code: 9 });
    h.vk.failNext('messages.send', 'reset-after');
    await answer(topic.message_thread_id, { text: 'patience' });
    await waitFor(
      'the delivery recorded',
      async () =>
        (await count(h, `stream = $1 AND type = 'ReplyDelivered'`, [streamOf(user)])) === 1 || undefined,
      20_000,
    );
    assert.equal(h.vk.sentTo(user.id).filter((m) => m.text === 'patience').length, 1);
    const { rows } = await h.db.pool.query(
      `SELECT data FROM td_events WHERE stream = $1 AND type = 'DeliveryFailed' ORDER BY revision`,
      [streamOf(user)],
    );
    assert.deepEqual(
      rows.map((r) => [r.data.attempt, r.data.permanent]),
      [
        [1, false],
        [2, false],
      ],
    );
    assert.match(rows[0].data.reason, /^VK error 9: Flood control/);
    assert.ok(rows[0].data.nextAttemptAt);
  });

  it('VK error 901 is a permanent failure with one notice in the topic', async () => {
    const { user, topic } = await client('Denis', 'Denied');
    const thread = topic.message_thread_id;
    h.vk.denyMessages(user.id);
    await answer(thread, { text: 'first try' });
    await answer(thread, { text: 'second try' });
    await waitFor(
      'both failures recorded',
      async () =>
        (await count(h, `stream = $1 AND type = 'DeliveryFailed'`, [streamOf(user)])) === 2 || undefined,
    );
    const { rows } = await h.db.pool.query(
      `SELECT data FROM td_events WHERE stream = $1 AND type = 'DeliveryFailed'`,
      [streamOf(user)],
    );
    for (const r of rows) {
      assert.equal(r.data.permanent, true);
      assert.match(r.data.reason, /^VK error 901: Can't send messages for users without permission/);
    }
    const notices = () => inTopic(thread).filter((m) => m.text?.includes('error 901'));
    await waitFor('the notice', () => notices().length > 0 || undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(notices().length, 1);
    assert.equal(h.vk.sentTo(user.id).length, 0);

    // After an answer got through, a new refusal is reported again.
    h.vk.allowMessages(user.id);
    await answer(thread, { text: 'third try' });
    await waitFor('the third answer', () => h.vk.sentTo(user.id).find((m) => m.text === 'third try'));
    h.vk.denyMessages(user.id);
    await answer(thread, { text: 'fourth try' });
    await waitFor('a second notice', () => notices().length === 2 || undefined);
  });
});

/** Waits for the client's topic and for `text` in it; the topic. */
const inTopicOf = async (h: VkHarness, client: string, text: string) => {
  const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes(client)));
  await waitFor(`"${text}" in the topic`, () =>
    h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id).find((m) => m.text === text),
  );
  return topic;
};

describe('vk: Bots Long Poll, restarted before any update came', () => {
  let h: VkHarness;
  before(async () => {
    h = await startVkHarness({ mode: 'longpoll' });
  });
  after(async () => {
    await h.stop();
  });

  it('a message written while the app was down arrives, though nothing had come before', async () => {
    const user = h.vk.addUser({ first_name: 'Pavel', last_name: 'First' });
    await h.restart(() => {
      h.vk.queueEvent(h.vk.messageNew(user, { text: 'written during the first restart' }));
    });
    await inTopicOf(h, 'Pavel First', 'written during the first restart');
  });
});

describe('vk: Bots Long Poll (VK_MODE=longpoll)', () => {
  let h: VkHarness;
  before(async () => {
    h = await startVkHarness({ mode: 'longpoll', captureLogs: 'warn' });
  });
  after(async () => {
    await h.stop();
  });

  it('records polled messages, confirms an update only once it is recorded, and ignores echoes', async () => {
    const user = h.vk.addUser({ first_name: 'Lena', last_name: 'Poll' });
    h.vk.queueEvent(h.vk.messageNew(user, { text: 'via long poll' }));
    const topic = await waitFor('the topic', () => h.tg.topics().find((t) => t.name.includes('Lena Poll')));
    await waitFor('the message', () =>
      h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id).find((m) => m.text === 'via long poll'),
    );

    // The CDN fails: the update is retried, not skipped, and not confirmed until it is recorded.
    h.vk.failNext('cdn', 'http-500', 2);
    const confirmedBefore = h.vk.longPollConfirmed;
    h.vk.queueEvent(
      h.vk.messageNew(user, { text: 'photo via long poll', attachments: [h.vk.attachments.photo(user)] }),
    );
    const queuedAt = h.vk.longPollLength;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(h.vk.longPollConfirmed < queuedAt, 'not confirmed while it cannot be recorded');
    assert.ok(h.vk.longPollConfirmed >= confirmedBefore);
    await waitFor('the photo', () =>
      h.tg
        .messagesIn(h.tg.supportChatId, topic.message_thread_id)
        .find((m) => m.caption === 'photo via long poll'),
    );
    await waitFor('the update confirmed', () => h.vk.longPollConfirmed >= queuedAt || undefined);
    assert.equal(
      await count(
        h,
        `stream = $1 AND type = 'ClientMessageReceived' AND data->>'text' = 'photo via long poll'`,
        [streamOf(user)],
      ),
      1,
    );

    // An answer goes out; VK's message_reply echo comes back through the poll and is ignored.
    const manager = h.tg.addManager({ first_name: 'Bob' });
    await h.postUpdate(h.tg.groupMessage(manager, topic.message_thread_id, { text: 'polled answer' }));
    await waitFor('the answer', () => h.vk.sentTo(user.id).find((m) => m.text === 'polled answer'));
    await waitFor(
      'the delivery recorded',
      async () =>
        (await count(h, `stream = $1 AND type = 'ReplyDelivered'`, [streamOf(user)])) === 1 || undefined,
    );
    const echoAt = h.vk.longPollLength;
    assert.equal(h.vk.echoes.at(-1)?.type, 'message_reply');
    const events = await count(h, 'stream = $1', [streamOf(user)]);
    await waitFor('the echo confirmed', () => h.vk.longPollConfirmed >= echoAt || undefined);
    assert.equal(await count(h, 'stream = $1', [streamOf(user)]), events);
  });

  it('updates VK took while the app was stopped are recorded when it starts again', async () => {
    const user = h.vk.addUser({ first_name: 'Oleg', last_name: 'Restart' });
    h.vk.queueEvent(h.vk.messageNew(user, { text: 'before the restart' }));
    await inTopicOf(h, 'Oleg Restart', 'before the restart');
    await waitFor('the update confirmed', () => h.vk.longPollConfirmed >= h.vk.longPollLength || undefined);
    await h.restart(() => {
      h.vk.queueEvent(h.vk.messageNew(user, { text: 'while the app was down' }));
    });
    await inTopicOf(h, 'Oleg Restart', 'while the app was down');
    const { rows } = await h.db.pool.query<{ ts: string }>(
      'SELECT ts FROM td_vk_long_poll WHERE group_id = $1',
      [h.vk.groupId],
    );
    assert.equal(Number(rows[0]?.ts), h.vk.longPollLength + 1, 'the position kept is past the last update');
  });

  it('after an outage longer than VK keeps updates, the app says so and goes on from VK’s ts', async () => {
    const user = h.vk.addUser({ first_name: 'Vera', last_name: 'Outage' });
    h.vk.queueEvent(h.vk.messageNew(user, { text: 'first' }));
    const topic = await inTopicOf(h, 'Vera Outage', 'first');
    await waitFor('the update confirmed', () => h.vk.longPollConfirmed >= h.vk.longPollLength || undefined);
    await h.restart(() => {
      h.vk.queueEvent(h.vk.messageNew(user, { text: 'dropped by VK' }));
      h.vk.forgetLongPollHistory();
    });
    h.vk.queueEvent(h.vk.messageNew(user, { text: 'after the outage' }));
    await inTopicOf(h, 'Vera Outage', 'after the outage');
    assert.equal(
      h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id).find((m) => m.text === 'dropped by VK'),
      undefined,
    );
    assert.ok(
      h.logLines.some((l) => l.includes('VK no longer holds every update since the last one recorded')),
      'the loss is logged',
    );
  });

  it('when the key expires, the app takes a new one and keeps its ts: nothing sent meanwhile is missed', async () => {
    const user = h.vk.addUser({ first_name: 'Kira', last_name: 'Expired' });
    // In one go: the waiting check is answered failed: 2, and VK's ts of "now" is already past this.
    h.vk.expireLongPollKey();
    h.vk.queueEvent(h.vk.messageNew(user, { text: 'sent as the key expired' }));
    await inTopicOf(h, 'Kira Expired', 'sent as the key expired');
  });

  it('when VK loses the poll’s key and ts, the app says so and goes on with new ones', async () => {
    const user = h.vk.addUser({ first_name: 'Gleb', last_name: 'Lost' });
    h.vk.loseLongPollState();
    await waitFor('the warning', () =>
      h.logLines.some((l) => l.includes('VK lost the poll’s key and ts')) ? true : undefined,
    );
    h.vk.queueEvent(h.vk.messageNew(user, { text: 'after VK lost the poll' }));
    await inTopicOf(h, 'Gleb Lost', 'after VK lost the poll');
  });

  it('the Callback API endpoint is off', async () => {
    const user = h.vk.addUser({ first_name: 'Nope' });
    const res = await h.postEvent(h.vk.messageNew(user, { text: 'hi' }));
    assert.equal(res.status, 404);
  });
});
