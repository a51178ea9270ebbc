// Pure helpers of the external API: query filters (ISO 8601 dates, tg-support-bot v3 names) and
// checks Ajv cannot express (strings PostgreSQL would refuse).

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/**
 * A date filter: `2026-01-31` (a whole day, UTC), `2026-01-31T10:00`, `2026-01-31 10:00:00`
 * (tg-support-bot v3's format), with or without seconds, fractions and an offset (none means UTC).
 * `end` of a date alone is exclusive: the next day's first moment.
 */
export const parseDateFilter = (
  value: string,
  edge: 'start' | 'end',
): { at: Date; exclusive: boolean } | undefined => {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(
      value,
    );
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (h === undefined) {
    const at = new Date(0);
    at.setUTCFullYear(year, month - 1, day + (edge === 'end' ? 1 : 0));
    return { at, exclusive: edge === 'end' };
  }
  const hours = Number(h);
  const minutes = Number(mi);
  const seconds = s === undefined ? 0 : Number(s);
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  let offsetMinutes = 0;
  if (zone && zone !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const zh = Number(zm[2]);
    const zmin = Number(zm[3] ?? '0');
    if (zh > 23 || zmin > 59) return undefined;
    offsetMinutes = (zm[1] === '-' ? -1 : 1) * (zh * 60 + zmin);
  }
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hours, minutes - offsetMinutes, seconds, ms);
  return Number.isNaN(at.getTime()) ? undefined : { at, exclusive: false };
};

const daysIn = (year: number, month: number): number => {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0); // day 0 of the next month: the last of this one
  return d.getUTCDate();
};

/** `sort` wins over v3's `type_sort`; both are case-insensitive; default ascending. */
export const sortOf = (sort: string | undefined, typeSort: string | undefined): 'asc' | 'desc' =>
  (sort ?? typeSort ?? 'asc').toLowerCase() === 'desc' ? 'desc' : 'asc';

// A NUL or a lone surrogate: PostgreSQL's text and jsonb refuse both, so they are a 400, not a 500.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every string in a request part that could not be stored, by field path. */
export const unstorableStrings = (value: unknown, path: string, out: FieldError[] = []): FieldError[] => {
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value))
      out.push({ field: path, message: 'must not contain NUL characters or unpaired surrogates' });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      unstorableStrings(v, `${path}.${i}`, out);
    });
  } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [k, v] of Object.entries(value)) unstorableStrings(v, `${path}.${k}`, out);
  }
  return out;
};

/** A file name as a message may carry it: no control characters or path, at most 255 characters. */
export const cleanFileName = (name: string): string => {
  const base = name.replace(/^.*[\\/]/, '');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const cleaned = base.replace(/[\u0000-\u001f\u007f]/g, '').replace(UNSTORABLE_GLOBAL, '\uFFFD');
  return [...cleaned].slice(0, 255).join('') || 'file';
};

const UNSTORABLE_GLOBAL = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `attachment; filename*=UTF-8''…` with an ASCII fallback. */
export const contentDisposition = (name: string | undefined): string => {
  if (!name) return 'attachment';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
};

/** A MIME type as a header can carry it; anything else is `application/octet-stream`. */
export const cleanMimeType = (type: string | undefined): string => {
  const t = type?.split(';')[0]?.trim().toLowerCase();
  return t && /^[a-z0-9][\w.+-]{0,63}\/[a-z0-9][\w.+-]{0,127}$/.test(t) ? t : 'application/octet-stream';
};
