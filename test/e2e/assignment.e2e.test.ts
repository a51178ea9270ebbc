// Assignment end to end (docs/design.md, "Assignment"): /take, /assign (by @username, by a reply),
// /unassign in a topic, the contact card naming the assignee, /waiting in General listing the
// waiting conversations oldest first with links to their topics, and the audit's words.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message, User } from 'grammy/types';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import type { StandInUser } from '../support/telegram-stand-in.ts';

const ADMIN_TOKEN = 'admin-token-for-the-assignment-tests-01';

describe('assignment in Telegram topics', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ ADMIN_TOKEN });
  });
  after(async () => {
    await h.stop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const clientWithTopic = async (user: StandInUser, name: string, date: number) => {
    const first = h.tg.privateMessage(user, { text: `Hello from ${name}` }, { date });
    await h.send(first);
    await h.topicCopyOf(user.id, first.message!.message_id);
    return h.topicOf(user.id);
  };
  /** The contact card at the top of the topic, as it reads now. */
  const cardOf = (topic: number, conversationId: string): Message | undefined =>
    h.tg
      .messagesIn(h.tg.supportChatId, topic)
      .find((m) => m.from?.is_bot && m.text?.includes(conversationId));
  const cardShows = (topic: number, conversationId: string, line: string) =>
    waitFor(
      `the card showing ${line}`,
      () => cardOf(topic, conversationId)?.text?.includes(line) || undefined,
    );
  /** What the bot answered to message `m`. */
  const answerTo = (m: { message?: Message }) =>
    h.tg
      .messagesIn(h.tg.supportChatId, m.message!.message_thread_id)
      .filter((x) => x.from?.is_bot && x.reply_to_message?.message_id === m.message!.message_id)
      .map((x) => x.text ?? '');
  const command = async (who: User, topic: number, text: string, replyTo?: number) => {
    const update = h.tg.groupMessage(who, topic, { text }, replyTo ? { reply_to_message_id: replyTo } : {});
    const outcome = await h.send(update);
    return { outcome, said: answerTo(update) };
  };
  const waiting = async (who: User) => {
    const update = h.tg.generalMessage(who, { text: '/waiting' });
    assert.equal(await h.send(update), 'ignored');
    const said = h.tg
      .generalMessages()
      .filter((x) => x.from?.is_bot && x.reply_to_message?.message_id === update.message!.message_id);
    assert.equal(said.length, 1, 'one answer in General');
    assert.equal(said[0]!.message_thread_id, undefined, 'answered in General');
    return said[0]!.text ?? '';
  };
  const link = (topic: number) =>
    `https://t.me/c/${String(h.tg.supportChatId).replace(/^-100/, '')}/${topic}`;

  it('/take, /assign and /unassign change the assignee, the card shows it, and /waiting lists oldest first', async () => {
    const older = h.tg.addUser({ first_name: 'Olga' });
    const newer = h.tg.addUser({ first_name: 'Nick' });
    const olderTopic = await clientWithTopic(older, 'Olga', now() - 600);
    const newerTopic = await clientWithTopic(newer, 'Nick', now() - 300);
    const olderId = h.conversationOf(older.id);
    const newerId = h.conversationOf(newer.id);
    const gina = h.tg.addManager({ first_name: 'Gina', username: 'gina_support' });
    const linus = h.tg.addManager({ first_name: 'Linus', last_name: 'T', username: 'linus_t' });
    await cardShows(olderTopic, olderId, '🙋 Not assigned');

    // /take: the manager who wrote it has the conversation.
    const take = await command(gina, olderTopic, '/take');
    assert.equal(take.outcome, 'recorded');
    assert.deepEqual(take.said, ['🙋 Assigned to Gina.']);
    await cardShows(olderTopic, olderId, '🙋 Assigned to: Gina');
    assert.deepEqual((await command(gina, olderTopic, '/take')).said, ['Already assigned to Gina.']);

    // /assign @username: someone the bot has not seen write in the group is not guessed at.
    const unknown = await command(gina, olderTopic, '/assign @linus_t');
    assert.equal(unknown.outcome, 'ignored');
    assert.match(unknown.said[0]!, /I have not seen @linus_t write in this group/);
    // Once Linus has written (in General, here), the name resolves.
    await h.send(h.tg.generalMessage(linus, { text: 'morning all' }));
    const assign = await command(gina, olderTopic, '/assign @Linus_T');
    assert.equal(assign.outcome, 'recorded');
    assert.deepEqual(assign.said, ['🙋 Assigned to Linus T.']);
    await cardShows(olderTopic, olderId, '🙋 Assigned to: Linus T');

    // /assign as a reply to a member's message in the topic (a note, so the client sees nothing).
    const note = h.tg.groupMessage(linus, newerTopic, { text: '/note I know this client' });
    assert.equal(await h.send(note), 'recorded');
    const byReply = await command(gina, newerTopic, '/assign', note.message!.message_id);
    assert.equal(byReply.outcome, 'recorded');
    assert.deepEqual(byReply.said, ['🙋 Assigned to Linus T.']);
    await cardShows(newerTopic, newerId, '🙋 Assigned to: Linus T');
    assert.match((await command(gina, newerTopic, '/assign')).said[0]!, /Not done: .*\/assign @username/);

    // /unassign, then again: nobody to remove.
    const unassign = await command(gina, olderTopic, '/unassign');
    assert.equal(unassign.outcome, 'recorded');
    assert.deepEqual(unassign.said, ['Unassigned (was Linus T).']);
    await cardShows(olderTopic, olderId, '🙋 Not assigned');
    assert.deepEqual((await command(gina, olderTopic, '/unassign')).said, [
      'Not done: the conversation has no assignee.',
    ]);

    // Recorded with the actor: who gave it, to whom.
    const events = await h.events({
      type: ['ConversationAssigned', 'ConversationUnassigned'],
      conversationId: olderId,
    });
    assert.deepEqual(
      events.map((e) => [e.type, (e.metadata.actor as { id: string }).id, e.data]),
      [
        ['ConversationAssigned', String(gina.id), { assigneeId: String(gina.id), assigneeName: 'Gina' }],
        ['ConversationAssigned', String(gina.id), { assigneeId: String(linus.id), assigneeName: 'Linus T' }],
        [
          'ConversationUnassigned',
          String(gina.id),
          { previousAssigneeId: String(linus.id), previousAssigneeName: 'Linus T' },
        ],
      ],
    );
    // Nothing of it reached either client.
    for (const user of [older, newer])
      assert.deepEqual(
        h.tg.messagesIn(user.chat.id).filter((m) => m.from?.is_bot),
        [],
      );

    // /waiting in General: oldest first, with links; the unassigned one counted.
    const listed = await waitFor('both conversations in the waiting list', async () => {
      const text = await waiting(gina);
      return text.includes(link(newerTopic)) && text.includes('Linus T') ? text : undefined;
    });
    const lines = listed.split('\n');
    assert.equal(lines[0], 'Waiting for an answer: 2 (1 unassigned), oldest first:');
    assert.ok(lines[1]!.includes(link(olderTopic)) && lines[1]!.endsWith('— unassigned'), lines[1]);
    assert.ok(lines[2]!.includes(link(newerTopic)) && lines[2]!.endsWith('— Linus T'), lines[2]);
    assert.equal(lines.length, 3);

    // An answer ends the wait.
    const answer = h.tg.groupMessage(gina, olderTopic, { text: 'Here to help' });
    await h.send(answer);
    await h.clientCopyOf(older.id, answer.message!.message_id);
    const after = await waitFor('the answered one gone', async () => {
      const text = await waiting(gina);
      return text.includes(link(olderTopic)) ? undefined : text;
    });
    assert.equal(after.split('\n')[0], 'Waiting for an answer: 1 (0 unassigned), oldest first:');

    // The audit history puts the events into words, with the actor.
    const res = await fetch(`${h.url}/api/admin/conversations/${olderId}/events`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(res.status, 200);
    const audit = (await res.json()) as {
      events: { type: string; summary: string; actor: { id: string } }[];
    };
    assert.deepEqual(
      audit.events.filter((e) => e.type.includes('ssigned')).map((e) => [e.summary, e.actor.id]),
      [
        [`assigned to Gina (${gina.id})`, String(gina.id)],
        [`assigned to Linus T (${linus.id})`, String(gina.id)],
        [`unassigned (was Linus T, ${linus.id})`, String(gina.id)],
      ],
    );
  });
});
