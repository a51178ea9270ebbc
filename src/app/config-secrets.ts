// Which configuration values are secrets (docs/design.md, "No secret in logs or answers"): the
// redactor's list, and how a wrong value is quoted in a configuration error without giving it away.
import { redactSecrets } from '../adapters/logging/redact.ts';

/**
 * A wrong value as the error quotes it: a secret by its first four characters when it is long (a
 * hint at which value it is, e.g. a pasted `bot123:…`), else by its length only; anything else (a
 * URL) without its credentials.
 */
export const shownValue = (name: string, value: string) => {
  // The secrets by name (API_MAX_LONG_POLLS_PER_TOKEN is no secret).
  if (!(SECRET_VARIABLES as readonly string[]).includes(name) && !/PASSWORD$/.test(name))
    return `"${redactSecrets(value)}"`;
  return value.length > 12 ? `"${value.slice(0, 4)}…"` : `${value.length} characters`;
};

/** Variables whose values are secrets: no log line or error answer carries them. */
const SECRET_VARIABLES = [
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'VK_TOKEN',
  'VK_SECRET',
  'ADMIN_TOKEN',
  'EVENTSTORE_PASSWORD',
  'FILE_LINK_SECRET',
] as const;
/** The same secrets under tg-support-bot's names (legacy-env.ts), as the raw environment has them. */
const LEGACY_SECRET_VARIABLES = ['TELEGRAM_TOKEN', 'TELEGRAM_SECRET_KEY', 'VK_SECRET_CODE'] as const;
/** Connection strings whose password is a secret. */
const URL_VARIABLES = ['DATABASE_URL', 'EVENTSTORE_URL'] as const;

type SecretSettings = Partial<
  Record<
    | (typeof SECRET_VARIABLES)[number]
    | (typeof LEGACY_SECRET_VARIABLES)[number]
    | (typeof URL_VARIABLES)[number],
    string | undefined
  >
>;

/**
 * The secret values of a configuration (or of the environment, before it is validated): the tokens,
 * the webhook secrets and the databases' passwords. VK_CONFIRMATION is not one: it is answered to
 * anyone who asks.
 */
export const configuredSecrets = (c: SecretSettings): string[] => {
  const values: string[] = [...SECRET_VARIABLES, ...LEGACY_SECRET_VARIABLES].map((name) => c[name] ?? '');
  for (const name of URL_VARIABLES) {
    const value = c[name];
    const password = value && URL.canParse(value) ? new URL(value).password : '';
    // As written in the URL (percent-encoded) and as the server gets it.
    if (password) values.push(password, decoded(password));
  }
  return [...new Set(values.filter((v) => v !== ''))];
};

const decoded = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};
