// A source's message with several files, end to end: uploaded through /api/external, carried into
// the client's topic (read back from the Telegram stand-in), then edited, answered and deleted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message as TelegramMessage } from 'grammy/types';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { type ApiSource, apiEnv, client, type Message, newSource, type Page } from './api-helpers.ts';

describe('external API: several files in one message', () => {
  let h: Harness;
  let site: ApiSource;
  let api: ReturnType<typeof client>;

  before(async () => {
    h = await startHarness(apiEnv());
    site = await newSource(h, 'shop');
    api = client(h, site);
  });
  after(async () => {
    await h.stop();
  });

  const topicOf = (externalId: string) =>
    waitFor(`the topic of ${externalId}`, () => h.tg.topics().find((t) => t.name.includes(externalId)));

  /** Posts a message with these files (name → bytes) and the text; answers the created message. */
  const sendFiles = async (
    externalId: string,
    text: string,
    files: Record<string, string>,
    extra: Record<string, string> = {},
  ) => {
    const form = new FormData();
    if (text) form.append('text', text);
    for (const [k, v] of Object.entries(extra)) form.append(k, v);
    for (const [name, body] of Object.entries(files))
      form.append('files', new Blob([body], { type: 'application/octet-stream' }), name);
    const sent = await api.post<Message>(`/api/external/${externalId}/messages`, { form });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.equal(sent.body.attachments.length, Object.keys(files).length, 'every file is recorded');
    return sent.body;
  };

  /** The topic messages carrying the message's files, in the order they stand in the topic. */
  const filesInTopic = async (externalId: string, message: Message) => {
    const topic = await topicOf(externalId);
    const ids = message.attachments.map((a) => a.id);
    return waitFor(`the ${ids.length} files of ${message.id} in the topic`, () => {
      const found = h.tg
        .messagesIn(h.tg.supportChatId, topic.message_thread_id)
        .filter((m) => m.document && ids.includes(m.document.file_unique_id));
      return found.length === ids.length ? found : undefined;
    });
  };

  const forwardedEvent = async (messageId: string) =>
    waitFor(`${messageId} recorded as forwarded`, async () =>
      (await h.events({ type: 'ClientMessageForwarded' })).find((e) => e.data.messageId === messageId),
    );

  it('several files reach the topic as one album, the text as the first one’s caption', async () => {
    const message = await sendFiles('buyer-1', 'Invoice, receipt and the contract', {
      'invoice.pdf': '%PDF invoice',
      'receipt.pdf': '%PDF receipt',
      'contract.txt': 'the contract',
    });
    const inTopic = await filesInTopic('buyer-1', message);
    assert.deepEqual(
      inTopic.map((m) => m.document?.file_unique_id),
      message.attachments.map((a) => a.id),
      'every file, in the order sent',
    );
    assert.deepEqual(
      inTopic.map((m) => m.document?.file_name),
      ['invoice.pdf', 'receipt.pdf', 'contract.txt'],
    );
    assert.equal(new Set(inTopic.map((m) => m.media_group_id)).size, 1, 'one album');
    assert.ok(inTopic[0]!.media_group_id);
    assert.deepEqual(
      inTopic.map((m) => m.caption),
      ['Invoice, receipt and the contract', undefined, undefined],
    );

    // The log says where each of them stands, so later replies, edits and deletions find them all.
    const forwarded = await forwardedEvent(message.id);
    assert.deepEqual(
      [forwarded.data.groupMessage, ...(forwarded.data.moreGroupMessages as unknown[])],
      inTopic.map((m) => ({ chatId: String(h.tg.supportChatId), messageId: String(m.message_id) })),
    );
    const status = await waitFor('status forwarded', async () => {
      const r = await api.get<Message>(`/api/external/buyer-1/messages/${message.id}`);
      return r.body.status === 'forwarded' ? r.body.status : undefined;
    });
    assert.equal(status, 'forwarded');
  });

  it("files replying to an earlier message: the album replies to that message's copy", async () => {
    const question = await api.post<Message>('/api/external/buyer-2/messages', {
      json: { text: 'Which documents do you need?' },
    });
    assert.equal(question.status, 201);
    const topic = await topicOf('buyer-2');
    const questionCopy = await waitFor('the question in the topic', () =>
      h.tg
        .messagesIn(h.tg.supportChatId, topic.message_thread_id)
        .find((m) => m.text === 'Which documents do you need?'),
    );
    const message = await sendFiles(
      'buyer-2',
      'These two',
      { 'passport.pdf': '%PDF passport', 'visa.pdf': '%PDF visa' },
      { reply_to: question.body.id },
    );
    assert.equal(message.reply_to, question.body.id);
    const inTopic = await filesInTopic('buyer-2', message);
    assert.equal(new Set(inTopic.map((m) => m.media_group_id)).size, 1, 'one album');
    assert.deepEqual(
      inTopic.map((m) => m.reply_to_message?.message_id),
      [questionCopy.message_id, questionCopy.message_id],
    );
  });

  it('files Telegram will not take as one album arrive one message each, the text on the first', async () => {
    h.tg.failNext('sendMediaGroup', { error_code: 400, description: 'Bad Request: MEDIA_EMPTY' });
    const message = await sendFiles('buyer-3', 'Scans', {
      'page-1.pdf': '%PDF page 1',
      'page-2.pdf': '%PDF page 2',
      'page-3.pdf': '%PDF page 3',
    });
    const inTopic = await filesInTopic('buyer-3', message);
    assert.deepEqual(
      inTopic.map((m) => [m.document?.file_name, m.caption, m.media_group_id]),
      [
        ['page-1.pdf', 'Scans', undefined],
        ['page-2.pdf', undefined, undefined],
        ['page-3.pdf', undefined, undefined],
      ],
    );
    assert.ok(
      h.tg.callsTo('sendMediaGroup').some((c) => c.status === 400),
      'the album was tried first',
    );
    const forwarded = await forwardedEvent(message.id);
    assert.equal((forwarded.data.moreGroupMessages as unknown[]).length, 2);
  });

  it('an edit changes the caption of the file carrying it; a manager answering any file answers the message; a deletion is told once for all', async () => {
    const message = await sendFiles('buyer-4', 'Photos of the damage', {
      'front.pdf': '%PDF front',
      'back.pdf': '%PDF back',
    });
    const [first, second] = (await filesInTopic('buyer-4', message)) as [TelegramMessage, TelegramMessage];
    const topic = await topicOf('buyer-4');
    await forwardedEvent(message.id);

    const edited = await api.put<Message>(`/api/external/buyer-4/messages/${message.id}`, {
      json: { text: 'Photos of the damage (front and back)' },
    });
    assert.equal(edited.status, 200);
    await waitFor('the caption edited in the topic', () =>
      h.tg.message(h.tg.supportChatId, first.message_id)?.caption === 'Photos of the damage (front and back)'
        ? true
        : undefined,
    );
    assert.equal(h.tg.message(h.tg.supportChatId, second.message_id)?.caption, undefined);

    // A manager answering the second file answers the source's message.
    const manager = h.tg.addManager({ first_name: 'Vera' });
    await h.send(
      h.tg.groupMessage(
        manager,
        topic.message_thread_id,
        { text: 'The back one is enough, thanks' },
        { reply_to_message_id: second.message_id },
      ),
    );
    const answer = await waitFor('the answer in the list', async () => {
      const r = await api.get<Page>('/api/external/buyer-4/messages?direction=outgoing');
      return r.body.messages[0];
    });
    assert.equal(answer.text, 'The back one is enough, thanks');
    assert.equal(answer.reply_to, message.id);

    const deleted = await api.del<Message>(`/api/external/buyer-4/messages/${message.id}`);
    assert.equal(deleted.status, 200);
    const notice = await waitFor('the deletion told in the topic', () =>
      h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id).find((m) => m.text?.startsWith('🗑')),
    );
    assert.equal(notice.text, '🗑 The client deleted this message and the file sent with it.');
    assert.equal(notice.reply_to_message?.message_id, first.message_id);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      h.tg.messagesIn(h.tg.supportChatId, topic.message_thread_id).filter((m) => m.text?.startsWith('🗑'))
        .length,
      1,
      'one notice, not one per file',
    );
  });
});
