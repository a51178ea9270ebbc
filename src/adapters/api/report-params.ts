// A report's period, grouping and time zone from what a person typed (the admin API's query, the
// CLI's options): dates are midnights in the report's zone, `to` is exclusive, and each mistake is
// named by its field (docs/design.md, "Reports").
import { DateTime } from 'luxon';
import { isTimeZone } from '../../domain/settings/hours.ts';
import { type ReportGroupBy, reportGroupings } from '../../projections/read-models/reports-query.ts';

export interface ReportParamsInput {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly groupBy?: string | undefined;
  readonly timeZone?: string | undefined;
}

export interface ReportQuery {
  readonly from: Date;
  readonly to: Date;
  readonly groupBy: ReportGroupBy;
  readonly timeZone: string;
}

export type ParsedReportParams =
  | { readonly ok: true; readonly query: ReportQuery }
  | { readonly ok: false; readonly errors: ReadonlyArray<{ field: string; message: string }> };

/** How far back a report reaches when no `from` is given. */
export const DEFAULT_REPORT_DAYS = 7;

const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/i;

/** `2026-11-01` (midnight in `zone`) or an ISO 8601 date-time (without an offset: in `zone`). */
export const parseReportTime = (text: string, zone: string): Date | undefined => {
  if (!DATE_OR_TIME.test(text.trim())) return undefined;
  const t = DateTime.fromISO(text.trim().replace(' ', 'T'), { zone });
  return t.isValid ? t.toJSDate() : undefined;
};

/**
 * `names` says how the caller calls each field (`query.from`, `--from`). Without `to`: the end of
 * today in the zone; without `from`: DEFAULT_REPORT_DAYS before `to`. The zone defaults to
 * `defaultZone` (the schedule's, or UTC).
 */
export const parseReportParams = (
  input: ReportParamsInput,
  defaultZone: string,
  now: Date,
  names: { from: string; to: string; groupBy: string; timeZone: string },
): ParsedReportParams => {
  const errors: Array<{ field: string; message: string }> = [];
  const timeZone = input.timeZone ?? defaultZone;
  if (!isTimeZone(timeZone)) {
    errors.push({ field: names.timeZone, message: `must be an IANA time zone such as Europe/Berlin or UTC` });
    return { ok: false, errors };
  }
  const groupBy = (input.groupBy ?? 'day') as ReportGroupBy;
  if (!reportGroupings.includes(groupBy))
    errors.push({ field: names.groupBy, message: `must be one of ${reportGroupings.join(', ')}` });
  const time = (text: string | undefined, field: string) => {
    if (text === undefined) return undefined;
    const parsed = parseReportTime(text, timeZone);
    if (!parsed)
      errors.push({
        field,
        message: `must be a date (2026-11-01) or an ISO 8601 date-time (2026-11-01T09:00:00Z), got ${JSON.stringify(text)}`,
      });
    return parsed ?? null;
  };
  const from = time(input.from, names.from);
  const to = time(input.to, names.to);
  const end =
    to ??
    (input.to === undefined
      ? DateTime.fromJSDate(now, { zone: timeZone }).startOf('day').plus({ days: 1 }).toJSDate()
      : null);
  const start =
    from ??
    (input.from === undefined && end
      ? DateTime.fromJSDate(end, { zone: timeZone }).minus({ days: DEFAULT_REPORT_DAYS }).toJSDate()
      : null);
  if (start && end && end <= start)
    errors.push({ field: names.to, message: `must be after ${names.from} (${start.toISOString()})` });
  if (errors.length > 0 || !start || !end) return { ok: false, errors };
  return { ok: true, query: { from: start, to: end, groupBy, timeZone } };
};
