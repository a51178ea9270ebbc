// The `hours` settings: when support is open (docs/design.md, "Working hours"). A weekly schedule
// in one IANA time zone, and dated exceptions — a holiday closed all day, or a day's own opening
// hours. Only what is recorded lives here; which instant is open is computed in the adapters
// (src/adapters/settings/schedule.ts), which know the time-zone database.
import { type SettingsDefinition, SettingsError } from '../settings.ts';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
/** Monday first, as ISO 8601 numbers weekdays (1 = Monday). */
export const weekdays: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface HoursException {
  /** A calendar date in the schedule's time zone, `YYYY-MM-DD`. */
  readonly date: string;
  /** That day's opening hours instead of its weekday's; [] closes the whole day. */
  readonly hours: readonly string[];
  /** What the day is (`New Year`), for people reading the schedule. */
  readonly note?: string;
}

export interface WorkingHours {
  /** IANA time zone the times are in (`Europe/Berlin`): daylight saving time follows it. */
  readonly timeZone: string;
  /** Open intervals per weekday, `HH:MM-HH:MM` (the end after the start; `24:00` ends at midnight). A day not listed is closed. */
  readonly weekly: Readonly<Partial<Record<Weekday, readonly string[]>>>;
  readonly exceptions: readonly HoursException[];
}

export interface WorkingHoursSet {
  readonly type: 'WorkingHoursSet';
  readonly data: { readonly hours: WorkingHours };
}

export interface WorkingHoursCleared {
  readonly type: 'WorkingHoursCleared';
  readonly data: Readonly<Record<string, never>>;
}

export type HoursEvent = WorkingHoursSet | WorkingHoursCleared;
export const hoursEventTypes: readonly HoursEvent['type'][] = ['WorkingHoursSet', 'WorkingHoursCleared'];

export type HoursCommand =
  | { readonly type: 'SetWorkingHours'; readonly hours: WorkingHours }
  | { readonly type: 'ClearWorkingHours' };

/** null: no schedule, support is never "off hours" (the default). */
export interface HoursState {
  readonly hours: WorkingHours | null;
}

export const initialHoursState: HoursState = { hours: null };

/** How many dated exceptions a schedule keeps: a few years of holidays. */
export const MAX_EXCEPTIONS = 1000;

const INTERVAL = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** An interval as minutes since midnight, [start, end). */
export interface Minutes {
  readonly start: number;
  readonly end: number;
}

/** `09:00-18:00` → {540, 1080}; undefined when it is not such an interval (or ends before it starts). */
export const parseInterval = (text: string): Minutes | undefined => {
  const m = INTERVAL.exec(text);
  if (!m) return undefined;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  if (end > 24 * 60 || end <= start) return undefined;
  return { start, end };
};

const isRealDate = (text: string): boolean => {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
};

/** Whether the runtime's time-zone database knows `zone` (Intl is part of the language, not an import). */
export const isTimeZone = (zone: string): boolean => {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** A day's intervals checked (`field` names them for the error) and sorted. */
const checkIntervals = (intervals: unknown, field: string): string[] => {
  if (!Array.isArray(intervals)) {
    throw new SettingsError('invalid_hours', field, `${field} must be a list of "HH:MM-HH:MM" intervals`);
  }
  const parsed = intervals.map((text, i) => {
    const minutes = typeof text === 'string' ? parseInterval(text) : undefined;
    if (!minutes) {
      throw new SettingsError(
        'invalid_hours',
        `${field}[${i}]`,
        `${field}[${i}] must be "HH:MM-HH:MM" with the end after the start (e.g. "09:00-18:00"; "24:00" ends at midnight), got ${JSON.stringify(text)}`,
      );
    }
    return { text: text as string, minutes };
  });
  const sorted = parsed.toSorted((a, b) => a.minutes.start - b.minutes.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.minutes.start < sorted[i - 1]!.minutes.end) {
      throw new SettingsError(
        'invalid_hours',
        field,
        `${field}: ${sorted[i - 1]!.text} and ${sorted[i]!.text} overlap`,
      );
    }
  }
  return sorted.map((x) => x.text);
};

/** The schedule checked and in a canonical order (intervals by start, exceptions by date). */
export const checkWorkingHours = (hours: WorkingHours): WorkingHours => {
  if (typeof hours.timeZone !== 'string' || !isTimeZone(hours.timeZone)) {
    throw new SettingsError(
      'invalid_time_zone',
      'timeZone',
      `the time zone must be an IANA time zone such as "Europe/Berlin", got ${JSON.stringify(hours.timeZone)}`,
    );
  }
  const weekly: Partial<Record<Weekday, readonly string[]>> = {};
  for (const [day, intervals] of Object.entries(hours.weekly ?? {})) {
    if (!(weekdays as readonly string[]).includes(day)) {
      throw new SettingsError(
        'invalid_hours',
        `weekly.${day}`,
        `weekly.${day} is not a weekday: use ${weekdays.join(', ')}`,
      );
    }
    const checked = checkIntervals(intervals, `weekly.${day}`);
    if (checked.length > 0) weekly[day as Weekday] = checked;
  }
  const exceptions = hours.exceptions ?? [];
  if (exceptions.length > MAX_EXCEPTIONS) {
    throw new SettingsError('invalid_hours', 'exceptions', `at most ${MAX_EXCEPTIONS} exceptions`);
  }
  const seen = new Set<string>();
  const checkedExceptions = exceptions.map((e, i): HoursException => {
    const field = `exceptions[${i}]`;
    if (typeof e?.date !== 'string' || !isRealDate(e.date)) {
      throw new SettingsError(
        'invalid_hours',
        `${field}.date`,
        `${field}.date must be a date YYYY-MM-DD, got ${JSON.stringify(e?.date)}`,
      );
    }
    if (seen.has(e.date)) {
      throw new SettingsError('invalid_hours', `${field}.date`, `${field}.date: ${e.date} is listed twice`);
    }
    seen.add(e.date);
    if (e.note !== undefined && (typeof e.note !== 'string' || e.note.length > 200)) {
      throw new SettingsError(
        'invalid_hours',
        `${field}.note`,
        `${field}.note must be text of at most 200 characters`,
      );
    }
    return {
      date: e.date,
      hours: checkIntervals(e.hours, `${field}.hours`),
      ...(e.note === undefined ? {} : { note: e.note }),
    };
  });
  return {
    timeZone: hours.timeZone,
    weekly,
    exceptions: checkedExceptions.toSorted((a, b) => a.date.localeCompare(b.date)),
  };
};

export const evolveHours = (_state: HoursState, event: HoursEvent): HoursState => {
  switch (event.type) {
    case 'WorkingHoursSet':
      return { hours: event.data.hours };
    case 'WorkingHoursCleared':
      return { hours: null };
    default: {
      const never: never = event;
      return never;
    }
  }
};

export const decideHours = (command: HoursCommand, state: HoursState): readonly HoursEvent[] => {
  switch (command.type) {
    case 'SetWorkingHours': {
      const hours = checkWorkingHours(command.hours);
      if (state.hours !== null && JSON.stringify(state.hours) === JSON.stringify(hours)) return [];
      return [{ type: 'WorkingHoursSet', data: { hours } }];
    }
    case 'ClearWorkingHours':
      if (state.hours === null) {
        throw new SettingsError('hours_not_set', 'hours', 'no working hours are set');
      }
      return [{ type: 'WorkingHoursCleared', data: {} }];
    default: {
      const never: never = command;
      return never;
    }
  }
};

const describeWeek = (hours: WorkingHours): string =>
  weekdays
    .filter((d) => hours.weekly[d]?.length)
    .map((d) => `${d} ${hours.weekly[d]!.join(',')}`)
    .join('; ');

export const summarizeHours = (event: HoursEvent): string => {
  switch (event.type) {
    case 'WorkingHoursSet': {
      const { hours } = event.data;
      const week = describeWeek(hours);
      const n = hours.exceptions.length;
      return `working hours set (${hours.timeZone}): ${week === '' ? 'closed every day' : week}${n ? `; ${n} exception${n === 1 ? '' : 's'}` : ''}`;
    }
    case 'WorkingHoursCleared':
      return 'working hours cleared (always open)';
    default: {
      const never: never = event;
      return never;
    }
  }
};

export const hoursSettings: SettingsDefinition<HoursCommand, HoursEvent, HoursState> = {
  kind: 'hours',
  initial: initialHoursState,
  evolve: evolveHours,
  decide: decideHours,
  summarize: summarizeHours,
};
