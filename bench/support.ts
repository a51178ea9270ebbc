// Shared bench plumbing: a durable embedded PostgreSQL (same settings as `npm start`), timing, the
// single-event append loop every benchmark uses as its reference, and the tables every benchmark
// prints: figure, topicdesk, reference, ratio, goal, whether the goal is met.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/adapters/postgres/embedded.ts';
import type { EventLog, NewEvent } from '../src/domain/event-log.ts';
import type { Actor } from '../src/domain/events.ts';

export interface BenchDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  /** The embedded server's data directory (none with DATABASE_URL): where its processes are found. */
  readonly dataDir?: string;
  stop(): Promise<void>;
}

export const startBenchDatabase = async (
  poolSize = 40,
  options: { readonly countStatements?: boolean } = {},
): Promise<BenchDatabase> => {
  const external = process.env.DATABASE_URL;
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: join(tmpdir(), `topicdesk-bench-${randomBytes(3).toString('hex')}`),
        throwaway: true,
        // pg_stat_statements counts every statement the whole app sends (statementsDuring).
        settings: options.countStatements ? ['shared_preload_libraries=pg_stat_statements'] : [],
      });
  const url = external ?? server!.url;
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection that dies (the server stopped under us) must fail this benchmark's next query,
  // not crash the whole run with an unhandled 'error' event.
  pool.on('error', (error) =>
    process.stderr.write(`[bench] idle database connection lost: ${error.message}\n`),
  );
  return {
    url,
    pool,
    ...(server ? { dataDir: server.dataDir } : {}),
    async stop() {
      await pool.end();
      await server?.stop();
    },
  };
};

/** CPU seconds used so far by the server's processes (the postmaster and its children), from /proc. */
const serverCpuSeconds = async (dataDir: string): Promise<number> => {
  const postmaster = Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Fields after the command's closing parenthesis: state ppid … utime(14) stime(15) cutime(16)
    // cstime(17). A backend that exited is gone from /proc: its time is in the postmaster's cutime and
    // cstime once reaped, so those count too (without them a connection closed mid-span took its CPU along).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pid) === postmaster)
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticks;
    else if (Number(fields[1]) === postmaster) total += (Number(fields[11]) + Number(fields[12])) / ticks;
  }
  return total;
};

/** The machine's CPU time so far, busy and in all (every core, in /proc/stat's ticks). */
const machineTicks = async (): Promise<{ busy: number; total: number }> => {
  const fields = (await readFile('/proc/stat', 'utf8'))
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3]! - fields[4]!, total }; // less idle and iowait
};

export interface CpuSpan {
  readonly appMs: number;
  readonly serverMs: number;
  /** The share of the span this process's main thread ran (its event loop utilisation), 0–1. */
  readonly loopBusy: number;
  /** The share of the machine's CPU busy in the span, everyone's, 0–1 (1: every core busy). */
  readonly machineBusy: number;
}

/**
 * CPU time `fn` cost this process and the embedded server together (ms), measured from the
 * processes' own counters: unlike a rate, hardly moved by other work on a shared machine; and how busy
 * this process's main thread and the whole machine were meanwhile.
 */
export const cpuDuring = async <T>(
  db: BenchDatabase,
  fn: () => Promise<T>,
): Promise<({ value: T } & CpuSpan) | { value: T; appMs?: undefined }> => {
  if (!db.dataDir) return { value: await fn() };
  const server0 = await serverCpuSeconds(db.dataDir);
  const machine0 = await machineTicks();
  const loop0 = performance.eventLoopUtilization();
  const app0 = process.cpuUsage();
  const value = await fn();
  const app = process.cpuUsage(app0);
  const loop = performance.eventLoopUtilization(loop0);
  const machine1 = await machineTicks();
  const server1 = await serverCpuSeconds(db.dataDir);
  return {
    value,
    appMs: (app.user + app.system) / 1000,
    serverMs: (server1 - server0) * 1000,
    loopBusy: loop.utilization,
    machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
  };
};

/**
 * Statements the server ran (every client, every database) while `fn` ran, by statement text; the
 * bench's own polling says `bench:uncounted` in a comment and is left out.
 */
export const statementsDuring = async <T>(
  db: BenchDatabase,
  fn: () => Promise<T>,
): Promise<{
  value: T;
  total: number;
  top: ReadonlyArray<{ calls: number; ms: number; query: string }>;
}> => {
  await db.pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await db.pool.query('SELECT pg_stat_statements_reset()');
  const value = await fn();
  const { rows } = await db.pool.query<{ calls: string; ms: number; query: string }>(
    `SELECT calls::text, total_exec_time AS ms, query FROM pg_stat_statements
      WHERE query NOT ILIKE '%pg_stat_statements%' AND query NOT LIKE '%bench:uncounted%'
      ORDER BY pg_stat_statements.calls DESC`,
  );
  const top = rows.map((r) => ({ calls: Number(r.calls), ms: r.ms, query: r.query.replace(/\s+/g, ' ') }));
  return { value, total: top.reduce((n, r) => n + r.calls, 0), top };
};

export interface Row {
  readonly figure: string;
  readonly topicdesk: string;
  readonly reference: string;
  readonly ratio: string;
  readonly goal?: string;
  /** Whether the goal is met (only with a goal). */
  readonly met?: boolean;
  /** Also in the combined table `npm run bench` prints at the end of a run of several benchmarks. */
  readonly summary?: boolean;
  /** A benchmark's own extra column (log: the EventStoreDB adapter against the stand-in). */
  readonly extra?: string;
}

/** An extra column a benchmark adds to its own table, with the footnote that says what it measures. */
export interface ExtraColumn {
  readonly header: string;
  readonly footnote: string;
}

export const rate = (count: number, ms: number) => (count * 1000) / ms;
export const fmt = (n: number, unit = '') =>
  `${n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)}${unit}`;
export const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} %`;
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
};

export const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export interface Latency {
  readonly p50: number;
  readonly p95: number;
}
export const latencyOf = (xs: readonly number[]): Latency => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
};
export const pXX = (l: Latency) => `p50 ${l.p50.toFixed(2)} · p95 ${l.p95.toFixed(2)}`;

export const machine = () =>
  `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;

/** Runs `count` in-process jobs with at most `concurrency` at once (not HTTP: see http.ts for that). */
export const concurrently = async (count: number, concurrency: number, job: (i: number) => Promise<void>) => {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await job(i);
    }),
  );
};

// ---------------------------------------------------------------------------------------------
// The foundation's figure: one event per append, with an expected revision, by N concurrent writers.
// The same events (payload and metadata shapes, sizes, streams) are what bench/emmett.ts appends.

/** ClientMessageReceived's data: the payload of every single-event append in the benches. */
export const benchPayload = (i: number) => ({
  messageId: randomUUID(),
  text: `message number ${i} from a customer who needs help with an order`,
  attachments: [],
  suppressed: false,
});

export const benchEvent = (i: number, type: string, actor: Actor): NewEvent => {
  const command = randomUUID();
  return {
    id: randomUUID(),
    type,
    data: benchPayload(i),
    metadata: { occurredAt: new Date().toISOString(), correlationId: command, causationId: command, actor },
  };
};

export interface SingleAppends {
  /** Events in all (rounded up to a multiple of the writers). */
  readonly count: number;
  readonly writers: number;
  /** Writer w's i-th event goes to this stream (each writer has its own streams). */
  readonly stream: (w: number, i: number) => string;
  /** The event's type: `BenchAppended` where the app runs, so that no projection or reactor reads it. */
  readonly type?: string;
}

export const perWriter = (o: SingleAppends) => Math.ceil(o.count / o.writers);

/** `log.append` of one event per call, each with its stream's expected revision; events/s. */
export const appendSingles = async (log: EventLog, o: SingleAppends) => {
  const n = perWriter(o);
  const { ms } = await timed(() =>
    Promise.all(
      Array.from({ length: o.writers }, async (_, w) => {
        const revisions = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const stream = o.stream(w, i);
          const expected = revisions.get(stream) ?? -1;
          const event = benchEvent(i, o.type ?? 'BenchAppended', { kind: 'client', id: String(w) });
          const result = await log.append(stream, [event], expected < 0 ? 'no_stream' : expected);
          revisions.set(stream, result.nextRevision);
        }
      }),
    ),
  );
  return { ms, events: n * o.writers, rate: rate(n * o.writers, ms) };
};

// ---------------------------------------------------------------------------------------------
// Memory: what `scale` reports per size.

/** Peak growth of the process's RSS and of the V8 heap in use, sampled every 10 ms until stopped. */
export const peakMemoryGrowth = () => {
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  const timer = setInterval(sample, 10);
  return () => {
    clearInterval(timer);
    sample();
    return { rss: rss - base.rss, heap: heap - base.heapUsed };
  };
};

// ---------------------------------------------------------------------------------------------
// Tables.

/** A markdown table; every column padded to its widest cell. */
export const printGrid = (header: readonly string[], rows: ReadonlyArray<readonly string[]>) => {
  const width = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (r: readonly string[]) =>
    `| ${header.map((_, k) => (r[k] ?? '').padEnd(width[k]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
};

const metText = (r: Row) => (r.met === undefined ? '' : r.met ? 'yes' : 'NO');

export const printTable = (title: string, rows: readonly Row[], extra?: ExtraColumn) => {
  console.log(`\n## ${title}\n\n${machine()}\n`);
  printGrid(
    [
      'figure',
      'topicdesk',
      'reference (same run)',
      'ratio',
      'goal',
      'met?',
      ...(extra ? [extra.header] : []),
    ],
    rows.map((r) => [
      r.figure,
      r.topicdesk,
      r.reference,
      r.ratio,
      r.goal ?? '',
      metText(r),
      ...(extra ? [r.extra ?? ''] : []),
    ]),
  );
  if (extra) console.log(`\n${extra.footnote}`);
};
