// Given/when/then for the sender's order: which messages a reactor carries when it comes to one, and
// in which order, whatever order the log recorded them in.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { foldConversation } from '../../src/domain/conversation-fold.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import { inSenderOrder, mayArriveOutOfOrder, waitingFrom } from '../../src/domain/sender-order.ts';

const started = (channel: 'telegram' | 'vk' | 'external'): ConversationEvent => ({
  type: 'ConversationStarted',
  data: { conversationId: 'c', channel, source: channel, clientId: '7', profile: {} },
});

const clientMessage = (id: string, order: { tg?: number; vk?: number } = {}): ConversationEvent => ({
  type: 'ClientMessageReceived',
  data: {
    messageId: id,
    text: id,
    attachments: [],
    suppressed: false,
    ...(order.tg !== undefined ? { channelMessage: { chatId: '7', messageId: String(order.tg) } } : {}),
    ...(order.vk !== undefined ? { sentOrder: order.vk } : {}),
  },
});

const answer = (id: string, groupMessageId: number): ConversationEvent => ({
  type: 'ManagerReplied',
  data: {
    messageId: id,
    managerId: '1',
    managerName: 'M',
    text: id,
    attachments: [],
    groupMessage: { chatId: '-100', messageId: String(groupMessageId) },
  },
});

const forwarded = (id: string): ConversationEvent => ({
  type: 'ClientMessageForwarded',
  data: { messageId: id, topicId: '5', groupMessage: { chatId: '-100', messageId: String(900 + id.length) } },
});

const ids = (messages: readonly { messageId: string }[]) => messages.map((m) => m.messageId);

describe('sender order', () => {
  test('given a Telegram burst recorded 11, 9, 13, 12, 10: when the reactor comes to 11, then all five go as sent', () => {
    const state = foldConversation([
      started('telegram'),
      clientMessage('m11', { tg: 11 }),
      clientMessage('m9', { tg: 9 }),
      clientMessage('m13', { tg: 13 }),
      clientMessage('m12', { tg: 12 }),
      clientMessage('m10', { tg: 10 }),
    ]);
    const m11 = state.messages.get('m11')!;
    assert.deepEqual(ids(waitingFrom(state, m11, (x) => !x.forwarded)), ['m9', 'm10', 'm11', 'm12', 'm13']);
  });

  test('given messages recorded before the one at hand: then they are not carried again (they were handled)', () => {
    const state = foldConversation([
      started('telegram'),
      clientMessage('early', { tg: 3 }), // given up on: never forwarded
      clientMessage('m5', { tg: 5 }),
      clientMessage('m4', { tg: 4 }),
    ]);
    assert.deepEqual(ids(waitingFrom(state, state.messages.get('m5')!, (x) => !x.forwarded)), ['m4', 'm5']);
  });

  test('given some already forwarded: then only the waiting ones, still in order', () => {
    const state = foldConversation([
      started('telegram'),
      clientMessage('m2', { tg: 2 }),
      clientMessage('m1', { tg: 1 }),
      forwarded('m1'),
      clientMessage('m3', { tg: 3 }),
    ]);
    assert.deepEqual(ids(waitingFrom(state, state.messages.get('m2')!, (x) => !x.forwarded)), ['m2', 'm3']);
  });

  test("given VK parts of one message sharing the dialog's number: then they stay in the order recorded", () => {
    const state = foldConversation([
      started('vk'),
      clientMessage('b', { vk: 8 }),
      clientMessage('a-main', { vk: 7 }),
      clientMessage('a-file', { vk: 7 }),
    ]);
    assert.deepEqual(ids(inSenderOrder(state, [...state.messages.values()])), ['a-main', 'a-file', 'b']);
  });

  test("given a source's messages (no numbering): then the order recorded is the order sent", () => {
    const state = foldConversation([started('external'), clientMessage('x'), clientMessage('y')]);
    assert.equal(mayArriveOutOfOrder(state, 'incoming'), false);
    assert.deepEqual(ids(inSenderOrder(state, [...state.messages.values()])), ['x', 'y']);
  });

  test("given answers recorded 102, 100, 101: then they go in the support group's order, clients' messages apart", () => {
    const state = foldConversation([
      started('telegram'),
      clientMessage('hello'),
      answer('a102', 102),
      answer('a100', 100),
      answer('a101', 101),
    ]);
    assert.equal(mayArriveOutOfOrder(state, 'outgoing'), true);
    assert.deepEqual(ids(waitingFrom(state, state.messages.get('a102')!, () => true)), [
      'a100',
      'a101',
      'a102',
    ]);
  });
});

describe('the answers waiting to be carried', () => {
  test('given a Telegram or VK conversation: then each answer waits until its delivery is recorded', () => {
    for (const channel of ['telegram', 'vk'] as const) {
      const state = foldConversation([
        started(channel),
        answer('a1', 1),
        answer('a2', 2),
        { type: 'ReplyDelivered', data: { messageId: 'a1', operation: 'send' } },
      ]);
      assert.deepEqual(state.waitingOutgoing, ['a2'], channel);
    }
  });

  test("given an external source's conversation: then no answer waits in the core, however many there are", () => {
    // The webhook queue carries them, or the source polls: a polling source never records a delivery.
    const state = foldConversation([
      started('external'),
      clientMessage('hello'),
      ...Array.from({ length: 600 }, (_, i) => answer(`a${i}`, i)),
    ]);
    assert.deepEqual(state.waitingOutgoing, []);
    assert.equal(state.messageCount, 601);
    assert.equal(state.messages.get('a599')?.status, 'received', 'the answer itself is recorded as ever');
  });
});
