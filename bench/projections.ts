// `npm run bench -- projections [--events=N] [--conversations=N] [--rounds=N]`: loads N realistic
// conversation events (default 1 M across 10 k conversations; bench/loader.ts) through the log,
// rebuilds the `messages` and `conversations` projections from zero (what `projections:rebuild`
// does, and what the live runner does on a fresh database), and times keyset page queries on the
// result — each beside a plain PostgreSQL reference measured in the same run on the same server.
// `bench -- scale` runs it at several sizes and compares its figures (ProjectionsMetrics).
//
// References, and why:
// - Rebuild (goal ≥ 25 %): COPY FROM STDIN of the very same events (the log's rows, copied out of
//   td_events) into a plain table with no keys. Catch-up is a walk through the log, so "the same
//   rows" are the events: same count, same bytes, the same unit (rows/s = events/s), and the same
//   yardstick for a projection with a large output (messages) and one with a tiny one
//   (conversations). No keys on the reference table makes it the fastest bulk path there is.
// - Also for `messages`, a stricter side figure: bulk-loading its output — COPY of the very rows the
//   rebuild produced into a table made by the projection's own DDL, plus the same index build — in
//   events/s-equivalent (events ÷ time). That is the floor for the write half alone: no log read.
// - Load: the append rate (many events per call, several appenders) beside the same events COPY.
// - Page queries: the same SQL against a plain table holding the same rows (from that COPY) with
//   the same indexes. This isolates what topicdesk adds — the view indirection and the table's
//   history of upserts — from the query cost itself; the SELECT 1 round trip is shown as the floor.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeConversationEvent, decodeEventMetadata } from '../src/adapters/event-codec.ts';
import { eventLogMigrations, migrate } from '../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../src/adapters/postgres/sql.ts';
import { type EventLog, startOfLog } from '../src/domain/event-log.ts';
import { registryMigrations } from '../src/projections/index.ts';
import type { Projection } from '../src/projections/projection.ts';
import { conversationsProjection } from '../src/projections/read-models/conversations.ts';
import { messagesProjection } from '../src/projections/read-models/messages.ts';
import { type RebuildProgress, rebuildProjection } from '../src/projections/rebuild.ts';
import type { QueryResult, SqlDatabase } from '../src/projections/sql.ts';
import { copyIn, copyOut } from './copy.ts';
import { appendScripts, realisticConversation, scriptsFor, seeded } from './loader.ts';
import {
  type BenchDatabase,
  fmt,
  type Latency,
  latencyOf,
  mib,
  peakMemoryGrowth,
  pXX,
  type Row,
  rate,
  startBenchDatabase,
  timed,
} from './support.ts';

const eventsPerAppend = 100;
const appenders = 8;
const pageQueries = 2000;

const progress = (line: string) => process.stderr.write(`[projections] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** One decimal: a figure at 24.7 % of its reference must not read as meeting a 25 % goal. */
const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;

// ---------------------------------------------------------------------------------------------
// Where a rebuild's time goes: the log's readAll and every SQL statement, timed by kind.

interface Profile {
  readMs: number;
  readonly sql: Map<string, { ms: number; calls: number }>;
}

const kindOf = (text: string): string => {
  const s = text.trim();
  if (/^(BEGIN|COMMIT|ROLLBACK)/.test(s)) return 'BEGIN/COMMIT (incl. WAL flush)';
  if (/CREATE (UNIQUE )?INDEX/.test(s)) return 'index build';
  if (/^(VACUUM \(ANALYZE\)|ANALYZE)/.test(s)) return 'VACUUM and ANALYZE';
  if (/^INSERT INTO \S+ AS t/.test(s)) return 'upsert of changed rows';
  if (/^INSERT INTO rm_report_facts/.test(s)) return 'insert of new facts';
  if (/rm_message_identities/.test(s)) return 'identities (insert, lookup)';
  if (/JOIN unnest|WHERE conversation_id = ANY/.test(s)) return 'read-back of rows a batch touches';
  if (/td_projections/.test(s)) return 'checkpoint and registry';
  return 'other (DDL, locks, views)';
};

const profiled = (db: SqlDatabase, log: EventLog, profile: Profile): { db: SqlDatabase; log: EventLog } => {
  const time = async <T>(kind: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      const entry = profile.sql.get(kind) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - t0;
      entry.calls++;
      profile.sql.set(kind, entry);
    }
  };
  const wrap =
    (query: SqlDatabase['query']) =>
    <R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> =>
      time(kindOf(text), () => query<R>(text, params));
  return {
    db: {
      query: wrap(db.query),
      async session() {
        const s = await db.session();
        return { query: wrap(s.query), release: (broken) => s.release(broken) };
      },
    },
    log: {
      ...log,
      async readAll(from, maxCount) {
        const t0 = performance.now();
        try {
          return await log.readAll(from, maxCount);
        } finally {
          profile.readMs += performance.now() - t0;
        }
      },
    },
  };
};

export interface RebuildRun {
  readonly events: number;
  readonly ms: number;
  readonly memoryGrowth: { rss: number; heap: number };
  readonly phases: { loading: number; indexing: number; swapping: number };
  readonly profile: Profile;
}

export const rebuild = async (
  bench: BenchDatabase,
  log: EventLog,
  projection: Projection,
): Promise<RebuildRun> => {
  await bench.pool.query('CHECKPOINT');
  const profile: Profile = { readMs: 0, sql: new Map() };
  const wrapped = profiled(sqlDatabase(bench.pool), log, profile);
  const marks = new Map<RebuildProgress['phase'], number>();
  let lastReport = 0;
  const memory = peakMemoryGrowth();
  const t0 = performance.now();
  const result = await rebuildProjection({
    db: wrapped.db,
    log: wrapped.log,
    projection,
    onProgress: (p) => {
      if (!marks.has(p.phase)) marks.set(p.phase, performance.now());
      if (p.phase === 'loading' && performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        progress(
          `  ${projection.name}: ${p.events.toLocaleString('en-US')} events, ${fmt(p.eventsPerSecond)}/s`,
        );
      }
    },
  });
  const ms = performance.now() - t0;
  const memoryGrowth = memory();
  const mark = (phase: RebuildProgress['phase']) => (marks.get(phase) ?? t0) - t0;
  return {
    events: result.events,
    ms,
    memoryGrowth,
    phases: {
      loading: mark('indexing'),
      indexing: mark('swapping') - mark('indexing'),
      swapping: ms - mark('swapping'),
    },
    profile,
  };
};

/** Rows saying where a rebuild's time went (loading phase split by what it waited on). */
export const breakdown = (name: string, run: RebuildRun): Row[] => {
  const share = (ms: number) => `${seconds(ms)} (${((ms / run.ms) * 100).toFixed(0)} %)`;
  const sqlMs = [...run.profile.sql.values()].reduce((n, v) => n + v.ms, 0);
  const rows: Row[] = [
    { figure: `${name} rebuild, total`, topicdesk: share(run.ms), reference: '', ratio: '' },
    {
      figure: '  read the log (readAll: SELECT + row decoding)',
      topicdesk: share(run.profile.readMs),
      reference: '',
      ratio: '',
    },
  ];
  const entries = [...run.profile.sql.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [kind, v] of entries) {
    if (v.ms < run.ms * 0.005) continue;
    rows.push({ figure: `  ${kind} (${v.calls} calls)`, topicdesk: share(v.ms), reference: '', ratio: '' });
  }
  rows.push({
    figure: '  in JS (apply: fold events into rows, JSON encode), rest',
    topicdesk: share(Math.max(0, run.ms - run.profile.readMs - sqlMs)),
    reference: '',
    ratio: '',
  });
  rows.push({
    figure: '  phases: load / index+analyze / final catch-up+swap',
    topicdesk: `${seconds(run.phases.loading)} / ${seconds(run.phases.indexing)} / ${seconds(run.phases.swapping)}`,
    reference: '',
    ratio: '',
  });
  return rows;
};

// ---------------------------------------------------------------------------------------------
// Page queries: the API's keyset listings (docs/design.md, "The external API"), on the view and on
// the plain reference table.

// The SQL mirrors listMessages in src/adapters/api/read-model.ts (the external API's listings):
// only the `external` channel, one source, deleted messages left out, limit + 1 to know whether
// there is more, an OFFSET (0 here) for tg-support-bot's clients, ORDER BY the table's column
// (`m.cursor`: a bare `cursor` would mean the output column `cursor::text` and sort as text).
// Mirrored rather than called, so that the same statement can run against the plain table.
const apiColumns = `conversation_id, message_id, external_id, direction, text, attachments, reply_to, status,
  manager_name, created_at, edited_at, deleted_at, cursor::text AS cursor, revision::text AS revision`;
const own = `channel = 'external' AND source = $1`;

interface ConversationRange {
  readonly id: string;
  readonly source: string;
  readonly minCursor: number;
  readonly maxCursor: number;
  readonly from: number;
  readonly to: number;
}

interface PageQuery {
  readonly figure: string;
  readonly sql: (table: string) => string;
  readonly params: () => unknown[];
}

export interface ProjectionsOptions {
  /** Events in the log (default 1 000 000). */
  readonly events?: number;
  /** Conversations they are spread over (default 10 000). */
  readonly conversations?: number;
  /** Rounds of COPY + both rebuilds + bulk load, keeping the best of each (default 2). */
  readonly rounds?: number;
}

/** The figures `bench -- scale` compares across sizes. */
export interface ProjectionsMetrics {
  readonly events: number;
  readonly conversations: number;
  readonly load: { readonly ms: number; readonly rate: number };
  readonly copyRate: number;
  readonly rebuild: Record<
    'messages' | 'conversations',
    { readonly ms: number; readonly rate: number; readonly rssGrowth: number; readonly heapGrowth: number }
  >;
  readonly messageRows: number;
  readonly pages: ReadonlyArray<{ readonly figure: string; readonly view: Latency; readonly table: Latency }>;
  readonly roundTrip: Latency;
  readonly copyBytes: { readonly events: number; readonly messages: number };
}

export const benchProjections = async (
  options: ProjectionsOptions = {},
): Promise<{ rows: Row[]; metrics: ProjectionsMetrics }> => {
  const events = options.events ?? 1_000_000;
  const conversations = Math.min(options.conversations ?? 10_000, events);
  const rounds = options.rounds ?? 2;
  const bench = await startBenchDatabase();
  const { pool } = bench;
  const rows: Row[] = [];
  // COPY data goes through files here (several GiB at 5 M events), removed at the end.
  const scratch = await mkdtemp(join(tmpdir(), 'topicdesk-bench-copy-'));
  // Other work on the machine skews every figure here; the table says how busy it was.
  const loadAtStart = loadavg()[0]!;
  try {
    await migrate(pool, [...eventLogMigrations, ...registryMigrations]);
    const log = createPgEventLog({ pool, connectionString: bench.url });

    // 1. Load the log.
    const random = seeded(20_240_601);
    const now = Date.now();
    const scripts = scriptsFor(events, conversations, (i, n) => realisticConversation(i, n, random, now));
    progress(
      `loading ${events.toLocaleString('en-US')} events across ${conversations.toLocaleString('en-US')} conversations (${eventsPerAppend} per append, ${appenders} appenders)`,
    );
    const loaded = await timed(() =>
      appendScripts(log, scripts, {
        eventsPerAppend,
        appenders,
        onRound: (round, n) => progress(`  round ${round}: ${n.toLocaleString('en-US')} events`),
      }),
    );
    scripts.length = 0;
    progress(`  loaded in ${seconds(loaded.ms)} (${fmt(rate(loaded.value, loaded.ms))} events/s)`);

    // The events must be what the domain reads: decode a sample through the production codec.
    for (const e of await log.readAll(startOfLog, 2000)) {
      decodeConversationEvent(e);
      decodeEventMetadata(e.metadata);
    }
    // A log in service has been vacuumed (autovacuum); a freshly bulk-loaded one has not, and its
    // first reader would pay for setting hint bits on every page. Settle that outside the timings.
    await pool.query('VACUUM (ANALYZE) td_events');

    // 2. Twice over, keeping the better of each figure (as bench/log.ts does): the COPY of the
    //    events, both rebuilds from zero (the second builds a new generation beside the first and
    //    swaps, as `projections:rebuild` does on a live system), the bulk load of the messages' rows.
    //    Interleaving them evens out other work on the machine between topicdesk and its reference.
    const eventColumns = 'event_id, stream, revision, type, data, metadata, recorded_at';
    const eventData = await copyOut(
      pool,
      `SELECT ${eventColumns} FROM td_events ORDER BY position`,
      join(scratch, 'events.copy'),
    );
    const refName = (table: string) => `ref_${table}`;
    let messageData: Awaited<ReturnType<typeof copyOut>> | undefined;
    let eventCopy: { ms: number; value: number } | undefined;
    let messages: RebuildRun | undefined;
    let convs: RebuildRun | undefined;
    let messageCopy: { ms: number; value: number } | undefined;
    let messageIndexes = 0;
    const memory = { messages: { rss: 0, heap: 0 }, conversations: { rss: 0, heap: 0 } };
    const better = <T extends { ms: number }>(a: T | undefined, b: T): T => (a && a.ms <= b.ms ? a : b);
    for (let round = 1; round <= rounds; round++) {
      progress(`round ${round} of ${rounds}`);
      await pool.query('DROP TABLE IF EXISTS ref_events');
      await pool.query(
        'CREATE TABLE ref_events (event_id uuid, stream text, revision bigint, type text, data jsonb, metadata jsonb, recorded_at timestamptz)',
      );
      await pool.query('CHECKPOINT');
      const ec = await timed(() => copyIn(pool, `ref_events (${eventColumns})`, eventData.file));
      eventCopy = better(eventCopy, ec);
      progress(
        `  COPY events: ${ec.value.toLocaleString('en-US')} rows (${mib(eventData.bytes)}) in ${seconds(ec.ms)}`,
      );

      const m = await rebuild(bench, log, messagesProjection);
      messages = better(messages, m);
      progress(`  rebuild messages: ${seconds(m.ms)}`);
      const c = await rebuild(bench, log, conversationsProjection);
      convs = better(convs, c);
      progress(`  rebuild conversations: ${seconds(c.ms)}`);
      for (const [name, run] of [
        ['messages', m],
        ['conversations', c],
      ] as const) {
        memory[name].rss = Math.max(memory[name].rss, run.memoryGrowth.rss);
        memory[name].heap = Math.max(memory[name].heap, run.memoryGrowth.heap);
      }

      messageData ??= await copyOut(
        pool,
        'SELECT * FROM rm_messages ORDER BY cursor',
        join(scratch, 'messages.copy'),
      );
      for (const table of messagesProjection.tables)
        await pool.query(`DROP TABLE IF EXISTS ${refName(table)}`);
      await pool.query(messagesProjection.createTables(refName));
      await pool.query('CHECKPOINT');
      const data = messageData;
      const mc = await timed(() => copyIn(pool, refName('rm_messages'), data.file));
      const mi = await timed(async () => {
        await pool.query(messagesProjection.createIndexes(refName));
        await pool.query(`ANALYZE ${refName('rm_messages')}`);
      });
      if (!messageCopy || mc.ms + mi.ms < messageCopy.ms + messageIndexes) {
        messageCopy = mc;
        messageIndexes = mi.ms;
      }
      progress(
        `  COPY messages: ${mc.value.toLocaleString('en-US')} rows (${mib(data.bytes)}) in ${seconds(mc.ms)}, indexes ${seconds(mi.ms)}`,
      );
    }
    await log.close();
    rmSync(scratch, { recursive: true, force: true });
    if (!eventCopy || !messages || !convs || !messageCopy) throw new Error('no rounds ran');
    const eventCopyRate = rate(eventCopy.value, eventCopy.ms);
    const messageRows = messageCopy.value;

    rows.push({
      figure: `load: append, ${eventsPerAppend}/call × ${appenders} appenders (events/s, ${loaded.value} events)`,
      topicdesk: fmt(rate(loaded.value, loaded.ms)),
      reference: `${fmt(eventCopyRate)} COPY of the same events`,
      ratio: ratio(rate(loaded.value, loaded.ms), eventCopyRate),
      summary: true,
    });
    for (const [name, run] of [
      ['messages', messages],
      ['conversations', convs],
    ] as const) {
      rows.push({
        figure: `rebuild \`${name}\` from zero (events/s, ${run.events} events, best of ${rounds})`,
        topicdesk: fmt(rate(run.events, run.ms)),
        reference: `${fmt(eventCopyRate)} COPY of the same events`,
        ratio: ratio(rate(run.events, run.ms), eventCopyRate),
        goal: '≥ 25 %',
        met: rate(run.events, run.ms) >= 0.25 * eventCopyRate,
        summary: true,
      });
    }
    const outputMs = messageCopy.ms + messageIndexes;
    rows.push({
      figure: `rebuild \`messages\` vs bulk-loading its ${messageRows} rows (events/s-eq., best of ${rounds})`,
      topicdesk: fmt(rate(messages.events, messages.ms)),
      reference: `${fmt(rate(messages.events, outputMs))} COPY ${fmt(rate(messageCopy.value, messageCopy.ms))} rows/s + indexes ${seconds(messageIndexes)}`,
      ratio: ratio(rate(messages.events, messages.ms), rate(messages.events, outputMs)),
      summary: true,
    });
    rows.push({
      figure: 'peak RSS growth during rebuild, messages / conversations (V8 heap in use)',
      topicdesk: `${mib(memory.messages.rss)} / ${mib(memory.conversations.rss)} (${mib(memory.messages.heap)} / ${mib(memory.conversations.heap)})`,
      reference: '',
      ratio: '',
      summary: true,
    });

    // 4. Page queries on the view and on the plain table, interleaved; SELECT 1 as the floor.
    progress('page queries');
    const ranges: ConversationRange[] = (
      await pool.query<{
        id: string;
        source: string;
        min_cursor: string;
        max_cursor: string;
        from: Date;
        to: Date;
      }>(
        `SELECT conversation_id AS id, min(source) AS source, min(cursor) AS min_cursor, max(cursor) AS max_cursor,
           min(created_at) AS from, max(created_at) AS to
         FROM rm_messages WHERE channel = 'external' GROUP BY conversation_id`,
      )
    ).rows.map((r) => ({
      id: r.id,
      source: r.source,
      minCursor: Number(r.min_cursor),
      maxCursor: Number(r.max_cursor),
      from: r.from.getTime(),
      to: r.to.getTime(),
    }));
    const sources = (
      await pool.query<{ source: string; n: string }>(
        `SELECT source, count(*) AS n FROM rm_messages WHERE channel = 'external' GROUP BY source ORDER BY n`,
      )
    ).rows;
    const smallest = sources[0]!;
    const maxCursor = Math.max(...ranges.map((r) => r.maxCursor));
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    const between = (a: number, b: number) => Math.floor(a + Math.random() * (b - a + 1));
    const feed = (t: string) =>
      `SELECT ${apiColumns} FROM ${t} m WHERE ${own} AND cursor > $2 AND deleted_at IS NULL
       ORDER BY m.cursor ASC LIMIT 101 OFFSET 0`;
    const queries: PageQuery[] = [
      {
        figure: 'page: one conversation, direction, after cursor, 50',
        sql: (t) =>
          `SELECT ${apiColumns} FROM ${t} m WHERE ${own} AND conversation_id = $2 AND direction = $3 AND cursor > $4
             AND deleted_at IS NULL ORDER BY m.cursor ASC LIMIT 51 OFFSET 0`,
        params: () => {
          const r = pick(ranges);
          return [
            r.source,
            r.id,
            Math.random() < 0.5 ? 'incoming' : 'outgoing',
            between(r.minCursor - 1, r.maxCursor),
          ];
        },
      },
      {
        figure: 'page: one conversation, date range, newest first, 50',
        sql: (t) =>
          `SELECT ${apiColumns} FROM ${t} m WHERE ${own} AND conversation_id = $2 AND created_at >= $3 AND created_at <= $4
             AND deleted_at IS NULL ORDER BY m.cursor DESC LIMIT 51 OFFSET 0`,
        params: () => {
          const r = pick(ranges);
          const a = r.from + Math.random() * (r.to - r.from);
          const b = a + Math.random() * (r.to - a) + 1000;
          return [r.source, r.id, new Date(a).toISOString(), new Date(b).toISOString()];
        },
      },
      {
        figure: `page: source-wide feed, after cursor, 100 (${sources.length} sources)`,
        sql: feed,
        params: () => [pick(sources).source, between(0, maxCursor)],
      },
      {
        figure: `page: source-wide feed of the smallest source (${Math.round((Number(smallest.n) / messageRows) * 100)} % of rows)`,
        sql: feed,
        params: () => [smallest.source, between(0, maxCursor)],
      },
    ];
    const pages: Array<ProjectionsMetrics['pages'][number]> = [];
    let roundTrip: Latency = { p50: Number.NaN, p95: Number.NaN };
    const client = await pool.connect();
    try {
      const once = async (text: string, params: unknown[]) => {
        const t0 = performance.now();
        await client.query(text, params);
        return performance.now() - t0;
      };
      for (const q of queries) {
        // The reference must answer with the very same rows, in the same order.
        for (let i = 0; i < 20; i++) {
          const params = q.params();
          const a = await client.query<{ cursor: string }>(q.sql('rm_messages'), params);
          const b = await client.query<{ cursor: string }>(q.sql(refName('rm_messages')), params);
          if (a.rows.map((r) => r.cursor).join() !== b.rows.map((r) => r.cursor).join())
            throw new Error(`${q.figure}: the plain table answers differently`);
        }
        for (let i = 0; i < 200; i++) {
          const params = q.params();
          await once(q.sql('rm_messages'), params);
          await once(q.sql(refName('rm_messages')), params);
        }
        const ours: number[] = [];
        const theirs: number[] = [];
        for (let i = 0; i < pageQueries; i++) {
          const params = q.params();
          // Alternate which goes first so neither always finds the other's pages in cache.
          if (i % 2 === 0) {
            ours.push(await once(q.sql('rm_messages'), params));
            theirs.push(await once(q.sql(refName('rm_messages')), params));
          } else {
            theirs.push(await once(q.sql(refName('rm_messages')), params));
            ours.push(await once(q.sql('rm_messages'), params));
          }
        }
        const a = latencyOf(ours);
        const b = latencyOf(theirs);
        const plan = (
          await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.sql('rm_messages')}`, q.params())
        ).rows
          .map((r) => r['QUERY PLAN'])
          .find((l) => /Index|Seq Scan/.test(l));
        progress(`  ${q.figure}: ${plan?.trim()}`);
        rows.push({
          figure: `${q.figure} (ms, ${pageQueries} queries)`,
          topicdesk: pXX(a),
          reference: `${pXX(b)} plain table`,
          ratio: `${(a.p95 / b.p95).toFixed(2)}× p95`,
          goal: 'p95 ≤ 5 ms',
          met: a.p95 <= 5,
          summary: true,
        });
        pages.push({ figure: q.figure, view: a, table: b });
      }
      const roundTrips: number[] = [];
      for (let i = 0; i < pageQueries; i++) roundTrips.push(await once('SELECT 1', []));
      roundTrip = latencyOf(roundTrips);
      rows.push({
        figure: `round trip: SELECT 1 (ms, ${pageQueries} queries)`,
        topicdesk: '',
        reference: pXX(roundTrip),
        ratio: '',
      });
    } finally {
      client.release();
    }
    rows.push({
      figure: 'machine load average (1 min) at start / end',
      topicdesk: `${loadAtStart.toFixed(2)} / ${loadavg()[0]!.toFixed(2)}`,
      reference: '',
      ratio: '',
    });
    rows.push(...breakdown('`messages`', messages), ...breakdown('`conversations`', convs));
    const rebuilt = (run: RebuildRun, name: 'messages' | 'conversations') => ({
      ms: run.ms,
      rate: rate(run.events, run.ms),
      rssGrowth: memory[name].rss,
      heapGrowth: memory[name].heap,
    });
    return {
      rows,
      metrics: {
        events: loaded.value,
        conversations,
        load: { ms: loaded.ms, rate: rate(loaded.value, loaded.ms) },
        copyRate: eventCopyRate,
        rebuild: { messages: rebuilt(messages, 'messages'), conversations: rebuilt(convs, 'conversations') },
        messageRows,
        pages,
        roundTrip,
        copyBytes: { events: eventData.bytes, messages: messageData?.bytes ?? 0 },
      },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await bench.stop();
  }
};
