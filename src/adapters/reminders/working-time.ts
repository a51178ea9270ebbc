// Waiting counted in working hours (docs/design.md, "Reminders and the daily digest"): the instant
// at which `ms` of open time have passed since `from`, walking the schedule's days in its own zone.
import { DateTime } from 'luxon';
import type { Deadline } from '../../domain/reminders.ts';
import type { WorkingHours } from '../../domain/settings/hours.ts';
import { spansOn } from '../../projections/working-hours.ts';

/** How far ahead open time is looked for, as the schedule looks for the next opening. */
const HORIZON_DAYS = 400;

/** `ms` of open time after `from`; undefined when the schedule does not hold that much within 400 days. */
export const openDeadline =
  (hours: WorkingHours): Deadline =>
  (from, ms) => {
    const start = DateTime.fromJSDate(from, { zone: hours.timeZone });
    let left = ms;
    let day = start.startOf('day');
    for (let i = 0; i <= HORIZON_DAYS; i++, day = day.plus({ days: 1 })) {
      const spans = spansOn(hours, day).sort((x, y) => x.start.toMillis() - y.start.toMillis());
      for (const span of spans) {
        const a = Math.max(span.start.toMillis(), start.toMillis());
        const open = span.end.toMillis() - a;
        if (open <= 0) continue;
        // Exactly at a span's end counts as that span's (not the next opening).
        if (open >= left) return new Date(a + left);
        left -= open;
      }
    }
    return undefined;
  };
