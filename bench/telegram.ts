// `npm run bench -- telegram`: the whole app (startApp, as `npm start` runs it) on a throwaway durable
// embedded PostgreSQL, wired to the Telegram Bot API stand-in with the app's limiter opened wide
// (TELEGRAM_LIMIT_* very high, the stand-in enforcing none), so the figures are topicdesk's own cost:
//
// - webhook → topic latency: a client whose topic exists writes; time from the POST to
//   /webhooks/telegram until the stand-in has answered the copy into the topic (its call log, polled
//   every millisecond). Messages are sent one after another, round-robin over a few clients.
//   This one stays a hand loop (fetch, one request at a time): each message is timed until its own copy
//   shows up in the stand-in's call log, a correlation autocannon cannot make.
// - webhook ingest throughput: distinct updates from many clients POSTed with a fixed number in flight
//   (autocannon: that many keep-alive connections, one request in flight on each), each answered 200
//   only once recorded in the log; beside the raw append rate of the same log (log.append of one
//   event) at the same concurrency, measured in the same run.
// - the drain: how long until every one of those updates is copied into its topic.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../src/app/app.ts';
import type { EventLog } from '../src/domain/event-log.ts';
import {
  type ApiCall,
  startTelegramStandIn,
  type TelegramStandIn,
} from '../test/support/telegram-stand-in.ts';
import { httpLoad, startBenchApp, unexpected } from './http.ts';
import {
  appendSingles,
  benchEvent,
  fmt,
  percentile,
  type Row,
  rate,
  ratio,
  startBenchDatabase,
} from './support.ts';

const SECRET = 'bench_webhook_secret';

export interface TelegramBenchOptions {
  /** Messages for the latency figure, sent one after another (default 300). */
  readonly latencyMessages?: number;
  /** Clients those messages rotate over, each with its topic opened beforehand (default 10). */
  readonly latencyClients?: number;
  /** Updates POSTed for the throughput figure (default 2000). */
  readonly updates?: number;
  /** Distinct clients writing them (default 400: five messages each). */
  readonly clients?: number;
  /** Requests in flight (default 16). */
  readonly concurrency?: number;
}

/** Resolves with the first call (from index `from` on) that matches and was answered 200. */
const answeredCall = (
  tg: TelegramStandIn,
  from: number,
  match: (c: ApiCall) => boolean,
  timeoutMs = 30_000,
): Promise<ApiCall> =>
  new Promise((resolve, reject) => {
    const deadline = performance.now() + timeoutMs;
    const tick = () => {
      const calls = tg.calls;
      for (let i = from; i < calls.length; i++) {
        const c = calls[i]!;
        if (c.status === 200 && match(c)) return resolve(c);
      }
      if (performance.now() > deadline)
        return reject(new Error('timed out waiting for the copy in the topic'));
      setTimeout(tick, 1);
    };
    tick();
  });

const copyOf = (user: number, messageId: number) => (c: ApiCall) =>
  c.method === 'copyMessage' && c.params.from_chat_id === user && c.params.message_id === messageId;

const post = async (app: App, update: unknown): Promise<number> => {
  const res = await fetch(`${app.address()}/webhooks/telegram`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify(update),
  });
  await res.arrayBuffer();
  return res.status;
};

/** Single appends one after another: the latency floor of recording anything (ms per append). */
const appendLatencies = async (log: EventLog, count: number) => {
  const out: number[] = [];
  let expected = -1;
  const stream = `bench-latency-${randomUUID()}`;
  for (let i = 0; i < count; i++) {
    const event = benchEvent(i, 'BenchAppended', { kind: 'client', id: '1' });
    const t0 = performance.now();
    const r = await log.append(stream, [event], expected < 0 ? 'no_stream' : expected);
    out.push(performance.now() - t0);
    expected = r.nextRevision;
  }
  return out.sort((a, b) => a - b);
};

const copiesSince = (tg: TelegramStandIn, from: number) => {
  let n = 0;
  const calls = tg.calls;
  for (let i = from; i < calls.length; i++) {
    const c = calls[i]!;
    if (c.method === 'copyMessage' && c.status === 200) n++;
  }
  return n;
};

const ms = (n: number) => `${n.toFixed(1)} ms`;
const times = (a: number, b: number) => `${(a / b).toFixed(1)}×`;

export const benchTelegram = async (options: TelegramBenchOptions = {}): Promise<Row[]> => {
  const latencyMessages = options.latencyMessages ?? 300;
  const latencyClients = options.latencyClients ?? 10;
  const updates = options.updates ?? 2000;
  const clients = options.clients ?? 400;
  const concurrency = options.concurrency ?? 16;

  const db = await startBenchDatabase(4);
  const tg = await startTelegramStandIn();
  let app: App | undefined;
  const rows: Row[] = [];
  try {
    app = await startBenchApp(db, {
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_SUPPORT_CHAT_ID: String(tg.supportChatId),
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_LIMIT_PER_CHAT_PER_SECOND: '1000000',
      TELEGRAM_LIMIT_GROUP_PER_MINUTE: '100000000',
      TELEGRAM_LIMIT_PER_SECOND: '1000000',
      // The reactors' burst-ordering hold (1 s by default) would be most of every copy's latency.
      ORDER_WAIT_MS: '0',
    });
    const started = app;

    // ---- latency: clients with topics, one message at a time -------------------------------------
    const people = Array.from({ length: latencyClients }, (_, i) =>
      tg.addUser({ first_name: `Latency${i}`, username: `latency_${i}` }),
    );
    for (const user of people) {
      // The first message opens the topic (and posts the contact card); not measured.
      const update = tg.privateMessage(user, { text: 'hello, opening my topic' });
      const from = tg.calls.length;
      if ((await post(started, update)) !== 200) throw new Error('the warm-up update was not recorded');
      await answeredCall(tg, from, copyOf(user.id, update.message!.message_id));
    }
    const measure = async (count: number) => {
      const total: number[] = [];
      const answered: number[] = [];
      for (let i = 0; i < count; i++) {
        const user = people[i % people.length]!;
        const update = tg.privateMessage(user, { text: `question ${i}: where is my parcel?` });
        const from = tg.calls.length;
        const t0 = performance.now();
        const status = await post(started, update);
        answered.push(performance.now() - t0);
        if (status !== 200) throw new Error(`update answered ${status}`);
        await answeredCall(tg, from, copyOf(user.id, update.message!.message_id));
        total.push(performance.now() - t0);
      }
      const sort = (xs: number[]) => xs.sort((a, b) => a - b);
      return { total: sort(total), answered: sort(answered) };
    };
    // A few unmeasured rounds so that connections, JIT and caches are warm.
    await measure(30);
    const { total: latencies, answered } = await measure(latencyMessages);
    const appendMs = await appendLatencies(started.log, latencyMessages);
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    const a50 = percentile(appendMs, 50);
    const a95 = percentile(appendMs, 95);
    rows.push(
      {
        figure: `webhook → copy in topic, p50 (${latencyMessages} messages, one at a time)`,
        topicdesk: ms(p50),
        reference: `${ms(a50)} one log.append`,
        ratio: times(p50, a50),
        goal: '≤ 30 ms',
        met: p50 <= 30,
        summary: true,
      },
      {
        figure: '  of which POST → 200 (update recorded), p50',
        topicdesk: ms(percentile(answered, 50)),
        reference: `${ms(a50)} one log.append`,
        ratio: times(percentile(answered, 50), a50),
      },
      {
        figure: 'webhook → copy in topic, p95',
        topicdesk: ms(p95),
        reference: `${ms(a95)} one log.append`,
        ratio: times(p95, a95),
        summary: true,
      },
    );

    // ---- ingest throughput: many clients, `concurrency` requests in flight ----------------------
    // Round-robin over the clients, so no two requests in flight are from the same client.
    const writers = Array.from({ length: clients }, (_, i) => tg.addUser({ first_name: `Client${i}` }));
    const batch = Array.from({ length: updates }, (_, i) =>
      tg.privateMessage(writers[i % clients]!, {
        text: `update ${i}: I need help with order #${10_000 + i}`,
      }),
    );
    const raw = (
      await appendSingles(started.log, {
        count: updates,
        writers: concurrency,
        stream: (w, i) => `bench-append-a-${w}-${i % 50}`,
      })
    ).rate;
    const before = tg.calls.length;
    const ingest = await httpLoad(started.address(), {
      connections: concurrency,
      amount: updates,
      request: (i) => ({
        method: 'POST',
        path: '/webhooks/telegram',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify(batch[i]),
      }),
    });
    const ok = ingest.statuses.get(200) ?? 0;
    const ingestRate = rate(ok, ingest.ms);
    rows.push({
      figure: `webhook ingest, ${concurrency} in flight (updates/s, ${updates} updates, ${clients} clients)`,
      topicdesk: fmt(ingestRate) + unexpected(ingest, 200),
      reference: `${fmt(raw)} log.append, ${concurrency} writers`,
      ratio: ratio(ingestRate, raw),
      summary: true,
    });

    // ---- the drain: every update copied into its topic ------------------------------------------
    const t0 = performance.now();
    const deadline = t0 + 300_000;
    while (copiesSince(tg, before) < ok) {
      if (performance.now() > deadline) throw new Error('the copies did not all arrive within 5 minutes');
      await sleep(5);
    }
    const drainMs = performance.now() - t0 + ingest.ms;
    rows.push({
      figure: `same updates: first POST → last copy in topic (messages/s, ${clients} new topics)`,
      topicdesk: fmt(rate(ok, drainMs)),
      reference: `${fmt(ingestRate)} ingest`,
      ratio: ratio(rate(ok, drainMs), ingestRate),
      summary: true,
    });
  } finally {
    await app?.stop();
    await tg.close();
    await db.stop();
  }
  return rows;
};
