// Reminders yield to client messages in the support group's rate budget (docs/design.md, "Reminders
// and the daily digest"): posted through the app's GroupPoster — a quiet moment in the limiter, then
// the message — thirty reminders at once never hold a client's copy up beyond the limiter's own
// spacing, and never take the window's reserve. On the Telegram stand-in, on a fake clock.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Bot } from 'grammy';
import { createOutgoingLimiter } from '../../src/adapters/telegram/limiter.ts';
import { groupPoster } from '../../src/app/reminders.ts';
import { fakeClock } from '../support/fake-clock.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';

let tg: TelegramStandIn;
const topics: number[] = [];
before(async () => {
  tg = await startTelegramStandIn();
  const setup = new Bot(tg.token, { client: { apiRoot: tg.apiRoot }, botInfo: tg.botInfo });
  for (let i = 0; i < 30; i++)
    topics.push((await setup.api.createForumTopic(tg.supportChatId, `Client ${i}`)).message_thread_id);
});
after(async () => {
  await tg.close();
});

it("thirty reminders due at once: a client's message still waits only the per-chat spacing", async () => {
  let inFlight = 0;
  const clock = fakeClock(() => inFlight > 0);
  const limiter = createOutgoingLimiter({ now: clock.now, sleep: clock.sleep }); // 1/s, 20/min: Telegram's
  const bot = new Bot(tg.token, { client: { apiRoot: tg.apiRoot, timeoutSeconds: 5 }, botInfo: tg.botInfo });
  /** When each message left the limiter for Telegram, and when each reached it. */
  const released: { text: string; at: number }[] = [];
  const entered = new Map<string, number>();
  bot.api.config.use(async (prev, method, payload, signal) => {
    released.push({ text: String((payload as { text?: string }).text), at: clock.now() });
    inFlight++;
    try {
      return await prev(method, payload, signal);
    } finally {
      inFlight--;
    }
  });
  bot.api.config.use(limiter.transformer);
  bot.api.config.use((prev, method, payload, signal) => {
    entered.set(String((payload as { text?: string }).text), clock.now());
    return prev(method, payload, signal);
  });
  const poster = groupPoster({ api: bot.api, limiter }, String(tg.supportChatId));
  const stop = new AbortController();

  // The pass posts one due reminder after another, each after a quiet moment.
  const reminders = (async () => {
    for (const [i, topic] of topics.entries()) {
      await poster.quiet(stop.signal);
      await poster.post(String(topic), `⏰ reminder ${i}`);
    }
  })();
  const sentReminders = () => released.filter((r) => r.text.startsWith('⏰'));
  while (sentReminders().length < 15) await new Promise((r) => setTimeout(r, 5));

  const clients = ['client 1', 'client 2', 'client 3', 'client 4', 'client 5'];
  await Promise.all(
    clients.map((text) => bot.api.sendMessage(tg.supportChatId, text, { message_thread_id: topics[0]! })),
  );
  const copies = released.filter((r) => r.text.startsWith('client'));
  assert.deepEqual(
    copies.map((r) => r.text),
    clients,
  );
  copies.forEach((r, k) => {
    const waited = r.at - entered.get(r.text)!;
    assert.ok(waited <= 1000 * (k + 1), `${r.text} waited ${waited} ms behind the reminders`);
  });

  await reminders;
  assert.equal(sentReminders().length, 30, 'every reminder is posted in the end');
  // A reminder goes only while the minute before it holds at most 14 of the group's 20 messages,
  // whoever sent them: the last quarter of the window stays free for client messages.
  for (const r of sentReminders()) {
    const before = released.filter((u) => u !== r && u.at > r.at - 60_000 && u.at <= r.at).length;
    assert.ok(before <= 14, `${r.text} went with ${before} messages in the minute before it`);
  }
  assert.equal(
    tg.messagesIn(tg.supportChatId, topics[29]!).filter((m) => m.text === '⏰ reminder 29').length,
    1,
  );
  limiter.stop();
  clock.stop();
});
