// What no log line, error answer or CLI message may carry, and how it is found in finished text:
// secrets by their shape (bot tokens, VK tokens, source tokens, webhook secrets, credentials in URLs
// and in header fields) and the configured secrets by their value. Working on the finished text
// finds a secret wherever it hides: an error's message, its stack, a cause, a URL, a header.

export const REDACTED = '[redacted]';

/** Text with every secret it carries replaced by REDACTED. */
export type Redact = (text: string) => string;

/** Request headers that carry credentials. */
export const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-telegram-bot-api-secret-token',
] as const;

/** Query parameters that carry credentials (VK's long poll `key`, upload `hash`es, OAuth tokens). */
const SECRET_PARAMETERS = [
  'access_token',
  'token',
  'key',
  'api_key',
  'apikey',
  'secret',
  'password',
  'sig',
  'sign',
  'signature',
  'hash',
  'rhash',
];

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // Bot API URLs, `/bot<id>:<secret>/getFile`: the bot id is public (it is the bot's user id).
  [/\bbot(\d+):[A-Za-z0-9_-]{20,}/g, `bot$1:${REDACTED}`],
  // A bot token on its own, in the shape @BotFather gives.
  [/(?<![\w-])(\d{5,}):[A-Za-z0-9_-]{35}(?![\w-])/g, `$1:${REDACTED}`],
  // VK access tokens.
  [/\bvk1\.a\.[A-Za-z0-9_.-]+/g, `vk1.a.${REDACTED}`],
  // Source tokens, td_<token id>_<secret>: the id is no secret (sources:list shows it).
  [/\btd_([0-9a-f]{12})_[A-Za-z0-9_-]+/g, `td_$1_${REDACTED}`],
  // Webhook secrets.
  [/\bwhsec_[A-Za-z0-9_-]{8,}/g, `whsec_${REDACTED}`],
  // The password in a URL: scheme://user:password@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/"'\\]*:)[^\s/"'\\]+@/gi, `$1${REDACTED}@`],
  // Credentials in a query string.
  [new RegExp(`([?&](?:${SECRET_PARAMETERS.join('|')})=)[^&#\\s"'\\\\]+`, 'gi'), `$1${REDACTED}`],
  // Header fields, as a header line (`Authorization: Bearer …`) or a JSON field (`"authorization":"…"`,
  // also inside a JSON string, its quotes escaped).
  [
    new RegExp(
      `((?:${SECRET_HEADERS.map(literal).join('|')})\\\\?["']?\\s*:\\s*\\\\?["']?)[^"'\\\\\\r\\n]+`,
      'gi',
    ),
    `$1${REDACTED}`,
  ],
];

/**
 * Known values shorter than this are not looked for: they would match ordinary words. The shapes
 * above and the header fields still apply to them.
 */
export const MIN_SECRET_LENGTH = 8;

/** A secret as it may appear in text: as is, inside a JSON string, percent-encoded in a URL. */
const spellings = (secret: string): string[] => [
  secret,
  JSON.stringify(secret).slice(1, -1),
  encodeURIComponent(secret),
];

/** Of a bot token, the part after the bot id: the id stays readable wherever the token was. */
const secretPart = (secret: string) => secret.replace(/^\d+:(?=[\w-]{20,}$)/, '');

/** A redactor for these known values (the configuration's secrets) and every shape above. */
export const createRedactor = (secrets: readonly string[] = []): Redact => {
  const values = [
    ...new Set(
      secrets
        .map(secretPart)
        .filter((s) => s.length >= MIN_SECRET_LENGTH)
        .flatMap(spellings),
    ),
  ].sort((a, b) => b.length - a.length);
  const known = values.length > 0 ? new RegExp(values.map(literal).join('|'), 'g') : undefined;
  return (text) => {
    // The known values first: a shape rewritten first could leave part of one behind.
    let out = known ? text.replace(known, REDACTED) : text;
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
};

/** The shapes only, where the configuration is not at hand. */
export const redactSecrets: Redact = createRedactor();
