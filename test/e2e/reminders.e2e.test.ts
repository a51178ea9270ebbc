// Reminders and the daily digest end to end (docs/design.md, "Reminders and the daily digest"), the
// whole app on the Telegram stand-in with a clock the test moves: the first reminder after the wait,
// the assignee mentioned, the second after the repeat, none past the cap, none once answered, none
// twice across a restart or when a second instance takes over; the digest posted once at its hour
// with the day's figures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message } from 'grammy/types';
import { pino } from 'pino';
import { startApp } from '../../src/app/app.ts';
import { responseReport, waitingNow } from '../../src/projections/read-models/reports-query.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';

const MINUTE = 60_000;

describe('reminders in the topics of waiting clients', () => {
  let h: Harness;
  let clock = Date.now();
  before(async () => {
    h = await startHarness(
      { REMIND_AFTER_MINUTES: '30', REMIND_REPEAT_MINUTES: '20', REMIND_MAX: '2' },
      { now: () => new Date(clock) },
    );
  });
  after(async () => {
    await h.stop();
  });

  const seconds = (ms: number) => Math.floor(ms / 1000);
  /** A client writes at the clock's time; answers once the topic holds the copy and the read model knows the wait. */
  const clientWrites = async (user: StandInUser, text: string) => {
    const update = h.tg.privateMessage(user, { text }, { date: seconds(clock) });
    await h.send(update);
    await h.topicCopyOf(user.id, update.message!.message_id);
    await readModelShows(user, (row) => row?.waiting_since !== null);
    return h.topicOf(user.id);
  };
  const readModelShows = (
    user: StandInUser,
    ok: (row: { waiting_since: Date | null } | undefined) => boolean,
  ) =>
    waitFor('the read model', async () => {
      const { rows } = await h.db.pool.query<{ waiting_since: Date | null }>(
        'SELECT waiting_since FROM rm_conversations WHERE conversation_id = $1',
        [h.conversationOf(user.id)],
      );
      return ok(rows[0]) || undefined;
    });
  const reminders = (topic: number): Message[] =>
    h.tg.messagesIn(h.tg.supportChatId, topic).filter((m) => m.from?.is_bot && m.text?.startsWith('⏰'));
  const at = async (minutes: number, start: number) => {
    clock = start + minutes * MINUTE;
    await h.app.reminders!.tick();
  };

  it('reminds after the wait, again after the repeat, not past the cap; mentions the assignee; never twice', async () => {
    const start = clock;
    const olga = h.tg.addUser({ first_name: 'Olga' });
    const olgaTopic = await clientWrites(olga, 'Where is my order?');

    await at(29, start);
    assert.deepEqual(reminders(olgaTopic), [], 'not before 30 minutes');
    await at(30, start);
    const first = reminders(olgaTopic);
    assert.equal(first.length, 1, 'one reminder at 30 minutes');
    assert.match(
      first[0]!.text!,
      /^⏰ Reminder 1 of 2: the client has been waiting for an answer for 30 min/,
    );
    assert.match(first[0]!.text!, /nobody has the conversation \(\/take\)/);

    // Gina takes it: the next reminder mentions her, by user id (a text mention).
    const gina = h.tg.addManager({ first_name: 'Gina' });
    await h.send(h.tg.groupMessage(gina, olgaTopic, { text: '/take' }));
    await at(49, start);
    assert.equal(reminders(olgaTopic).length, 1, 'the repeat counts from the first reminder');
    await at(50, start);
    const second = reminders(olgaTopic).at(-1)!;
    assert.equal(reminders(olgaTopic).length, 2);
    assert.match(
      second.text!,
      /^⏰ Gina, reminder 2 of 2: the client has been waiting for an answer for 50 min/,
    );
    assert.deepEqual(
      second.entities?.find((e) => e.type === 'text_mention'),
      {
        type: 'text_mention',
        offset: 2,
        length: 4,
        user: { id: gina.id, is_bot: false, first_name: 'Gina' },
      },
    );

    // The cap: no third, however long she waits.
    await at(500, start);
    assert.equal(reminders(olgaTopic).length, 2, 'REMIND_MAX=2');

    // Recorded, each once, with the assignee it mentioned.
    const recorded = await h.events({ type: 'ReminderSent', conversationId: h.conversationOf(olga.id) });
    assert.deepEqual(
      recorded.map((e) => [
        e.data.number,
        e.data.assigneeName ?? null,
        (e.metadata.actor as { id: string }).id,
      ]),
      [
        [1, null, 'reminders'],
        [2, 'Gina', 'reminders'],
      ],
    );

    // A restart does not post any of them again.
    await h.restart();
    await h.app.reminders!.leading;
    await at(501, start);
    assert.equal(reminders(olgaTopic).length, 2, 'nothing again after a restart');
  });

  it('an answer before the wait is over means no reminder; the next question starts a new wait', async () => {
    const start = clock;
    const nick = h.tg.addUser({ first_name: 'Nick' });
    const topic = await clientWrites(nick, 'Hi, a question');
    const gina = h.tg.addManager({ first_name: 'Gina' });
    clock = start + 10 * MINUTE;
    await h.send(
      h.tg.groupMessage(gina, topic, { text: 'Hello Nick, looking into it' }, { date: seconds(clock) }),
    );
    await readModelShows(nick, (row) => row?.waiting_since === null);
    await at(45, start);
    assert.deepEqual(reminders(topic), [], 'answered at 10 minutes: no reminder');

    await clientWrites(nick, 'Any news?');
    await at(45 + 29, start);
    assert.deepEqual(reminders(topic), []);
    await at(45 + 30, start);
    assert.equal(reminders(topic).length, 1, 'the new wait has its own reminders');
    assert.match(reminders(topic)[0]!.text!, /Reminder 1 of 2: .* for 30 min/);
  });
  it('two instances: one posts; when it stops, the other takes over without posting anything again', async () => {
    const second = await startApp(h.config({ LOG_LEVEL: 'silent' }), pino({ level: 'silent' }), {
      now: () => new Date(clock),
    });
    try {
      const start = clock;
      const vera = h.tg.addUser({ first_name: 'Vera' });
      const topic = await clientWrites(vera, 'Is anyone there?');
      assert.equal(h.app.reminders!.isLeader(), true);
      assert.equal(second.reminders!.isLeader(), false, 'one instance leads the reminders');
      await at(30, start);
      assert.equal(reminders(topic).length, 1);

      // The leader goes; the other takes the lock over and repeats nothing it posted.
      await h.app.stop();
      await second.reminders!.leading;
      await second.reminders!.tick();
      assert.equal(reminders(topic).length, 1, 'nothing posted twice by the new leader');
      clock = start + 50 * MINUTE;
      await second.reminders!.tick();
      assert.equal(reminders(topic).length, 2, 'the next one comes from the new leader');
      const recorded = await h.events({ type: 'ReminderSent', conversationId: h.conversationOf(vera.id) });
      assert.deepEqual(
        recorded.map((e) => e.data.number),
        [1, 2],
      );
    } finally {
      await second.stop();
    }
  });
});

describe('the daily digest in General', () => {
  let h: Harness;
  // The day reported: the UTC day an hour ago (all its messages lie in the past), posted the next day at 09:00.
  const dayStart = new Date(Date.now() - 60 * MINUTE).setUTCHours(0, 0, 0, 0);
  let clock = dayStart + 24 * 60 * MINUTE + 9 * 60 * MINUTE - MINUTE;
  before(async () => {
    h = await startHarness({ DIGEST_HOUR: '9', DIGEST_TIME_ZONE: 'UTC' }, { now: () => new Date(clock) });
  });
  after(async () => {
    await h.stop();
  });

  const date = (minute: number) => Math.floor((dayStart + minute * MINUTE) / 1000);
  const digests = () => h.tg.generalMessages().filter((m) => m.from?.is_bot && m.text?.startsWith('📊'));

  it('posts yesterday’s conversations, median first response and who waits, once, at the hour', async () => {
    const gina = h.tg.addManager({ first_name: 'Gina' });
    // Answered after 5 minutes and after 2 minutes (median 3.5), and one still waiting.
    for (const [name, asked, answered] of [
      ['Ann', 10, 15],
      ['Bob', 20, 22],
      ['Cid', 30, undefined],
    ] as const) {
      const user = h.tg.addUser({ first_name: name });
      const question = h.tg.privateMessage(user, { text: `Question from ${name}` }, { date: date(asked) });
      await h.send(question);
      await h.topicCopyOf(user.id, question.message!.message_id);
      if (answered !== undefined) {
        const topic = await h.topicOf(user.id);
        await h.send(h.tg.groupMessage(gina, topic, { text: `Answer to ${name}` }, { date: date(answered) }));
      }
    }
    const day = {
      from: new Date(dayStart),
      to: new Date(dayStart + 24 * 60 * MINUTE),
      groupBy: 'day' as const,
    };
    await waitFor('the reports projection', async () => {
      const [report, waiting] = await Promise.all([
        responseReport(h.db.pool, day),
        waitingNow(h.db.pool, new Date(clock)),
      ]);
      return report.total.first_response.count === 2 && waiting.waiting === 1 ? true : undefined;
    });

    await h.app.reminders!.tick();
    assert.deepEqual(digests(), [], 'not before 09:00');

    clock += MINUTE; // 09:00
    await h.app.reminders!.tick();
    const reported = new Date(dayStart).toISOString().slice(0, 10);
    assert.deepEqual(
      digests().map((m) => [m.text, m.message_thread_id]),
      [
        [
          `📊 Yesterday, ${reported}: 3 conversations, median first response 4 min. Waiting for an answer now: 1 (1 unassigned).`,
          undefined,
        ],
      ],
    );
    const [posted] = await h.events({ type: 'DigestPosted' });
    assert.deepEqual(posted?.data, {
      day: reported,
      timeZone: 'UTC',
      conversations: 3,
      medianFirstResponseS: 210,
      waiting: 1,
      unassigned: 1,
    });

    // Later that hour, and after a restart: still one.
    clock += 30 * MINUTE;
    await h.app.reminders!.tick();
    await h.restart();
    await h.app.reminders!.leading;
    await h.app.reminders!.tick();
    assert.equal(digests().length, 1, 'one digest a day');
    assert.equal((await h.events({ type: 'DigestPosted' })).length, 1);
  });
});
