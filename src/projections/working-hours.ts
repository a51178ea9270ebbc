// The calendar arithmetic of working hours (docs/design.md, "Working hours"): a day's open spans as
// instants in the schedule's own zone, and how many open seconds lie between two instants. It lives
// here, below the adapters, because the reports projection counts response times in working hours
// (docs/design.md, "Reports"); src/adapters/settings/schedule.ts builds "open now" on it.
import { DateTime } from 'luxon';
import { parseInterval, type WorkingHours, weekdays } from '../domain/settings/hours.ts';

export interface Span {
  readonly start: DateTime;
  readonly end: DateTime;
}

/** A wall-clock time of `day` in its zone; a time the clocks skip (spring forward) is moved past the gap. */
const at = (day: DateTime, minutes: number): DateTime =>
  minutes >= 24 * 60
    ? day.plus({ days: 1 }).startOf('day')
    : DateTime.fromObject(
        {
          year: day.year,
          month: day.month,
          day: day.day,
          hour: Math.floor(minutes / 60),
          minute: minutes % 60,
        },
        { zone: day.zone },
      );

/** The open spans of one calendar day: its exception's hours if it has one, else its weekday's. */
export const spansOn = (hours: WorkingHours, day: DateTime): Span[] => {
  const date = day.toISODate();
  const exception = hours.exceptions.find((e) => e.date === date);
  const texts = exception ? exception.hours : (hours.weekly[weekdays[day.weekday - 1]!] ?? []);
  return texts.flatMap((text) => {
    const minutes = parseInterval(text);
    if (!minutes) return [];
    const span = { start: at(day, minutes.start), end: at(day, minutes.end) };
    return span.end > span.start ? [span] : [];
  });
};

/**
 * Seconds of [from, to) inside working hours (milliseconds kept, whole seconds are the caller's
 * rounding). A wait of years walks that many days: still milliseconds, and such waits are rare.
 */
export const openSecondsBetween = (hours: WorkingHours, from: Date, to: Date): number => {
  if (to <= from) return 0;
  const start = DateTime.fromJSDate(from, { zone: hours.timeZone });
  const end = DateTime.fromJSDate(to, { zone: hours.timeZone });
  const [startMs, endMs] = [from.getTime(), to.getTime()];
  let ms = 0;
  // Every calendar day of the schedule's zone that [from, to) touches (a span never crosses midnight).
  for (let day = start.startOf('day'); day < end; day = day.plus({ days: 1 })) {
    for (const s of spansOn(hours, day)) {
      const a = Math.max(s.start.toMillis(), startMs);
      const b = Math.min(s.end.toMillis(), endMs);
      if (b > a) ms += b - a;
    }
  }
  return ms / 1000;
};
