// /metrics end to end: real traffic through the whole app (Telegram, an external source with a
// webhook, VK), then what Prometheus would scrape is compared with what the log holds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { startVkHarness, type VkHarness } from '../support/vk-stand-in-harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { apiEnv, client } from './api-helpers.ts';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition. */
const parse = (text: string): Sample[] =>
  text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(m, `not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
      );
      return { name: m[1]!, labels, value: Number(m[3]) };
    });

const scrape = async (url: string): Promise<Sample[]> => {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200, 'a scrape succeeds');
  return parse(await res.text());
};

/** The samples of one metric, optionally only those carrying `labels`. */
const of = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/** The value of the one sample of `name` with `labels`; 0 when the series does not exist yet. */
const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  of(samples, name, labels).reduce((sum, s) => sum + s.value, 0);

/** Retries `check` (which asserts) until it passes; on timeout its last assertion is the failure. */
const eventually = async <T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
};

const lagSeries = ['topicdesk_projection_lag_events', 'topicdesk_reactor_lag_events'];

/** Every projection and reactor caught up, as the gauges say. */
const caughtUp = (samples: Sample[]) => {
  const lags = samples.filter((s) => lagSeries.includes(s.name));
  assert.ok(lags.length > 0, 'lag gauges are exported');
  assert.deepEqual(
    lags.filter((s) => s.value !== 0).map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`),
    [],
    'nothing behind the log',
  );
};

describe('metrics: Telegram and an external source, whole app', () => {
  let h: Harness;
  let receiver: WebhookReceiver;
  let updates = 0;
  before(async () => {
    h = await startHarness(apiEnv());
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await h.stop();
    await receiver.close();
  });

  const send = async (update: unknown) => {
    updates += 1;
    return h.send(update);
  };

  it('counts appended events, deliveries by channel and outcome, 429s with their wait; lag reaches 0', {
    timeout: 60_000,
  }, async () => {
    const busyAt = async () => ({
      busy: value(await scrape(h.url), 'topicdesk_event_loop_busy_seconds_total'),
      at: performance.now(),
    });
    const first = await busyAt();
    const manager = h.tg.addManager({ first_name: 'Mia' });

    // A Telegram client; the answer to them meets a 429 with retry_after 2 on its way.
    const anna = h.tg.addUser({ first_name: 'Anna' });
    const hello = h.tg.privateMessage(anna, { text: 'hello' });
    await send(hello);
    await h.topicCopyOf(anna.id, hello.message!.message_id);
    const annaTopic = await h.topicOf(anna.id);
    h.tg.failNext('copyMessage', { error_code: 429, retry_after: 2 });
    const answer = h.tg.groupMessage(manager, annaTopic, { text: 'Hi Anna' });
    await send(answer);

    // While the Telegram reactor waits out retry_after, the answer is an event it has not handled.
    const waiting = await waitFor('the telegram reactor behind the log', async () => {
      const samples = await scrape(h.url);
      return value(samples, 'topicdesk_reactor_lag_events', { reactor: 'telegram' }) >= 1
        ? samples
        : undefined;
    });
    assert.ok(value(waiting, 'topicdesk_reactor_lag_seconds', { reactor: 'telegram' }) > 0);
    await h.clientCopyOf(anna.id, answer.message!.message_id);

    // A client who blocked the bot: the answer fails for good.
    const boris = h.tg.addUser({ first_name: 'Boris' });
    const hi = h.tg.privateMessage(boris, { text: 'hi' });
    await send(hi);
    const borisTopic = await h.topicOf(boris.id);
    h.tg.blockBot(boris.id);
    await send(h.tg.groupMessage(manager, borisTopic, { text: 'Hi Boris' }));

    // A client of an external source, over the HTTP API; the answer goes to the source's webhook.
    const shop = await createSource(h.app.log, 'shop', await receiver.hook('/hooks'));
    await waitFor('the token of shop', async () =>
      (await authenticate(h.app.db.pool, shop.token)) ? true : undefined,
    );
    const api = client(h, { code: 'shop', ...shop });
    assert.equal(
      (await api.post('/api/external/cust-1/messages', { json: { text: 'where is my order?' } })).status,
      201,
    );
    const shopTopic = await waitFor('the external client topic', () =>
      h.tg.topics().find((t) => t.name.includes('cust-1')),
    );
    await send(h.tg.groupMessage(manager, shopTopic.message_thread_id, { text: 'It ships today' }));

    await waitFor(
      'the three outcomes in the log',
      async () => {
        const outcomes = await h.events({ type: ['ReplyDelivered', 'DeliveryFailed'] });
        return outcomes.length >= 3 || undefined;
      },
      20_000,
    );

    // The source's delivery is the webhook scheduler's, apart from the reactors' outcomes above.
    await waitFor('the answer at the source’s webhook', () => receiver.received.length > 0 || undefined);
    const samples = await eventually(async () => {
      const s = await scrape(h.url);
      caughtUp(s);
      const { rows } = await h.db.pool.query<{ type: string; n: number }>(
        'SELECT type, count(*)::int AS n FROM td_events GROUP BY type',
      );
      const counted = Object.fromEntries(
        of(s, 'topicdesk_events_appended_total').map((x) => [x.labels.type!, x.value]),
      );
      assert.deepEqual(
        counted,
        Object.fromEntries(rows.map((r) => [r.type, r.n])),
        'appended by type = the log by type',
      );
      return s;
    });
    assert.equal(value(samples, 'topicdesk_events_appended_total', { type: 'ManagerReplied' }), 3);

    assert.equal(receiver.received.length, 1, 'the source got the answer');
    assert.equal(
      value(samples, 'topicdesk_webhook_deliveries_total', { source: 'shop', outcome: 'delivered' }),
      1,
    );

    const deliveries = (labels: Record<string, string>) =>
      value(samples, 'topicdesk_deliveries_total', labels);
    assert.equal(deliveries({ channel: 'telegram', operation: 'send', outcome: 'delivered' }), 1);
    assert.equal(deliveries({ channel: 'telegram', operation: 'send', outcome: 'failed' }), 1);
    assert.equal(deliveries({ channel: 'telegram', outcome: 'retry' }), 0, 'a 429 is not a failed delivery');
    assert.equal(deliveries({ channel: 'external', operation: 'send', outcome: 'delivered' }), 1);
    const [failed] = await h.events({ type: 'DeliveryFailed' });
    assert.match(String(failed?.data.reason), /blocked/);

    assert.equal(value(samples, 'topicdesk_telegram_rate_limited_total', { method: 'copyMessage' }), 1);
    assert.equal(value(samples, 'topicdesk_telegram_retry_wait_seconds_count', { reason: '429' }), 1);
    assert.equal(value(samples, 'topicdesk_telegram_retry_wait_seconds_sum', { reason: '429' }), 2);

    assert.equal(
      value(samples, 'topicdesk_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/webhooks/telegram',
        status: '200',
      }),
      updates,
      'each Telegram update timed',
    );

    // The main thread worked through all that, and cannot have been busy longer than the time that passed.
    const last = await busyAt();
    const busy = last.busy - first.busy;
    assert.ok(busy > 0, `the main thread's busy time grew (${busy} s)`);
    assert.ok(busy <= (last.at - first.at) / 1000, `busy ${busy} s within ${(last.at - first.at) / 1000} s`);
  });

  it('a scrape while the database is unreachable answers without the lag, then the lag returns', {
    timeout: 30_000,
  }, async () => {
    const name = new URL(h.db.url).pathname.slice(1);
    const admin = new pg.Client(h.db.url.replace(`/${name}`, '/postgres'));
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      const samples = await scrape(h.url);
      assert.deepEqual(
        samples.filter((s) => /^topicdesk_(projection|reactor)_lag_/.test(s.name)),
        [],
        'no lag values while the database is away',
      );
      assert.ok(value(samples, 'topicdesk_events_appended_total') > 0, 'the rest is still there');
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    await eventually(async () => caughtUp(await scrape(h.url)));
  });
});

describe('metrics: VK flood control, whole app', () => {
  let h: VkHarness;
  before(async () => {
    // The shipped first wait (the harness shortens it): the backoff metric reads 1 s.
    h = await startVkHarness({ env: { VK_RETRY_INITIAL_MS: '1000' } });
  });
  after(async () => {
    await h.stop();
  });

  it('counts the flood-control refusal, its backoff, and the retried then delivered answer', {
    timeout: 60_000,
  }, async () => {
    const user = h.vk.addUser({ first_name: 'Vera', last_name: 'Vk' });
    assert.equal((await h.postEvent(h.vk.messageNew(user, { text: 'privet' }))).status, 200);
    const topic = await waitFor('the VK client topic', () =>
      h.tg.topics().find((t) => t.name.includes('Vera Vk')),
    );
    h.vk.failNext('messages.send', { error_code: 9 });
    const manager = h.tg.addManager({ first_name: 'Alice' });
    const res = await h.postUpdate(
      h.tg.groupMessage(manager, topic.message_thread_id, { text: 'hello Vera' }),
    );
    assert.equal(res.status, 200);

    const samples = await eventually(async () => {
      const s = await scrape(h.app.address());
      assert.equal(
        value(s, 'topicdesk_deliveries_total', { channel: 'vk', operation: 'send', outcome: 'delivered' }),
        1,
      );
      return s;
    }, 20_000);
    assert.equal(value(samples, 'topicdesk_deliveries_total', { channel: 'vk', outcome: 'retry' }), 1);
    assert.equal(value(samples, 'topicdesk_vk_rate_limited_total', { operation: 'send' }), 1);
    assert.equal(value(samples, 'topicdesk_vk_retry_wait_seconds_count', { reason: 'flood' }), 1);
    assert.equal(value(samples, 'topicdesk_vk_retry_wait_seconds_sum', { reason: 'flood' }), 1);
  });
});
