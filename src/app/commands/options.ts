// What the command line needs before any command runs (option parsers and defaults), kept apart from
// the commands so that declaring them loads nothing heavy (src/cli.ts loads a command when it runs).
import { InvalidArgumentError } from 'commander';
import { parseIsoTime } from '../../projections/history-refs.ts';

/** The language `templates:set` writes when `--locale` is not given. */
export const DEFAULT_TEMPLATE_LOCALE = 'en';

/** Commander's parser of `--at`: a bad value is a usage error naming the option. */
export const parseAtOption = (value: string): Date => {
  const at = parseIsoTime(value);
  if (at === null) {
    throw new InvalidArgumentError(
      `--at must be an ISO 8601 time, e.g. 2025-03-01T12:30:00Z or 2025-03-01T15:30:00+03:00 (got "${value}")`,
    );
  }
  return at;
};
