// Builders for conversation commands and events, so each test states only what it is about.
import assert from 'node:assert/strict';
import {
  type ConversationCommand,
  decide,
  evolve,
  foldConversation,
  initialConversationState,
  type ReceiveClientMessage,
  type ReplyAsManager,
} from '../../src/domain/conversation.ts';
import { DomainError, type DomainErrorCode } from '../../src/domain/errors.ts';
import type {
  ChannelMessageRef,
  ClientMessageReceived,
  ConversationEvent,
  ConversationStarted,
  ManagerReplied,
  MessageContent,
} from '../../src/domain/events.ts';

export const CONVERSATION_ID = '0b7e4a52-9f0e-5c3c-8d1a-2f4a7c9e1b01';
export const CLIENT_CHAT = '5550001';
export const GROUP_CHAT = '-1001234567890';

export const text = (value: string): MessageContent => ({ text: value, attachments: [] });

export const started: ConversationStarted = {
  type: 'ConversationStarted',
  data: {
    conversationId: CONVERSATION_ID,
    channel: 'telegram',
    source: 'telegram',
    clientId: CLIENT_CHAT,
    profile: { firstName: 'Ada', username: 'ada', languageCode: 'en' },
  },
};

export const clientRef = (messageId: string): ChannelMessageRef => ({ chatId: CLIENT_CHAT, messageId });
export const groupRef = (messageId: string): ChannelMessageRef => ({ chatId: GROUP_CHAT, messageId });

export const receive = (
  messageId: string,
  body = `text of ${messageId}`,
  extra: Partial<ReceiveClientMessage> = {},
): ReceiveClientMessage => ({
  type: 'ReceiveClientMessage',
  conversationId: CONVERSATION_ID,
  channel: 'telegram',
  source: 'telegram',
  clientId: CLIENT_CHAT,
  profile: started.data.profile,
  messageId,
  content: text(body),
  ...extra,
});

export const received = (
  messageId: string,
  body = `text of ${messageId}`,
  extra: Partial<ClientMessageReceived['data']> = {},
): ClientMessageReceived => ({
  type: 'ClientMessageReceived',
  data: { text: body, attachments: [], messageId, suppressed: false, ...extra },
});

export const reply = (
  messageId: string,
  body = `answer ${messageId}`,
  extra: Partial<ReplyAsManager> = {},
): ReplyAsManager => ({
  type: 'ReplyAsManager',
  messageId,
  managerId: '42',
  managerName: 'Grace',
  content: text(body),
  ...extra,
});

export const replied = (
  messageId: string,
  body = `answer ${messageId}`,
  extra: Partial<ManagerReplied['data']> = {},
): ManagerReplied => ({
  type: 'ManagerReplied',
  data: { text: body, attachments: [], messageId, managerId: '42', managerName: 'Grace', ...extra },
});

/** ClientMessageForwarded of a message shown as these topic messages: the first, then any further ones. */
export const forwardedAs = (
  messageId: string,
  topicId: string,
  [first, ...more]: readonly [string, ...string[]],
): ConversationEvent => ({
  type: 'ClientMessageForwarded',
  data: {
    messageId,
    topicId,
    groupMessage: groupRef(first),
    ...(more.length > 0 ? { moreGroupMessages: more.map(groupRef) } : {}),
  },
});

export const topicOpened = (topicId = '77'): ConversationEvent => ({
  type: 'TopicOpened',
  data: { topicId, chatId: GROUP_CHAT, title: 'Ada (@ada)' },
});

/**
 * given(history).when(command).then(expected events | refusal code). The history is folded both with
 * foldConversation and event by event with evolve, and the two states must agree.
 */
export const given = (history: readonly ConversationEvent[]) => ({
  when: (command: ConversationCommand) => ({
    // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; this object is never awaited.
    then(expected: readonly ConversationEvent[] | DomainErrorCode): void {
      const state = foldConversation(history);
      assert.deepStrictEqual(history.reduce(evolve, initialConversationState), state);
      if (typeof expected === 'string') {
        assert.throws(
          () => decide(command, state),
          (error: unknown) => {
            assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
            assert.equal(error.code, expected);
            return true;
          },
        );
      } else {
        assert.deepStrictEqual(decide(command, state), expected);
      }
    },
  }),
});
