// Topic status edits on the outgoing limiter, against the Telegram stand-in, on a fake clock: they
// wait for the support group's quiet moments and never hold up a client's message beyond the
// limiter's own spacing, one topic's wants are coalesced, and a superseded want is never made.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Bot } from 'grammy';
import { pino } from 'pino';
import { createOutgoingLimiter, type OutgoingLimiter } from '../../src/adapters/telegram/limiter.ts';
import {
  createTopicStatusBoard,
  type StatusWant,
  type TopicStatusBoard,
} from '../../src/adapters/telegram/topic-status.ts';
import type { RecordedEvent } from '../../src/domain/event-log.ts';
import type { TopicStatus } from '../../src/domain/events.ts';
import { fakeClock } from '../support/fake-clock.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';

const cause = { id: 'cause', metadata: { correlationId: 'c' } } as unknown as RecordedEvent;

describe('topic status edits on the limiter', () => {
  let tg: TelegramStandIn;
  let setup: Bot;
  const topics: { id: number; title: string }[] = [];

  before(async () => {
    tg = await startTelegramStandIn();
    setup = new Bot(tg.token, { client: { apiRoot: tg.apiRoot }, botInfo: tg.botInfo });
    for (let i = 0; i < 30; i++) {
      const title = `Client ${i}`;
      topics.push({
        id: (await setup.api.createForumTopic(tg.supportChatId, title)).message_thread_id,
        title,
      });
    }
  });
  after(async () => {
    await tg.close();
  });

  let clock: ReturnType<typeof fakeClock>;
  /** Calls the limiter let go that have not come back from the stand-in yet. */
  let inFlight = 0;
  let limiter: OutgoingLimiter;
  let bot: Bot;
  let board: TopicStatusBoard;
  let made: StatusWant[];
  let dropped: StatusWant[];
  /** When each call left the limiter for Telegram, on the fake clock, by its text or topic. */
  let released: { what: string; at: number }[];
  /** When each message reached the limiter: the clock may jump while a call is on its way to it. */
  let entered: { what: string; at: number }[];

  beforeEach(() => {
    clock?.stop();
    inFlight = 0;
    clock = fakeClock(() => inFlight > 0);
    limiter = createOutgoingLimiter({ now: clock.now, sleep: clock.sleep }); // Telegram's numbers: 1/s, 20/min
    bot = new Bot(tg.token, { client: { apiRoot: tg.apiRoot, timeoutSeconds: 5 }, botInfo: tg.botInfo });
    released = [];
    // Installed before the limiter, so it runs inside it: it sees each call as the limiter lets it go.
    bot.api.config.use(async (prev, method, payload, signal) => {
      const p = payload as { text?: string; message_thread_id?: number };
      released.push({
        what: method === 'sendMessage' ? String(p.text) : `topic ${p.message_thread_id}`,
        at: clock.now(),
      });
      inFlight++;
      try {
        return await prev(method, payload, signal);
      } finally {
        inFlight--;
      }
    });
    bot.api.config.use(limiter.transformer);
    entered = [];
    // Installed after the limiter, so it runs before it: it sees each call as it reaches the limiter.
    bot.api.config.use((prev, method, payload, signal) => {
      if (method === 'sendMessage')
        entered.push({ what: String((payload as { text?: string }).text), at: clock.now() });
      return prev(method, payload, signal);
    });
    made = [];
    dropped = [];
    board = createTopicStatusBoard({
      api: bot.api,
      supportChatId: String(tg.supportChatId),
      look: { mode: 'title' },
      limiter,
      logger: pino({ level: 'silent' }),
      record: async (want) => {
        made.push(want);
      },
      onDropped: (want) => dropped.push(want),
    });
    tg.clearCalls();
  });

  const want = (i: number, status: TopicStatus, shown: TopicStatus | undefined = undefined): void =>
    board.want({
      conversationId: `conversation-${i}`,
      topicId: String(topics[i]!.id),
      title: topics[i]!.title,
      status,
      shown,
      cause,
    });

  const clientCopy = (text: string) =>
    bot.api.sendMessage(tg.supportChatId, text, { message_thread_id: topics[0]!.id });

  it("a burst of status changes never delays a client's message beyond the limiter's own spacing", async () => {
    for (let i = 0; i < 30; i++) want(i, 'answered', 'waiting');
    // Let the burst take what it may of the group's window (a quiet group: edits go one a second).
    while (made.length < 15) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(['client 1', 'client 2', 'client 3', 'client 4', 'client 5'].map(clientCopy));
    const sent = released.filter((r) => r.what.startsWith('client'));
    assert.deepEqual(
      sent.map((r) => r.what),
      ['client 1', 'client 2', 'client 3', 'client 4', 'client 5'],
    );
    // One second apart (the per-chat spacing), the first within one second: no window wait, although
    // fifteen status edits went in the last fifteen seconds and fifteen more wait. Counted from when
    // each reached the limiter (the fake clock jumps to the edits' wake-ups meanwhile).
    sent.forEach((r, k) => {
      const at = entered.find((e) => e.what === r.what)!.at;
      assert.ok(r.at - at <= 1000 * (k + 1), `client ${k + 1} waited ${r.at - at} ms`);
    });
    assert.ok(board.pending() > 0, 'status edits still wait: they go after the window frees up');
    await board.idle();
    assert.equal(made.length, 30, 'every status is shown in the end');
    assert.equal(
      tg.topics().filter((t) => t.name.startsWith('🟢 Client ')).length,
      30,
      'each topic shows answered',
    );
    limiter.stop();
  });

  it('the same burst sent as ordinary calls would hold the client messages up for the window', async () => {
    // What the quiet moments avoid: 30 edits queued first take the window, the client waits a minute.
    const edits = topics.map((t) =>
      bot.api.editForumTopic(tg.supportChatId, t.id, { name: `🔴 ${t.title}` }),
    );
    const start = clock.now();
    await clientCopy('client behind the edits');
    const at = released.find((r) => r.what === 'client behind the edits')!.at;
    assert.ok(at - start >= 60_000, `the client waited only ${at - start} ms`);
    await Promise.all(edits);
    limiter.stop();
  });

  it('one topic’s wants are coalesced: only the latest is made, a superseded one never', async () => {
    // Keep the group busy so the wants wait, then change one topic's status three times.
    const busy = ['a', 'b', 'c'].map((x) => clientCopy(`busy ${x}`));
    want(1, 'answered', 'waiting');
    want(1, 'closed', 'waiting');
    want(2, 'answered', 'waiting');
    want(2, 'waiting', 'waiting'); // back to what it shows: nothing to do
    await Promise.all(busy);
    await board.idle();
    assert.deepEqual(
      made.map((w) => [w.topicId, w.status]),
      [[String(topics[1]!.id), 'closed']],
    );
    assert.deepEqual(
      dropped.map((w) => [w.topicId, w.status]),
      [
        [String(topics[1]!.id), 'answered'],
        [String(topics[2]!.id), 'answered'],
        [String(topics[2]!.id), 'waiting'],
      ],
    );
    const editsOf = (i: number) =>
      tg.callsTo('editForumTopic').filter((c) => c.params.message_thread_id === topics[i]!.id);
    assert.equal(editsOf(1).length, 1);
    assert.equal(editsOf(1)[0]!.params.name, `⚪ ${topics[1]!.title}`);
    assert.equal(editsOf(2).length, 0, 'a superseded edit is dropped, not made');
    // The busy calls went first, every one of them before any status edit.
    const order = released.map((r) => r.what);
    assert.ok(order.lastIndexOf('busy c') < order.indexOf(`topic ${topics[1]!.id}`));
    limiter.stop();
    clock.stop();
  });
});
