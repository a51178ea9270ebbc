// Assignment decided given/when/then (docs/design.md, "Assignment"): who a conversation is assigned
// to, what /take, /assign and /unassign record and refuse, "unassigned waiting", the read model's
// waiting list, and how the audit and `/waiting` put it into words.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { topicLink, waitingText } from '../../src/adapters/telegram/waiting.ts';
import type { ConversationCommand } from '../../src/domain/conversation.ts';
import { isUnassignedWaiting } from '../../src/domain/conversation-core.ts';
import { foldConversation } from '../../src/domain/conversation-fold.ts';
import type { RecordedEvent } from '../../src/domain/event-log.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import { summarize } from '../../src/projections/history-summary.ts';
import {
  type ConversationRow,
  evolveConversationRow,
} from '../../src/projections/read-models/conversations.ts';
import { shippedTexts } from '../../src/texts/texts.ts';
import { CONVERSATION_ID, given, received, replied, started } from './conversation-fixtures.ts';

const assignTo = (id: string, name: string): ConversationCommand => ({
  type: 'AssignConversation',
  assigneeId: id,
  assigneeName: name,
});
const assigned = (id: string, name: string): ConversationEvent => ({
  type: 'ConversationAssigned',
  data: { assigneeId: id, assigneeName: name },
});
const unassign: ConversationCommand = { type: 'UnassignConversation' };
const unassigned = (id: string, name: string): ConversationEvent => ({
  type: 'ConversationUnassigned',
  data: { previousAssigneeId: id, previousAssigneeName: name },
});
const closed: ConversationEvent = { type: 'ConversationClosed', data: {} };

describe('AssignConversation', () => {
  test('given a conversation with nobody assigned, when a manager takes it, then it is assigned to them', () => {
    given([started])
      .when(assignTo('42', 'Grace'))
      .then([assigned('42', 'Grace')]);
  });

  test('given it is assigned, when it is given to another member, then the other one has it', () => {
    given([started, assigned('42', 'Grace')])
      .when(assignTo('43', 'Linus'))
      .then([assigned('43', 'Linus')]);
  });

  test('given it is assigned, when the same member takes it again, then nothing is recorded', () => {
    given([started, assigned('42', 'Grace')])
      .when(assignTo('42', 'Grace'))
      .then([]);
  });

  test('an assignee needs an id and a name; the conversation must have started', () => {
    given([started]).when(assignTo(' ', 'Grace')).then('invalid_command');
    given([started]).when(assignTo('42', '  ')).then('invalid_command');
    given([]).when(assignTo('42', 'Grace')).then('conversation_not_started');
  });
});

describe('UnassignConversation', () => {
  test('given it is assigned, when unassigned, then the event names who had it', () => {
    given([started, assigned('42', 'Grace')])
      .when(unassign)
      .then([unassigned('42', 'Grace')]);
    given([started, assigned('42', 'Grace'), assigned('43', 'Linus')])
      .when(unassign)
      .then([unassigned('43', 'Linus')]);
  });

  test('given nobody has it, when unassigned, then it is refused', () => {
    given([started]).when(unassign).then('not_assigned');
    given([started, assigned('42', 'Grace'), unassigned('42', 'Grace')])
      .when(unassign)
      .then('not_assigned');
  });
});

describe('the assignee in the state', () => {
  test('follows the assignments; an unassignment clears it', () => {
    assert.equal(foldConversation([started]).assignee, undefined);
    assert.deepEqual(foldConversation([started, assigned('42', 'Grace')]).assignee, {
      id: '42',
      name: 'Grace',
    });
    assert.deepEqual(foldConversation([started, assigned('42', 'Grace'), assigned('43', 'Linus')]).assignee, {
      id: '43',
      name: 'Linus',
    });
    assert.equal(
      foldConversation([started, assigned('42', 'Grace'), unassigned('42', 'Grace')]).assignee,
      undefined,
    );
  });

  test('"unassigned waiting": open, the client waits, nobody has it', () => {
    const waiting = [started, received('m1')];
    assert.equal(isUnassignedWaiting(foldConversation(waiting)), true);
    assert.equal(isUnassignedWaiting(foldConversation([...waiting, assigned('42', 'Grace')])), false);
    assert.equal(isUnassignedWaiting(foldConversation([...waiting, replied('r1')])), false);
    assert.equal(isUnassignedWaiting(foldConversation([...waiting, closed])), false);
    assert.equal(isUnassignedWaiting(foldConversation([started])), false);
    // An automatic reply is no answer: the client still waits.
    assert.equal(
      isUnassignedWaiting(
        foldConversation([...waiting, replied('a1', 'hello', { automatic: { reason: 'welcome' } })]),
      ),
      true,
    );
  });
});

describe('the waiting list in rm_conversations', () => {
  const at = (minute: number) => `2026-12-04T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const fold = (events: ReadonlyArray<readonly [ConversationEvent, number]>) =>
    events.reduce<ConversationRow | undefined>(
      (row, [event, minute], revision) =>
        evolveConversationRow(row, CONVERSATION_ID, event, {
          revision,
          metadata: { occurredAt: at(minute) },
        } as unknown as RecordedEvent),
      undefined,
    );

  test('the client waits from their first message with no answer; an answer ends the wait', () => {
    const waiting = fold([
      [started, 0],
      [received('m1'), 1],
      [received('m2'), 5],
    ]);
    assert.equal(waiting?.waiting_since, at(1));
    assert.equal(
      fold([
        [started, 0],
        [received('m1'), 1],
        [replied('r1'), 2],
      ])?.waiting_since,
      null,
    );
    const again = fold([
      [started, 0],
      [received('m1'), 1],
      [replied('r1'), 2],
      [received('m2'), 7],
    ]);
    assert.equal(again?.waiting_since, at(7));
    const welcomed = fold([
      [started, 0],
      [received('m1'), 1],
      [replied('a1', 'hi', { automatic: { reason: 'welcome' } }), 1],
    ]);
    assert.equal(welcomed?.waiting_since, at(1));
  });

  test('the assignee follows the assignments', () => {
    const row = fold([
      [started, 0],
      [assigned('42', 'Grace'), 1],
    ]);
    assert.equal(row?.assignee_id, '42');
    assert.equal(row?.assignee_name, 'Grace');
    const none = fold([
      [started, 0],
      [assigned('42', 'Grace'), 1],
      [unassigned('42', 'Grace'), 2],
    ]);
    assert.equal(none?.assignee_id, null);
    assert.equal(none?.assignee_name, null);
  });
});

describe('assignment in words', () => {
  test('the audit history names the assignee and who had it', () => {
    assert.equal(summarize(assigned('42', 'Grace')), 'assigned to Grace (42)');
    assert.equal(summarize(unassigned('42', 'Grace')), 'unassigned (was Grace, 42)');
  });

  test('a topic link is t.me/c/<the chat id without -100>/<topic>', () => {
    assert.equal(topicLink('-1001234567890', '77'), 'https://t.me/c/1234567890/77');
    assert.equal(topicLink('-4242', '77'), undefined);
  });

  test('/waiting lists the conversations in the order given, with links, times and assignees', async () => {
    const texts = shippedTexts();
    assert.equal(
      await waitingText(texts, { conversations: [], total: 0, unassigned: 0 }),
      'No client is waiting for an answer.',
    );
    const text = await waitingText(texts, {
      conversations: [
        {
          conversationId: 'a',
          title: 'Ada',
          topicChatId: '-1001234567890',
          topicId: '7',
          waitingSince: new Date('2026-12-04T09:05:00Z'),
          assigneeName: null,
        },
        {
          conversationId: 'b',
          title: 'Bob',
          topicChatId: '-1001234567890',
          topicId: '9',
          waitingSince: new Date('2026-12-04T10:15:00Z'),
          assigneeName: 'Grace',
        },
      ],
      total: 3,
      unassigned: 2,
    });
    assert.equal(
      text,
      [
        'Waiting for an answer: 3 (2 unassigned), oldest first:',
        'Ada — https://t.me/c/1234567890/7 — waiting since 2026-12-04 09:05 UTC — unassigned',
        'Bob — https://t.me/c/1234567890/9 — waiting since 2026-12-04 10:15 UTC — Grace',
        '…and 1 more.',
      ].join('\n'),
    );
  });
});
