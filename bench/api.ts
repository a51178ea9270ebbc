// `npm run bench -- api [--messages=N]`: the external API (SPEC §5) of the whole app (startApp, as
// `npm start` runs it) on a throwaway durable embedded PostgreSQL, no Telegram configured (text
// messages only), holding N messages (default 1 M) of one source — each figure beside a plain
// reference measured in the same run on the same server:
//
// - POST throughput: `POST /api/external/{externalId}/messages` JSON requests with a fixed number in
//   flight (a bounded loop over node:http with keep-alive; autocannon is not a dependency), to clients
//   that already have ~100 messages and to new clients. Measured as the API behaves by default
//   (API_WRITE_WAIT_MS 2000): a 201 is sent only once the `messages` projection has listed the
//   message and handed out its cursor, so each request includes the token lookup, reading and folding
//   the conversation's stream (every event of it, decoded), the append, then the wait for the live
//   projection runner's next batch (its LISTEN wake-up, read of the log, upsert, commit) and the
//   read-back of the row. A request whose row does not appear within the wait is answered 202 and
//   counted apart. The rate limiter is opened wide (API_RATE_LIMIT_PER_MINUTE), as the harness does:
//   its 600/min default would be the figure otherwise.
//   Reference: the raw append rate of the same log, `log.append` of one ClientMessageReceived-shaped
//   event per call with the same concurrency (the foundation's figure, as `bench -- log` measures it),
//   the better of two rounds, before and after the POSTs.
//   Two rows say where a POST's time goes: the command alone (the handler's ReceiveClientMessage,
//   called in process: read and fold the stream, decide, append — no HTTP, no wait) and the same
//   POSTs with API_WRITE_WAIT_MS=0 (the app restarted on the same database; 202 without a cursor).
// - List latency: `GET /api/external/{externalId}/messages?limit=50&direction=…&after_id=…` and the
//   source-wide feed `GET /api/external/messages?after_id=…&limit=100`, one request at a time, p50/p95.
//   Reference (the floor): the listing's own SQL — listMessages of src/adapters/api/read-model.ts,
//   the very statement the handler runs, with the same parameters — straight on a pooled connection,
//   interleaved with the HTTP requests so both see the same caches. What the HTTP figure adds is the
//   HTTP round trip (client in this same process), routing and validation, the token lookup (one
//   more query), for the feed the head query (max(cursor), one more), and JSON encoding.
//
// The N messages are loaded without the HTTP path: `log.append` of 20 events per call by 8 appenders,
// round-robin over the conversations (so each one's messages are spread through the log the way days
// of traffic spread them), ~100 messages a conversation (N/100 conversations, at most 10 000), 60 %
// from the client and 40 % manager answers. The app's live projection runners (and the webhook
// reactor) catch up as the events arrive; the measurements start once all of them are at the head
// of the log and the tables are vacuumed (autovacuum would have done that in service).
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import pino from 'pino';
import { type ListFilter, listMessages } from '../src/adapters/api/read-model.ts';
import { decodeConversationEvent } from '../src/adapters/event-codec.ts';
import { conversationIdOf, eventIdOf } from '../src/adapters/ids.ts';
import { createPgEventLog } from '../src/adapters/postgres/pg-event-log.ts';
import { authenticate, createSource } from '../src/adapters/sources/sources.ts';
import { type App, startApp } from '../src/app/app.ts';
import { loadConfig } from '../src/app/config.ts';
import { createCommandHandler } from '../src/domain/command-handler.ts';
import type { EventLog, NewEvent } from '../src/domain/event-log.ts';
import { type Actor, type ConversationEvent, conversationStream } from '../src/domain/events.ts';
import {
  type BenchDatabase,
  fmt,
  percentile,
  type Row,
  rate,
  ratio,
  startBenchDatabase,
  timed,
} from './support.ts';

export interface ApiBenchOptions {
  /** Messages in the read model while measuring (default 1 000 000). */
  readonly messages?: number;
  /** POST requests per figure (default 2000). */
  readonly posts?: number;
  /** Requests in flight for the POST figures (default 16). */
  readonly concurrency?: number;
  /** Requests per list figure (default 2000). */
  readonly listRequests?: number;
}

const SOURCE = 'bench';
const messagesPerConversation = 100;
const maxConversations = 10_000;
const eventsPerAppend = 20;
const appenders = 8;

const progress = (line: string) => process.stderr.write(`[api] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------
// The loaded conversations: ConversationStarted, then client messages and manager answers.

/** A small seeded PRNG (mulberry32): the same shape of data on every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const words =
  'hello order delivery payment refund please thanks where is my parcel tracking number invoice account password reset help support card bank transfer status today tomorrow week address change cancel item size colour broken damaged replace return label courier warehouse discount promo code subscription renew price total receipt'.split(
    ' ',
  );
const texts = (() => {
  const random = seeded(11);
  return Array.from({ length: 1024 }, () =>
    Array.from(
      { length: 3 + Math.floor(random() * random() * 40) },
      () => words[Math.floor(random() * words.length)]!,
    ).join(' '),
  );
})();
const managers: readonly Actor[] = ['Alice', 'Boris', 'Chen', 'Dana'].map((name, i) => ({
  kind: 'manager',
  id: String(5_000_000 + i * 7919),
  name,
}));

const externalIdOf = (i: number) => `client-${i}`;

interface Script {
  readonly stream: string;
  revision: number;
  remaining(): number;
  take(count: number): NewEvent[];
}

const conversationScript = (index: number, messages: number, random: () => number, now: number): Script => {
  const clientId = externalIdOf(index);
  const conversationId = conversationIdOf('external', SOURCE, clientId);
  const source: Actor = { kind: 'source', id: SOURCE };
  let t = now - 90 * 86_400_000 + random() * 30 * 86_400_000;
  let made = -1; // -1: ConversationStarted is next
  const event = (e: ConversationEvent, actor: Actor): NewEvent => {
    t += (10 + random() * 3600) * 1000;
    const command = randomUUID();
    return {
      id: randomUUID(),
      type: e.type,
      data: e.data,
      metadata: {
        occurredAt: new Date(t).toISOString(),
        correlationId: command,
        causationId: command,
        actor,
      },
    };
  };
  const next = (): NewEvent => {
    const k = made++;
    if (k < 0) {
      return event(
        {
          type: 'ConversationStarted',
          data: { conversationId, channel: 'external', source: SOURCE, clientId, profile: {} },
        },
        source,
      );
    }
    const text = texts[Math.floor(random() * texts.length)]!;
    if (k === 0 || random() < 0.6) {
      return event(
        {
          type: 'ClientMessageReceived',
          data: { messageId: randomUUID(), text, attachments: [], suppressed: false },
        },
        source,
      );
    }
    const manager = managers[Math.floor(random() * managers.length)]!;
    return event(
      {
        type: 'ManagerReplied',
        data: {
          messageId: randomUUID(),
          managerId: manager.id,
          managerName: manager.name!,
          text,
          attachments: [],
        },
      },
      manager,
    );
  };
  return {
    stream: conversationStream(conversationId),
    revision: -1,
    remaining: () => messages - made,
    take(count) {
      const out: NewEvent[] = [];
      while (out.length < count && made < messages) out.push(next());
      return out;
    },
  };
};

/** Appends every conversation's events, `eventsPerAppend` per call, in rounds over all of them. */
const load = async (log: EventLog, scripts: readonly Script[]): Promise<number> => {
  let appended = 0;
  for (;;) {
    const pending = scripts.filter((s) => s.remaining() > 0);
    if (pending.length === 0) return appended;
    let next = 0;
    await Promise.all(
      Array.from({ length: appenders }, async () => {
        while (next < pending.length) {
          const script = pending[next++]!;
          const events = script.take(eventsPerAppend);
          const result = await log.append(
            script.stream,
            events,
            script.revision < 0 ? 'no_stream' : script.revision,
          );
          script.revision = result.nextRevision;
          appended += events.length;
        }
      }),
    );
    progress(`  ${appended.toLocaleString('en-US')} events appended`);
  }
};

/**
 * Waits until every active projection and every reactor has handled the last event of the log. The
 * log's order is (transaction id, position) — what a checkpoint stores as (commit, prepare) — so the
 * last event is not always the one with the highest position.
 */
const caughtUp = async (db: BenchDatabase, timeoutMs: number) => {
  const deadline = performance.now() + timeoutMs;
  let lastReport = performance.now();
  for (;;) {
    const { rows } = await db.pool.query<{ name: string; done: boolean; applied: string }>(
      `WITH head AS (
         SELECT transaction_id::text::bigint AS c, position AS p FROM td_events
          ORDER BY transaction_id DESC, position DESC LIMIT 1)
       SELECT name, coalesce((checkpoint_commit, checkpoint_prepare) >= (head.c, head.p), false) AS done,
              events_applied::text AS applied
         FROM td_projections, head WHERE status = 'active'
       UNION ALL
       SELECT 'reactor ' || name, coalesce((checkpoint_commit, checkpoint_prepare) >= (head.c, head.p), false),
              events_handled::text
         FROM td_reactors, head`,
    );
    const behind = rows.filter((r) => !r.done);
    if (rows.length > 0 && behind.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`not caught up: ${behind.map((r) => r.name).join(', ')}`);
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      progress(`  catching up: ${behind.map((r) => `${r.name} at ${r.applied} events`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
};

// ---------------------------------------------------------------------------------------------
// HTTP: node:http with keep-alive (cheaper per request than fetch, so less of the client's cost is
// in the figures — the client runs in this same process, sharing the event loop with the app).

interface Answer {
  readonly status: number;
  readonly body: string;
}

const httpClient = (app: App, token: string, maxSockets: number) => {
  const base = new URL(app.address());
  const agent = new Agent({ keepAlive: true, maxSockets });
  const call = (method: string, path: string, json?: unknown): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const body = json === undefined ? undefined : JSON.stringify(json);
      const req = httpRequest(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
};

/** Runs `count` jobs with at most `concurrency` at once; per-request latencies and statuses. */
const bounded = async (count: number, concurrency: number, job: (i: number) => Promise<number>) => {
  let next = 0;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        const status = await job(i);
        latencies.push(performance.now() - t0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), statuses };
};

/** The foundation's rate: single-event appends by `writers` concurrent writers (events/s). */
const rawAppendRate = async (log: EventLog, count: number, writers: number, round: string) => {
  const perWriter = Math.ceil(count / writers);
  const { ms } = await timed(() =>
    Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const revisions = new Map<string, number>();
        for (let i = 0; i < perWriter; i++) {
          const stream = `bench-append-${round}-${w}-${i % 50}`;
          const expected = revisions.get(stream) ?? -1;
          const command = randomUUID();
          const result = await log.append(
            stream,
            [
              {
                id: randomUUID(),
                // ClientMessageReceived's data, under a type (and stream) no projection reads.
                type: 'BenchAppended',
                data: {
                  messageId: randomUUID(),
                  text: `message number ${i} from a customer who needs help with an order`,
                  attachments: [],
                  suppressed: false,
                },
                metadata: {
                  occurredAt: new Date().toISOString(),
                  correlationId: command,
                  causationId: command,
                  actor: { kind: 'source' as const, id: SOURCE },
                },
              },
            ],
            expected < 0 ? 'no_stream' : expected,
          );
          revisions.set(stream, result.nextRevision);
        }
      }),
    ),
  );
  return rate(perWriter * writers, ms);
};

const latencyOf = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
};
const pXX = (l: { p50: number; p95: number }) => `p50 ${l.p50.toFixed(2)} · p95 ${l.p95.toFixed(2)}`;
const statusText = (statuses: Map<number, number>, expected: number) => {
  const others = [...statuses].filter(([s]) => s !== expected).map(([s, n]) => `${n}×${s}`);
  return others.length > 0 ? ` (${others.join(', ')})` : '';
};

// ---------------------------------------------------------------------------------------------

export const benchApi = async (options: ApiBenchOptions = {}): Promise<Row[]> => {
  const messages = options.messages ?? 1_000_000;
  const posts = options.posts ?? 2000;
  const concurrency = options.concurrency ?? 16;
  const listRequests = options.listRequests ?? 2000;
  const conversations = Math.max(
    1,
    Math.min(maxConversations, Math.round(messages / messagesPerConversation)),
  );
  const loadAtStart = loadavg()[0]!;
  const started = performance.now();

  const db = await startBenchDatabase(8);
  let app: App | undefined;
  const rows: Row[] = [];
  try {
    const env = {
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      API_RATE_LIMIT_PER_MINUTE: '1000000000',
      LOG_LEVEL: 'silent',
    };
    app = await startApp(loadConfig(env), pino({ level: 'silent' }));
    const live = app;
    const { token } = await createSource(live.log, SOURCE, null);
    for (let i = 0; !(await authenticate(db.pool, token)); i++) {
      if (i > 500) throw new Error('the token was not accepted within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }

    // ---- load N messages through the log; the app's runners catch up live ----------------------
    const log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    const random = seeded(20_240_601);
    const now = Date.now();
    const scripts = Array.from({ length: conversations }, (_, i) =>
      conversationScript(
        i,
        Math.floor(messages / conversations) + (i < messages % conversations ? 1 : 0),
        random,
        now,
      ),
    );
    progress(
      `loading ${messages.toLocaleString('en-US')} messages across ${conversations.toLocaleString('en-US')} conversations (${eventsPerAppend} events per append, ${appenders} appenders)`,
    );
    const loaded = await timed(() => load(log, scripts));
    progress(`  appended in ${seconds(loaded.ms)} (${fmt(rate(loaded.value, loaded.ms))} events/s)`);
    const catchUp = await timed(() => caughtUp(db, 30 * 60_000));
    progress(`  projections and reactors caught up ${seconds(catchUp.ms)} after the last append`);
    const vacuum = await timed(() => db.pool.query('VACUUM (ANALYZE)'));
    progress(`  vacuumed in ${seconds(vacuum.ms)}`);
    const listed = Number(
      (
        await db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM rm_messages WHERE channel = 'external' AND source = $1`,
          [SOURCE],
        )
      ).rows[0]!.n,
    );
    if (listed !== messages) throw new Error(`the read model lists ${listed} messages, not ${messages}`);
    rows.push({
      figure: `load: append, ${eventsPerAppend}/call × ${appenders} appenders (events/s, ${loaded.value} events)`,
      topicdesk: fmt(rate(loaded.value, loaded.ms)),
      reference: '',
      ratio: '',
    });
    rows.push({
      figure: '  live projections + webhook reactor at the head, after the last append',
      topicdesk: seconds(catchUp.ms),
      reference: '',
      ratio: '',
    });

    const http = httpClient(live, token, concurrency);
    try {
      // ---- list latency, one request at a time, beside the listing's SQL alone -------------------
      progress('list latency');
      const ranges = (
        await db.pool.query<{ external_id: string; lo: string; hi: string }>(
          `SELECT external_id, min(cursor)::text AS lo, max(cursor)::text AS hi FROM rm_messages
            WHERE channel = 'external' AND source = $1 GROUP BY external_id`,
          [SOURCE],
        )
      ).rows.map((r) => ({ externalId: r.external_id, lo: Number(r.lo), hi: Number(r.hi) }));
      const maxCursor = Math.max(...ranges.map((r) => r.hi));
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
      const between = (a: number, b: number) => Math.floor(a + Math.random() * (b - a + 1));

      interface ListCase {
        readonly figure: string;
        /** The request's path and the filter the handler builds from it. */
        readonly params: () => { path: string; filter: ListFilter };
      }
      const cases: ListCase[] = [
        {
          figure: 'GET /{externalId}/messages?limit=50&direction&after_id',
          params: () => {
            const r = pick(ranges);
            const direction = Math.random() < 0.5 ? ('incoming' as const) : ('outgoing' as const);
            const afterId = between(r.lo - 1, r.hi);
            return {
              path: `/api/external/${encodeURIComponent(r.externalId)}/messages?limit=50&direction=${direction}&after_id=${afterId}`,
              filter: {
                source: SOURCE,
                conversationId: conversationIdOf('external', SOURCE, r.externalId),
                direction,
                afterId,
                sort: 'asc',
                limit: 50,
                includeDeleted: false,
              },
            };
          },
        },
        {
          figure: 'GET /messages?after_id&limit=100 (source-wide feed)',
          params: () => {
            const afterId = between(0, maxCursor);
            return {
              path: `/api/external/messages?after_id=${afterId}&limit=100`,
              filter: { source: SOURCE, afterId, sort: 'asc', limit: 100, includeDeleted: false },
            };
          },
        },
      ];
      {
        const viaHttp = async (path: string) => {
          const t0 = performance.now();
          const answer = await http.call('GET', path);
          const ms = performance.now() - t0;
          if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${answer.body}`);
          return { ms, answer };
        };
        const viaSql = async (filter: ListFilter) => {
          const t0 = performance.now();
          const page = await listMessages(db.pool, filter);
          return { ms: performance.now() - t0, page };
        };
        for (const c of cases) {
          // The API must answer with the very rows the SQL gives.
          for (let i = 0; i < 20; i++) {
            const { path, filter } = c.params();
            const { answer } = await viaHttp(path);
            const { page } = await viaSql(filter);
            const got = (JSON.parse(answer.body) as { messages: Array<{ cursor: number }> }).messages
              .map((m) => m.cursor)
              .join();
            if (got !== page.rows.map((r) => r.cursor).join())
              throw new Error(`${c.figure}: the API answers other rows than the SQL for ${path}`);
          }
          const ours: number[] = [];
          const floor: number[] = [];
          let rowsSeen = 0;
          for (let i = -200; i < listRequests; i++) {
            const { path, filter } = c.params();
            // Alternate which goes first so neither always finds the other's pages in cache.
            const first = i % 2 === 0;
            const s1 = first ? undefined : await viaSql(filter);
            const h = await viaHttp(path);
            const s2 = first ? await viaSql(filter) : s1!;
            if (i < 0) continue; // warm-up
            ours.push(h.ms);
            floor.push(s2.ms);
            rowsSeen += s2.page.rows.length;
          }
          const a = latencyOf(ours);
          const b = latencyOf(floor);
          rows.push({
            figure: `${c.figure} (ms, ${listRequests} requests, ${(rowsSeen / listRequests).toFixed(0)} rows avg)`,
            topicdesk: pXX(a),
            reference: `${pXX(b)} its SQL alone`,
            ratio: `${(a.p95 / b.p95).toFixed(1)}× p95`,
            goal: 'p95 ≤ 5 ms',
          });
          progress(`  ${c.figure}: ${pXX(a)} (SQL ${pXX(b)})`);
        }
      }

      // ---- POST throughput, `concurrency` in flight, beside the raw append rate ------------------
      progress('POST throughput');
      const post = (client: typeof http) => async (externalId: string, i: number) =>
        (
          await client.call('POST', `/api/external/${encodeURIComponent(externalId)}/messages`, {
            text: `question ${i}: where is my parcel? order #${100_000 + i}`,
          })
        ).status;
      // Round-robin over the conversations (a stride, so no two in flight are of the same client).
      const historic = (i: number) => externalIdOf((i * 7919) % conversations);
      // Warm-up (connections, JIT, caches), not measured.
      await bounded(200, concurrency, (i) => post(http)(historic(i), i));
      await caughtUp(db, 60_000);
      const raw1 = await rawAppendRate(live.log, posts, concurrency, 'a');
      await caughtUp(db, 60_000);
      const existing = await timed(() =>
        bounded(posts, concurrency, (i) => post(http)(historic(posts + i), 1_000_000 + i)),
      );
      await caughtUp(db, 60_000);
      const fresh = await timed(() =>
        bounded(posts, concurrency, (i) => post(http)(`new-client-${i}`, 2_000_000 + i)),
      );
      await caughtUp(db, 60_000);

      // Where a POST's time goes, 1: the command alone — what the handler runs between the checks
      // and the wait (read and fold the stream, decide, append), called in process as the app does.
      const handler = createCommandHandler({
        log: live.log,
        eventId: eventIdOf,
        decode: decodeConversationEvent,
      });
      const commandAlone = await timed(() =>
        bounded(posts, concurrency, async (i) => {
          const externalId = historic(2 * posts + i);
          const conversationId = conversationIdOf('external', SOURCE, externalId);
          const messageId = randomUUID();
          await handler.execute(
            conversationId,
            {
              type: 'ReceiveClientMessage',
              conversationId,
              channel: 'external',
              source: SOURCE,
              clientId: externalId,
              profile: {},
              messageId,
              content: { text: `question ${i}: where is my parcel?`, attachments: [] },
            },
            { commandId: `api:${messageId}`, actor: { kind: 'source', id: SOURCE } },
          );
          return 201;
        }),
      );
      await caughtUp(db, 60_000);
      const raw2 = await rawAppendRate(live.log, posts, concurrency, 'b');
      const raw = Math.max(raw1, raw2);
      progress(`  raw append ${fmt(raw1)} / ${fmt(raw2)} events/s`);
      await caughtUp(db, 60_000);

      // Where a POST's time goes, 2: the same requests answered without waiting for the read model
      // (API_WRITE_WAIT_MS=0: 202 and no cursor) — the app restarted on the same database.
      http.close();
      await live.stop();
      app = await startApp(loadConfig({ ...env, API_WRITE_WAIT_MS: '0' }), pino({ level: 'silent' }));
      const noWaitHttp = httpClient(app, token, concurrency);
      try {
        await bounded(200, concurrency, (i) => post(noWaitHttp)(historic(i), 3_000_000 + i));
        await caughtUp(db, 60_000);
        const noWait = await timed(() =>
          bounded(posts, concurrency, (i) => post(noWaitHttp)(historic(3 * posts + i), 4_000_000 + i)),
        );
        await caughtUp(db, 60_000);

        const perSecond = (run: typeof existing, status: number) =>
          rate(run.value.statuses.get(status) ?? 0, run.ms);
        const latency = (run: typeof existing): Row => ({
          figure: '  latency of those requests (ms)',
          topicdesk: pXX({
            p50: percentile(run.value.latencies, 50),
            p95: percentile(run.value.latencies, 95),
          }),
          reference: '',
          ratio: '',
        });
        const against = `${fmt(raw)} log.append, ${concurrency} writers`;
        const history = Math.round(messages / conversations);
        rows.push(
          {
            figure: `POST /{externalId}/messages, ${concurrency} in flight, clients with ~${history} messages (201/s, ${posts} requests)`,
            topicdesk: `${fmt(perSecond(existing, 201))}${statusText(existing.value.statuses, 201)}`,
            reference: against,
            ratio: ratio(perSecond(existing, 201), raw),
            goal: '≥ 50 %',
          },
          latency(existing),
          {
            figure: '  the command alone: handler.execute in process, no HTTP, no wait (commands/s)',
            topicdesk: fmt(rate(posts, commandAlone.ms)),
            reference: against,
            ratio: ratio(rate(posts, commandAlone.ms), raw),
          },
          {
            figure: '  the same POSTs not waiting for the read model, API_WRITE_WAIT_MS=0 (202/s)',
            topicdesk: `${fmt(perSecond(noWait, 202))}${statusText(noWait.value.statuses, 202)}`,
            reference: against,
            ratio: ratio(perSecond(noWait, 202), raw),
          },
          latency(noWait),
          {
            figure: `POST /{externalId}/messages, ${concurrency} in flight, new clients (201/s, ${posts} requests)`,
            topicdesk: `${fmt(perSecond(fresh, 201))}${statusText(fresh.value.statuses, 201)}`,
            reference: against,
            ratio: ratio(perSecond(fresh, 201), raw),
            goal: '≥ 50 %',
          },
          latency(fresh),
        );
      } finally {
        noWaitHttp.close();
      }
    } finally {
      http.close();
    }
    await log.close();
    rows.push({
      figure: 'machine load average (1 min) at start / end; whole run',
      topicdesk: `${loadAtStart.toFixed(2)} / ${loadavg()[0]!.toFixed(2)}; ${seconds(performance.now() - started)}`,
      reference: '',
      ratio: '',
    });
  } finally {
    await app?.stop();
    await db.stop();
  }
  return rows;
};
