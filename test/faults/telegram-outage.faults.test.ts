// Fault 2: the Bot API (the stand-in) answers every call with 429 and a retry_after, then with 500,
// then not at all (the connection stays open, no answer), each for FAULTS_OUTAGE_MS (60 s under
// `npm run test:faults`), while Telegram clients keep writing and a manager keeps answering. The
// webhook keeps accepting (it needs only the database); the reactor holds each message back and
// retries. When the Bot API is back, every accepted message arrives, once (these faults have no side
// effect to repeat) and in order within each conversation, and no delivery is recorded as failed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness, WEBHOOK_SECRET } from '../support/app-harness.ts';
import type { Fault } from '../support/telegram-stand-in.ts';
import { OUTAGE_MS, report, seconds, settled, sleep, telegramTraffic } from './support.ts';

const CLIENTS = 20;
const ROUNDS = 10;
const RETRY_AFTER = 5;
/** How long a Bot API call may go unanswered before the app gives up on it and retries. */
const TELEGRAM_TIMEOUT_SECONDS = 5;

const outages: { name: string; prefix: string; fault: Fault }[] = [
  { name: '429', prefix: 'R', fault: { error_code: 429, retry_after: RETRY_AFTER } },
  { name: '500', prefix: 'F', fault: { error_code: 500 } },
  { name: 'no answer', prefix: 'T', fault: 'timeout' },
];

describe('fault: the Bot API answering 429, 500 or nothing for a while', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ TELEGRAM_TIMEOUT_SECONDS: String(TELEGRAM_TIMEOUT_SECONDS) });
  });
  after(async () => {
    await h?.stop();
  });

  for (const outage of outages) {
    it(`${outage.name} for ${seconds(OUTAGE_MS)}: nothing lost, order kept`, {
      timeout: OUTAGE_MS + 300_000,
    }, async () => {
      const traffic = telegramTraffic({
        tg: h.tg,
        url: () => h.url,
        secret: WEBHOOK_SECRET,
        prefix: outage.prefix,
        clients: CLIENTS,
      });
      await traffic.warmUp();
      // The traffic spans the outage: a round per conversation every tenth of it.
      const pauseMs = Math.max(50, OUTAGE_MS / ROUNDS);
      const flowing = traffic.run(ROUNDS, pauseMs);
      await sleep(pauseMs);
      const callsBefore = h.tg.calls.length;
      h.tg.failNext('*', outage.fault, Number.MAX_SAFE_INTEGER);
      const startedAt = Date.now();
      await sleep(OUTAGE_MS);
      h.tg.clearFaults();
      const endedAt = Date.now();
      const during = h.tg.calls.slice(callsBefore);
      const refused = during.filter((c) => c.fault === 'timeout' || (c.status ?? 200) >= 400).length;
      const acceptedDuring = traffic.sent.filter(
        (s) => s.accepted && s.acceptedAt >= startedAt && s.acceptedAt <= endedAt,
      ).length;
      await flowing;

      const t = await traffic.arrived(180_000);
      const arrivedAfter = Date.now() - endedAt;
      const conversationIds = traffic.conversations.map((c) => h.conversationOf(c.user.id));
      const failed = (await h.events({ type: 'DeliveryFailed' })).filter((e) =>
        conversationIds.includes(String(e.stream).replace(/^conversation-/, '')),
      );
      const lagging = await settled(h.db.pool, 60_000);
      report(
        `telegram ${outage.name}`,
        t,
        `outage ${seconds(endedAt - startedAt)}: ${refused} Bot API calls refused or left unanswered, ` +
          `${acceptedDuring} messages accepted meanwhile; all arrived ${seconds(arrivedAfter)} after it ended`,
      );

      assert.ok(refused > 0, 'the outage refused calls');
      assert.ok(acceptedDuring > 0, 'the webhook kept accepting during the outage');
      assert.equal(
        t.lost,
        0,
        `every accepted message arrived; missing: ${t.lostTexts.slice(0, 10).join(', ')}`,
      );
      assert.equal(t.accepted, t.sent, 'every message was accepted');
      assert.equal(t.duplicated, 0, 'none twice: a refused or unanswered call had no effect');
      assert.deepEqual(t.outOfOrder, [], 'in order within each conversation');
      assert.deepEqual(t.misplaced, [], 'each in its own topic');
      assert.deepEqual(
        failed.map((e) => e.data),
        [],
        'an outage is not a failed delivery',
      );
      assert.deepEqual(lagging, [], 'projections and reactors at the head of the log');
    });
  }
});
