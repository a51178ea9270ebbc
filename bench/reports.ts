// `npm run bench -- reports [--events=N] [--conversations=N] [--rounds=N]`: the generated log of
// bench -- projections (1 M realistic events across 10 k conversations over half a year; bench/
// loader.ts), the `reports` projection rebuilt from zero beside a COPY of the very same events in the
// same run (goal ≥ 25 %), then the report queries for a 30-day month by manager and by day, as the
// admin API runs them (goal p95 ≤ 50 ms) — docs/design.md, "Reports".
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventLogMigrations, migrate } from '../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../src/adapters/postgres/pg-event-log.ts';
import { registryMigrations } from '../src/projections/index.ts';
import { reportsProjection } from '../src/projections/read-models/reports.ts';
import { type ReportGroupBy, responseReport } from '../src/projections/read-models/reports-query.ts';
import { copyIn, copyOut } from './copy.ts';
import { appendScripts, realisticConversation, scriptsFor, seeded } from './loader.ts';
import { breakdown, type RebuildRun, rebuild } from './projections.ts';
import { fmt, latencyOf, mib, pXX, type Row, rate, startBenchDatabase, timed } from './support.ts';

const progress = (line: string) => process.stderr.write(`[reports] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** One decimal: a figure at 24.7 % of its reference must not read as meeting a 25 % goal. */
const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;
const dayMs = 86_400_000;

export interface ReportsBenchOptions {
  readonly events?: number;
  readonly conversations?: number;
  readonly rounds?: number;
  /** Queries per figure (default 500). */
  readonly queries?: number;
}

export const benchReports = async (options: ReportsBenchOptions = {}): Promise<Row[]> => {
  const events = options.events ?? 1_000_000;
  const conversations = Math.min(options.conversations ?? 10_000, events);
  const rounds = options.rounds ?? 2;
  const queries = options.queries ?? 500;
  const bench = await startBenchDatabase();
  const { pool } = bench;
  const scratch = await mkdtemp(join(tmpdir(), 'topicdesk-bench-reports-'));
  const loadAtStart = loadavg()[0]!;
  const rows: Row[] = [];
  try {
    await migrate(pool, [...eventLogMigrations, ...registryMigrations]);
    const log = createPgEventLog({ pool, connectionString: bench.url });

    // 1. The log, as bench -- projections loads it (same seed: the same conversations).
    const random = seeded(20_240_601);
    const now = Date.now();
    const scripts = scriptsFor(events, conversations, (i, n) => realisticConversation(i, n, random, now));
    progress(
      `loading ${events.toLocaleString('en-US')} events across ${conversations.toLocaleString('en-US')} conversations`,
    );
    const loaded = await timed(() => appendScripts(log, scripts, { eventsPerAppend: 100, appenders: 8 }));
    scripts.length = 0;
    progress(`  loaded in ${seconds(loaded.ms)}`);
    await pool.query('VACUUM (ANALYZE) td_events');

    // 2. COPY of the same events and the rebuild, interleaved, best of each.
    const eventColumns = 'event_id, stream, revision, type, data, metadata, recorded_at';
    const eventData = await copyOut(
      pool,
      `SELECT ${eventColumns} FROM td_events ORDER BY position`,
      join(scratch, 'events.copy'),
    );
    let copy: { ms: number; value: number } | undefined;
    let built: RebuildRun | undefined;
    for (let round = 1; round <= rounds; round++) {
      progress(`round ${round} of ${rounds}`);
      await pool.query('DROP TABLE IF EXISTS ref_events');
      await pool.query(
        'CREATE TABLE ref_events (event_id uuid, stream text, revision bigint, type text, data jsonb, metadata jsonb, recorded_at timestamptz)',
      );
      await pool.query('CHECKPOINT');
      const c = await timed(() => copyIn(pool, `ref_events (${eventColumns})`, eventData.file));
      if (!copy || c.ms < copy.ms) copy = c;
      progress(
        `  COPY events: ${c.value.toLocaleString('en-US')} rows (${mib(eventData.bytes)}) in ${seconds(c.ms)}`,
      );
      const r = await rebuild(bench, log, reportsProjection);
      if (!built || r.ms < built.ms) built = r;
      progress(`  rebuild reports: ${seconds(r.ms)}`);
    }
    await log.close();
    if (!copy || !built) throw new Error('no rounds ran');
    const copyRate = rate(copy.value, copy.ms);
    const rebuildRate = rate(built.events, built.ms);
    const { rows: sizes } = await pool.query<{
      facts: string;
      conversations: string;
      first: Date;
      last: Date;
    }>(
      `SELECT (SELECT count(*) FROM rm_report_facts) AS facts, (SELECT count(*) FROM rm_report_conversations) AS conversations,
         (SELECT min(at) FROM rm_report_facts) AS first, (SELECT max(at) FROM rm_report_facts) AS last`,
    );
    const size = sizes[0]!;
    rows.push({
      figure: `rebuild \`reports\` from zero (events/s, ${built.events} events → ${size.facts} facts, ${size.conversations} conversations; best of ${rounds})`,
      topicdesk: fmt(rebuildRate),
      reference: `${fmt(copyRate)} COPY of the same events`,
      ratio: ratio(rebuildRate, copyRate),
      goal: '≥ 25 %',
      met: rebuildRate >= 0.25 * copyRate,
      summary: true,
    });

    // 3. Report queries for a 30-day month, starting anywhere in the busy middle of the history.
    const first = size.first.getTime();
    const last = size.last.getTime();
    const monthAt = () => {
      const span = Math.max(0, last - first - 30 * dayMs);
      const from = new Date(first + Math.random() * span);
      return { from, to: new Date(from.getTime() + 30 * dayMs) };
    };
    const { rows: perMonth } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM rm_report_facts WHERE at >= $1 AND at < $2`,
      [new Date((first + last) / 2 - 15 * dayMs), new Date((first + last) / 2 + 15 * dayMs)],
    );
    for (const groupBy of ['manager', 'day'] as ReportGroupBy[]) {
      const run = () => responseReport(pool, { ...monthAt(), groupBy, timeZone: 'Europe/Berlin' });
      for (let i = 0; i < 20; i++) await run();
      const times: number[] = [];
      for (let i = 0; i < queries; i++) times.push((await timed(run)).ms);
      const l = latencyOf(times);
      rows.push({
        figure: `report: a month by ${groupBy} (ms, ${queries} queries; ~${perMonth[0]!.n} facts in a mid-history month)`,
        topicdesk: pXX(l),
        reference: '',
        ratio: '',
        goal: 'p95 ≤ 50 ms',
        met: l.p95 <= 50,
        summary: true,
      });
    }
    rows.push({
      figure: 'machine load average (1 min) at start / end',
      topicdesk: `${loadAtStart.toFixed(2)} / ${loadavg()[0]!.toFixed(2)}`,
      reference: '',
      ratio: '',
    });
    rows.push(...breakdown('`reports`', built));
    return rows;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await bench.stop();
  }
};
