// What a failed Bot API call means (src/adapters/telegram/errors.ts), for errors grammY raises from
// the Telegram stand-in's answers: Telegram's own error codes and descriptions, and its faults.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Api, GrammyError, InputFile } from 'grammy';
import {
  isTopicGone,
  isUnreachable,
  isUnreachableReason,
  refusal,
  type TelegramFailure,
  telegramFailure,
} from '../../src/adapters/telegram/errors.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';

const failureOf = async (call: Promise<unknown>): Promise<{ error: unknown; failure: TelegramFailure }> => {
  try {
    await call;
  } catch (error) {
    const failure = telegramFailure(error);
    assert.ok(failure, `not a Telegram failure: ${String(error)}`);
    return { error, failure };
  }
  assert.fail('expected the call to fail');
};

describe('telegram errors: what a failed Bot API call means', () => {
  let tg: TelegramStandIn;
  let api: Api;
  const group = () => tg.supportChatId;

  before(async () => {
    tg = await startTelegramStandIn();
    api = new Api(tg.token, { apiRoot: tg.apiRoot, timeoutSeconds: 5 });
  });
  after(async () => {
    await tg.close();
  });

  it('a topic deleted by hand is gone, whichever way Telegram says it', async () => {
    const topic = await api.createForumTopic(group(), 'Doomed');
    tg.deleteTopic(topic.message_thread_id);
    const send = await failureOf(
      api.sendMessage(group(), 'hello', { message_thread_id: topic.message_thread_id }),
    );
    assert.equal(send.failure.reason, 'Bad Request: message thread not found');
    const reopen = await failureOf(api.reopenForumTopic(group(), topic.message_thread_id));
    assert.equal(reopen.failure.reason, 'Bad Request: TOPIC_ID_INVALID');
    for (const { error, failure } of [send, reopen]) {
      assert.deepEqual([failure.kind, failure.retry, failure.code], ['topic-gone', false, 400]);
      assert.equal(isTopicGone(error), true);
    }
    // Telegram's third wording, seen from sendMessages (the stand-in does not use it).
    const deleted = new GrammyError(
      "Call to 'sendMessage' failed!",
      { ok: false, error_code: 400, description: 'Bad Request: TOPIC_DELETED' },
      'sendMessage',
      {},
    );
    assert.equal(refusal(deleted)?.kind, 'topic-gone');
  });

  it('an edit that changes nothing, or a topic already closed, is not modified: not a refusal to report', async () => {
    const alice = tg.addUser({ first_name: 'Alice' });
    const sent = await api.sendMessage(alice.id, 'same');
    const edit = await failureOf(api.editMessageText(alice.id, sent.message_id, 'same'));
    assert.match(edit.failure.reason, /^Bad Request: message is not modified/);
    const topic = await api.createForumTopic(group(), 'Closing');
    await api.closeForumTopic(group(), topic.message_thread_id);
    const close = await failureOf(api.closeForumTopic(group(), topic.message_thread_id));
    assert.equal(close.failure.reason, 'Bad Request: TOPIC_NOT_MODIFIED');
    for (const { failure } of [edit, close]) assert.equal(failure.kind, 'not-modified');
  });

  it("a message to copy, edit, delete or react to that is not there (or can't be changed) is gone", async () => {
    const bob = tg.addUser({ first_name: 'Bob' });
    const copy = await failureOf(api.copyMessage(group(), bob.id, 999_999));
    assert.equal(copy.failure.reason, 'Bad Request: message to copy not found');
    const edit = await failureOf(api.editMessageText(bob.id, 999_999, 'x'));
    assert.equal(edit.failure.reason, 'Bad Request: message to edit not found');
    const remove = await failureOf(api.deleteMessage(bob.id, 999_999));
    assert.equal(remove.failure.reason, 'Bad Request: message to delete not found');
    const react = await failureOf(api.setMessageReaction(group(), 999_999, [{ type: 'emoji', emoji: '✍' }]));
    assert.equal(react.failure.reason, 'Bad Request: message to react not found');
    for (const { error, failure } of [copy, edit, remove, react]) {
      assert.deepEqual([failure.kind, failure.retry], ['message-gone', false]);
      assert.equal(isTopicGone(error), false);
      assert.equal(isUnreachable(failure), false);
    }
  });

  it('a client who blocked the bot, never started it, or whose chat Telegram does not know is unreachable', async () => {
    const carol = tg.addUser({ first_name: 'Carol' });
    await api.sendMessage(carol.id, 'welcome');
    tg.blockBot(carol.id);
    const blocked = await failureOf(api.sendMessage(carol.id, 'are you there?'));
    assert.deepEqual(
      [blocked.failure.kind, blocked.failure.code, blocked.failure.reason],
      ['blocked', 403, 'Forbidden: bot was blocked by the user'],
    );
    const stranger = tg.addUser({ first_name: 'Dave', started: false });
    const never = await failureOf(api.sendMessage(stranger.id, 'hi'));
    assert.equal(never.failure.reason, "Forbidden: bot can't initiate conversation with a user");
    const unknown = await failureOf(api.sendMessage(123_456_789, 'hi'));
    assert.equal(unknown.failure.reason, 'Bad Request: chat not found');
    for (const { failure } of [never, unknown]) assert.equal(failure.kind, 'unreachable');
    for (const { failure } of [blocked, never, unknown]) {
      assert.equal(isUnreachable(failure), true);
      assert.equal(failure.retry, false);
      // As recorded in DeliveryFailed.reason, the description alone says the same.
      assert.equal(isUnreachableReason(failure.reason), true);
    }
    assert.equal(isUnreachableReason('Bad Request: message to copy not found'), false);
    assert.equal(isUnreachableReason(undefined), false);
  });

  it('any other 4xx is refused for good; a wrong token is unauthorized', async () => {
    const eve = tg.addUser({ first_name: 'Eve' });
    const long = await failureOf(api.sendMessage(eve.id, 'x'.repeat(5000)));
    assert.deepEqual(
      [long.failure.kind, long.failure.retry, long.failure.reason],
      ['refused', false, 'Bad Request: message is too long'],
    );
    assert.deepEqual(refusal(long.error), long.failure);
    const wrong = new Api('123:wrong', { apiRoot: tg.apiRoot, timeoutSeconds: 5 });
    const token = await failureOf(wrong.getMe());
    assert.deepEqual([token.failure.kind, token.failure.code], ['unauthorized', 401]);
  });

  it('429 is retried after retry_after; 5xx and the network are retried; none of them is a refusal', async () => {
    const frank = tg.addUser({ first_name: 'Frank' });
    tg.failNext('sendMessage', { error_code: 429, retry_after: 7 });
    const flood = await failureOf(api.sendMessage(frank.id, 'hi'));
    assert.deepEqual(
      [flood.failure.kind, flood.failure.retry, flood.failure.retryAfterMs, flood.failure.reason],
      ['rate-limited', true, 7000, 'Too Many Requests: retry after 7'],
    );
    tg.failNext('sendMessage', { error_code: 500 });
    const server = await failureOf(api.sendMessage(frank.id, 'hi'));
    assert.deepEqual([server.failure.kind, server.failure.retry, server.failure.code], ['server', true, 500]);
    tg.failNext('sendMessage', 'reset');
    const reset = await failureOf(api.sendMessage(frank.id, 'hi'));
    tg.failNext('sendMessage', 'bad-gateway');
    const gateway = await failureOf(api.sendMessage(frank.id, 'hi'));
    for (const { failure } of [reset, gateway]) {
      assert.deepEqual([failure.kind, failure.retry, failure.code], ['network', true, undefined]);
      assert.match(failure.reason, /^Network request for 'sendMessage' failed!/);
    }
    for (const { error } of [flood, server, reset, gateway]) assert.equal(refusal(error), undefined);
  });

  it('a local file that cannot be read is not the network: trying again would read it no better', async () => {
    const gina = tg.addUser({ first_name: 'Gina' });
    const missing = await failureOf(api.sendDocument(gina.id, new InputFile('/nonexistent/topicdesk.pdf')));
    assert.deepEqual([missing.failure.kind, missing.failure.retry], ['unreadable-upload', false]);
    assert.equal(refusal(missing.error), undefined, 'Telegram refused nothing: it never saw the file');
  });

  it('anything else (an abort, a bug) is not a Telegram failure', () => {
    assert.equal(telegramFailure(new Error('boom')), undefined);
    assert.equal(telegramFailure(new DOMException('aborted', 'AbortError')), undefined);
    assert.equal(refusal('not even an error'), undefined);
  });
});
