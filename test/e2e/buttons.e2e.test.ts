// Buttons and topic status end to end: the whole app on a real PostgreSQL, the Telegram stand-in as
// the support group and Telegram clients, the VK stand-in as VK, a local receiver as a source's
// webhook. Presses of the contact card's buttons, a refused press, an answer's link buttons on every
// channel, and the topic's title following the conversation (TOPIC_STATUS=title).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { commandEventId, conversationIdOf } from '../../src/adapters/ids.ts';
import { createSource } from '../../src/adapters/sources/sources.ts';
import { telegramConversationId } from '../../src/adapters/telegram/refs.ts';
import { vkConversationId } from '../../src/adapters/vk/refs.ts';
import { type CommandHandler, createCommandHandler } from '../../src/domain/command-handler.ts';
import { waitFor } from '../support/app-harness.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';
import {
  RECEIVER_ALLOWANCE,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

const ADMIN_TOKEN = 'admin-token-for-the-buttons-tests-0123';

interface LoggedEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown> & { actor: { kind: string; id: string; name?: string } };
}

interface AuditEntry {
  readonly type: string;
  readonly actor: { kind: string; id: string; name: string | null };
  readonly via: string | null;
  readonly summary: string;
}

describe('buttons and topic status (whole app)', () => {
  let h: VkHarness;
  let receiver: WebhookReceiver;
  let handler: CommandHandler;

  before(async () => {
    h = await startVkHarness({
      env: {
        ADMIN_TOKEN,
        TOPIC_STATUS: 'title',
        WEBHOOK_ALLOW_PRIVATE: RECEIVER_ALLOWANCE,
        WEBHOOK_RETRY_INITIAL_MS: '100',
        ORDER_WAIT_MS: '100',
      },
    });
    receiver = await startWebhookReceiver();
    handler = createCommandHandler({ log: h.app.log, eventId: commandEventId });
  });
  after(async () => {
    await h.stop();
    await receiver.close();
  });

  const events = async (conversationId: string, type?: string): Promise<LoggedEvent[]> =>
    (
      await h.db.pool.query<LoggedEvent>(
        `SELECT type, data, metadata FROM td_events WHERE stream = $1 AND ($2::text IS NULL OR type = $2)
          ORDER BY transaction_id, position`,
        [`conversation-${conversationId}`, type ?? null],
      )
    ).rows;

  const send = async (update: unknown): Promise<string> => {
    const res = await h.postUpdate(update);
    const body = (await res.json()) as { outcome?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    return String(body.outcome);
  };

  const topicName = (threadId: number) => h.tg.topics().find((t) => t.message_thread_id === threadId)?.name;

  /** A Telegram client who has written once: their topic and the contact card in it. */
  const telegramClient = async (name: string) => {
    const user = h.tg.addUser({ first_name: name });
    await send(h.tg.privateMessage(user, { text: `Hello, I am ${name}` }));
    const conversationId = telegramConversationId(user.id);
    const [card] = await waitFor(`${name}'s contact card`, async () => {
      const posted = await events(conversationId, 'ContactCardPosted');
      return posted.length > 0 ? posted : undefined;
    });
    await waitFor(
      `${name}'s message in the topic`,
      async () => (await events(conversationId, 'ClientMessageForwarded'))[0],
    );
    const threadId = Number(card!.data.topicId);
    const cardId = Number((card!.data.groupMessage as { messageId: string }).messageId);
    return { user, conversationId, threadId, cardId };
  };

  const labels = (chatId: number, messageId: number) =>
    (h.tg.keyboardOf(chatId, messageId) ?? []).flat().map((b) => b.text);

  const audit = async (conversationId: string): Promise<AuditEntry[]> => {
    const res = await fetch(`${h.app.address()}/api/admin/conversations/${conversationId}/events`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { events: AuditEntry[] }).events;
  };

  it('the contact card carries Close, Ban and Info; pressing Close closes the conversation', async () => {
    const { user, conversationId, threadId, cardId } = await telegramClient('Paula');
    assert.deepEqual(labels(h.tg.supportChatId, cardId), ['Close', 'Ban', 'Info']);
    const manager = h.tg.addManager({ first_name: 'Alice', last_name: 'Support' });

    const press = h.tg.pressButton(manager, h.tg.supportChatId, cardId, `card:close:${conversationId}`);
    assert.equal(await send(press), 'recorded');

    // The client is told, the topic closes, the card now offers Reopen, the press was answered.
    await waitFor('the close notice', () =>
      h.tg.messagesIn(user.id).find((m) => m.from?.is_bot && /closed by support/.test(m.text ?? '')),
    );
    await waitFor(
      'the topic closed',
      () => h.tg.topics().find((t) => t.message_thread_id === threadId)?.closed,
    );
    await waitFor(
      'the card showing Reopen',
      () => labels(h.tg.supportChatId, cardId)[0] === 'Reopen' || undefined,
    );
    assert.deepEqual(labels(h.tg.supportChatId, cardId), ['Reopen', 'Ban', 'Info']);
    assert.deepEqual(h.tg.unansweredPresses(), []);
    assert.equal(
      h.tg.presses().find((p) => p.id === press.callback_query!.id)?.answer?.text,
      'Conversation closed; the client was told.',
    );

    // The audit shows the press, with the manager who pressed.
    const closed = (await audit(conversationId)).find((e) => e.type === 'ConversationClosed');
    assert.ok(closed, 'ConversationClosed in the audit');
    assert.deepEqual(closed.actor, { kind: 'manager', id: String(manager.id), name: 'Alice Support' });
    assert.equal(closed.via, 'button');
    assert.equal(closed.summary, 'conversation closed (pressed a button)');

    // The same press delivered again records nothing more.
    assert.equal(await send(press), 'duplicate');
    assert.equal((await events(conversationId, 'ConversationClosed')).length, 1);

    // Reopen from the card.
    assert.equal(
      await send(h.tg.pressButton(manager, h.tg.supportChatId, cardId, `card:reopen:${conversationId}`)),
      'recorded',
    );
    await waitFor(
      'the card showing Close',
      () => labels(h.tg.supportChatId, cardId)[0] === 'Close' || undefined,
    );
    await waitFor('the topic reopened', () =>
      h.tg.topics().find((t) => t.message_thread_id === threadId)?.closed === false ? true : undefined,
    );
  });

  it('Ban becomes Unban; Info posts the card again; a stale card pressed is set right', async () => {
    const { conversationId, threadId, cardId } = await telegramClient('Quentin');
    const manager = h.tg.addManager({ first_name: 'Bob' });
    assert.equal(
      await send(h.tg.pressButton(manager, h.tg.supportChatId, cardId, `card:ban:${conversationId}`)),
      'recorded',
    );
    await waitFor(
      'the card showing Unban',
      () => labels(h.tg.supportChatId, cardId)[1] === 'Unban' || undefined,
    );
    const [banned] = await events(conversationId, 'ClientBanned');
    assert.equal(banned?.metadata.via, 'button');

    const before = h.tg.messagesIn(h.tg.supportChatId, threadId).length;
    assert.equal(
      await send(h.tg.pressButton(manager, h.tg.supportChatId, cardId, `card:info:${conversationId}`)),
      'ignored',
    );
    const copies = h.tg.messagesIn(h.tg.supportChatId, threadId).slice(before);
    assert.equal(copies.length, 1);
    const again = copies[0]!;
    assert.match(again.text ?? '', /Quentin/);
    assert.deepEqual(labels(h.tg.supportChatId, again.message_id), ['Close', 'Unban', 'Info']);

    // Unban by text: the topic's own card follows; the copy posted by Info is set right when pressed.
    assert.equal(
      await send(
        h.tg.groupMessage(manager, threadId, {
          text: '/unban',
          entities: [{ type: 'bot_command', offset: 0, length: 6 }],
        }),
      ),
      'recorded',
    );
    await waitFor('the card showing Ban', () => labels(h.tg.supportChatId, cardId)[1] === 'Ban' || undefined);
    const stale = h.tg.pressButton(
      manager,
      h.tg.supportChatId,
      again.message_id,
      `card:unban:${conversationId}`,
    );
    assert.equal(await send(stale), 'ignored');
    assert.match(
      h.tg.presses().find((p) => p.id === stale.callback_query!.id)?.answer?.text ?? '',
      /^Not done: .*not banned/,
    );
    assert.deepEqual(labels(h.tg.supportChatId, again.message_id), ['Close', 'Ban', 'Info']);
  });

  it('a press by someone outside the support group is refused, answered, and changes nothing', async () => {
    const { conversationId, cardId } = await telegramClient('Rita');
    const stranger = h.tg.addUser({ first_name: 'Mallory' });
    const before = (await events(conversationId)).length;
    const press = h.tg.pressButton(stranger, h.tg.supportChatId, cardId, `card:ban:${conversationId}`);
    assert.equal(await send(press), 'ignored');
    assert.equal((await events(conversationId)).length, before, 'nothing recorded');
    assert.deepEqual(h.tg.presses().find((p) => p.id === press.callback_query!.id)?.answer, {
      text: 'Only members of the support group can use these buttons.',
      show_alert: true,
    });
    assert.deepEqual(labels(h.tg.supportChatId, cardId), ['Close', 'Ban', 'Info']);
    assert.ok(h.tg.callsTo('getChatMember').some((c) => c.params.user_id === stranger.id));
  });

  it('an answer with [[label|url]] reaches a Telegram client with an inline URL button', async () => {
    const { user, conversationId, threadId } = await telegramClient('Sam');
    const manager = h.tg.addManager({ first_name: 'Carol' });
    const answer = h.tg.groupMessage(manager, threadId, {
      text: 'Your order shipped.\n[[Open the order|https://example.com/o/1]]',
    });
    assert.equal(await send(answer), 'recorded');
    const delivered = await waitFor('the answer delivered', async () => {
      const [d] = await events(conversationId, 'ReplyDelivered');
      return d;
    });
    const copy = h.tg.message(
      user.id,
      Number((delivered.data.channelMessage as { messageId: string }).messageId),
    );
    assert.equal(copy?.text, 'Your order shipped.');
    assert.deepEqual(copy?.reply_markup?.inline_keyboard, [
      [{ text: 'Open the order', url: 'https://example.com/o/1' }],
    ]);
    const [replied] = await events(conversationId, 'ManagerReplied');
    assert.deepEqual(replied?.data.buttons, [[{ text: 'Open the order', url: 'https://example.com/o/1' }]]);
    // The topic shows the conversation was answered.
    await waitFor('the title showing answered', () =>
      topicName(threadId)?.startsWith('🟢 ') ? true : undefined,
    );
  });

  it('an answer with buttons reaches a VK client as an inline keyboard of links', async () => {
    const user = h.vk.addUser({ first_name: 'Tanya', last_name: 'Vkova' });
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'Where is my parcel?' }))).status, 200);
    const topic = await waitFor('the VK topic', () =>
      h.tg.topics().find((t) => t.name.includes('Tanya Vkova')),
    );
    const manager = h.tg.addManager({ first_name: 'Dan' });
    assert.equal(
      await send(
        h.tg.groupMessage(manager, topic.message_thread_id, {
          text: 'Here:\n[[Track it|https://example.com/t/9]] [[Our bot|tg://resolve?domain=shop_bot]]',
        }),
      ),
      'recorded',
    );
    const sent = await waitFor('the VK answer', () => h.vk.sentTo(user.id).at(-1));
    assert.equal(sent.text, 'Here:\nOur bot: tg://resolve?domain=shop_bot');
    assert.equal(sent.keyboard?.inline, true);
    assert.deepEqual(
      sent.keyboard?.buttons.map((row) => row.map((b) => [b.action.type, b.action.label, b.action.link])),
      [[['open_link', 'Track it', 'https://example.com/t/9']]],
    );
    await waitFor('delivered', async () => (await events(vkConversationId(user.id), 'ReplyDelivered'))[0]);
  });

  it("an answer with buttons reaches a source's webhook with `buttons`", async () => {
    await createSource(h.app.log, 'shop', await receiver.hook('/hooks/shop'));
    const conversationId = conversationIdOf('external', 'shop', 'cust-9');
    await handler.execute(
      conversationId,
      {
        type: 'ReceiveClientMessage',
        conversationId,
        channel: 'external',
        source: 'shop',
        clientId: 'cust-9',
        profile: { firstName: 'Ursula' },
        messageId: randomUUID(),
        content: { text: 'Invoice please', attachments: [] },
      },
      { commandId: randomUUID(), actor: { kind: 'source', id: 'shop' } },
    );
    const topic = await waitFor("Ursula's topic", () => h.tg.topics().find((t) => t.name.includes('Ursula')));
    const manager = h.tg.addManager({ first_name: 'Eve' });
    assert.equal(
      await send(
        h.tg.groupMessage(manager, topic.message_thread_id, {
          text: 'Attached. [[Invoice|https://shop.example.com/i/9]] Thanks!',
        }),
      ),
      'recorded',
    );
    const request = await waitFor('the webhook', () => receiver.at('/hooks/shop')[0], 20_000);
    const body = JSON.parse(request.body) as { event: string; message: { text: string; buttons: unknown } };
    assert.equal(body.event, 'message.created');
    assert.equal(body.message.text, 'Attached. Thanks!');
    assert.deepEqual(body.message.buttons, [[{ text: 'Invoice', url: 'https://shop.example.com/i/9' }]]);
  });

  it('the topic title follows the conversation: waiting, answered, closed, each change recorded once', async () => {
    const { user, conversationId, threadId } = await telegramClient('Victor');
    // Opened waiting: the first status is part of the new topic, no edit of its own.
    assert.ok(topicName(threadId)?.startsWith('🔴 Victor'), topicName(threadId));
    const manager = h.tg.addManager({ first_name: 'Fay' });
    await send(h.tg.groupMessage(manager, threadId, { text: 'Hi Victor' }));
    await waitFor('answered', () => (topicName(threadId)?.startsWith('🟢 ') ? true : undefined));
    await send(h.tg.privateMessage(user, { text: 'One more question' }));
    await waitFor('waiting again', () => (topicName(threadId)?.startsWith('🔴 ') ? true : undefined));
    await send(
      h.tg.groupMessage(manager, threadId, {
        text: '/close',
        entities: [{ type: 'bot_command', offset: 0, length: 6 }],
      }),
    );
    await waitFor('closed', () => (topicName(threadId)?.startsWith('⚪ ') ? true : undefined));
    const statuses = await waitFor('four statuses recorded', async () => {
      const s = (await events(conversationId, 'TopicStatusChanged')).map((e) => e.data.status);
      return s.length === 4 ? s : undefined;
    });
    assert.deepEqual(statuses, ['waiting', 'answered', 'waiting', 'closed']);
    const auditLine = (await audit(conversationId)).find((e) => e.type === 'TopicStatusChanged');
    assert.match(auditLine?.summary ?? '', /shows: waiting for an answer/);
  });
});
