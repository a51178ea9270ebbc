// Which instants are inside working hours (docs/design.md, "Working hours"). Times are wall-clock
// times in the schedule's own IANA zone, turned into instants with luxon, so daylight saving time
// moves them as it moves the clocks there — whatever time zone this process runs in.
import { DateTime } from 'luxon';
import type { WorkingHours } from '../../domain/settings/hours.ts';
import { spansOn } from '../../projections/working-hours.ts';

/** How far back and ahead a closed period's start and end are looked for. */
const HORIZON_DAYS = 400;

export type HoursNow =
  | { readonly open: true }
  | {
      readonly open: false;
      /** When the off-period began (the last closing); undefined: not within the last 400 days. */
      readonly since?: Date;
      /** When support opens next; undefined: not within the next 400 days. */
      readonly opensAt?: Date;
    };

/** Whether support is open at `instant`, and if not, since when it is closed and when it opens. */
export const hoursAt = (hours: WorkingHours, instant: Date): HoursNow => {
  const now = DateTime.fromJSDate(instant, { zone: hours.timeZone });
  const today = now.startOf('day');
  const day = (offset: number) => today.plus({ days: offset });
  if (spansOn(hours, today).some((s) => s.start <= now && now < s.end)) return { open: true };
  let since: DateTime | undefined;
  for (let offset = 0; offset >= -HORIZON_DAYS && since === undefined; offset--) {
    for (const s of spansOn(hours, day(offset))) if (s.end <= now && (!since || s.end > since)) since = s.end;
  }
  let opensAt: DateTime | undefined;
  for (let offset = 0; offset <= HORIZON_DAYS && opensAt === undefined; offset++) {
    for (const s of spansOn(hours, day(offset)))
      if (s.start > now && (!opensAt || s.start < opensAt)) opensAt = s.start;
  }
  return {
    open: false,
    ...(since ? { since: since.toJSDate() } : {}),
    ...(opensAt ? { opensAt: opensAt.toJSDate() } : {}),
  };
};

/** When support opens next, for a client in `locale`: "Monday, 30 March, 09:00 (Europe/Berlin)". */
export const formatOpening = (opensAt: Date, hours: WorkingHours, locale: string): string => {
  const when = DateTime.fromJSDate(opensAt, { zone: hours.timeZone }).setLocale(locale);
  const day = when.toLocaleString({ weekday: 'long', day: 'numeric', month: 'long' });
  return `${day}, ${when.toFormat('HH:mm')} (${hours.timeZone})`;
};
