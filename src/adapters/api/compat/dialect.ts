// Which dialect a source speaks and what each version of it changes (docs/design.md, "Speaking
// tg-support-bot's dialect"). Everything version-dependent is decided here, from the source.
import type { SourceCompat } from '../../../domain/source.ts';

export const DEFAULT_TIME_ZONE = 'Europe/Moscow';
/** The versions told apart; a later release speaks as the newest one known (7.x answers as 6.x). */
const VERSIONS = [3, 4, 5, 6] as const;

export class CompatError extends Error {
  override readonly name = 'CompatError';
  readonly code = 'invalid_compat';
}

/** A time zone Intl knows (IANA name, e.g. Europe/Moscow). */
export const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/**
 * `tg-support-bot@6` (a major version, or a release such as `5.3.1`) → the stored compat setting.
 * Throws CompatError with what is accepted. Exported for the CLI, the admin API and the importer.
 */
export const parseCompat = (text: string, timeZone: string = DEFAULT_TIME_ZONE): SourceCompat => {
  const m = /^tg-support-bot@(\d+)(?:\.\d+){0,2}$/.exec(text.trim());
  const major = m ? Number(m[1]) : Number.NaN;
  if (!(major >= VERSIONS[0]))
    throw new CompatError(
      `"${text}" is not a dialect: use tg-support-bot@3, @4, @5 or @6 (a later release speaks as @6)`,
    );
  if (!isTimeZone(timeZone)) throw new CompatError(`"${timeZone}" is not a time zone (e.g. Europe/Moscow)`);
  return { dialect: 'tg-support-bot', version: Math.min(major, VERSIONS.at(-1)!), timeZone };
};

export const compatLabel = (compat: SourceCompat): string => `${compat.dialect}@${compat.version}`;

/** What a version's client expects; one record per difference, read by the request and answer modules. */
export interface DialectRules {
  /** 3.x names the client in the body at /api/external/messages; 4.0+ in the path. */
  readonly clientInPath: boolean;
  /** The answer to a write: 3.x `{status, message_id}`, 4.x–5.x `{status, result}`, 6.0+ an empty 200. */
  readonly writeAnswer: 'message_id' | 'result' | 'empty';
  /** The webhook: 5.0+ `{type_query, externalId, message}`; 3.x–4.x one flat object. */
  readonly webhook: 'typed' | 'flat';
}

export const rulesOf = (compat: SourceCompat): DialectRules => ({
  clientInPath: compat.version >= 4,
  writeAnswer: compat.version <= 3 ? 'message_id' : compat.version <= 5 ? 'result' : 'empty',
  webhook: compat.version >= 5 ? 'typed' : 'flat',
});
