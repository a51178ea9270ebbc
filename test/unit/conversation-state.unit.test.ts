import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  evolve,
  findByChannelMessage,
  findByGroupMessage,
  foldConversation,
  initialConversationState,
  isStarted,
} from '../../src/domain/conversation.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import {
  CLIENT_CHAT,
  CONVERSATION_ID,
  clientRef,
  forwardedAs,
  GROUP_CHAT,
  groupRef,
  received,
  replied,
  started,
  topicOpened,
} from './conversation-fixtures.ts';

const forwarded = (messageId: string, groupMessageId: string, topicId = '77'): ConversationEvent => ({
  type: 'ClientMessageForwarded',
  data: { messageId, topicId, groupMessage: groupRef(groupMessageId) },
});

describe('evolve', () => {
  test('a new conversation knows nothing', () => {
    assert.equal(initialConversationState.started, false);
    assert.equal(isStarted(initialConversationState), false);
    assert.equal(initialConversationState.topic, null);
    assert.equal(initialConversationState.messages.size, 0);
  });

  test('ConversationStarted records who the client is', () => {
    const state = evolve(initialConversationState, started);
    assert.ok(isStarted(state));
    assert.equal(state.conversationId, CONVERSATION_ID);
    assert.equal(state.channel, 'telegram');
    assert.equal(state.clientId, CLIENT_CHAT);
    assert.deepEqual(state.profile, started.data.profile);
  });

  test('edits and deletions change the current content, not the history', () => {
    const state = foldConversation([
      started,
      received('m1', 'helo', { channelMessage: clientRef('10') }),
      {
        type: 'ClientMessageEdited',
        data: { text: 'hello', attachments: [], messageId: 'm1', previousText: 'helo' },
      },
      received('m2', 'oops'),
      { type: 'ClientMessageDeleted', data: { messageId: 'm2' } },
    ]);
    const m1 = state.messages.get('m1');
    assert.deepEqual(m1?.content, { text: 'hello', attachments: [] });
    assert.equal(m1?.editCount, 1);
    assert.equal(m1?.deleted, false);
    assert.equal(m1?.direction, 'incoming');
    const m2 = state.messages.get('m2');
    assert.equal(m2?.deleted, true);
    assert.equal(m2?.content.text, 'oops');
    assert.deepEqual([...state.messages.keys()], ['m1', 'm2']);
  });

  test('incoming messages are found by their client-side and group-side ids', () => {
    const state = foldConversation([
      started,
      received('m1', 'hi', { channelMessage: clientRef('10') }),
      topicOpened('77'),
      forwarded('m1', '500'),
    ]);
    assert.equal(findByChannelMessage(state, CLIENT_CHAT, '10')?.messageId, 'm1');
    assert.equal(findByChannelMessage(state, Number(CLIENT_CHAT), 10)?.messageId, 'm1');
    assert.equal(findByGroupMessage(state, GROUP_CHAT, '500')?.messageId, 'm1');
    assert.equal(findByGroupMessage(state, GROUP_CHAT, '501'), undefined);
    assert.equal(findByGroupMessage(state, '-100999', '500'), undefined);
    const m1 = state.messages.get('m1');
    assert.equal(m1?.forwarded, true);
    assert.equal(m1?.topicId, '77');
    assert.equal(m1?.status, 'forwarded');
  });

  test("a message's further topic messages are kept and found; a copy into a new topic replaces them", () => {
    const history: ConversationEvent[] = [
      started,
      received('m1', 'files'),
      topicOpened('77'),
      forwardedAs('m1', '77', ['500', '501', '502']),
    ];
    const state = foldConversation(history);
    assert.deepStrictEqual(history.reduce(evolve, initialConversationState), state);
    const m1 = state.messages.get('m1');
    assert.deepEqual(m1?.groupMessage, groupRef('500'));
    assert.deepEqual(m1?.moreGroupMessages, [groupRef('501'), groupRef('502')]);
    for (const id of ['500', '501', '502'])
      assert.equal(findByGroupMessage(state, GROUP_CHAT, id)?.messageId, 'm1');

    const moved = foldConversation(
      [
        { type: 'TopicLost', data: { topicId: '77', reason: 'deleted' } },
        topicOpened('78'),
        forwarded('m1', '900', '78'),
      ],
      state,
    );
    const again = moved.messages.get('m1');
    assert.deepEqual(again?.groupMessage, groupRef('900'));
    assert.equal(again?.moreGroupMessages, undefined, 'the new copy is one topic message');
    assert.equal(again?.topicId, '78');
    assert.equal(state.messages.get('m1')?.moreGroupMessages?.length, 2, 'the earlier state is untouched');
  });

  test("answers are found by the manager's original and by the delivered copy", () => {
    const state = foldConversation([
      started,
      topicOpened('77'),
      replied('r1', 'hi', { groupMessage: groupRef('600') }),
      {
        type: 'ReplyDelivered',
        data: { messageId: 'r1', operation: 'send', channelMessage: clientRef('11') },
      },
    ]);
    assert.equal(findByGroupMessage(state, GROUP_CHAT, '600')?.messageId, 'r1');
    assert.equal(findByChannelMessage(state, CLIENT_CHAT, '11')?.messageId, 'r1');
    const r1 = state.messages.get('r1');
    assert.equal(r1?.direction, 'outgoing');
    assert.equal(r1?.managerId, '42');
    assert.equal(r1?.status, 'delivered');
  });

  test('delivery status: received, failed, then delivered; a failed edit leaves it delivered', () => {
    const afterReply = foldConversation([started, replied('r1', 'v1')]);
    assert.equal(afterReply.messages.get('r1')?.status, 'received');
    const afterFailure = evolve(afterReply, {
      type: 'DeliveryFailed',
      data: { messageId: 'r1', operation: 'send', reason: 'timeout', permanent: false, attempt: 1 },
    });
    assert.equal(afterFailure.messages.get('r1')?.status, 'failed');
    assert.deepEqual(afterFailure.messages.get('r1')?.deliveries.send, {
      outcome: 'failed',
      reason: 'timeout',
      permanent: false,
      attempt: 1,
    });
    const afterDelivery = foldConversation(
      [
        { type: 'ReplyDelivered', data: { messageId: 'r1', operation: 'send' } },
        {
          type: 'ManagerReplyEdited',
          data: { text: 'v2', attachments: [], messageId: 'r1', previousText: 'v1' },
        },
        {
          type: 'DeliveryFailed',
          data: { messageId: 'r1', operation: 'edit', reason: 'blocked', permanent: true, attempt: 1 },
        },
      ],
      afterFailure,
    );
    const r1 = afterDelivery.messages.get('r1');
    assert.equal(r1?.status, 'delivered');
    assert.equal(r1?.deliveries.edit?.outcome, 'failed');
    assert.equal(r1?.content.text, 'v2');
  });

  test('a new edit of an answer clears the previous edit outcome', () => {
    const state = foldConversation([
      started,
      replied('r1', 'v1'),
      {
        type: 'ManagerReplyEdited',
        data: { text: 'v2', attachments: [], messageId: 'r1', previousText: 'v1' },
      },
      { type: 'ReplyDelivered', data: { messageId: 'r1', operation: 'edit' } },
      {
        type: 'ManagerReplyEdited',
        data: { text: 'v3', attachments: [], messageId: 'r1', previousText: 'v2' },
      },
    ]);
    assert.equal(state.messages.get('r1')?.deliveries.edit, undefined);
    assert.equal(state.messages.get('r1')?.editCount, 2);
  });

  test('topics: opened, lost, a stale loss ignored', () => {
    const opened = foldConversation([started, topicOpened('77')]);
    assert.deepEqual(opened.topic, { topicId: '77', chatId: GROUP_CHAT, title: 'Ada (@ada)' });
    const stale = evolve(opened, { type: 'TopicLost', data: { topicId: '12', reason: 'old' } });
    assert.equal(stale.topic?.topicId, '77');
    const lost = evolve(opened, { type: 'TopicLost', data: { topicId: '77', reason: 'deleted' } });
    assert.equal(lost.topic, null);
  });

  test('ban, close and notices', () => {
    const state = foldConversation([
      started,
      { type: 'ClientBanned', data: {} },
      { type: 'ClientNotified', data: { notice: 'banned' } },
      { type: 'ConversationClosed', data: {} },
    ]);
    assert.equal(state.banned, true);
    assert.equal(state.banNoticeSent, true);
    assert.equal(state.closed, true);
    assert.equal(state.closeNoticeSent, false);
    const again = foldConversation(
      [
        { type: 'ClientUnbanned', data: {} },
        { type: 'ClientBanned', data: {} },
        { type: 'ConversationReopened', data: {} },
      ],
      state,
    );
    assert.equal(again.banned, true);
    assert.equal(again.banNoticeSent, false);
    assert.equal(again.closed, false);
  });

  test('suppressed messages are remembered as such', () => {
    const state = foldConversation([started, received('m1', 'spam', { suppressed: true })]);
    assert.equal(state.messages.get('m1')?.suppressed, true);
  });

  test('evolve never changes the state it was given', () => {
    const before = foldConversation([started, received('m1', 'one', { channelMessage: clientRef('10') })]);
    const snapshot = structuredClone({
      messages: [...before.messages.values()],
      refs: [...before.messages.refEntries()],
      topic: before.topic,
    });
    let after = evolve(before, topicOpened('77'));
    after = evolve(after, forwarded('m1', '500'));
    after = evolve(after, received('m2', 'two', { channelMessage: clientRef('11') }));
    after = evolve(after, { type: 'ClientMessageDeleted', data: { messageId: 'm1' } });
    assert.deepEqual(
      {
        messages: [...before.messages.values()],
        refs: [...before.messages.refEntries()],
        topic: before.topic,
      },
      snapshot,
    );
    assert.equal(after.messages.size, 2);
    assert.equal(after.messages.get('m1')?.deleted, true);
    assert.notEqual(after.messages, before.messages);
  });

  test('folding agrees with evolving event by event', () => {
    const events: ConversationEvent[] = [
      started,
      received('m1', 'a', { channelMessage: clientRef('1') }),
      topicOpened('77'),
      forwarded('m1', '500'),
      replied('r1', 'b', { groupMessage: groupRef('501') }),
      {
        type: 'ReplyDelivered',
        data: { messageId: 'r1', operation: 'send', channelMessage: clientRef('2') },
      },
      { type: 'ClientMessageDeleted', data: { messageId: 'm1' } },
    ];
    assert.deepStrictEqual(foldConversation(events), events.reduce(evolve, initialConversationState));
  });

  test('an event type this version does not know is skipped', () => {
    const state = foldConversation([started]);
    const future = { type: 'ClientRenamed', data: { name: 'x' } } as unknown as ConversationEvent;
    assert.deepStrictEqual(evolve(state, future), state);
  });

  test('an event about a message the stream never recorded changes nothing', () => {
    const state = foldConversation([started]);
    assert.deepStrictEqual(evolve(state, forwarded('ghost', '1')), state);
  });
});
