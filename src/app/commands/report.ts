// `topicdesk report --from … --to … [--by …] [--csv]` (docs/design.md, "Reports"): the response-time
// report the admin API serves, as a table for a person or CSV for a spreadsheet. It only reads the
// reports read model the running service keeps; it changes nothing.
import { parseReportParams } from '../../adapters/api/report-params.ts';
import {
  type DurationStats,
  type ReportFigures,
  type ResponseReport,
  reportSchedule,
  responseReport,
} from '../../projections/read-models/reports-query.ts';
import type { Context } from '../context.ts';

export interface ReportOptions {
  readonly from?: string;
  readonly to?: string;
  readonly by?: string;
  readonly timeZone?: string;
  readonly csv?: boolean;
}

/** 95 → "1m35s", 7260 → "2h01m", 200000 → "2d07h"; null → "–". */
export const formatDuration = (seconds: number | null): string => {
  if (seconds === null) return '–';
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3600))}h`;
};

const stats = ['first_response', 'response', 'resolution'] as const;

const csvCell = (v: string | number | null) => {
  const text = v === null ? '' : String(v);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

const csvFigures = (f: ReportFigures) => [
  f.conversations,
  ...stats.flatMap((k) => {
    const d: DurationStats = f[k];
    return [d.count, d.median_s, d.p90_s, d.max_s];
  }),
  f.reopened,
  f.messages_in,
  f.messages_out,
  f.rating.count,
  f.rating.average,
];

export const reportCsv = (report: ResponseReport): string => {
  const header = [
    'key',
    'label',
    'conversations',
    ...stats.flatMap((k) => [`${k}_count`, `${k}_median_s`, `${k}_p90_s`, `${k}_max_s`]),
    'reopened',
    'messages_in',
    'messages_out',
    'rating_count',
    'rating_average',
  ];
  const lines = [
    header,
    ...report.rows.map((r) => [r.key, r.label, ...csvFigures(r)]),
    ['total', 'total', ...csvFigures(report.total)],
  ];
  return `${lines.map((l) => l.map(csvCell).join(',')).join('\n')}\n`;
};

export const reportTable = (report: ResponseReport): string => {
  const header = [
    report.group_by,
    'conversations',
    'first median',
    'first p90',
    'answers',
    'response median',
    'response p90',
    'response max',
    'resolved',
    'resolution median',
    'reopened',
    'in',
    'out',
    'rated',
    'rating',
  ];
  const cells = (label: string, f: ReportFigures) => [
    label,
    String(f.conversations),
    formatDuration(f.first_response.median_s),
    formatDuration(f.first_response.p90_s),
    String(f.response.count),
    formatDuration(f.response.median_s),
    formatDuration(f.response.p90_s),
    formatDuration(f.response.max_s),
    String(f.resolution.count),
    formatDuration(f.resolution.median_s),
    String(f.reopened),
    String(f.messages_in),
    String(f.messages_out),
    String(f.rating.count),
    f.rating.average === null ? '–' : f.rating.average.toFixed(1),
  ];
  const rows = [header, ...report.rows.map((r) => cells(r.label, r)), cells('total', report.total)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const clock = report.business_hours ? 'working hours only' : 'wall clock';
  return `${rows.map(line).join('\n')}\n\n${report.from} – ${report.to} (to exclusive), durations: ${clock}\n`;
};

export const reportCommand = async (ctx: Context, options: ReportOptions): Promise<void> => {
  const pool = ctx.db.pool;
  const exists = await pool.query(`SELECT to_regclass('rm_report_facts') IS NOT NULL AS ok`);
  if (!exists.rows[0]?.ok)
    throw new Error(
      'the reports projection has not run yet: start the service, or run projections:rebuild reports',
    );
  const schedule = await reportSchedule(pool);
  const parsed = parseReportParams(
    { from: options.from, to: options.to, groupBy: options.by, timeZone: options.timeZone },
    schedule?.timeZone ?? 'UTC',
    new Date(),
    { from: '--from', to: '--to', groupBy: '--by', timeZone: '--time-zone' },
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.field} ${e.message}`).join('; '));
  const report = await responseReport(pool, parsed.query);
  process.stdout.write(options.csv ? reportCsv(report) : reportTable(report));
};
