// Report queries over the reports projection (docs/design.md, "Reports"): figures for a period
// grouped by manager, assignee, source, channel or day, with the total in the same statement
// (GROUPING SETS), medians and p90 by percentile_cont; and who waits right now, from rm_conversations.
import { DateTime } from 'luxon';
import type pg from 'pg';

export type ReportGroupBy = 'manager' | 'assignee' | 'source' | 'channel' | 'day';
export const reportGroupings: readonly ReportGroupBy[] = ['manager', 'assignee', 'source', 'channel', 'day'];

export interface DurationStats {
  count: number;
  median_s: number | null;
  p90_s: number | null;
  max_s: number | null;
}
export interface ReportFigures {
  /** Conversations with activity (opened or a message) in [from, to). */
  conversations: number;
  /** Client's first message → first manager answer. */
  first_response: DurationStats;
  /** Every client-waiting → next manager answer. */
  response: DurationStats;
  /** Opened (or reopened) → closed. */
  resolution: DurationStats;
  reopened: number;
  messages_in: number;
  messages_out: number;
  /** CSAT: counted from `s` facts (none recorded yet: 0 / null). */
  rating: { count: number; average: number | null };
}
export interface ReportRow extends ReportFigures {
  key: string;
  label: string;
}
export interface ResponseReport {
  from: string;
  to: string;
  group_by: ReportGroupBy;
  business_hours: boolean;
  rows: ReportRow[];
  total: ReportFigures;
}
export interface WaitingNow {
  waiting: number;
  unassigned: number;
  oldest_waiting_s: number | null;
}

/** The label of the row of facts that have no manager (a client's message) or no assignee. */
export const NONE_LABEL = '(none)';

type Queryable = Pick<pg.Pool, 'query'>;

// Keys are the columns as stored (no NULL is mapped in SQL: a computed key per row cost more than
// the aggregates). `fresh`: an activity that is its conversation's first in the period within the
// row's group, so counting those counts each conversation once per group (docs/design.md, "Reports").
const groupKey: Record<Exclude<ReportGroupBy, 'day'>, { key: string; fresh: string; people: boolean }> = {
  manager: { key: 'manager_id', fresh: 'prev_manager < $1', people: true },
  assignee: { key: 'assignee_id', fresh: 'prev_assignee < $1', people: true },
  source: { key: 'source', fresh: 'prev_any < $1', people: false },
  channel: { key: 'channel', fresh: 'prev_any < $1', people: false },
};

/** The counts per kind (and key), with how many of them are fresh in the row's group and in the period. */
const counting = (fresh: string) => `count(*) AS n, count(*) FILTER (WHERE ${fresh}) AS fresh,
  count(*) FILTER (WHERE prev_any < $1) AS fresh_any, sum(rating) AS rating_sum`;

// Days: each day of the period ($3 its starts, $4 its ends, computed in the zone) is an index range
// aggregated on its own (LATERAL), so no row's time is converted to the zone or searched for its
// day, and each day's hash table stays small.
const DAYS = 'unnest($3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS d(s, e, n)';
const PERIOD = 'at >= $1 AND at < $2';

const countsSql = (groupBy: ReportGroupBy): string => {
  if (groupBy === 'day')
    return `SELECT d.n AS key, x.*, NULL::text AS label FROM ${DAYS}, LATERAL (
      SELECT kind, ${counting('prev_any < d.s')} FROM rm_report_facts
      WHERE at >= d.s AND at < d.e AND ${PERIOD} GROUP BY kind) x`;
  const { key, fresh, people } = groupKey[groupBy];
  return `SELECT c.*, ${people ? 'p.name' : 'NULL::text'} AS label FROM (
      SELECT ${key} AS key, kind, ${counting(fresh)} FROM rm_report_facts WHERE ${PERIOD} GROUP BY 1, 2) c
    ${people ? 'LEFT JOIN rm_report_people p ON p.id = c.key' : ''}`;
};

const durationsSql = (groupBy: ReportGroupBy, seconds: string): string => {
  const figures = `${stats('first', `kind = 'a' AND first`)}, ${stats('response', `kind = 'a'`)},
    ${stats('resolution', `kind = 'c'`)}`;
  const timed = (where: string) =>
    `SELECT kind, first, ${seconds} AS s FROM rm_report_facts WHERE ${where} AND wall_s IS NOT NULL`;
  // By day, each day's sort is its own, and the total is sorted once more beside them.
  if (groupBy === 'day')
    return `SELECT false AS is_total, d.n AS key, x.* FROM ${DAYS},
        LATERAL (SELECT ${figures} FROM (${timed(`at >= d.s AND at < d.e AND ${PERIOD}`)}) f) x
      UNION ALL SELECT true, NULL, ${figures} FROM (${timed(PERIOD)}) f`;
  const { key } = groupKey[groupBy];
  return `SELECT grouping(key) = 1 AS is_total, key, ${figures}
    FROM (SELECT ${key} AS key, kind, first, ${seconds} AS s FROM rm_report_facts
          WHERE ${PERIOD} AND wall_s IS NOT NULL) f
    GROUP BY GROUPING SETS ((key), ())`;
};

/** The midnights in `zone` of every day [from, to) touches, the first at or before `from`. */
const midnights = (from: Date, to: Date, zone: string): DateTime[] => {
  const days: DateTime[] = [];
  for (let d = DateTime.fromJSDate(from, { zone }).startOf('day'); d.toJSDate() < to; d = d.plus({ days: 1 }))
    days.push(d);
  return days;
};

// Median and p90 from one sort (an array of fractions), linearly interpolated between ranks.
const stats = (name: string, filter: string) => `
  count(*) FILTER (WHERE ${filter}) AS ${name}_count,
  percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY s) FILTER (WHERE ${filter}) AS ${name}_pct,
  max(s) FILTER (WHERE ${filter}) AS ${name}_max`;

type Raw = Record<string, string | number | boolean | number[] | null>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const tenth = (v: unknown): number | null => {
  const n = num(v);
  return n === null ? null : Math.round(n * 10) / 10;
};
const durationStats = (r: Raw, name: string): DurationStats => {
  const pct = r[`${name}_pct`] as number[] | null;
  return {
    count: Number(r[`${name}_count`] ?? 0),
    median_s: tenth(pct?.[0] ?? null),
    p90_s: tenth(pct?.[1] ?? null),
    max_s: num(r[`${name}_max`]),
  };
};

const figures = (r: Raw): ReportFigures => ({
  conversations: Number(r.conversations),
  first_response: durationStats(r, 'first'),
  response: durationStats(r, 'response'),
  resolution: durationStats(r, 'resolution'),
  reopened: Number(r.reopened),
  messages_in: Number(r.messages_in),
  messages_out: Number(r.messages_out),
  rating: {
    count: Number(r.rating_count ?? 0),
    average: Number(r.rating_count ?? 0) > 0 ? tenth(r.rating_average) : null,
  },
});

export const emptyFigures = (): ReportFigures => {
  const none = { count: 0, median_s: null, p90_s: null, max_s: null };
  return {
    conversations: 0,
    first_response: { ...none },
    response: { ...none },
    resolution: { ...none },
    reopened: 0,
    messages_in: 0,
    messages_out: 0,
    rating: { count: 0, average: null },
  };
};

/** The working hours the projection holds (set: the report counts working seconds, in their zone). */
export const reportSchedule = async (pool: Queryable): Promise<{ timeZone: string } | null> => {
  const { rows } = await pool.query<{ hours: { timeZone: string } | null }>(
    'SELECT hours FROM rm_report_settings WHERE id = 1',
  );
  return rows[0]?.hours ?? null;
};

/** A row of countsSql (node-postgres hands count(*) and sum() over bigint to us as strings). */
interface CountRow {
  key: string | null;
  kind: string;
  n: string;
  fresh: string;
  fresh_any: string;
  rating_sum: string | null;
  label: string | null;
}

type CountedKind = 'messages_in' | 'messages_out' | 'reopened' | 'rating_count';
/** The figure each kind's count is: a client's message, an answer, a reopening, a rating. */
const countedAs: Record<string, CountedKind | undefined> = {
  i: 'messages_in',
  a: 'messages_out',
  r: 'reopened',
  s: 'rating_count',
};

/** The per-kind counts of each group (by `keyOf`) summed into the figures' counting fields. */
const sumCounts = (rows: readonly CountRow[], keyOf: (r: CountRow) => string): Map<string, Raw> => {
  const sums = new Map<
    string,
    Record<'conversations' | 'conversations_any' | CountedKind | 'rating_sum', number> & {
      label: string | null;
    }
  >();
  for (const r of rows) {
    const k = keyOf(r);
    const g = sums.get(k) ?? {
      conversations: 0,
      conversations_any: 0,
      messages_in: 0,
      messages_out: 0,
      reopened: 0,
      rating_count: 0,
      rating_sum: 0,
      label: null,
    };
    g.conversations += Number(r.fresh);
    g.conversations_any += Number(r.fresh_any);
    const counted = countedAs[r.kind];
    if (counted) g[counted] += Number(r.n);
    if (r.kind === 's') g.rating_sum += Number(r.rating_sum ?? 0);
    g.label ??= r.label;
    sums.set(k, g);
  }
  return new Map(
    [...sums].map(([k, g]) => [
      k,
      { ...g, rating_average: g.rating_count > 0 ? g.rating_sum / g.rating_count : null },
    ]),
  );
};

export const responseReport = async (
  pool: Queryable,
  q: { from: Date; to: Date; groupBy: ReportGroupBy; timeZone?: string },
): Promise<ResponseReport> => {
  const schedule = await reportSchedule(pool);
  const timeZone = q.timeZone ?? schedule?.timeZone ?? 'UTC';
  const seconds = schedule ? 'business_s' : 'wall_s';
  const days = q.groupBy === 'day' ? midnights(q.from, q.to, timeZone) : [];
  // Each day from its midnight, the first from `from`; each to the next midnight, the last to `to`.
  const starts = days.map((d, i) => (i === 0 ? q.from : d.toJSDate()));
  const ends = days.map((_, i) => (i === days.length - 1 ? q.to : days[i + 1]!.toJSDate()));
  const params = q.groupBy === 'day' ? [q.from, q.to, starts, ends] : [q.from, q.to];
  // Two statements, side by side on two connections. Counts: one pass over the period's facts,
  // hashed per group and kind, summed here (the total too: each conversation has one `prev_any`
  // fact in the period, in one row). Durations: the ordered-set aggregates sort only the facts
  // that carry one (about a quarter), read through their partial index.
  const [counted, durations] = await Promise.all([
    pool.query<CountRow>(countsSql(q.groupBy), params),
    pool.query<Raw>(durationsSql(q.groupBy, seconds), params),
  ]);
  const timed = new Map(durations.rows.map((r) => [r.is_total ? null : String(r.key ?? ''), r]));
  const groups = sumCounts(counted.rows, (r) => (r.key === null ? '' : String(r.key)));
  const total = groups.size > 0 ? sumCounts(counted.rows, () => '').get('')! : undefined;
  const keys = [...groups.keys()].sort((a, b) =>
    q.groupBy === 'day' ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0,
  );
  const rows = keys.map((k): Raw => ({ ...groups.get(k)!, ...timed.get(k), key: k }));
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    group_by: q.groupBy,
    business_hours: schedule !== null,
    rows: rows.map((r) => {
      const day = q.groupBy === 'day' ? days[Number(r.key) - 1]!.toISODate()! : undefined;
      return {
        key: day ?? String(r.key),
        label:
          day ??
          (r.key === '' ? NONE_LABEL : r.label === null || r.label === '' ? String(r.key) : String(r.label)),
        ...figures(r),
      };
    }),
    total: total
      ? figures({ ...total, conversations: total.conversations_any ?? 0, ...timed.get(null) })
      : emptyFigures(),
  };
};

export const waitingNow = async (pool: Queryable, now: Date): Promise<WaitingNow> => {
  const { rows } = await pool.query<{ waiting: string; unassigned: string; oldest: Date | null }>(
    `SELECT count(*) AS waiting, count(*) FILTER (WHERE assignee_id IS NULL) AS unassigned,
       min(waiting_since) AS oldest
     FROM rm_conversations WHERE waiting_since IS NOT NULL AND status = 'open'`,
  );
  const r = rows[0]!;
  return {
    waiting: Number(r.waiting),
    unassigned: Number(r.unassigned),
    oldest_waiting_s: r.oldest ? Math.max(0, Math.round((now.getTime() - r.oldest.getTime()) / 1000)) : null,
  };
};
