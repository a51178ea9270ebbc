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

const groupKey: Record<ReportGroupBy, { key: string; label: string }> = {
  manager: { key: `coalesce(manager_id, '')`, label: 'manager_name' },
  assignee: { key: `coalesce(assignee_id, '')`, label: 'assignee_name' },
  source: { key: 'source', label: 'source' },
  channel: { key: 'channel', label: 'channel' },
  // The day's number among the period's midnights ($3, computed in the zone): a binary search per
  // row, where converting every row's time to the zone and formatting it costs several times more.
  day: { key: 'width_bucket(at, $3::timestamptz[])', label: 'NULL::text' },
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
    count: Number(r[`${name}_count`]),
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
  rating: { count: Number(r.rating_count), average: r.rating_count ? tenth(r.rating_average) : null },
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

export const responseReport = async (
  pool: Queryable,
  q: { from: Date; to: Date; groupBy: ReportGroupBy; timeZone?: string },
): Promise<ResponseReport> => {
  const schedule = await reportSchedule(pool);
  const timeZone = q.timeZone ?? schedule?.timeZone ?? 'UTC';
  const { key, label } = groupKey[q.groupBy];
  const seconds = schedule ? 'business_s' : 'wall_s';
  const days = q.groupBy === 'day' ? midnights(q.from, q.to, timeZone) : [];
  const { rows } = await pool.query<Raw>(
    `WITH f AS (
       SELECT ${key} AS key, ${label} AS label, conversation_id, kind, first, ${seconds} AS s, rating
       FROM rm_report_facts WHERE at >= $1 AND at < $2)
     SELECT grouping(key) = 1 AS is_total, key, max(label) AS label,
       count(DISTINCT conversation_id) FILTER (WHERE kind IN ('o', 'i', 'a')) AS conversations,
       ${stats('first', `kind = 'a' AND first`)},
       ${stats('response', `kind = 'a' AND s IS NOT NULL`)},
       ${stats('resolution', `kind = 'c'`)},
       count(*) FILTER (WHERE kind = 'r') AS reopened,
       count(*) FILTER (WHERE kind = 'i') AS messages_in,
       count(*) FILTER (WHERE kind = 'a') AS messages_out,
       count(rating) FILTER (WHERE kind = 's') AS rating_count,
       avg(rating) FILTER (WHERE kind = 's') AS rating_average
     FROM f GROUP BY GROUPING SETS ((key), ()) ORDER BY is_total, key`,
    q.groupBy === 'day' ? [q.from, q.to, days.map((d) => d.toJSDate())] : [q.from, q.to],
  );
  const total = rows.find((r) => r.is_total);
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    group_by: q.groupBy,
    business_hours: schedule !== null,
    rows: rows
      .filter((r) => !r.is_total)
      .map((r) => {
        const day = q.groupBy === 'day' ? days[Number(r.key) - 1]!.toISODate()! : undefined;
        return {
          key: day ?? String(r.key),
          label: day ?? (r.label === null || r.label === '' ? NONE_LABEL : String(r.label)),
          ...figures(r),
        };
      }),
    total: total ? figures(total) : emptyFigures(),
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
