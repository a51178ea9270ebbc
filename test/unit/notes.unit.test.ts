// Notes, the pinned note and answers sent from saved answers, decided given/when/then: what each
// command records in the conversation, and what it refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConversationCommand } from '../../src/domain/conversation.ts';
import { foldConversation } from '../../src/domain/conversation-fold.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import { given, groupRef, received, replied, reply, started } from './conversation-fixtures.ts';

const addNote = (text: string, noteId = 'n1'): ConversationCommand => ({
  type: 'AddNote',
  noteId,
  text,
  managerId: '42',
  managerName: 'Grace',
  groupMessage: groupRef('700'),
});
const noteAdded = (text: string, noteId = 'n1'): ConversationEvent => ({
  type: 'NoteAdded',
  data: { noteId, text, managerId: '42', managerName: 'Grace', groupMessage: groupRef('700') },
});
const pin = (text: string, managerName = 'Grace'): ConversationCommand => ({
  type: 'PinNote',
  text,
  managerId: '42',
  managerName,
});
const pinned = (text: string, managerName = 'Grace'): ConversationEvent => ({
  type: 'NotePinned',
  data: { text, managerId: '42', managerName },
});
const unpinned: ConversationEvent = { type: 'NoteUnpinned', data: {} };

describe('AddNote', () => {
  test('records the note with its manager and topic message, nothing for the client', () => {
    given([started, received('m1')])
      .when(addNote('  checked the warehouse  '))
      .then([noteAdded('checked the warehouse')]);
  });

  test('a note is no message: it does not count, wait to be carried or change any message', () => {
    const before = foldConversation([started, received('m1')]);
    const after = foldConversation([started, received('m1'), noteAdded('internal')]);
    assert.equal(after.messageCount, before.messageCount);
    assert.deepEqual(after.waitingOutgoing, before.waitingOutgoing);
    assert.deepEqual([...after.messages.keys()], ['m1']);
  });

  test('an empty note is refused', () => {
    given([started]).when(addNote('   ')).then('note_empty');
  });

  test('needs a started conversation', () => {
    given([]).when(addNote('x')).then('conversation_not_started');
  });
});

describe('PinNote and UnpinNote', () => {
  test('pins a note, and a new pin replaces it', () => {
    given([started])
      .when(pin(' VIP since 2021 '))
      .then([pinned('VIP since 2021')]);
    given([started, pinned('VIP since 2021')])
      .when(pin('prefers email', 'Hal'))
      .then([pinned('prefers email', 'Hal')]);
    assert.deepEqual(foldConversation([started, pinned('a'), pinned('b', 'Hal')]).pinnedNote, {
      text: 'b',
      managerName: 'Hal',
    });
  });

  test('the same text again records nothing (who pinned it first stays)', () => {
    given([started, pinned('VIP')])
      .when(pin('VIP', 'Hal'))
      .then([]);
  });

  test('an empty pin is refused', () => {
    given([started]).when(pin('')).then('note_empty');
  });

  test('unpin removes it; unpinning nothing is refused', () => {
    given([started, pinned('VIP')])
      .when({ type: 'UnpinNote' })
      .then([unpinned]);
    assert.equal(foldConversation([started, pinned('VIP'), unpinned]).pinnedNote, undefined);
    given([started]).when({ type: 'UnpinNote' }).then('no_pinned_note');
    given([started, pinned('VIP'), unpinned])
      .when({ type: 'UnpinNote' })
      .then('no_pinned_note');
  });

  test('a note is not a pin', () => {
    given([started, noteAdded('internal')])
      .when({ type: 'UnpinNote' })
      .then('no_pinned_note');
  });

  test('need a started conversation', () => {
    given([]).when(pin('x')).then('conversation_not_started');
    given([]).when({ type: 'UnpinNote' }).then('conversation_not_started');
  });
});

describe('ReplyAsManager from a saved answer', () => {
  const template = { name: 'greeting', version: 3, locale: 'ru' };

  test('records the saved answer it was sent from, and the message keeps it', () => {
    given([started, received('m1')])
      .when(reply('r1', 'Здравствуйте, Ada!', { groupMessage: groupRef('701'), template }))
      .then([replied('r1', 'Здравствуйте, Ada!', { groupMessage: groupRef('701'), template })]);
    const state = foldConversation([started, replied('r1', 'hi', { template })]);
    assert.deepEqual(state.messages.get('r1')?.template, template);
  });

  test('an answer without one records none', () => {
    given([started])
      .when(reply('r1', 'hi'))
      .then([replied('r1', 'hi')]);
  });
});
