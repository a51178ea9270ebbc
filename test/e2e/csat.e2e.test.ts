// Satisfaction (CSAT) end to end (docs/design.md, "Satisfaction (CSAT)"): the whole app on a real
// PostgreSQL with CSAT=on, the Telegram stand-in as the support group and Telegram clients, the VK
// stand-in as VK, a local receiver as a source's webhook. After /close the client is asked once; a
// press is recorded and shown in the topic; a second press and a press after a reopening change
// nothing; the next text is the rating's comment. With CSAT off nobody is asked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message, Update, User } from 'grammy/types';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import { authenticate, type CheckedWebhookUrl, createSource } from '../../src/adapters/sources/sources.ts';
import { telegramConversationId } from '../../src/adapters/telegram/refs.ts';
import { vkConversationId } from '../../src/adapters/vk/refs.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';
import type { VkMessageObject } from '../support/vk-stand-in.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';
import {
  RECEIVER_ALLOWANCE,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

interface LoggedEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown> & { actor: { kind: string; id: string } };
}

const eventsOf = async (
  pool: VkHarness['db']['pool'],
  conversationId: string,
  type?: string,
): Promise<LoggedEvent[]> =>
  (
    await pool.query<LoggedEvent>(
      `SELECT type, data, metadata FROM td_events WHERE stream = $1 AND ($2::text IS NULL OR type = $2)
        ORDER BY transaction_id, position`,
      [`conversation-${conversationId}`, type ?? null],
    )
  ).rows;

/** A new source with its webhook, and a caller of the external API with its token. */
const sourceApi = async (h: VkHarness, code: string, webhookUrl: CheckedWebhookUrl) => {
  const created = await createSource(h.app.log, code, webhookUrl);
  await waitFor('the token', async () =>
    (await authenticate(h.app.db.pool, created.token)) ? true : undefined,
  );
  return async (method: string, path: string, json?: unknown) => {
    const res = await fetch(`${h.app.address()}/api/external${path}`, {
      method,
      headers: {
        authorization: `Bearer ${created.token}`,
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
};

/** Short holds and retries, webhooks to the local receiver, no rate limit on the API. */
const wholeAppEnv = {
  ORDER_WAIT_MS: '100',
  WEBHOOK_ALLOW_PRIVATE: RECEIVER_ALLOWANCE,
  WEBHOOK_RETRY_INITIAL_MS: '100',
  API_RATE_LIMIT_PER_MINUTE: '1000000',
};

const closeCommand = { text: '/close', entities: [{ type: 'bot_command' as const, offset: 0, length: 6 }] };

describe('CSAT=on (whole app)', () => {
  let h: VkHarness;
  let receiver: WebhookReceiver;
  let manager: User;

  before(async () => {
    h = await startVkHarness({ env: { CSAT: 'on', ...wholeAppEnv } });
    receiver = await startWebhookReceiver();
    manager = h.tg.addManager({ first_name: 'Alice', last_name: 'Support' });
  });
  after(async () => {
    await h.stop();
    await receiver.close();
  });

  const events = (conversationId: string, type?: string) => eventsOf(h.db.pool, conversationId, type);
  const send = async (update: unknown): Promise<string> => {
    const res = await h.postUpdate(update);
    const body = (await res.json()) as { outcome?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return String(body.outcome);
  };
  const topicOf = async (conversationId: string): Promise<number> => {
    const [opened] = await waitFor('the topic', async () => {
      const o = await events(conversationId, 'TopicOpened');
      return o.length > 0 ? o : undefined;
    });
    await waitFor(
      'the first message in the topic',
      async () => (await events(conversationId, 'ClientMessageForwarded'))[0],
    );
    return Number(opened!.data.topicId);
  };
  const close = async (threadId: number) =>
    assert.equal(await send(h.tg.groupMessage(manager, threadId, closeCommand)), 'recorded');
  /** The request the n-th closing made (RatingRequested, in order). */
  const request = (conversationId: string, n: number) =>
    waitFor(`rating request ${n}`, async () => {
      const r = await events(conversationId, 'RatingRequested');
      return r.length >= n ? r[n - 1]! : undefined;
    });
  const topicLines = (threadId: number) =>
    h.tg
      .messagesIn(h.tg.supportChatId, threadId)
      .filter((m) => m.from?.is_bot)
      .map((m) => m.text ?? '');
  const botMessagesTo = (userId: number): Message[] => h.tg.messagesIn(userId).filter((m) => m.from?.is_bot);

  it('Telegram: after /close the client gets five buttons; a press is recorded once and shown in the topic', async () => {
    const user: StandInUser = h.tg.addUser({ first_name: 'Paula', language_code: 'en' });
    const conversationId = telegramConversationId(user.id);
    await send(h.tg.privateMessage(user, { text: 'My parcel is late' }));
    const threadId = await topicOf(conversationId);
    await close(threadId);

    const asked = await request(conversationId, 1);
    const requestId = String(asked.data.requestId);
    const promptId = Number((asked.data.channelMessage as { messageId: string }).messageId);
    const prompt = h.tg.message(user.id, promptId)!;
    assert.equal(prompt.text, 'How would you rate our help? Tap a number: 1 is poor, 5 is excellent.');
    assert.deepEqual(
      h.tg
        .keyboardOf(user.id, promptId)
        ?.flat()
        .map((b) => b.text),
      ['1', '2', '3', '4', '5'],
    );
    assert.ok(
      botMessagesTo(user.id).some((m) => /closed by support/.test(m.text ?? '')),
      'the close notice came too',
    );

    // Two presses made before the first was answered (Telegram delivers both), and a re-delivery.
    const four = h.tg.pressButton(user, user.id, promptId, `rate:${requestId}:4`);
    const two = h.tg.pressButton(user, user.id, promptId, `rate:${requestId}:2`);
    assert.equal(await send(four), 'recorded');
    assert.equal(await send(two), 'ignored');
    assert.equal(await send(four), 'duplicate');
    const ratings = await events(conversationId, 'ConversationRated');
    assert.equal(ratings.length, 1);
    assert.deepEqual(ratings[0]!.data, { requestId, rating: 4 });
    assert.deepEqual(ratings[0]!.metadata.actor, { kind: 'client', id: String(user.id) });
    const answers = h.tg.presses().filter((p) => p.chatId === user.id);
    assert.equal(
      answers.find((p) => p.id === four.callback_query!.id)?.answer?.text,
      'Thank you! Your rating: 4/5.',
    );
    assert.equal(
      answers.find((p) => p.id === two.callback_query!.id)?.answer?.text,
      'You have rated this conversation already: 4/5.',
    );
    assert.deepEqual(h.tg.unansweredPresses(), []);
    // The prompt now says what was recorded, without buttons.
    assert.equal(
      h.tg.message(user.id, promptId)?.text,
      'Thank you! Your rating: 4/5.\nIf you like, write a comment in your next message.',
    );
    assert.equal(h.tg.keyboardOf(user.id, promptId), undefined);
    await waitFor(
      'the rating in the topic',
      () => topicLines(threadId).includes('⭐ 4/5 — the client rated the conversation') || undefined,
    );

    // The next text is the comment: recorded as such, shown in the topic, thanked; no reopening.
    assert.equal(await send(h.tg.privateMessage(user, { text: 'Quick and kind, thanks' })), 'recorded');
    const [comment] = await events(conversationId, 'RatingCommented');
    assert.deepEqual(comment?.data, { requestId, text: 'Quick and kind, thanks' });
    assert.equal((await events(conversationId, 'ConversationReopened')).length, 0);
    await waitFor(
      'the comment in the topic',
      () => topicLines(threadId).includes('⭐ 4/5 — Quick and kind, thanks') || undefined,
    );
    await waitFor(
      'the thanks for the comment',
      () => botMessagesTo(user.id).some((m) => m.text === 'Thank you for your comment!') || undefined,
    );

    // The message after that is a message again: it reopens the conversation.
    assert.equal(await send(h.tg.privateMessage(user, { text: 'One more thing' })), 'recorded');
    assert.equal((await events(conversationId, 'ConversationReopened')).length, 1);
    assert.equal((await events(conversationId, 'RatingCommented')).length, 1);
  });

  it('Telegram: one prompt per closing; a press after the conversation reopened changes nothing', async () => {
    const user = h.tg.addUser({ first_name: 'Quentin', language_code: 'ru' });
    const conversationId = telegramConversationId(user.id);
    await send(h.tg.privateMessage(user, { text: 'Здравствуйте' }));
    const threadId = await topicOf(conversationId);
    await close(threadId);
    const asked = await request(conversationId, 1);
    const promptId = Number((asked.data.channelMessage as { messageId: string }).messageId);
    assert.match(h.tg.message(user.id, promptId)?.text ?? '', /^Оцените, пожалуйста/);
    const late = h.tg.pressButton(user, user.id, promptId, `rate:${asked.data.requestId}:5`);

    // The client writes instead of pressing: the conversation reopens, the request is over.
    assert.equal(await send(h.tg.privateMessage(user, { text: 'Ещё вопрос' })), 'recorded');
    assert.equal(await send(late), 'ignored');
    assert.equal(
      h.tg.presses().find((p) => p.id === late.callback_query!.id)?.answer?.text,
      'Эта оценка уже недоступна.',
    );
    assert.equal(h.tg.keyboardOf(user.id, promptId), undefined, 'the old prompt lost its buttons');
    assert.equal((await events(conversationId, 'ConversationRated')).length, 0);

    // Closed again: a new prompt with a new request; the first closing is not asked twice.
    await close(threadId);
    const second = await request(conversationId, 2);
    assert.notEqual(second.data.requestId, asked.data.requestId);
    const secondId = Number((second.data.channelMessage as { messageId: string }).messageId);
    assert.notEqual(secondId, promptId);
    assert.equal(h.tg.keyboardOf(user.id, secondId)?.flat().length, 5);
    assert.equal(h.tg.message(user.id, promptId)?.text, 'Эта оценка уже недоступна.');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await events(conversationId, 'RatingRequested')).length, 2);
  });

  it('VK: the prompt is an inline keyboard of callback buttons; a press is answered, recorded once, shown', async () => {
    const user = h.vk.addUser({ first_name: 'Tanya', last_name: 'Vkova', lang_id: 3 });
    const conversationId = vkConversationId(user.id);
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'Where is my parcel?' }))).status, 200);
    const threadId = await topicOf(conversationId);
    await close(threadId);
    const asked = await request(conversationId, 1);
    const requestId = String(asked.data.requestId);
    const prompt = await waitFor('the VK prompt', () =>
      h.vk.sentTo(user.id).find((m): m is VkMessageObject => (m.keyboard?.buttons.length ?? 0) > 0),
    );
    assert.equal(String(prompt.id), (asked.data.channelMessage as { messageId: string }).messageId);
    assert.deepEqual(
      prompt.keyboard?.buttons.flat().map((b) => [b.action.type, b.action.label]),
      [1, 2, 3, 4, 5].map((n) => ['callback', String(n)]),
    );

    const press = h.vk.messageEvent(user, prompt, { csat: requestId, rating: 5 });
    const again = h.vk.messageEvent(user, prompt, { csat: requestId, rating: 1 });
    const late = h.vk.messageEvent(user, prompt, { csat: requestId, rating: 3 });
    assert.equal((await h.postEvent(press)).status, 200);
    assert.equal((await h.postEvent(again)).status, 200);
    assert.equal((await h.postEvent(press)).status, 200); // VK delivers it again
    const ratings = await events(conversationId, 'ConversationRated');
    assert.deepEqual(
      ratings.map((e) => e.data),
      [{ requestId, rating: 5 }],
    );
    const answers = h.vk.presses.map((p) => p.answer);
    assert.deepEqual(answers[0], { type: 'show_snackbar', text: 'Thank you! Your rating: 5/5.' });
    assert.deepEqual(answers[1], {
      type: 'show_snackbar',
      text: 'You have rated this conversation already: 5/5.',
    });
    const edited = h.vk.sentTo(user.id).find((m) => m.id === prompt.id)!;
    assert.equal(
      edited.text,
      'Thank you! Your rating: 5/5.\nIf you like, write a comment in your next message.',
    );
    assert.deepEqual(edited.keyboard?.buttons, []);
    await waitFor(
      'the rating in the topic',
      () => topicLines(threadId).includes('⭐ 5/5 — the client rated the conversation') || undefined,
    );

    // The next text is the comment.
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'Great service' }))).status, 200);
    const [comment] = await waitFor('the comment', async () => {
      const c = await events(conversationId, 'RatingCommented');
      return c.length > 0 ? c : undefined;
    });
    assert.deepEqual(comment!.data, { requestId, text: 'Great service' });
    assert.equal((await events(conversationId, 'ConversationReopened')).length, 0);
    await waitFor(
      'the VK thanks',
      () => h.vk.sentTo(user.id).some((m) => m.text === 'Thank you for your comment!') || undefined,
    );
    await waitFor(
      'the comment in the topic',
      () => topicLines(threadId).includes('⭐ 5/5 — Great service') || undefined,
    );

    // The client writes again (the conversation reopens); a press arriving now changes nothing.
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'And one more thing' }))).status, 200);
    await waitFor('reopened', async () => (await events(conversationId, 'ConversationReopened'))[0]);
    assert.equal((await h.postEvent(late)).status, 200);
    const lateId = (late.object as { event_id: string }).event_id;
    assert.deepEqual(h.vk.presses.find((p) => p.event_id === lateId)?.answer, {
      type: 'show_snackbar',
      text: 'This rating is no longer open.',
    });
    assert.equal((await events(conversationId, 'ConversationRated')).length, 1);
    assert.match(
      h.vk.sentTo(user.id).find((m) => m.id === prompt.id)?.text ?? '',
      /^Thank you! Your rating: 5\/5/,
    );
  });

  it('a source: conversation.rating_requested is posted, the rating goes through the API once', async () => {
    const api = await sourceApi(h, 'shop', await receiver.hook('/hooks/shop'));
    const conversationId = conversationIdOf('external', 'shop', 'cust-1');
    assert.equal((await api('POST', '/cust-1/messages', { text: 'Invoice please' })).status, 201);
    const threadId = await topicOf(conversationId);
    assert.equal((await api('GET', '/cust-1/rating')).status, 404, 'never asked yet');
    await close(threadId);

    const hook = await waitFor(
      'the webhook',
      () => receiver.at('/hooks/shop').find((r) => r.body.includes('rating_requested')),
      20_000,
    );
    const payload = JSON.parse(hook.body) as {
      event: string;
      external_id: string;
      rating_request: { id: string; min: number; max: number; requested_at: string };
    };
    assert.equal(payload.event, 'conversation.rating_requested');
    assert.equal(payload.external_id, 'cust-1');
    assert.deepEqual([payload.rating_request.min, payload.rating_request.max], [1, 5]);
    const [asked] = await events(conversationId, 'RatingRequested');
    assert.equal(payload.rating_request.id, asked?.data.requestId);
    assert.match(hook.headers['x-topicdesk-signature'] as string, /^t=\d+,d=[0-9a-f-]{36},v1=[0-9a-f]{64}$/);

    assert.deepEqual((await api('GET', '/cust-1/rating')).body, {
      request_id: payload.rating_request.id,
      open: true,
      rating: null,
      comment: null,
      rated_at: null,
    });
    // Validation names the field; nothing is recorded.
    const bad = await api('POST', '/cust-1/rating', { rating: 9 });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      (bad.body.errors as { field: string }[]).map((e) => e.field),
      ['body.rating'],
    );
    const rated = await api('POST', '/cust-1/rating', { rating: 4, comment: 'Fine' });
    assert.equal(rated.status, 200);
    assert.equal(rated.body.rating, 4);
    assert.equal(rated.body.comment, 'Fine');
    // The same POST again answers the same and records nothing; another rating is refused.
    assert.deepEqual((await api('POST', '/cust-1/rating', { rating: 4, comment: 'Fine' })).body, rated.body);
    const other = await api('POST', '/cust-1/rating', { rating: 2 });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'already_rated');
    assert.equal((await events(conversationId, 'ConversationRated')).length, 1);
    assert.equal((await events(conversationId, 'RatingCommented')).length, 1);
    const rating = (await events(conversationId, 'ConversationRated'))[0]!;
    assert.deepEqual(rating.metadata.actor, { kind: 'source', id: 'shop' });
    await waitFor(
      'the rating and the comment in the topic',
      () => topicLines(threadId).includes('⭐ 4/5 — Fine') || undefined,
    );
    assert.ok(topicLines(threadId).includes('⭐ 4/5 — the client rated the conversation'));

    // The client writes again: the conversation reopens and the request is over.
    assert.equal((await api('POST', '/cust-1/messages', { text: 'Also: a second invoice' })).status, 201);
    const late = await api('POST', '/cust-1/rating', { rating: 5 });
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'rating_not_requested');
    assert.equal((await api('GET', '/cust-1/rating')).body.open, false);
  });
});

describe('CSAT off (the default)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ ORDER_WAIT_MS: '100' });
  });
  after(async () => {
    await h.stop();
  });

  it('after /close the client is told, and asked nothing', async () => {
    const user = h.tg.addUser({ first_name: 'Rita' });
    const first = h.tg.privateMessage(user, { text: 'Hello' });
    await h.send(first);
    await h.topicCopyOf(user.id, first.message!.message_id);
    const threadId = await h.topicOf(user.id);
    const manager = h.tg.addManager({ first_name: 'Bob' });
    assert.equal(await h.send(h.tg.groupMessage(manager, threadId, closeCommand)), 'recorded');
    await waitFor('the close notice', () =>
      h.tg.messagesIn(user.id).find((m) => m.from?.is_bot && /closed by support/.test(m.text ?? '')),
    );
    // The reactor has gone past the closing once the client's next message is in the topic.
    const next: Update = h.tg.privateMessage(user, { text: 'Thanks' });
    await h.send(next);
    await h.topicCopyOf(user.id, next.message!.message_id);
    const conversationId = h.conversationOf(user.id);
    assert.equal((await eventsOf(h.db.pool, conversationId, 'RatingRequested')).length, 0);
    assert.ok(
      h.tg.messagesIn(user.id).every((m) => !m.reply_markup),
      'no buttons were sent to the client',
    );
  });
});

describe('CSAT off (the default): VK and a source', () => {
  let h: VkHarness;
  let receiver: WebhookReceiver;
  let manager: User;
  before(async () => {
    h = await startVkHarness({ env: wholeAppEnv });
    receiver = await startWebhookReceiver();
    manager = h.tg.addManager({ first_name: 'Alice' });
  });
  after(async () => {
    await h.stop();
    await receiver.close();
  });
  const topicOf = async (conversationId: string): Promise<number> => {
    const opened = await waitFor('the topic and the first copy', async () => {
      const o = await eventsOf(h.db.pool, conversationId, 'TopicOpened');
      const copied = await eventsOf(h.db.pool, conversationId, 'ClientMessageForwarded');
      return o.length > 0 && copied.length > 0 ? o[0] : undefined;
    });
    return Number(opened.data.topicId);
  };
  const close = async (threadId: number) => {
    const res = await h.postUpdate(h.tg.groupMessage(manager, threadId, closeCommand));
    assert.equal(res.status, 200);
  };

  it('VK: after /close the client is told, and gets no keyboard', async () => {
    const user = h.vk.addUser({ first_name: 'Oleg' });
    const conversationId = vkConversationId(user.id);
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'Hello' }))).status, 200);
    await close(await topicOf(conversationId));
    await waitFor(
      'the closing',
      async () => (await eventsOf(h.db.pool, conversationId, 'ConversationClosed'))[0],
    );
    // The VK reactor tells the client only while the conversation is still closed, and the client's
    // next message reopens it: it writes again only once the notice is recorded as sent.
    await waitFor(
      'the closing notice',
      async () => (await eventsOf(h.db.pool, conversationId, 'ClientNotified'))[0],
    );
    // The Telegram reactor has gone past the closing once the client's next message is in the topic.
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'Thanks' }))).status, 200);
    await waitFor('the next copy', async () => {
      const copies = await eventsOf(h.db.pool, conversationId, 'ClientMessageForwarded');
      return copies.length >= 2 ? true : undefined;
    });
    assert.equal((await eventsOf(h.db.pool, conversationId, 'RatingRequested')).length, 0);
    assert.ok(h.vk.sentTo(user.id).length > 0, 'the client was written to (the closing notice)');
    assert.ok(
      h.vk.sentTo(user.id).every((m) => (m.keyboard?.buttons.length ?? 0) === 0),
      'no keyboard was sent to the client',
    );
  });

  it('a source: the closing is posted, no rating_requested; the rating API has nothing to take', async () => {
    const api = await sourceApi(h, 'desk', await receiver.hook('/hooks/desk'));
    const conversationId = conversationIdOf('external', 'desk', 'cust-9');
    assert.equal((await api('POST', '/cust-9/messages', { text: 'Invoice please' })).status, 201);
    const threadId = await topicOf(conversationId);
    await close(threadId);
    await waitFor(
      'the closing',
      async () => (await eventsOf(h.db.pool, conversationId, 'ConversationClosed'))[0],
    );
    // The webhook reactor has gone past the closing once an answer written after it is posted.
    const res = await h.postUpdate(h.tg.groupMessage(manager, threadId, { text: 'Anything else?' }));
    assert.equal(res.status, 200);
    await waitFor(
      'the answer after the closing, posted',
      () => receiver.at('/hooks/desk').find((r) => r.body.includes('Anything else?')),
      20_000,
    );
    assert.equal(
      receiver.at('/hooks/desk').filter((r) => r.body.includes('rating_requested')).length,
      0,
      'no conversation.rating_requested',
    );
    assert.equal((await eventsOf(h.db.pool, conversationId, 'RatingRequested')).length, 0);
    assert.equal((await api('GET', '/cust-9/rating')).status, 404);
    const rated = await api('POST', '/cust-9/rating', { rating: 5 });
    assert.equal(rated.status >= 400 && rated.status < 500, true, JSON.stringify(rated.body));
  });
});
