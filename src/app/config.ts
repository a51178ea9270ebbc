// Configuration from the environment, validated once at start-up (docs/design.md, "Configuration"). A
// wrong or missing value stops start-up with one line naming the variable.

import { IANAZone } from 'luxon';
import { z } from 'zod';
import { parseEsdbConnectionString } from '../adapters/eventstore/connection-string.ts';
import { DEFAULT_VK_FILE_HOSTS, parseFileHosts } from '../adapters/vk/file-hosts.ts';
import { parsePrivateAddressPolicy } from '../adapters/webhooks/address-guard.ts';
import { shownValue } from './config-secrets.ts';
import { esdbSettingsIssues } from './esdb-settings.ts';
import { withLegacyAliases } from './legacy-env.ts';

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional()) as unknown as z.ZodOptional<T>;

const url = (what: string) => z.url({ message: `must be a URL (${what})` });

/** A list parsed by `parse`, whose Error message says which entry is wrong. */
const parsedList = <T>(fallback: string, parse: (text: string) => T) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    /** How long a client may take to send a whole request (headers and body); 408 beyond. */
    HTTP_REQUEST_TIMEOUT_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(1000, 'must be at least 1000 ms')
      .default(120_000),
    PUBLIC_URL: optional(
      url('the address Telegram and VK reach this service at, e.g. https://support.example.com'),
    ),
    DATABASE_URL: optional(url('postgres://user:password@host:5432/db')),
    /** The role that owns the schema, for migrations only; the app itself connects with DATABASE_URL. */
    DATABASE_OWNER_URL: optional(url('postgres://owner:password@host:5432/db')),
    DATA_DIR: z.string().default('.data'),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    EVENT_STORE: z.enum(['postgres', 'esdb'], { message: 'must be postgres or esdb' }).default('postgres'),
    /** Checked by the client's own parser: what it would refuse at start-up is refused here. */
    EVENTSTORE_URL: optional(
      z.string().superRefine((text, ctx) => {
        try {
          parseEsdbConnectionString(text);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      }),
    ),
    /** PEM file of the CA that signed the KurrentDB node's certificate (TLS with a private CA). */
    EVENTSTORE_CA_FILE: optional(z.string().min(1)),
    /** Credentials apart from EVENTSTORE_URL (a secret kept out of the URL); or both in the URL. */
    EVENTSTORE_USERNAME: optional(z.string().min(1)),
    EVENTSTORE_PASSWORD: optional(z.string().min(1)),
    /** An append, or a read that receives nothing for this long, fails. */
    EVENTSTORE_TIMEOUT_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(100, 'must be at least 100 ms')
      .default(10_000),
    /** /readyz's check of the log. */
    EVENTSTORE_PING_TIMEOUT_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(100, 'must be at least 100 ms')
      .default(5000),
    /** How long start-up (and `npm run esdb:ping`) waits for the node to serve reads. */
    EVENTSTORE_START_TIMEOUT_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(0, 'must be at least 0')
      .default(120_000),
    TELEGRAM_BOT_TOKEN: optional(
      z.string().regex(/^\d+:[\w-]{20,}$/, 'must look like 123456:ABC-DEF… (from @BotFather)'),
    ),
    TELEGRAM_SUPPORT_CHAT_ID: optional(
      z.string().regex(/^-100\d+$/, 'must be the support supergroup id, e.g. -1001234567890'),
    ),
    TELEGRAM_WEBHOOK_SECRET: optional(
      z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -'),
    ),
    TELEGRAM_API_ROOT: url('a Bot API server').default('https://api.telegram.org'),
    TELEGRAM_MODE: z
      .enum(['webhook', 'polling'], { message: 'must be webhook or polling' })
      .default('webhook'),
    TELEGRAM_LIMIT_PER_CHAT_PER_SECOND: z.coerce.number().positive().default(1),
    TELEGRAM_LIMIT_GROUP_PER_MINUTE: z.coerce.number().positive().default(20),
    TELEGRAM_LIMIT_PER_SECOND: z.coerce.number().positive().default(30),
    /** How long a Bot API call may go unanswered before it is abandoned and retried. */
    TELEGRAM_TIMEOUT_SECONDS: z.coerce
      .number({ message: 'must be a number of seconds' })
      .int()
      .min(1, 'must be at least 1 second')
      .max(600, 'must be at most 600 seconds')
      .default(60),
    TOPIC_TITLE_TEMPLATE: z.string().min(1).default('{name} · {source} · {id}'),
    /**
     * Topic status at a glance (waiting / answered / closed): off, a title prefix, or the topic's icon.
     * Off by default: every change is a service line in the topic and a share of the group's budget.
     */
    TOPIC_STATUS: z.enum(['off', 'title', 'icon'], { message: 'must be off, title or icon' }).default('off'),
    /** A topic message starting with this is an internal note; empty (set, but empty) turns it off. */
    NOTE_PREFIX: z
      .string()
      .max(16, 'must be at most 16 characters')
      .refine((p) => !/\s/.test(p), 'must not contain spaces')
      .refine(
        (p) => !/^\/[\p{L}\p{N}_]/u.test(p),
        'must not start like a command (a slash and a letter): use // or !!',
      )
      .default('//'),
    VK_TOKEN: optional(z.string().min(10, 'must be a VK community access token')),
    VK_GROUP_ID: optional(z.string().regex(/^\d+$/, 'must be the community id (digits)')),
    VK_CONFIRMATION: optional(z.string().min(1)),
    VK_SECRET: optional(z.string().min(1)),
    VK_API_BASE_URL: url('the VK API').default('https://api.vk.ru/method'),
    /** Hosts VK attachments are downloaded from (host or host:port, subdomains included). */
    VK_FILE_HOSTS: parsedList(DEFAULT_VK_FILE_HOSTS, parseFileHosts),
    VK_MODE: z
      .enum(['callback', 'longpoll'], { message: 'must be callback or longpoll' })
      .default('callback'),
    /** VK API requests a second (vk-io's apiLimit); VK allows 20 for a community token. */
    VK_API_LIMIT: z.coerce
      .number()
      .positive()
      .max(20, "must be at most 20 (VK's limit for a community token)")
      .default(20),
    /** The VK reactor's first wait after a failed send (flood control, a reset); doubled each time. */
    VK_RETRY_INITIAL_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(1, 'must be at least 1 ms')
      .default(1000),
    /**
     * Conversations the Telegram and VK reactors carry at once (each in its own order). A crash may
     * repeat one send per conversation in flight; 1 makes it at most one per crash, at the cost of
     * one slow or rate-limited chat holding up the others.
     */
    REACTOR_CONCURRENCY: z.coerce
      .number({ message: 'must be a number of conversations' })
      .int()
      .min(1, 'must be at least 1')
      .max(64, 'must be at most 64')
      .default(16),
    /**
     * How long a message waits, after it was recorded, for the ones its sender sent before it: a burst
     * reaches the webhooks as concurrent deliveries, recorded in any order.
     */
    ORDER_WAIT_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(0, 'must be at least 0')
      .max(10_000, 'must be at most 10000')
      .default(1000),
    // tg-support-bot's dialect: the secret signing public file links, and how long a link is valid.
    FILE_LINK_SECRET: optional(
      z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)'),
    ),
    FILE_LINK_TTL_SECONDS: z.coerce
      .number({ message: 'must be a number of seconds' })
      .int()
      .min(60, 'must be at least 60 s')
      .default(86_400),
    // Webhooks to sources: how long a receiver has to answer, deliveries in flight, and the retry schedule.
    WEBHOOK_TIMEOUT_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(1, 'must be at least 1 ms')
      .default(10_000),
    WEBHOOK_CONCURRENCY: z.coerce
      .number({ message: 'must be a number of deliveries' })
      .int()
      .min(1, 'must be at least 1')
      .max(256, 'must be at most 256')
      .default(8),
    WEBHOOK_RETRY_INITIAL_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(1, 'must be at least 1 ms')
      .default(10_000),
    WEBHOOK_RETRY_MAX_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(1, 'must be at least 1 ms')
      .default(3_600_000),
    WEBHOOK_RETRY_FOR_HOURS: z.coerce
      .number({ message: 'must be a number of hours' })
      .positive('must be more than 0')
      .default(24),
    /** Non-public addresses sources' webhooks may point at: false, true, or addresses, CIDR ranges and host names. */
    WEBHOOK_ALLOW_PRIVATE: parsedList('false', parsePrivateAddressPolicy),
    ADMIN_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
    API_RATE_LIMIT_PER_MINUTE: z.coerce
      .number({ message: 'must be a number of requests per minute' })
      .int()
      .min(1)
      .default(600),
    API_MAX_FILE_BYTES: z.coerce
      .number({ message: 'must be a size in bytes' })
      .int()
      .min(1)
      .max(50 * 1024 * 1024, 'must be at most 52428800 (Telegram takes uploads up to 50 MB)')
      .default(20 * 1024 * 1024),
    API_MAX_FILES: z.coerce.number().int().min(1).max(10, 'must be at most 10').default(10),
    // Requests in progress at once, per token and in all (per instance): uploads (multipart
    // requests, their files spooled to disk and sent on to Telegram) and long polls.
    API_MAX_UPLOADS_PER_TOKEN: z.coerce
      .number({ message: 'must be a number of requests' })
      .int()
      .min(1, 'must be at least 1')
      .default(4),
    API_MAX_UPLOADS: z.coerce
      .number({ message: 'must be a number of requests' })
      .int()
      .min(1, 'must be at least 1')
      .default(8),
    API_MAX_LONG_POLLS_PER_TOKEN: z.coerce
      .number({ message: 'must be a number of requests' })
      .int()
      .min(1, 'must be at least 1')
      .default(4),
    API_MAX_LONG_POLLS: z.coerce
      .number({ message: 'must be a number of requests' })
      .int()
      .min(1, 'must be at least 1')
      .default(100),
    API_WRITE_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
    /** The topic's language, and a client's whose own language is not shipped (docs/design.md, "Texts and languages"). */
    LOCALE: z
      .enum(['en', 'ru'], { message: 'must be en or ru (the languages topicdesk ships)' })
      .default('en'),
    /** A welcome text on a conversation's first message and on Telegram's /start; off by default. */
    WELCOME: z.enum(['on', 'off'], { message: 'must be on or off' }).default('off'),
    /** After a closing, ask the client to rate the conversation 1–5 (docs/design.md, "Satisfaction (CSAT)"). */
    CSAT: z.enum(['on', 'off'], { message: 'must be on or off' }).default('off'),
    /** How long after rating the client's next message is taken as the rating's comment; 0: no comments. */
    CSAT_COMMENT_MINUTES: z.coerce
      .number({ message: 'must be a number of minutes' })
      .int()
      .min(0, 'must be at least 0')
      .max(1440, 'must be at most 1440')
      .default(10),
    /** How old the settings (texts, working hours) an instance holds may be before it looks for changes. */
    SETTINGS_REFRESH_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int()
      .min(0, 'must be at least 0')
      .max(60_000, 'must be at most 60000')
      .default(2000),
    /** A reminder in the topic once a client has waited this long (docs/design.md, "Reminders and the daily digest"); unset: none. */
    REMIND_AFTER_MINUTES: optional(
      z.coerce
        .number({ message: 'must be a number of minutes' })
        .int('must be a whole number of minutes')
        .min(1, 'must be at least 1')
        .max(10_080, 'must be at most 10080 (a week)'),
    ),
    /** The wait between one reminder and the next; unset: REMIND_AFTER_MINUTES. */
    REMIND_REPEAT_MINUTES: optional(
      z.coerce
        .number({ message: 'must be a number of minutes' })
        .int('must be a whole number of minutes')
        .min(1, 'must be at least 1')
        .max(10_080, 'must be at most 10080 (a week)'),
    ),
    /** Reminders of one wait at most. */
    REMIND_MAX: z.coerce
      .number({ message: 'must be a number of reminders' })
      .int()
      .min(1, 'must be at least 1')
      .max(100, 'must be at most 100')
      .default(3),
    /** The hour (0–23, DIGEST_TIME_ZONE) the daily digest is posted in General at; unset: no digest. */
    DIGEST_HOUR: optional(
      z.coerce.number({ message: 'must be an hour, 0–23' }).int('must be an hour, 0–23').min(0).max(23),
    ),
    DIGEST_TIME_ZONE: z
      .string()
      .default('UTC')
      .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone, e.g. Europe/Berlin or UTC'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((c, ctx) => {
    if (c.DATABASE_OWNER_URL && !c.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_OWNER_URL'],
        message:
          'is set without DATABASE_URL: set DATABASE_URL to the role the service connects as (the embedded server sets both up itself)',
      });
    }
    if (c.EVENT_STORE === 'esdb' && !c.EVENTSTORE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['EVENTSTORE_URL'],
        message: 'is required when EVENT_STORE=esdb',
      });
    }
    for (const issue of esdbSettingsIssues(c)) ctx.addIssue({ code: 'custom', ...issue });
    if (c.TELEGRAM_BOT_TOKEN && !c.TELEGRAM_SUPPORT_CHAT_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['TELEGRAM_SUPPORT_CHAT_ID'],
        message: 'is required with TELEGRAM_BOT_TOKEN (the forum supergroup managers answer in)',
      });
    }
    if (c.TELEGRAM_BOT_TOKEN && c.TELEGRAM_MODE === 'webhook' && !c.TELEGRAM_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['TELEGRAM_WEBHOOK_SECRET'],
        message: 'is required when TELEGRAM_MODE=webhook (or set TELEGRAM_MODE=polling)',
      });
    }
    if (c.REMIND_REPEAT_MINUTES !== undefined && c.REMIND_AFTER_MINUTES === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['REMIND_REPEAT_MINUTES'],
        message: 'is set without REMIND_AFTER_MINUTES (reminders are off without it)',
      });
    }
    if (c.VK_TOKEN && !c.VK_GROUP_ID) {
      ctx.addIssue({ code: 'custom', path: ['VK_GROUP_ID'], message: 'is required with VK_TOKEN' });
    }
    if (c.VK_TOKEN && !c.TELEGRAM_BOT_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['TELEGRAM_BOT_TOKEN'],
        message: 'is required with VK_TOKEN (managers answer VK clients in the Telegram support group)',
      });
    }
    if (c.VK_TOKEN && c.VK_MODE === 'callback') {
      for (const name of ['VK_CONFIRMATION', 'VK_SECRET'] as const) {
        if (!c[name]) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'is required when VK_MODE=callback' });
        }
      }
    }
  });

export type Config = z.infer<typeof schema>;
export const configVariables = Object.keys(schema.shape) as readonly (keyof Config)[];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
}

export const loadConfig = (raw: NodeJS.ProcessEnv = process.env): Config => {
  const { env, from, conflict } = withLegacyAliases(raw);
  if (conflict)
    throw new ConfigError(
      `${conflict.old} and ${conflict.current} are both set, to different values: keep ${conflict.current} (${conflict.old} is tg-support-bot's name for it)`,
    );
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? 'configuration');
  const value = env[name];
  const shown = value === undefined || value === '' ? 'it is not set' : `got ${shownValue(name, value)}`;
  const named = from[name] ? `${name} (set as ${from[name]})` : name;
  throw new ConfigError(`${named} ${issue.message.replace(/^Invalid input: /, '')} (${shown})`);
};

/** One line per tg-support-bot variable name in use, for the start-up log. */
export const legacyEnvNotices = (raw: NodeJS.ProcessEnv = process.env): readonly string[] =>
  withLegacyAliases(raw).notices;

export interface ChannelStatus {
  readonly channel: 'telegram' | 'vk' | 'admin';
  readonly configured: boolean;
  readonly hint: string;
}

/** One line per channel that is not configured, printed at start-up. */
export const channelStatus = (c: Config): ChannelStatus[] => [
  {
    channel: 'telegram',
    configured: Boolean(c.TELEGRAM_BOT_TOKEN),
    hint: 'set TELEGRAM_BOT_TOKEN and TELEGRAM_SUPPORT_CHAT_ID to carry Telegram chats into forum topics',
  },
  {
    channel: 'vk',
    configured: Boolean(c.VK_TOKEN),
    hint: 'set VK_TOKEN, VK_GROUP_ID, VK_CONFIRMATION and VK_SECRET to carry VK community messages',
  },
  {
    channel: 'admin',
    configured: Boolean(c.ADMIN_TOKEN),
    hint: 'set ADMIN_TOKEN to use the admin API',
  },
];
