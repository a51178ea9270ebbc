// Reminders given/when/then (docs/design.md, "Reminders and the daily digest"): when one falls due,
// the repeat and the cap, what resets them (an answer, a close), what RecordReminder records and
// refuses, waiting counted in working hours, the assignee's mention, and the digest's day.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { digestDay, digestText } from '../../src/adapters/reminders/digest.ts';
import { reminderText, withMention } from '../../src/adapters/reminders/reminders.ts';
import { openDeadline } from '../../src/adapters/reminders/working-time.ts';
import type { ConversationCommand } from '../../src/domain/conversation.ts';
import { decide } from '../../src/domain/conversation-decide.ts';
import { type Folded, foldConversation } from '../../src/domain/conversation-fold.ts';
import { DomainError } from '../../src/domain/errors.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import { dueReminder, nextReminder, type ReminderPolicy } from '../../src/domain/reminders.ts';
import type { WorkingHours } from '../../src/domain/settings/hours.ts';
import { summarize } from '../../src/projections/history-summary.ts';
import { createTexts, shippedTexts } from '../../src/texts/texts.ts';
import { received, replied, started, topicOpened } from './conversation-fixtures.ts';

const T0 = Date.parse('2026-12-04T10:00:00Z');
const min = (m: number) => new Date(T0 + m * 60_000);
const iso = (m: number) => min(m).toISOString();
/** After 30 minutes, again every 20, at most 3. */
const policy: ReminderPolicy = { afterMs: 30 * 60_000, repeatMs: 20 * 60_000, max: 3 };

/** A history with when each event happened (minutes after T0): the wait is counted from them. */
type Timed = readonly [number, ConversationEvent];
const fold = (history: readonly Timed[]) =>
  foldConversation(history.map(([m, event], revision): Folded => ({ event, revision, at: iso(m) })));
const reminded = (waitingSince: number, number: number, assignee?: [string, string]): ConversationEvent => ({
  type: 'ReminderSent',
  data: {
    waitingSince: iso(waitingSince),
    number,
    topicId: '77',
    ...(assignee ? { assigneeId: assignee[0], assigneeName: assignee[1] } : {}),
  },
});
const waiting: Timed[] = [
  [0, started],
  [0, received('m1')],
  [0, topicOpened()],
];

/** given(history).at(minute).then(the number of the reminder due, or none). */
const given = (history: readonly Timed[]) => ({
  at: (minute: number) => ({
    // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; never awaited.
    then(expected: number | 'none') {
      const due = dueReminder(fold(history), policy, min(minute));
      assert.equal(due?.number ?? 'none', expected, `at minute ${minute}`);
    },
  }),
  when: (command: ConversationCommand) => ({
    // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; never awaited.
    then(expected: readonly ConversationEvent[] | string) {
      const state = fold(history);
      if (typeof expected === 'string')
        assert.throws(
          () => decide(command, state),
          (e: unknown) => e instanceof DomainError && e.code === expected,
        );
      else assert.deepStrictEqual(decide(command, state), expected);
    },
  }),
});
const recordReminder = (waitingSince: number, number: number): ConversationCommand => ({
  type: 'RecordReminder',
  waitingSince: iso(waitingSince),
  number,
});

describe('when a reminder is due', () => {
  test('given a client waiting since minute 0, the first reminder is due at minute 30, not before', () => {
    given(waiting).at(29).then('none');
    given(waiting).at(30).then(1);
  });

  test('given the first was recorded at minute 31, the second is due 20 minutes after it (minute 51)', () => {
    const history: Timed[] = [...waiting, [31, reminded(0, 1)]];
    given(history).at(50).then('none');
    given(history).at(51).then(2);
  });

  test('given a reminder was posted late, the next one still waits the repeat period after it', () => {
    // Due at 30, posted at 200 (the service was down): the second at 220, not at once.
    const history: Timed[] = [...waiting, [200, reminded(0, 1)]];
    given(history).at(219).then('none');
    given(history).at(220).then(2);
  });

  test('given three reminders of this wait, none more comes (the cap)', () => {
    const history: Timed[] = [...waiting, [30, reminded(0, 1)], [50, reminded(0, 2)], [70, reminded(0, 3)]];
    given(history).at(10_000).then('none');
    assert.equal(nextReminder(fold(history), policy), undefined);
  });

  test("given a manager answered, none is due; the client's next message starts a new wait and new reminders", () => {
    const answered: Timed[] = [...waiting, [30, reminded(0, 1)], [40, replied('a1')]];
    given(answered).at(500).then('none');
    const again: Timed[] = [...answered, [100, received('m2')]];
    given(again).at(129).then('none');
    given(again).at(130).then(1);
    assert.equal(fold(again).waitingSince, iso(100));
  });

  test('given a second message while waiting, the wait still counts from the first', () => {
    given([...waiting, [20, received('m2')]])
      .at(30)
      .then(1);
  });

  test('an automatic reply (welcome, off hours) is no answer: the client still waits', () => {
    const auto = replied('w1', 'Welcome', { managerId: 'auto-reply', automatic: { reason: 'welcome' } });
    given([...waiting, [1, auto]])
      .at(30)
      .then(1);
  });

  test('given the conversation was closed, none is due; a client writing again waits from then', () => {
    const closed: Timed[] = [...waiting, [10, { type: 'ConversationClosed', data: {} }]];
    given(closed).at(100).then('none');
    const reopened: Timed[] = [
      ...closed,
      [60, { type: 'ConversationReopened', data: {} }],
      [60, received('m2')],
    ];
    given(reopened).at(89).then('none');
    given(reopened).at(90).then(1);
  });

  test('given no topic (not opened yet, or lost), none is due: there is nowhere to post it', () => {
    given([
      [0, started],
      [0, received('m1')],
    ])
      .at(100)
      .then('none');
  });
});

describe('RecordReminder', () => {
  test('given a client waiting, when reminder 1 is recorded, then ReminderSent names the wait, the topic and the assignee', () => {
    given(waiting)
      .when(recordReminder(0, 1))
      .then([reminded(0, 1)]);
    const withAssignee: Timed[] = [
      ...waiting,
      [1, { type: 'ConversationAssigned', data: { assigneeId: '42', assigneeName: 'Grace' } }],
    ];
    given(withAssignee)
      .when(recordReminder(0, 1))
      .then([reminded(0, 1, ['42', 'Grace'])]);
  });

  test('given reminder 1 was recorded, recording it again records nothing (a second instance, a replay)', () => {
    given([...waiting, [30, reminded(0, 1)]])
      .when(recordReminder(0, 1))
      .then([]);
    given([...waiting, [30, reminded(0, 1)]])
      .when(recordReminder(0, 2))
      .then([reminded(0, 2)]);
  });

  test('given the client was answered, or waits since another time, nothing is recorded', () => {
    given([...waiting, [5, replied('a1')]])
      .when(recordReminder(0, 1))
      .then([]);
    given(waiting).when(recordReminder(3, 1)).then([]);
    given([...waiting, [5, { type: 'ConversationClosed', data: {} }]])
      .when(recordReminder(0, 1))
      .then([]);
  });

  test('a number must follow the last one', () => {
    given(waiting).when(recordReminder(0, 2)).then('invalid_command');
    given(waiting).when(recordReminder(0, 0)).then('invalid_command');
  });

  test('the fold keeps the last reminder, and the audit words it', () => {
    const state = fold([...waiting, [30, reminded(0, 1, ['42', 'Grace'])]]);
    assert.deepEqual(state.reminded, { waitingSince: iso(0), number: 1, at: iso(30) });
    assert.equal(
      summarize(reminded(0, 1, ['42', 'Grace'])),
      `reminder 1 in topic 77: the client waits since ${iso(0)}, mentioning Grace (42)`,
    );
  });
});

describe('waiting counted in working hours', () => {
  // Monday to Friday 09:00-18:00 in Berlin (UTC+1 in December).
  const hours: WorkingHours = {
    timeZone: 'Europe/Berlin',
    weekly: {
      mon: ['09:00-18:00'],
      tue: ['09:00-18:00'],
      wed: ['09:00-18:00'],
      thu: ['09:00-18:00'],
      fri: ['09:00-18:00'],
    },
    exceptions: [],
  };
  const deadline = openDeadline(hours);

  test('a client writing on Friday at 17:50 in Berlin waits 30 working minutes until Monday 09:20', () => {
    const friday = new Date('2026-12-04T16:50:00Z'); // 17:50 in Berlin
    assert.equal(deadline(friday, 30 * 60_000)?.toISOString(), '2026-12-07T08:20:00.000Z');
  });

  test('inside working hours it is the wall clock; off hours the wait starts at the opening', () => {
    assert.equal(
      deadline(new Date('2026-12-03T10:00:00Z'), 30 * 60_000)?.toISOString(),
      '2026-12-03T10:30:00.000Z',
    );
    assert.equal(
      deadline(new Date('2026-12-05T12:00:00Z'), 60_000)?.toISOString(),
      '2026-12-07T08:01:00.000Z',
    );
  });

  test('the rule with working hours: not due over the weekend', () => {
    const friday = Date.parse('2026-12-04T16:50:00Z');
    const at = (ms: number) => new Date(friday + ms).toISOString();
    const state = foldConversation(
      [started, received('m1'), topicOpened()].map((event, revision) => ({ event, revision, at: at(0) })),
    );
    assert.equal(dueReminder(state, policy, new Date('2026-12-06T20:00:00Z'), deadline), undefined);
    assert.equal(dueReminder(state, policy, new Date('2026-12-07T08:20:00Z'), deadline)?.number, 1);
  });
});

describe("the reminder's words", () => {
  test('with an assignee: their name as a text mention, at its place in the text (UTF-16 offsets)', async () => {
    const texts = shippedTexts();
    const state = fold([
      ...waiting,
      [1, { type: 'ConversationAssigned', data: { assigneeId: '42', assigneeName: 'Grâce 🌸' } }],
    ]);
    const { text, entities } = await reminderText(
      texts,
      state,
      { waitingSince: iso(0), number: 2 },
      3,
      min(95),
    );
    assert.equal(
      text,
      '⏰ Grâce 🌸, reminder 2 of 3: the client has been waiting for an answer for 1 h 35 min (since 2026-12-04 10:00 UTC).',
    );
    assert.deepEqual(entities, [
      {
        type: 'text_mention',
        offset: 2,
        length: 'Grâce 🌸'.length,
        user: { id: 42, is_bot: false, first_name: 'Grâce 🌸' },
      },
    ]);
    assert.equal(text.slice(entities[0]!.offset, entities[0]!.offset + entities[0]!.length), 'Grâce 🌸');
  });

  test('without one: a plain text asking someone to take it; in Russian when LOCALE=ru', async () => {
    const ru = createTexts({ defaultLocale: 'ru' });
    const { text, entities } = await reminderText(
      ru,
      fold(waiting),
      { waitingSince: iso(0), number: 1 },
      3,
      min(30),
    );
    assert.equal(
      text,
      '⏰ Напоминание 1 из 3: клиент ждёт ответа уже 30 мин (с 2026-12-04 10:00 UTC), ответственного нет (/take).',
    );
    assert.deepEqual(entities, []);
  });

  test('an override that leaves the assignee out gets no mention', async () => {
    const said = await withMention(async () => 'someone, please answer', 'Grace', 42);
    assert.deepEqual(said, { text: 'someone, please answer', entities: [] });
  });
});

describe('the daily digest', () => {
  test('at 09:00 in Berlin it reports the day before, midnight to midnight there', () => {
    const day = digestDay({ hour: 9, timeZone: 'Europe/Berlin' }, new Date('2026-12-04T07:59:00Z'));
    assert.equal(day.postedOn, '2026-12-04');
    assert.equal(day.reports, '2026-12-03');
    assert.equal(day.from.toISOString(), '2026-12-02T23:00:00.000Z');
    assert.equal(day.to.toISOString(), '2026-12-03T23:00:00.000Z');
    assert.equal(day.at.toISOString(), '2026-12-04T08:00:00.000Z');
    assert.equal(day.nextAt.toISOString(), '2026-12-05T08:00:00.000Z');
  });

  test('its words', async () => {
    const texts = shippedTexts();
    assert.equal(
      await digestText(texts, '2026-12-03', {
        conversations: 12,
        medianFirstResponseS: 754,
        waiting: 3,
        unassigned: 1,
      }),
      '📊 Yesterday, 2026-12-03: 12 conversations, median first response 13 min. Waiting for an answer now: 3 (1 unassigned).',
    );
    assert.match(
      await digestText(texts, '2026-12-03', {
        conversations: 0,
        medianFirstResponseS: null,
        waiting: 0,
        unassigned: 0,
      }),
      /median first response —\./,
    );
  });
});
