// decide() for buttons and topic status: answers' button markup, the contact card's record, the
// topic status recorded only on transitions; and the status each conversation state derives.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { topicStatusOf } from '../../src/domain/conversation-core.ts';
import { foldConversation } from '../../src/domain/conversation-fold.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import {
  given,
  groupRef,
  receive,
  received,
  replied,
  reply,
  started,
  text,
  topicOpened,
} from './conversation-fixtures.ts';

const order = { text: 'Open the order', url: 'https://example.com/o/1' };
const cardPosted = (topicId: string, messageId: string): ConversationEvent => ({
  type: 'ContactCardPosted',
  data: { topicId, groupMessage: groupRef(messageId) },
});
const statusChanged = (topicId: string, status: 'waiting' | 'answered' | 'closed'): ConversationEvent => ({
  type: 'TopicStatusChanged',
  data: { topicId, status },
});

describe('ReplyAsManager with button markup', () => {
  test('the markup becomes buttons on ManagerReplied and leaves the text', () => {
    given([started, received('m1')])
      .when(reply('r1', 'It shipped.\n[[Open the order|https://example.com/o/1]]'))
      .then([replied('r1', 'It shipped.', { buttons: [[order]] })]);
  });

  test('malformed markup stays in the text, and no buttons key is written', () => {
    given([started])
      .when(reply('r1', 'See [[Open the order|ftp://example.com]]'))
      .then([replied('r1', 'See [[Open the order|ftp://example.com]]')]);
  });

  test("a client's markup is only text", () => {
    given([started])
      .when(receive('m1', 'click [[here|https://phish.example]]'))
      .then([received('m1', 'click [[here|https://phish.example]]')]);
  });
});

describe('EditManagerReply with button markup', () => {
  const answered = replied('r1', 'It shipped.', { buttons: [[order]] });

  test('an edit that changes only a button is an edit, carrying the buttons it leaves', () => {
    given([started, answered])
      .when({
        type: 'EditManagerReply',
        messageId: 'r1',
        content: text('It shipped.\n[[Track it|https://example.com/t/1]]'),
      })
      .then([
        {
          type: 'ManagerReplyEdited',
          data: {
            text: 'It shipped.',
            attachments: [],
            buttons: [[{ text: 'Track it', url: 'https://example.com/t/1' }]],
            messageId: 'r1',
            previousText: 'It shipped.',
          },
        },
      ]);
  });

  test('the same text with the same markup is no edit (Telegram re-sends edits for previews)', () => {
    given([started, answered])
      .when({
        type: 'EditManagerReply',
        messageId: 'r1',
        content: text('It shipped.\n[[Open the order|https://example.com/o/1]]'),
      })
      .then([]);
  });

  test('taking the markup out removes the buttons', () => {
    given([started, answered])
      .when({ type: 'EditManagerReply', messageId: 'r1', content: text('It shipped.') })
      .then([
        {
          type: 'ManagerReplyEdited',
          data: { text: 'It shipped.', attachments: [], messageId: 'r1', previousText: 'It shipped.' },
        },
      ]);
  });
});

describe('RecordContactCard', () => {
  test('the card of the current topic is recorded', () => {
    given([started, topicOpened('77')])
      .when({ type: 'RecordContactCard', topicId: '77', groupMessage: groupRef('78') })
      .then([cardPosted('77', '78')]);
  });

  test('the same card again is a retry: nothing', () => {
    given([started, topicOpened('77'), cardPosted('77', '78')])
      .when({ type: 'RecordContactCard', topicId: '77', groupMessage: groupRef('78') })
      .then([]);
  });

  test("a card for a topic that is not the conversation's now records nothing", () => {
    given([started, topicOpened('90')])
      .when({ type: 'RecordContactCard', topicId: '77', groupMessage: groupRef('78') })
      .then([]);
  });

  test('needs a started conversation', () => {
    given([])
      .when({ type: 'RecordContactCard', topicId: '77', groupMessage: groupRef('78') })
      .then('conversation_not_started');
  });
});

describe('RecordTopicStatus', () => {
  test('a transition is recorded', () => {
    given([started, topicOpened('77'), statusChanged('77', 'waiting')])
      .when({ type: 'RecordTopicStatus', topicId: '77', status: 'answered' })
      .then([statusChanged('77', 'answered')]);
  });

  test('the status the topic shows already records nothing (a replay, a superseded edit)', () => {
    given([started, topicOpened('77'), statusChanged('77', 'answered')])
      .when({ type: 'RecordTopicStatus', topicId: '77', status: 'answered' })
      .then([]);
  });

  test("a new topic's first status is recorded even when the old topic showed the same", () => {
    given([
      started,
      topicOpened('77'),
      statusChanged('77', 'waiting'),
      { type: 'TopicLost', data: { topicId: '77', reason: 'deleted' } },
      topicOpened('90'),
    ])
      .when({ type: 'RecordTopicStatus', topicId: '90', status: 'waiting' })
      .then([statusChanged('90', 'waiting')]);
  });

  test('a status for a replaced topic records nothing', () => {
    given([started, topicOpened('90')])
      .when({ type: 'RecordTopicStatus', topicId: '77', status: 'closed' })
      .then([]);
  });

  test('needs a started conversation', () => {
    given([])
      .when({ type: 'RecordTopicStatus', topicId: '1', status: 'waiting' })
      .then('conversation_not_started');
  });
});

describe('topicStatusOf', () => {
  const statusAfter = (events: readonly ConversationEvent[]) => topicStatusOf(foldConversation(events));

  test('waiting after a client message, answered after a reply, closed when closed', () => {
    assert.equal(statusAfter([started, received('m1')]), 'waiting');
    assert.equal(statusAfter([started, received('m1'), replied('r1')]), 'answered');
    assert.equal(statusAfter([started, received('m1'), replied('r1'), received('m2')]), 'waiting');
    assert.equal(statusAfter([started, received('m1'), { type: 'ConversationClosed', data: {} }]), 'closed');
    assert.equal(
      statusAfter([
        started,
        received('m1'),
        { type: 'ConversationClosed', data: {} },
        { type: 'ConversationReopened', data: {} },
      ]),
      'waiting',
    );
  });

  test("an automatic reply (welcome, off-hours) is no manager's answer: the topic still waits", () => {
    const welcome = replied('w1', 'Welcome!', { automatic: { reason: 'welcome' } });
    const offHours = replied('o1', 'We are closed', {
      automatic: { reason: 'off_hours', period: '2026-03-27T17:00:00.000Z' },
    });
    assert.equal(statusAfter([started, received('m1'), welcome, offHours]), 'waiting');
    assert.equal(statusAfter([started, received('m1'), welcome, replied('r1')]), 'answered');
  });

  test("a banned client's message does not make the topic wait", () => {
    assert.equal(
      statusAfter([started, received('m1'), replied('r1'), received('m2', 'spam', { suppressed: true })]),
      'answered',
    );
  });
});
