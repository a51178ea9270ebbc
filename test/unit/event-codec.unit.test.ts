import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeConversationEvent,
  decodeEventMetadata,
  EventDecodeError,
} from '../../src/adapters/event-codec.ts';
import { type ConversationEvent, conversationEventTypes } from '../../src/domain/events.ts';
import { clientRef, groupRef, received, replied, started, topicOpened } from './conversation-fixtures.ts';

const oneOfEach: readonly ConversationEvent[] = [
  started,
  received('m1', 'hi', {
    entities: [{ type: 'bold', offset: 0, length: 2 }],
    attachments: [
      { kind: 'photo', fileRef: 'AgAD', fileUniqueId: 'u1', size: 1024, mimeType: 'image/jpeg' },
      { kind: 'location', details: { latitude: 1.5, longitude: 2.5 } },
    ],
    channelMessage: clientRef('10'),
    replyTo: 'm0',
    mediaGroupId: 'album',
  }),
  {
    type: 'ClientMessageEdited',
    data: { text: 'hey', attachments: [], messageId: 'm1', previousText: 'hi' },
  },
  { type: 'ClientMessageDeleted', data: { messageId: 'm1' } },
  topicOpened('77'),
  { type: 'TopicLost', data: { topicId: '77', reason: 'message thread not found' } },
  { type: 'ClientMessageForwarded', data: { messageId: 'm1', topicId: '77', groupMessage: groupRef('500') } },
  {
    type: 'ClientMessageForwarded',
    data: {
      messageId: 'm1',
      topicId: '78',
      groupMessage: groupRef('600'),
      moreGroupMessages: [groupRef('601'), groupRef('602')],
    },
  },
  replied('r1', 'answer', { groupMessage: groupRef('501'), replyTo: 'm1' }),
  replied('r3', 'with a button', {
    buttons: [
      [{ text: 'Open the order', url: 'https://example.com/o/1' }],
      [{ text: 'Bot', url: 'tg://resolve?domain=shop_bot' }],
    ],
  }),
  replied('r2', 'Hello Ada!', {
    groupMessage: groupRef('502'),
    template: { name: 'greeting', version: 3, locale: 'en' },
  }),
  {
    type: 'ManagerReplyEdited',
    data: { text: 'answer!', attachments: [], messageId: 'r1', previousText: 'answer' },
  },
  { type: 'ManagerReplyDeleted', data: { messageId: 'r1' } },
  { type: 'ReplyDelivered', data: { messageId: 'r1', operation: 'send', channelMessage: clientRef('11') } },
  {
    type: 'DeliveryFailed',
    data: {
      messageId: 'r1',
      operation: 'edit',
      reason: '429',
      permanent: false,
      attempt: 2,
      nextAttemptAt: '2030-01-01T00:00:05.000Z',
    },
  },
  { type: 'ClientBanned', data: { reason: 'spam' } },
  { type: 'ClientUnbanned', data: {} },
  { type: 'ConversationClosed', data: {} },
  { type: 'ConversationReopened', data: {} },
  { type: 'ClientNotified', data: { notice: 'banned' } },
  { type: 'ContactCardPosted', data: { topicId: '77', groupMessage: groupRef('78') } },
  { type: 'TopicStatusChanged', data: { topicId: '77', status: 'answered' } },
  {
    type: 'NoteAdded',
    data: {
      noteId: 'n1',
      text: 'checked the warehouse',
      managerId: '7',
      managerName: 'Gina',
      groupMessage: groupRef('503'),
    },
  },
  { type: 'NotePinned', data: { text: 'VIP', managerId: '7', managerName: 'Gina' } },
  { type: 'NoteUnpinned', data: {} },
  { type: 'ConversationAssigned', data: { assigneeId: '7', assigneeName: 'Gina' } },
  { type: 'ConversationUnassigned', data: { previousAssigneeId: '7', previousAssigneeName: 'Gina' } },
  { type: 'RatingRequested', data: { requestId: 'r1', channelMessage: clientRef('9') } },
  { type: 'ConversationRated', data: { requestId: 'r1', rating: 4 } },
  { type: 'RatingCommented', data: { requestId: 'r1', text: 'quick, thanks' } },
  {
    type: 'ReminderSent',
    data: {
      waitingSince: '2026-12-04T10:00:00.000Z',
      number: 1,
      topicId: '77',
      assigneeId: '7',
      assigneeName: 'Gina',
    },
  },
];

const errorOf = (fn: () => unknown): EventDecodeError => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EventDecodeError, `expected an EventDecodeError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the decoder to throw');
};

describe('event codec', () => {
  test('the samples cover every event type', () => {
    assert.deepEqual(new Set(oneOfEach.map((e) => e.type)), new Set(conversationEventTypes));
  });

  test('every event survives JSON and decodes to itself', () => {
    for (const event of oneOfEach) {
      const stored = JSON.parse(JSON.stringify(event)) as { type: string; data: unknown };
      assert.deepStrictEqual(decodeConversationEvent(stored), event, event.type);
    }
  });

  test('a missing field is named', () => {
    const error = errorOf(() =>
      decodeConversationEvent({
        type: 'ClientMessageReceived',
        data: { text: 'x', attachments: [], suppressed: false },
      }),
    );
    assert.equal(error.field, 'data.messageId');
    assert.equal(error.eventType, 'ClientMessageReceived event');
    assert.match(error.message, /ClientMessageReceived event: data\.messageId:/);
  });

  test('a bad nested field is named with its path', () => {
    const error = errorOf(() =>
      decodeConversationEvent({
        type: 'ManagerReplied',
        data: { ...replied('r1').data, attachments: [{ kind: 'hologram' }] },
      }),
    );
    assert.equal(error.field, 'data.attachments.0.kind');
  });

  test("a forwarding's further topic messages are optional, and a bad one is named", () => {
    const written = { messageId: 'm1', topicId: '77', groupMessage: groupRef('500') };
    assert.deepStrictEqual(decodeConversationEvent({ type: 'ClientMessageForwarded', data: written }), {
      type: 'ClientMessageForwarded',
      data: written,
    });
    const error = errorOf(() =>
      decodeConversationEvent({
        type: 'ClientMessageForwarded',
        data: { ...written, moreGroupMessages: [groupRef('501'), { chatId: '-100' }] },
      }),
    );
    assert.equal(error.field, 'data.moreGroupMessages.1.messageId');
  });

  test('a wrong type of value is named', () => {
    const error = errorOf(() =>
      decodeConversationEvent({
        type: 'DeliveryFailed',
        data: { messageId: 'r1', operation: 'send', reason: 'x', permanent: 'no', attempt: 1 },
      }),
    );
    assert.equal(error.field, 'data.permanent');
  });

  test('a button without an address is named, and a status the domain does not know', () => {
    const error = errorOf(() =>
      decodeConversationEvent({
        type: 'ManagerReplied',
        data: { ...replied('r1').data, buttons: [[{ text: 'Open' }]] },
      }),
    );
    assert.equal(error.field, 'data.buttons.0.0.url');
    const status = errorOf(() =>
      decodeConversationEvent({ type: 'TopicStatusChanged', data: { topicId: '77', status: 'urgent' } }),
    );
    assert.equal(status.field, 'data.status');
  });

  test('an unknown event type is refused', () => {
    const error = errorOf(() => decodeConversationEvent({ type: 'SomethingElse', data: {} }));
    assert.equal(error.field, 'type');
    assert.match(error.message, /SomethingElse/);
  });

  test('metadata decodes, and a bad timestamp is named', () => {
    const metadata = {
      occurredAt: '2030-01-01T12:00:00.000Z',
      correlationId: 'c',
      causationId: 'c',
      actor: { kind: 'manager', id: '42', name: 'Grace' },
    };
    assert.deepStrictEqual(decodeEventMetadata(metadata), metadata);
    const error = errorOf(() => decodeEventMetadata({ ...metadata, occurredAt: 'yesterday' }));
    assert.equal(error.field, 'metadata.occurredAt');
    const actorError = errorOf(() => decodeEventMetadata({ ...metadata, actor: { kind: 'robot', id: '1' } }));
    assert.equal(actorError.field, 'metadata.actor.kind');
    // A press of a button is kept; another word for how is refused.
    assert.deepStrictEqual(decodeEventMetadata({ ...metadata, via: 'button' }), {
      ...metadata,
      via: 'button',
    });
    assert.equal(errorOf(() => decodeEventMetadata({ ...metadata, via: 'telepathy' })).field, 'metadata.via');
  });
});
