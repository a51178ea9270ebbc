// The outgoing limiter installed on a real grammY Bot, talking to the Telegram stand-in over HTTP:
// pacing per chat, per group and in all, retries on 429 / 5xx / network faults, and stop().
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Bot, GrammyError } from 'grammy';
import {
  createOutgoingLimiter,
  LimiterStoppedError,
  type OutgoingLimiterOptions,
  type RetryInfo,
} from '../../src/adapters/telegram/limiter.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';

describe('outgoing Telegram limiter', () => {
  let tg: TelegramStandIn;

  before(async () => {
    tg = await startTelegramStandIn();
  });
  after(async () => {
    await tg.close();
  });
  beforeEach(() => {
    tg.clearCalls();
    tg.clearFaults();
  });

  /**
   * A bot whose API goes through a fresh limiter; `retries` collects what onRetry reports. Backoff and
   * per-chat spacing are shortened (a retry takes a new turn in its chat) unless a test sets them.
   */
  const limitedBot = (options: OutgoingLimiterOptions = {}) => {
    const retries: RetryInfo[] = [];
    const limiter = createOutgoingLimiter({
      baseBackoffMs: 20,
      perChatPerSecond: 100,
      ...options,
      onRetry: (info) => {
        retries.push(info);
        options.onRetry?.(info);
      },
    });
    const bot = new Bot(tg.token, {
      client: { apiRoot: tg.apiRoot, timeoutSeconds: 5 },
      botInfo: tg.botInfo,
    });
    bot.api.config.use(limiter.transformer);
    return { bot, limiter, retries };
  };
  const user = (name: string) => tg.addUser({ first_name: name });
  const statuses = (method: string) => tg.callsTo(method).map((c) => c.status ?? c.fault);

  it('waits retry_after on a 429, then retries once', async () => {
    const { bot, retries } = limitedBot();
    const alice = user('Alice');
    tg.failNext('sendMessage', { error_code: 429, retry_after: 1 });
    const started = Date.now();
    const sent = await bot.api.sendMessage(alice.id, 'after the flood');
    assert.ok(Date.now() - started >= 990, `took ${Date.now() - started} ms`);
    assert.equal(sent.text, 'after the flood');
    assert.deepEqual(statuses('sendMessage'), [429, 200]);
    assert.deepEqual(
      retries.map((r) => [r.reason, r.waitMs, r.chatId]),
      [['429', 1000, String(alice.id)]],
    );
    assert.deepEqual(
      tg.messagesIn(alice.id).map((m) => m.text),
      ['after the flood'],
    );
  });

  it('backs off and retries 5xx answers until one succeeds', async () => {
    const { bot, retries } = limitedBot();
    const bob = user('Bob');
    tg.failNext('sendMessage', { error_code: 500 }, 2);
    await bot.api.sendMessage(bob.id, 'third time lucky');
    assert.deepEqual(statuses('sendMessage'), [500, 500, 200]);
    assert.deepEqual(
      retries.map((r) => [r.reason, r.attempt]),
      [
        ['5xx', 1],
        ['5xx', 2],
      ],
    );
    // Exponential with jitter: the second wait's range (20–40 ms) is above the first's (10–20 ms).
    assert.ok(retries[0]!.waitMs >= 10 && retries[0]!.waitMs <= 20);
    assert.ok(retries[1]!.waitMs >= 20 && retries[1]!.waitMs <= 40);
  });

  it('retries after a reset connection and a 502 page that is not JSON', async () => {
    const { bot, retries } = limitedBot();
    const carol = user('Carol');
    tg.failNext('sendMessage', 'reset');
    await bot.api.sendMessage(carol.id, 'through the reset');
    tg.failNext('sendMessage', 'bad-gateway');
    await bot.api.sendMessage(carol.id, 'through the gateway');
    assert.deepEqual(statuses('sendMessage'), ['reset', 200, 502, 200]);
    assert.deepEqual(
      retries.map((r) => r.reason),
      ['network', 'network'],
    );
    assert.deepEqual(
      tg.messagesIn(carol.id).map((m) => m.text),
      ['through the reset', 'through the gateway'],
    );
  });

  it('hands other 4xx back at once as GrammyError, without a retry', async () => {
    const { bot, retries } = limitedBot();
    const started = Date.now();
    await assert.rejects(
      bot.api.sendMessage(tg.supportChatId, 'lost', { message_thread_id: 987_654 }),
      (e: unknown) =>
        e instanceof GrammyError && e.error_code === 400 && /thread not found/.test(e.description),
    );
    assert.ok(Date.now() - started < 500);
    assert.equal(tg.callsTo('sendMessage').length, 1);
    assert.deepEqual(retries, []);
  });

  it('passes calls that send nothing straight through, unpaced and not retried', async () => {
    const { bot, retries } = limitedBot({ perChatPerSecond: 0.1 });
    const dave = user('Dave');
    await bot.api.sendMessage(dave.id, 'one'); // the chat is now held for 10 s
    const started = Date.now();
    assert.equal((await bot.api.getChat(dave.id)).id, dave.id);
    await bot.api.sendChatAction(dave.id, 'typing');
    assert.ok(Date.now() - started < 500);
    tg.failNext('getChat', { error_code: 500 });
    await assert.rejects(bot.api.getChat(dave.id), (e: unknown) => e instanceof GrammyError);
    assert.equal(tg.callsTo('getChat').length, 2);
    assert.deepEqual(retries, []);
  });

  it('spaces messages to one chat, keeps their order, and does not hold other chats back', async () => {
    const { bot } = limitedBot({ perChatPerSecond: 10 });
    const erin = user('Erin');
    // The first send fails once: the retry must still go before the five queued behind it.
    tg.failNext('sendMessage', { error_code: 500 });
    let started = Date.now();
    await Promise.all(['1', '2', '3', '4', '5', '6'].map((text) => bot.api.sendMessage(erin.id, text)));
    assert.ok(Date.now() - started >= 490, `6 messages to one chat took ${Date.now() - started} ms`);
    assert.deepEqual(
      tg.messagesIn(erin.id).map((m) => m.text),
      ['1', '2', '3', '4', '5', '6'],
    );
    const at = tg
      .callsTo('sendMessage')
      .filter((c) => c.status === 200)
      .map((c) => c.at);
    // Arrival times at the stand-in carry each HTTP request's own delay (up to ~50 ms on a busy machine):
    // 100 ms apart when sent; on arrival no two closer than 25 ms and the six spread over 400 ms at
    // least. Without the limiter they would all arrive within a few ms.
    for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 25, `gap ${at[i]! - at[i - 1]!} ms`);
    assert.ok(at.at(-1)! - at[0]! >= 400, `six arrivals spread over ${at.at(-1)! - at[0]!} ms`);

    const others = ['F', 'G', 'H', 'I', 'J', 'K'].map(user);
    started = Date.now();
    await Promise.all(others.map((u) => bot.api.sendMessage(u.id, `to ${u.user.first_name}`)));
    assert.ok(Date.now() - started < 300, `6 chats took ${Date.now() - started} ms`);
  });

  it('keeps a sliding window per group, but not for private chats', async () => {
    const { bot } = limitedBot({ perChatPerSecond: 1000, groupPerMinute: 3, groupWindowMs: 600 });
    const started = Date.now();
    await Promise.all(['a', 'b', 'c', 'd'].map((text) => bot.api.sendMessage(tg.supportChatId, text)));
    const at = tg.callsTo('sendMessage').map((c) => c.at);
    assert.ok(at[2]! - at[0]! < 200, 'the first three go at once');
    // 600 ms after the first when sent; on arrival, less each request's own delivery delay.
    assert.ok(at[3]! - at[0]! >= 500, `the fourth waited ${at[3]! - at[0]!} ms for the window`);
    assert.ok(Date.now() - started >= 590);
    assert.deepEqual(
      tg.generalMessages().map((m) => m.text),
      ['a', 'b', 'c', 'd'],
    );

    const frank = user('Frank');
    const privateStart = Date.now();
    await Promise.all(['a', 'b', 'c', 'd'].map((text) => bot.api.sendMessage(frank.id, text)));
    assert.ok(Date.now() - privateStart < 300, 'a private chat has no per-minute window');
  });

  it("counts the reaction that marks a note in the group's window, after the messages before it", async () => {
    const { bot } = limitedBot({ perChatPerSecond: 1000, groupPerMinute: 2, groupWindowMs: 600 });
    const manager = tg.addManager({ first_name: 'Nell' });
    const topic = await bot.api.createForumTopic(tg.supportChatId, 'Window');
    const note = tg.groupMessage(manager, topic.message_thread_id, { text: '// internal' });
    tg.clearCalls();
    const started = Date.now();
    await Promise.all([
      bot.api.sendMessage(tg.supportChatId, 'one', { message_thread_id: topic.message_thread_id }),
      bot.api.setMessageReaction(tg.supportChatId, note.message!.message_id, [{ type: 'emoji', emoji: '✍' }]),
    ]);
    // createForumTopic and the message filled the window of two: the reaction waited for it.
    assert.ok(Date.now() - started >= 400, `the reaction went after ${Date.now() - started} ms`);
    assert.deepEqual(
      tg.calls.map((c) => c.method),
      ['sendMessage', 'setMessageReaction'],
    );
    assert.deepEqual(tg.reactionsOn(tg.supportChatId, note.message!.message_id), [
      { type: 'emoji', emoji: '✍' },
    ]);
  });

  it('holds every chat when two chats are refused with 429 at once', async () => {
    let refused!: () => void;
    const twoRefusals = new Promise<void>((resolve) => {
      refused = resolve;
    });
    const { bot, retries } = limitedBot({
      onRetry: () => retries.length === 2 && refused(),
    });
    const [gina, hank, ivan] = [user('Gina'), user('Hank'), user('Ivan')];
    tg.failNext('sendMessage', { error_code: 429, retry_after: 1 }, 2);
    const first = Promise.all([bot.api.sendMessage(gina.id, 'g'), bot.api.sendMessage(hank.id, 'h')]);
    await twoRefusals;
    const started = Date.now();
    await bot.api.sendMessage(ivan.id, 'i'); // a third chat, never refused itself
    assert.ok(Date.now() - started >= 800, `the third chat waited ${Date.now() - started} ms`);
    await first;
    assert.deepEqual(statuses('sendMessage'), [429, 429, 200, 200, 200]);
  });

  it('stop() makes a call waiting on a retry, and the calls queued behind it, reject promptly', async () => {
    let retried!: () => void;
    const firstRetry = new Promise<void>((resolve) => {
      retried = resolve;
    });
    const { bot, limiter } = limitedBot({ baseBackoffMs: 10_000, onRetry: () => retried() });
    const jane = user('Jane');
    tg.failNext('sendMessage', { error_code: 503, description: 'Service Unavailable' }, 100);
    const waiting = bot.api.sendMessage(jane.id, 'first');
    const queued = bot.api.sendMessage(jane.id, 'second');
    await firstRetry;
    assert.equal(limiter.pending(), 2);
    const stoppedAt = Date.now();
    limiter.stop();
    for (const call of [waiting, queued])
      await assert.rejects(
        call,
        (e: unknown) => e instanceof LimiterStoppedError && /stopped/.test(e.message),
      );
    assert.ok(Date.now() - stoppedAt < 200, `rejected after ${Date.now() - stoppedAt} ms`);
    assert.equal(limiter.pending(), 0);
    assert.equal(tg.callsTo('sendMessage').length, 1, 'the queued call was never sent');
    // Later sends are refused at once rather than lost; calls that send nothing still work.
    await assert.rejects(bot.api.sendMessage(jane.id, 'third'), LimiterStoppedError);
    assert.equal((await bot.api.getMe()).id, tg.botInfo.id);
    tg.clearFaults();
  });
});
