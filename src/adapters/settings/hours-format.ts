// Working hours as operators write them — a JSON file for `hours:set`, the admin API's body — and
// back: `time_zone`, `weekly`, `exceptions`, in the API's snake case. The shape is checked here; the
// schedule itself (times, dates, the zone) by the domain (src/domain/settings/hours.ts).

import type { HoursException, WorkingHours } from '../../domain/settings/hours.ts';
import { SettingsError } from '../../domain/settings.ts';

export interface HoursJson {
  readonly time_zone: string;
  readonly weekly: Readonly<Record<string, readonly string[]>>;
  readonly exceptions?: ReadonlyArray<{
    readonly date: string;
    readonly hours: readonly string[];
    readonly note?: string;
  }>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The domain's name of a field, as the file and the API spell it (`timeZone` → `time_zone`). */
export const hoursField = (field: string): string => (field === 'timeZone' ? 'time_zone' : field);

/** A schedule from its JSON form; a wrong shape is a SettingsError naming the field. */
export const hoursFromJson = (value: unknown): WorkingHours => {
  if (!isObject(value)) {
    throw new SettingsError(
      'invalid_hours',
      '',
      'working hours must be a JSON object with time_zone, weekly and exceptions',
    );
  }
  for (const key of Object.keys(value)) {
    if (!['time_zone', 'weekly', 'exceptions'].includes(key)) {
      throw new SettingsError(
        'invalid_hours',
        key,
        `${key} is not part of working hours (time_zone, weekly, exceptions)`,
      );
    }
  }
  if (typeof value.time_zone !== 'string') {
    throw new SettingsError(
      'invalid_time_zone',
      'time_zone',
      'time_zone is required: an IANA time zone such as "Europe/Berlin"',
    );
  }
  if (!isObject(value.weekly)) {
    throw new SettingsError(
      'invalid_hours',
      'weekly',
      'weekly is required: an object of weekdays (mon … sun) to lists of "HH:MM-HH:MM"',
    );
  }
  const exceptions = value.exceptions ?? [];
  if (!Array.isArray(exceptions)) {
    throw new SettingsError(
      'invalid_hours',
      'exceptions',
      'exceptions must be a list of {date, hours, note}',
    );
  }
  exceptions.forEach((e, i) => {
    if (!isObject(e))
      throw new SettingsError(
        'invalid_hours',
        `exceptions[${i}]`,
        `exceptions[${i}] must be an object {date, hours, note}`,
      );
    for (const key of Object.keys(e)) {
      if (!['date', 'hours', 'note'].includes(key)) {
        throw new SettingsError(
          'invalid_hours',
          `exceptions[${i}].${key}`,
          `exceptions[${i}].${key} is not part of an exception (date, hours, note)`,
        );
      }
    }
  });
  return {
    timeZone: value.time_zone,
    weekly: value.weekly as WorkingHours['weekly'],
    exceptions: exceptions as HoursException[],
  };
};

export const hoursToJson = (hours: WorkingHours): HoursJson => ({
  time_zone: hours.timeZone,
  weekly: hours.weekly as Record<string, readonly string[]>,
  exceptions: hours.exceptions,
});
