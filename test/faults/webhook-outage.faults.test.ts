// Fault 4: a source's webhook endpoint is down for a long time. Two sources: `down` answers 500 for
// ever, `flaky` answers 503 for the first 6 hours and 200 afterwards. Their clients write through the
// external API, a manager answers each three times in the client's topic (via /webhooks/telegram),
// and the webhook scheduler carries the answers to the sources. The scheduler runs on a test clock
// (it takes `now()` and has `tick()`): the loop below moves the clock to the next retry and ticks,
// so three simulated days take seconds. It runs in this process and holds the scheduler's lock; the
// app's own scheduler (real clock) stands by. Expected: retries with growing gaps (10 s doubling,
// at most 1 h, 20 % jitter that only shortens), `flaky` gets everything once it is back, in order;
// each `down` delivery is given up 24 h after its first attempt and is listed by
// GET /api/external/webhooks/failed. Nothing is neither delivered nor listed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeConversationEvent } from '../../src/adapters/event-codec.ts';
import { commandEventId } from '../../src/adapters/ids.ts';
import { createLogger } from '../../src/adapters/logging/logger.ts';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import { nextDueAt } from '../../src/adapters/webhooks/deliveries.ts';
import type { WebhookOutcome } from '../../src/adapters/webhooks/delivery-outcomes.ts';
import { backoffMs, defaultRetryPolicy } from '../../src/adapters/webhooks/delivery-policy.ts';
import { startWebhookScheduler, type WebhookScheduler } from '../../src/adapters/webhooks/scheduler.ts';
import { type App, startApp } from '../../src/app/app.ts';
import { loadConfig } from '../../src/app/config.ts';
import { allMigrations } from '../../src/app/context.ts';
import { createCommandHandler } from '../../src/domain/command-handler.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { telegramStandInEnv } from '../support/app-env.ts';
import { waitFor } from '../support/app-harness.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';
import {
  RECEIVER_ALLOWANCE,
  type ReceivedRequest,
  receiverPolicy,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';
import { WEBHOOK_CLIENTS as CLIENTS, postUntilAccepted, report, seconds } from './support.ts';

const SECRET = 'faults_webhook_secret';
const ANSWERS = 3; // per client
const HOUR = 3_600_000;
const FLAKY_DOWN_FOR = 6 * HOUR;

interface Body {
  event: string;
  external_id: string;
  message: { id: string; text: string };
}
interface Failed {
  delivery_id: string;
  event: string;
  message_id: string;
  external_id: string;
  attempts: number;
  first_attempt_at: string;
  last_attempt_at: string;
  next_attempt_at: string | null;
  status: string;
}

describe('fault: a source webhook down for a long time (test clock)', () => {
  let db: TestDatabase;
  let tg: TelegramStandIn;
  let receiver: WebhookReceiver;
  let log: EventLog;
  let scheduler: WebhookScheduler;
  let app: App;
  const started = new Date();
  const clock = { t: new Date(started) };
  const outcomes: WebhookOutcome[] = [];

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    tg = await startTelegramStandIn();
    receiver = await startWebhookReceiver((path) => {
      if (path === '/down') return 500;
      return clock.t.getTime() - started.getTime() < FLAKY_DOWN_FOR ? 503 : 200;
    });
    const config = loadConfig({
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      ...telegramStandInEnv(tg, SECRET),
      API_RATE_LIMIT_PER_MINUTE: '1000000',
      WEBHOOK_ALLOW_PRIVATE: RECEIVER_ALLOWANCE,
      LOG_LEVEL: 'silent',
    });
    // The schema first, then this process's scheduler takes the lock before the app starts its own.
    await migrate(db.pool, allMigrations(config));
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    scheduler = startWebhookScheduler({
      pool: db.pool,
      log,
      handler: createCommandHandler({ log, eventId: commandEventId, decode: decodeConversationEvent }),
      now: () => clock.t,
      timeoutMs: 5000,
      onOutcome: (o) => outcomes.push(o),
      allowPrivate: receiverPolicy,
    });
    await scheduler.leading;
    app = await startApp(config, createLogger({ level: 'silent' }));
  });
  after(async () => {
    await app?.stop();
    await scheduler?.stop();
    await log?.close();
    await receiver?.close();
    await tg?.close();
    await db?.drop();
  });

  it('retried with backoff, delivered when the receiver is back, given up after 24 h and listed', {
    timeout: 600_000,
  }, async () => {
    const t0 = Date.now();
    const sources = ['down', 'flaky'] as const;
    const tokens = new Map<string, string>();
    for (const code of sources) {
      const { token } = await createSource(log, code, await receiver.hook(`/${code}`));
      await waitFor(`the token of ${code}`, async () =>
        (await authenticate(db.pool, token)) ? true : undefined,
      );
      tokens.set(code, token);
    }
    const url = () => app.address();
    const api = (code: string) => ({ authorization: `Bearer ${tokens.get(code)}` });

    // ---- clients write, a manager answers each in the topic -----------------------------------------
    const clients = sources.flatMap((code) =>
      Array.from({ length: CLIENTS }, (_, i) => ({ code, id: `${code}-${String(i).padStart(2, '0')}` })),
    );
    for (const c of clients) {
      const r = await postUntilAccepted(
        url,
        `/api/external/${c.id}/messages`,
        { text: `hello from ${c.id}` },
        {
          headers: { ...api(c.code), 'idempotency-key': `${c.id}-0` },
        },
      );
      assert.ok(r.accepted, `${c.id}: ${r.status} ${r.body}`);
    }
    const manager = tg.addManager({ first_name: 'Wanda' });
    const answers: { code: string; id: string; text: string; accepted: boolean }[] = [];
    await Promise.all(
      clients.map(async (c) => {
        const topic = await waitFor(
          `the topic of ${c.id}`,
          () => tg.topics().find((t) => t.name.endsWith(` · ${c.id}`))?.message_thread_id,
          30_000,
        );
        for (let n = 1; n <= ANSWERS; n++) {
          const text = `re ${c.id} #${n}`;
          const r = await postUntilAccepted(
            url,
            '/webhooks/telegram',
            tg.groupMessage(manager, topic, { text }),
            {
              headers: { 'x-telegram-bot-api-secret-token': SECRET },
            },
          );
          answers.push({ ...c, text, accepted: r.accepted });
        }
      }),
    );
    const accepted = answers.filter((a) => a.accepted);
    await waitFor(
      'every answer queued for its source',
      async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM td_webhook_deliveries WHERE operation = 'send'`,
        );
        return rows[0]!.n === accepted.length || undefined;
      },
      60_000,
    );

    // ---- days pass: the clock jumps to each next retry --------------------------------------------
    const wall = Date.now();
    let ticks = 0;
    for (;;) {
      const at = await nextDueAt(db.pool, { conversations: [], sources: [] });
      if (!at) break;
      if (at > clock.t) clock.t = at;
      await scheduler.tick();
      ticks += 1;
      assert.ok(ticks < 20_000, 'the simulation ends');
    }
    const simulatedHours = (clock.t.getTime() - started.getTime()) / HOUR;
    const realMs = Date.now() - wall;

    // ---- what each source received, and what it is told failed ---------------------------------------
    const bodyOf = (r: ReceivedRequest) => JSON.parse(r.body) as Body;
    const okBy = new Map<string, ReceivedRequest[]>(); // delivery id → 2xx receipts
    for (const r of receiver.received.filter((x) => x.ok)) {
      const id = String(r.headers['x-topicdesk-delivery']);
      okBy.set(id, [...(okBy.get(id) ?? []), r]);
    }
    const deliveredTexts = new Set([...okBy.values()].map((rs) => bodyOf(rs[0]!).message.text));
    const duplicated = [...okBy.values()].filter((rs) => rs.length > 1).length;

    const failedList = async (code: string): Promise<Failed[]> => {
      const out: Failed[] = [];
      for (let after: string | null = null; ; ) {
        const q: string = `?limit=7${after ? `&after=${after}` : ''}`;
        const res = await fetch(`${url()}/api/external/webhooks/failed${q}`, { headers: api(code) });
        assert.equal(res.status, 200);
        const page = (await res.json()) as { deliveries: Failed[]; next_cursor: string | null };
        out.push(...page.deliveries);
        if (!page.next_cursor) return out;
        after = page.next_cursor;
      }
    };
    const listedDown = await failedList('down');
    const listedFlaky = await failedList('flaky');
    const { rows: messageTexts } = await db.pool.query<{ message_id: string; text: string }>(
      `SELECT message_id, text FROM rm_messages WHERE direction = 'outgoing'`,
    );
    const textOf = new Map(messageTexts.map((m) => [m.message_id, m.text]));
    const listedTexts = new Set(listedDown.map((f) => textOf.get(f.message_id)));
    const lost = accepted.filter((a) => !deliveredTexts.has(a.text) && !listedTexts.has(a.text));

    // The schedule of one given-up delivery, from the timestamps it was signed with.
    const first = listedDown[0]!;
    const stamps = receiver.received
      .filter((r) => r.headers['x-topicdesk-delivery'] === first.delivery_id)
      .map((r) => Number(r.headers['x-topicdesk-timestamp']) * 1000);
    const gaps = stamps.slice(1).map((s, i) => s - stamps[i]!);
    const attempts = listedDown.map((f) => f.attempts);

    report(
      'webhook outage',
      {
        sent: answers.length,
        accepted: accepted.length,
        delivered: accepted.filter((a) => deliveredTexts.has(a.text)).length,
        duplicated,
        lost: lost.length,
      },
      `failed after 24 h and listed ${listedDown.length} (attempts each ${Math.min(...attempts)}–` +
        `${Math.max(...attempts)}, gaps ${seconds(gaps[0]!)} … ${seconds(Math.max(...gaps))}); ` +
        `${receiver.received.length} posts, ${simulatedHours.toFixed(1)} simulated h in ${seconds(realMs)} ` +
        `(${ticks} ticks), ${seconds(Date.now() - t0)} in all`,
    );

    assert.equal(accepted.length, answers.length, 'every answer accepted');
    assert.deepEqual(
      lost.map((a) => a.text),
      [],
      'every answer delivered or listed as failed',
    );
    assert.equal(duplicated, 0, 'no delivery accepted twice');
    // flaky: everything arrived once it was back, in order within each conversation, nothing listed.
    for (const c of clients.filter((x) => x.code === 'flaky')) {
      const got = receiver.received
        .filter((r) => r.path === '/flaky' && r.ok && bodyOf(r).external_id === c.id)
        .map((r) => bodyOf(r).message.text);
      assert.deepEqual(
        got,
        Array.from({ length: ANSWERS }, (_, i) => `re ${c.id} #${i + 1}`),
        `${c.id}: in order`,
      );
    }
    const flakyPosts = receiver.received.filter((r) => r.path === '/flaky');
    assert.ok(
      flakyPosts.some((r) => r.status === 503),
      'flaky refused some before it came back',
    );
    assert.deepEqual(listedFlaky, [], 'nothing of flaky is listed as failed');
    // down: every answer given up 24 h after its first attempt, listed with its attempts.
    assert.equal(listedDown.length, CLIENTS * ANSWERS, 'every delivery to down listed');
    for (const f of listedDown) {
      assert.equal(f.status, 'failed');
      assert.equal(f.next_attempt_at, null);
      assert.equal(f.event, 'message.created');
      assert.equal(
        new Date(f.last_attempt_at).getTime() - new Date(f.first_attempt_at).getTime(),
        defaultRetryPolicy.forMs,
        `${f.delivery_id}: given up 24 h after the first attempt`,
      );
      assert.equal(
        receiver.received.filter((r) => r.headers['x-topicdesk-delivery'] === f.delivery_id).length,
        f.attempts,
        'each attempt posted once',
      );
    }
    // The backoff: each gap within the jitter below its base (10 s doubling, at most 1 h); the last one
    // is cut short at the 24 h mark.
    for (const [i, gap] of gaps.slice(0, -1).entries()) {
      const base = backoffMs(i + 1, defaultRetryPolicy, () => 0);
      assert.ok(
        gap <= base + 1000 && gap >= base * 0.8 - 1000,
        `gap ${i + 1}: ${gap} ms for a base of ${base} ms`,
      );
    }
    assert.ok(
      outcomes.filter((o) => o.source === 'down' && o.outcome === 'failed').length === CLIENTS * ANSWERS,
    );
  });
});
