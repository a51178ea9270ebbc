// `npm run bench -- api [--messages=N]`: the external API (docs/design.md, "The external API") of
// the whole app (startApp, as `npm start` runs it) on a throwaway durable embedded PostgreSQL, no
// Telegram configured (text messages only), holding N messages (default 1 M) of one source — each
// figure beside a plain reference measured in the same run on the same server:
//
// - POST throughput: `POST /api/external/{externalId}/messages` JSON requests with a fixed number in
//   flight (autocannon: that many keep-alive connections, one request in flight on each), to clients
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
//   the better of two rounds, before and after the POSTs, after a round of warm-up not counted (as
//   the POSTs have theirs).
//   Two rows say where a POST's time goes: the command alone (the handler's ReceiveClientMessage,
//   called in process, as after a restart: a refused first append, the cold read, decide, append
//   — no HTTP, no wait) and the same
//   POSTs with API_WRITE_WAIT_MS=0 (the app restarted on the same database; 202 without a cursor).
// - List latency: `GET /api/external/{externalId}/messages?limit=50&direction=…&after_id=…` and the
//   source-wide feed `GET /api/external/messages?after_id=…&limit=100`, one request at a time
//   (autocannon, one connection), p50/p95. Reference (the floor): the listing's own SQL — listMessages
//   of src/adapters/api/read-model.ts, the very statement the handler runs, with the same parameters —
//   straight on a pooled connection, in blocks of 200 alternating with the HTTP blocks (same parameters,
//   the order of the two flipped every block) so both see the same caches. What the HTTP figure adds is the
//   HTTP round trip (client in this same process), routing and validation, the token lookup (one
//   more query), for the feed the head query (max(cursor), one more), and JSON encoding.
//
// The N messages are loaded without the HTTP path: `log.append` of 20 events per call by 8 appenders,
// round-robin over the conversations (so each one's messages are spread through the log the way days
// of traffic spread them), ~100 messages a conversation (N/100 conversations, at most 10 000), 60 %
// from the client and 40 % manager answers, each conversation with its topic and every client message
// followed by its copy into it (ClientMessageForwarded), as in service; the app measured has no
// Telegram, so the POSTed messages stay uncopied. The app's live projection runners (and the webhook
// reactor) catch up as the events arrive; the measurements start once all of them are at the head
// of the log and the tables are vacuumed (autovacuum would have done that in service).
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { type ListFilter, listMessages } from '../src/adapters/api/read-model.ts';
import { decodeConversationEvent } from '../src/adapters/event-codec.ts';
import { commandEventId, conversationIdOf } from '../src/adapters/ids.ts';
import { createPgConversationStore } from '../src/adapters/postgres/conversation-store.ts';
import { createPgEventLog } from '../src/adapters/postgres/pg-event-log.ts';
import { authenticate, createSource } from '../src/adapters/sources/sources.ts';
import type { App } from '../src/app/app.ts';
import { createCommandHandler } from '../src/domain/command-handler.ts';
import { createConversationReader } from '../src/domain/conversation-reader.ts';
import { withCpuProfile } from './cpu-profile.ts';
import {
  httpLoad,
  type LoadRequest,
  type LoadResult,
  otherStatuses,
  startBenchApp,
  unexpected,
} from './http.ts';
import { appendScripts, externalConversation, externalIdOf, scriptsFor, seeded } from './loader.ts';
import { formatSummary, summarizeProfile } from './profile-summary.ts';
import {
  appendSingles,
  type BenchDatabase,
  concurrently,
  cpuDuring,
  fmt,
  latencyOf,
  pXX,
  type Row,
  rate,
  ratio,
  startBenchDatabase,
  statementsDuring,
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
  /** Writes a CPU profile of the POSTs to clients with history (this process only) here. */
  readonly profileDir?: string;
}

const SOURCE = 'bench';
const messagesPerConversation = 100;
const maxConversations = 10_000;
const eventsPerAppend = 20;
const appenders = 8;

const progress = (line: string) => process.stderr.write(`[api] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

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
      `/* bench:uncounted */ WITH head AS (
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

const pct = (share: number) => `${(share * 100).toFixed(0)} %`;

/**
 * CPU per request beside CPU per raw append: on a shared machine the rates move with everyone
 * else's load, the CPU each one costs hardly does. Its ratio is what the rate's would be on two idle cores.
 */
const cpuRows = (
  post: Awaited<ReturnType<typeof cpuDuring>>,
  raw: Awaited<ReturnType<typeof cpuDuring>>,
  n: number,
): Row[] => {
  if (post.appMs === undefined || raw.appMs === undefined) return [];
  const per = (ms: number) => (ms / n).toFixed(2);
  const postMs = post.appMs + post.serverMs;
  const rawMs = raw.appMs + raw.serverMs;
  return [
    {
      figure: '  CPU per request: this process (app and load generator) + PostgreSQL (ms)',
      topicdesk: `${per(post.appMs)} + ${per(post.serverMs)} = ${per(postMs)}`,
      reference: `${per(raw.appMs)} + ${per(raw.serverMs)} = ${per(rawMs)} per log.append`,
      ratio: ratio(rawMs, postMs),
    },
    {
      // Which was full: the app's one thread, or the machine (PostgreSQL, this process, anyone else).
      figure: "  busy in the span: this process's main thread (event loop) · the machine (all cores)",
      topicdesk: `${pct(post.loopBusy)} · ${pct(post.machineBusy)}`,
      reference: `${pct(raw.loopBusy)} · ${pct(raw.machineBusy)} during log.append`,
      ratio: '',
    },
  ];
};

/** The foundation's rate: single-event appends by `writers` concurrent writers (events/s). */
const rawAppendRate = async (log: App['log'], count: number, writers: number, round: string) =>
  (await appendSingles(log, { count, writers, stream: (w, i) => `bench-append-${round}-${w}-${i % 50}` }))
    .rate;

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

  const db = await startBenchDatabase(8, { countStatements: true });
  let app: App | undefined;
  const rows: Row[] = [];
  try {
    // The rate limiter opened wide: its 600/min default would be the figure otherwise.
    const env = { API_RATE_LIMIT_PER_MINUTE: '1000000000' };
    app = await startBenchApp(db, env);
    const live = app;
    const { token } = await createSource(live.log, SOURCE, null);
    for (let i = 0; !(await authenticate(db.pool, token)); i++) {
      if (i > 500) throw new Error('the token was not accepted within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const auth = { authorization: `Bearer ${token}` };

    // ---- load N messages through the log; the app's runners catch up live ----------------------
    const log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    const random = seeded(20_240_601);
    const now = Date.now();
    const scripts = scriptsFor(messages, conversations, (i, n) =>
      externalConversation(SOURCE, i, n, random, now),
    );
    progress(
      `loading ${messages.toLocaleString('en-US')} messages across ${conversations.toLocaleString('en-US')} conversations (${eventsPerAppend} events per append, ${appenders} appenders)`,
    );
    const loaded = await timed(() =>
      appendScripts(log, scripts, {
        eventsPerAppend,
        appenders,
        onRound: (_, n) => progress(`  ${n.toLocaleString('en-US')} events appended`),
      }),
    );
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

    // ---- list latency, one request at a time, beside the listing's SQL alone ---------------------
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
    const base = live.address();
    for (const c of cases) {
      // The API must answer with the very rows the SQL gives (a plain fetch: a check, not load).
      for (let i = 0; i < 20; i++) {
        const { path, filter } = c.params();
        const res = await fetch(`${base}${path}`, { headers: auth });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${body}`);
        const page = await listMessages(db.pool, filter);
        const got = (JSON.parse(body) as { messages: Array<{ cursor: number }> }).messages
          .map((m) => m.cursor)
          .join();
        if (got !== page.rows.map((r) => r.cursor).join())
          throw new Error(`${c.figure}: the API answers other rows than the SQL for ${path}`);
      }
      // Blocks of `block` requests: autocannon on one connection (one request at a time), then the
      // same parameters through the SQL alone, or the other way round, flipped every block. The
      // first block warms up and is not counted.
      const block = 200;
      const ours: number[] = [];
      const floor: number[] = [];
      let rowsSeen = 0;
      for (let b = -1; b < Math.ceil(listRequests / block); b++) {
        const params = Array.from({ length: block }, () => c.params());
        const viaHttp = () =>
          httpLoad(base, {
            connections: 1,
            amount: block,
            request: (i) => ({ method: 'GET', path: params[i % block]!.path, headers: auth }),
          });
        const viaSql = async () => {
          const ms: number[] = [];
          for (const { filter } of params) {
            const t0 = performance.now();
            rowsSeen += b < 0 ? 0 : (await listMessages(db.pool, filter)).rows.length;
            ms.push(performance.now() - t0);
          }
          return ms;
        };
        let h: LoadResult;
        let s: number[];
        if (b % 2 === 0) {
          h = await viaHttp();
          s = await viaSql();
        } else {
          s = await viaSql();
          h = await viaHttp();
        }
        if ((h.statuses.get(200) ?? 0) !== block || h.errors > 0)
          throw new Error(`${c.figure}: not every request answered 200${otherStatuses(h.statuses, 200)}`);
        if (b < 0) continue; // warm-up
        ours.push(...h.latencies);
        floor.push(...s);
      }
      const a = latencyOf(ours);
      const f = latencyOf(floor);
      rows.push({
        figure: `${c.figure} (ms, ${ours.length} requests, ${(rowsSeen / floor.length).toFixed(0)} rows avg)`,
        topicdesk: pXX(a),
        reference: `${pXX(f)} its SQL alone`,
        ratio: `${(a.p95 / f.p95).toFixed(1)}× p95`,
        goal: 'p95 ≤ 5 ms',
        met: a.p95 <= 5,
        summary: true,
      });
      progress(`  ${c.figure}: ${pXX(a)} (SQL ${pXX(f)})`);
    }

    // ---- POST throughput, `concurrency` in flight, beside the raw append rate --------------------
    progress('POST throughput');
    const post =
      (externalId: (i: number) => string, offset: number) =>
      (i: number): LoadRequest => ({
        method: 'POST',
        path: `/api/external/${encodeURIComponent(externalId(i))}/messages`,
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          text: `question ${offset + i}: where is my parcel? order #${100_000 + offset + i}`,
        }),
      });
    const posting = (app: App, request: (i: number) => LoadRequest, amount = posts) =>
      httpLoad(app.address(), { connections: concurrency, amount, request });
    // Round-robin over the conversations (a stride, so no two in flight are of the same client).
    const historic = (i: number) => externalIdOf((i * 7919) % conversations);
    // Warm-up (connections, JIT, caches), not measured.
    await posting(live, post(historic, 0), 200);
    await caughtUp(db, 60_000);
    // The raw append warms up too: its first round after the load ran at 62–67 % of a second one,
    // and round a's CPU and statements are the reference's rows below.
    await rawAppendRate(live.log, posts, concurrency, 'warm');
    await caughtUp(db, 60_000);
    const raw1Counted = await statementsDuring(db, () =>
      cpuDuring(db, () => rawAppendRate(live.log, posts, concurrency, 'a')),
    );
    const raw1 = raw1Counted.value.value;
    const rawCpu = raw1Counted.value;
    await caughtUp(db, 60_000);
    // Counted until every projection and reactor has handled the POSTs' events: their work is the POSTs'.
    const existingCounted = await statementsDuring(db, () =>
      cpuDuring(db, async () => {
        const run = async () => {
          const r = await posting(
            live,
            post((i) => historic(posts + i), 1_000_000),
          );
          await caughtUp(db, 60_000);
          return r;
        };
        if (!options.profileDir) return run();
        const { value, profile, file } = await withCpuProfile(options.profileDir, 'api-post', run);
        const summary = summarizeProfile(profile);
        console.log(
          `\n## api: CPU profile of ${posts} POSTs, ${concurrency} in flight\n\nprofile: ${file}\n`,
        );
        console.log(formatSummary(summary, { top: 25 }));
        console.log(formatSummary(summary, { top: 25, only: 'src/' }));
        return value;
      }),
    );
    const existing = existingCounted.value.value;
    const postCpu = existingCounted.value;
    progress(
      `  statements per POST ${(existingCounted.total / posts).toFixed(1)}; the most frequent (per POST: calls, server ms):`,
    );
    for (const s of existingCounted.top.slice(0, 16))
      progress(`    ${(s.calls / posts).toFixed(2)}  ${(s.ms / posts).toFixed(3)}  ${s.query.slice(0, 130)}`);
    const fresh = await posting(
      live,
      post((i) => `new-client-${i}`, 2_000_000),
    );
    await caughtUp(db, 60_000);

    // Where a POST's time goes, 1: the command alone — what the handler runs between the checks
    // and the wait (read, decide, append), in process, with a reader of its own over the app's store
    // that holds nothing and has seen nothing, as after a restart: every command is first presumed to
    // start its conversation (refused: it exists), then reads cold (the stored core, the tail).
    const handler = createCommandHandler({
      log: live.log,
      eventId: commandEventId,
      decode: decodeConversationEvent,
      reader: createConversationReader({
        log: live.log,
        store: createPgConversationStore({ pool: db.pool }),
        decode: decodeConversationEvent,
        cacheSize: 0,
      }),
    });
    const commandAlone = await timed(() =>
      concurrently(posts, concurrency, async (i) => {
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
      }),
    );
    await caughtUp(db, 60_000);
    const raw2 = await rawAppendRate(live.log, posts, concurrency, 'b');
    const raw = Math.max(raw1, raw2);
    progress(`  raw append ${fmt(raw1)} / ${fmt(raw2)} events/s`);
    await caughtUp(db, 60_000);

    // Where a POST's time goes, 2: the same requests answered without waiting for the read model
    // (API_WRITE_WAIT_MS=0: 202 and no cursor) — the app restarted on the same database.
    await live.stop();
    app = await startBenchApp(db, { ...env, API_WRITE_WAIT_MS: '0' });
    const noWaitApp = app;
    await posting(noWaitApp, post(historic, 3_000_000), 200);
    await caughtUp(db, 60_000);
    const noWait = await posting(
      noWaitApp,
      post((i) => historic(3 * posts + i), 4_000_000),
    );
    await caughtUp(db, 60_000);

    const perSecond = (run: LoadResult, status: number) => rate(run.statuses.get(status) ?? 0, run.ms);
    const latency = (run: LoadResult): Row => ({
      figure: '  latency of those requests (ms)',
      topicdesk: pXX(latencyOf(run.latencies)),
      reference: '',
      ratio: '',
    });
    const against = `${fmt(raw)} log.append, ${concurrency} writers`;
    const history = Math.round(messages / conversations);
    rows.push(
      {
        figure: `POST /{externalId}/messages, ${concurrency} in flight, clients with ~${history} messages (201/s, ${posts} requests)`,
        topicdesk: `${fmt(perSecond(existing, 201))}${unexpected(existing, 201)}`,
        reference: against,
        ratio: ratio(perSecond(existing, 201), raw),
        goal: '≥ 30 %',
        met: perSecond(existing, 201) >= 0.3 * raw,
        summary: true,
      },
      latency(existing),
      ...cpuRows(postCpu, rawCpu, posts),
      {
        figure: '  SQL statements per request, the whole app (projections and reactors included)',
        topicdesk: (existingCounted.total / posts).toFixed(1),
        reference: `${(raw1Counted.total / posts).toFixed(1)} per log.append`,
        ratio: '',
      },
      {
        figure: '  the command alone, read cold: handler.execute in process, no HTTP, no wait (commands/s)',
        topicdesk: fmt(rate(posts, commandAlone.ms)),
        reference: against,
        ratio: ratio(rate(posts, commandAlone.ms), raw),
      },
      {
        figure: '  the same POSTs not waiting for the read model, API_WRITE_WAIT_MS=0 (202/s)',
        topicdesk: `${fmt(perSecond(noWait, 202))}${unexpected(noWait, 202)}`,
        reference: against,
        ratio: ratio(perSecond(noWait, 202), raw),
      },
      latency(noWait),
      {
        figure: `POST /{externalId}/messages, ${concurrency} in flight, new clients (201/s, ${posts} requests)`,
        topicdesk: `${fmt(perSecond(fresh, 201))}${unexpected(fresh, 201)}`,
        reference: against,
        ratio: ratio(perSecond(fresh, 201), raw),
        goal: '≥ 30 %',
        met: perSecond(fresh, 201) >= 0.3 * raw,
        summary: true,
      },
      latency(fresh),
    );
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
