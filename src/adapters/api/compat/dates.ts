// Dates as tg-support-bot writes and reads them: wall-clock time in the source's time zone
// ("d.m.Y H:i:s" out; "Y-m-d H:i:s", "Y-m-d", its own "d.m.Y H:i:s" or an ISO 8601 instant in).

/** The zone's wall clock at `at`: year, month, day, hour, minute, second. */
const wallClock = (at: Date, timeZone: string): number[] => {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return [get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second')];
};

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** "d.m.Y H:i:s" in the zone. */
export const formatDate = (at: Date | string, timeZone: string): string => {
  const [y, mo, d, h, mi, s] = wallClock(new Date(at), timeZone);
  return `${pad(d!)}.${pad(mo!)}.${pad(y!, 4)} ${pad(h!)}:${pad(mi!)}:${pad(s!)}`;
};

/** "d.m.Y H:i", the 3.x–4.x webhook's date. */
export const formatMinute = (at: Date | string, timeZone: string): string =>
  formatDate(at, timeZone).slice(0, 16);

/** The instant a wall-clock time in the zone names (the later one in a repeated hour). */
const fromWallClock = (wall: number[], timeZone: string): Date => {
  const [y, mo, d, h, mi, s] = wall;
  const asUtc = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  const offsetAt = (t: number) => {
    const [wy, wmo, wd, wh, wmi, ws] = wallClock(new Date(t), timeZone);
    return Date.UTC(wy!, wmo! - 1, wd!, wh!, wmi!, ws!) - t;
  };
  const first = asUtc - offsetAt(asUtc);
  return new Date(asUtc - offsetAt(first));
};

/**
 * A list filter's date → the instant it names, or undefined when it is none of the accepted forms.
 * A date alone is its midnight (as tg-support-bot compares it: `date_end=2026-05-01` ends there).
 */
export const parseDate = (text: string, timeZone: string): Date | undefined => {
  const t = text.trim();
  if (/[zZ]$|[+-]\d{2}:?\d{2}$/.test(t) && /T/.test(t)) {
    const at = new Date(t);
    return Number.isNaN(at.getTime()) ? undefined : at;
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  const own = /^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  const m = iso ?? own;
  if (!m) return undefined;
  const [y, mo, d] = iso ? [m[1], m[2], m[3]] : [m[3], m[2], m[1]];
  const wall = [y, mo, d, m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number);
  const [, month, day, hour, minute, second] = wall;
  if (month! < 1 || month! > 12 || day! < 1 || day! > 31 || hour! > 23 || minute! > 59 || second! > 59)
    return undefined;
  return fromWallClock(wall, timeZone);
};
