// A long conversation across a restart: the app starts again with nothing in memory, so what it
// knows of the conversation's oldest messages comes from the conversation-state read model (its core
// trailing the stream by fewer than SNAPSHOT_EVERY events) and the stream's tail, not from a fold of the whole history. Replies, edits and deletions of the oldest
// messages — each side's — must still find their copies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Update } from 'grammy/types';
import { SNAPSHOT_EVERY } from '../../src/projections/read-models/conversation-state.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';

const LENGTH = Number(process.env.LONG_CONVERSATION_MESSAGES ?? 400);

describe('a long conversation across a restart', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('replies to, edits and deletions of its oldest messages still work', async () => {
    const user = h.tg.addUser({ first_name: 'Longtime' });
    const manager = h.tg.addManager({ first_name: 'Vera' });
    const first = h.tg.privateMessage(user, { text: 'my very first message' });
    await h.send(first);
    const firstCopy = await h.topicCopyOf(user.id, first.message!.message_id);
    const topic = await h.topicOf(user.id);
    const answer = h.tg.groupMessage(manager, topic, { text: 'the very first answer' });
    await h.send(answer);
    const answerCopy = await h.clientCopyOf(user.id, answer.message!.message_id);

    // The conversation grows: client messages and answers, sent a few at a time.
    const rest: Update[] = [];
    for (let i = 0; i < LENGTH; i++)
      rest.push(
        i % 4 === 3
          ? h.tg.groupMessage(manager, topic, { text: `answer ${i}` })
          : h.tg.privateMessage(user, { text: `message ${i}` }),
      );
    for (let i = 0; i < rest.length; i += 8)
      await Promise.all(rest.slice(i, i + 8).map(async (u) => assert.equal(await h.send(u), 'recorded')));
    const conversationId = h.conversationOf(user.id);
    await waitFor(
      'every message carried',
      async () => {
        const forwarded = await h.events({ type: 'ClientMessageForwarded', conversationId });
        const delivered = await h.events({ type: 'ReplyDelivered', conversationId });
        return forwarded.length + delivered.length >= LENGTH + 2 ? true : undefined;
      },
      120_000,
    );
    // The read model has every event; the core it stores trails the stream's end by fewer than
    // SNAPSHOT_EVERY events, which the reader folds from the log after the restart.
    const last = (await h.events({ conversationId })).length - 1;
    await waitFor('the conversation-state read model caught up', async () => {
      const { rows } = await h.db.pool.query<{ done: boolean; revision: string }>(
        `SELECT (p.checkpoint_commit, p.checkpoint_prepare) >= (e.transaction_id::text::bigint, e.position) AS done,
                (SELECT revision::text FROM rm_conversation_state WHERE conversation_id = $2) AS revision
           FROM td_projections p,
                (SELECT transaction_id, position FROM td_events WHERE stream = $1 ORDER BY revision DESC LIMIT 1) e
          WHERE p.name = 'conversation-state' AND p.status = 'active'`,
        [`conversation-${conversationId}`, conversationId],
      );
      return rows[0]?.done ? rows[0] : undefined;
    }).then((row) => {
      const stored = Number(row.revision);
      assert.ok(
        stored > last - SNAPSHOT_EVERY && stored <= last,
        `core stored at ${stored}, stream at ${last}`,
      );
    });

    await h.restart();

    // A manager replies to the copy of the client's first message: the client sees a reply to it.
    const reply = h.tg.groupMessage(
      manager,
      topic,
      { text: 'about your first message' },
      { reply_to_message_id: firstCopy.message_id },
    );
    assert.equal(await h.send(reply), 'recorded');
    const replyCopy = await h.clientCopyOf(user.id, reply.message!.message_id);
    assert.equal(replyCopy.reply_to_message?.message_id, first.message!.message_id);

    // The client edits their first message: its copy in the topic is edited.
    const edit = h.tg.editedPrivateMessage(user, first.message!.message_id, {
      text: 'my very first message, edited',
    });
    assert.equal(await h.send(edit), 'recorded');
    await waitFor(
      'the first copy edited',
      () =>
        h.tg.message(h.tg.supportChatId, firstCopy.message_id)?.text === 'my very first message, edited' ||
        undefined,
    );

    // The client replies to the first answer: the copy in the topic replies to that answer.
    const clientReply = h.tg.privateMessage(
      user,
      { text: 'thanks for the first answer' },
      { reply_to_message_id: answerCopy.message_id },
    );
    assert.equal(await h.send(clientReply), 'recorded');
    const clientReplyCopy = await h.topicCopyOf(user.id, clientReply.message!.message_id);
    assert.equal(clientReplyCopy.reply_to_message?.message_id, answer.message!.message_id);

    // The manager deletes the first answer: it goes from the client's chat.
    const remove = h.tg.groupMessage(
      manager,
      topic,
      { text: '/delete' },
      { reply_to_message_id: answer.message!.message_id },
    );
    assert.equal(await h.send(remove), 'recorded');
    await waitFor('the first answer gone from the client’s chat', () =>
      h.tg.message(user.chat.id, answerCopy.message_id) === undefined ? true : undefined,
    );
  });
});
