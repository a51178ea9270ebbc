// telegram:set-webhook [--drop-pending], telegram:delete-webhook [--drop-pending] and
// telegram:check (docs/design.md, "The command line"). They need the configuration and the Bot API
// only, never the database: an operator can run them before the service was ever started.
//
// Webhook address rule: PUBLIC_URL must be https:// and on a port Telegram delivers to (443, 80, 88,
// 8443), as Telegram itself requires. http:// and any port are accepted only when TELEGRAM_API_ROOT is
// a loopback address: a local Bot API server (`telegram-bot-api --local` allows http webhooks on any
// port) or the tests' stand-in. Against api.telegram.org a wrong address fails here, with one line,
// instead of in Telegram's answer.
import { Api, HttpError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { createRedactor } from '../../adapters/logging/redact.ts';
import { telegramFailure } from '../../adapters/telegram/errors.ts';
import { ALLOWED_UPDATES } from '../../adapters/telegram/update-schema.ts';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { configuredSecrets } from '../config-secrets.ts';

export const WEBHOOK_PATH = '/webhooks/telegram';
const WEBHOOK_PORTS = ['443', '80', '88', '8443'];

export interface TelegramCommandDeps {
  readonly config?: Config;
  readonly print?: (line: string) => void;
}

const resolve = (deps: TelegramCommandDeps) => ({
  config: deps.config ?? loadConfig(),
  print: deps.print ?? ((line: string) => console.log(line)),
});

/** The webhook address for a PUBLIC_URL: `https://host[/prefix]/webhooks/telegram`. */
export const webhookUrlOf = (publicUrl: string): string => `${publicUrl.replace(/\/+$/, '')}${WEBHOOK_PATH}`;

const isLoopback = (url: string): boolean => {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
};

/** The address set-webhook registers, or a ConfigError naming what is wrong with PUBLIC_URL. */
export const webhookTarget = (config: Config): string => {
  if (!config.PUBLIC_URL) {
    throw new ConfigError(
      'PUBLIC_URL is not set: telegram:set-webhook needs the https address Telegram reaches this service at, e.g. PUBLIC_URL=https://support.example.com (or run with TELEGRAM_MODE=polling)',
    );
  }
  const url = new URL(config.PUBLIC_URL);
  if (!isLoopback(config.TELEGRAM_API_ROOT)) {
    if (url.protocol !== 'https:') {
      throw new ConfigError(
        `PUBLIC_URL must be an https:// address: Telegram delivers webhooks over HTTPS only (got "${config.PUBLIC_URL}")`,
      );
    }
    const port = url.port || '443';
    if (!WEBHOOK_PORTS.includes(port)) {
      throw new ConfigError(
        `PUBLIC_URL must use port 443, 80, 88 or 8443, the ports Telegram delivers webhooks to (got ${port}); put a reverse proxy in front of PORT`,
      );
    }
  } else if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`PUBLIC_URL must be an http(s):// address (got "${config.PUBLIC_URL}")`);
  }
  return webhookUrlOf(config.PUBLIC_URL);
};

/** A grammY Api for the configured bot, without the app's limiter (these calls are not paced). */
export const telegramApi = (config: Config): Api => {
  if (!config.TELEGRAM_BOT_TOKEN) {
    throw new ConfigError('TELEGRAM_BOT_TOKEN is not set: put the token @BotFather gave you in it');
  }
  return new Api(config.TELEGRAM_BOT_TOKEN, { apiRoot: config.TELEGRAM_API_ROOT, timeoutSeconds: 30 });
};

/**
 * One line for a failed Bot API call: Telegram's own description, or why it could not be reached
 * (the fetch error's message, which quotes the Bot API URL and with it the token: redacted).
 */
const reason = (error: unknown, config: Config): string => {
  const failure = telegramFailure(error);
  if (failure?.code !== undefined) return `${failure.code} ${failure.reason}`;
  const redact = createRedactor(configuredSecrets(config));
  if (error instanceof HttpError) {
    const inner = error.error instanceof Error ? error.error.message : String(error.error);
    return redact(`cannot reach the Bot API at ${config.TELEGRAM_API_ROOT}: ${inner}`);
  }
  return redact(error instanceof Error ? error.message : String(error));
};

const describeDrop = (drop: boolean, pending: number) =>
  drop ? 'dropped' : `kept (${pending} waiting for delivery)`;

export const setWebhookCommand = async (
  options: { dropPending?: boolean },
  deps: TelegramCommandDeps = {},
): Promise<void> => {
  const { config, print } = resolve(deps);
  const url = webhookTarget(config);
  if (!config.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError(
      'TELEGRAM_WEBHOOK_SECRET is not set: the webhook needs a secret token (1-256 characters of A-Z, a-z, 0-9, _ and -)',
    );
  }
  const api = telegramApi(config);
  const drop = Boolean(options.dropPending);
  try {
    await api.setWebhook(url, {
      secret_token: config.TELEGRAM_WEBHOOK_SECRET,
      allowed_updates: [...ALLOWED_UPDATES],
      drop_pending_updates: drop,
    });
  } catch (error) {
    throw new Error(`Telegram did not set the webhook: ${reason(error, config)}`);
  }
  const info = await api.getWebhookInfo().catch(() => undefined);
  print(`✔ webhook set: ${url}`);
  print(
    `  secret token:    from TELEGRAM_WEBHOOK_SECRET (${config.TELEGRAM_WEBHOOK_SECRET.length} characters), sent as X-Telegram-Bot-Api-Secret-Token`,
  );
  print(`  allowed updates: ${ALLOWED_UPDATES.join(', ')}`);
  print(`  pending updates: ${describeDrop(drop, info?.pending_update_count ?? 0)}`);
  if (config.TELEGRAM_MODE === 'polling') {
    print(
      '⚠ TELEGRAM_MODE=polling: the service deletes this webhook when it starts; set TELEGRAM_MODE=webhook to use it',
    );
  }
};

export const deleteWebhookCommand = async (
  options: { dropPending?: boolean },
  deps: TelegramCommandDeps = {},
): Promise<void> => {
  const { config, print } = resolve(deps);
  const api = telegramApi(config);
  const before = await api.getWebhookInfo().catch(() => undefined);
  const drop = Boolean(options.dropPending);
  try {
    await api.deleteWebhook({ drop_pending_updates: drop });
  } catch (error) {
    throw new Error(`Telegram did not delete the webhook: ${reason(error, config)}`);
  }
  print(before?.url ? `✔ webhook deleted (was ${before.url})` : '✔ no webhook is set (nothing to delete)');
  print(`  pending updates: ${describeDrop(drop, before?.pending_update_count ?? 0)}`);
  if (config.TELEGRAM_MODE === 'webhook') {
    print(
      '⚠ TELEGRAM_MODE=webhook: no updates reach the service until a webhook is set again (telegram:set-webhook), or run with TELEGRAM_MODE=polling',
    );
  }
};

type Mark = 'pass' | 'fail' | 'warn';
const symbol: Record<Mark, string> = { pass: '✔', fail: '✖', warn: '⚠' };

/**
 * Checks the bot and the group the way the service needs them and prints one line per check.
 * Returns the exit code: 1 when a required check failed (a warning does not fail).
 */
export const checkCommand = async (deps: TelegramCommandDeps = {}): Promise<number> => {
  const { config, print } = resolve(deps);
  let failed = 0;
  const line = (mark: Mark, text: string) => {
    if (mark === 'fail') failed++;
    print(`${symbol[mark]} ${text}`);
  };
  const finish = () => {
    print(
      failed === 0
        ? 'all required checks passed'
        : `${failed} required check${failed === 1 ? '' : 's'} failed`,
    );
    return failed === 0 ? 0 : 1;
  };

  if (!config.TELEGRAM_BOT_TOKEN) {
    line('fail', 'bot token: TELEGRAM_BOT_TOKEN is not set; put the token @BotFather gave you in it');
    return finish();
  }
  const api = telegramApi(config);
  const chatId = config.TELEGRAM_SUPPORT_CHAT_ID!; // loadConfig requires it with the token

  // 1. The token.
  let me: UserFromGetMe;
  try {
    me = await api.getMe();
    line('pass', `bot token: valid, the bot is @${me.username} (id ${me.id})`);
  } catch (error) {
    const unauthorized = telegramFailure(error)?.kind === 'unauthorized';
    line(
      'fail',
      unauthorized
        ? 'bot token: Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized); copy it again from @BotFather (/token)'
        : `bot token: not checked, ${reason(error, config)}`,
    );
    return finish();
  }

  // 2. The group is a forum.
  try {
    const chat = await api.getChat(chatId);
    const name = 'title' in chat && chat.title ? `"${chat.title}" (${chatId})` : chatId;
    if (chat.type !== 'supergroup') {
      line(
        'fail',
        `support group: ${name} is a ${chat.type}, not a forum supergroup; enable Topics in the group's settings (this makes it a supergroup with a new -100… id)`,
      );
    } else if (!chat.is_forum) {
      line(
        'fail',
        `support group: ${name} is not a forum; enable Topics in the group's settings (Edit → Topics)`,
      );
    } else line('pass', `support group: ${name} is a forum (Topics on)`);
  } catch (error) {
    line(
      'fail',
      `support group: ${chatId} not readable (${reason(error, config)}); add the bot to the group and check TELEGRAM_SUPPORT_CHAT_ID`,
    );
  }

  // 3. The bot's rights in the group.
  let admin: boolean | undefined;
  try {
    const member = await api.getChatMember(chatId, me.id);
    if (member.status === 'administrator') {
      admin = true;
      if (member.can_manage_topics) line('pass', 'bot rights: administrator with Manage topics');
      else {
        line(
          'fail',
          'bot rights: administrator without Manage topics; the bot cannot open, close or reopen topics (group → Administrators → the bot → Manage topics)',
        );
      }
      if (!member.can_delete_messages) {
        line(
          'warn',
          'bot rights: no Delete messages; recommended so the bot can remove messages in the group (group → Administrators → the bot → Delete messages)',
        );
      }
    } else if (member.status === 'creator') {
      admin = true;
      line('pass', 'bot rights: owner of the group');
    } else {
      admin = false;
      line(
        'fail',
        `bot rights: the bot is not an administrator (status: ${member.status}); promote it with Manage topics and Delete messages`,
      );
    }
  } catch (error) {
    line('fail', `bot rights: not readable (${reason(error, config)})`);
  }

  // 4. Privacy mode: with it on, a bot sees only commands and replies to it in groups, unless it is an
  // administrator (administrators receive every message).
  if (me.can_read_all_group_messages) {
    line('pass', 'privacy mode: off, the bot receives every message in the group');
  } else if (admin) {
    line(
      'pass',
      'privacy mode: on, which is fine: as an administrator the bot still receives every message in the group',
    );
  } else if (admin === undefined) {
    line(
      'warn',
      'privacy mode: on; fine once the bot is an administrator (administrators receive every message), which could not be checked',
    );
  } else {
    line(
      'fail',
      'privacy mode: on and the bot is not an administrator, so it only sees commands and replies to it in the group; make it an administrator (or /setprivacy → Disable in @BotFather, then re-add it)',
    );
  }

  // 5. Where updates go.
  try {
    const info = await api.getWebhookInfo();
    const pending = `${info.pending_update_count} pending update${info.pending_update_count === 1 ? '' : 's'}`;
    if (config.TELEGRAM_MODE === 'polling') {
      if (info.url) {
        line(
          'warn',
          `webhook: set to ${info.url}, but TELEGRAM_MODE=polling; the service deletes it when it starts (${pending})`,
        );
      } else line('pass', `webhook: none, as TELEGRAM_MODE=polling wants (${pending})`);
    } else {
      const expected = config.PUBLIC_URL ? webhookUrlOf(config.PUBLIC_URL) : undefined;
      if (!info.url) {
        line('warn', `webhook: not set yet; run \`npx topicdesk telegram:set-webhook\` (${pending})`);
      } else if (!expected) {
        line('warn', `webhook: set to ${info.url}, but PUBLIC_URL is not set to compare (${pending})`);
      } else if (info.url !== expected) {
        line(
          'fail',
          `webhook: set to ${info.url}, not ${expected} (PUBLIC_URL); run \`npx topicdesk telegram:set-webhook\` (${pending})`,
        );
      } else line('pass', `webhook: ${info.url} (${pending})`);
      if (info.last_error_message) {
        const when = info.last_error_date
          ? new Date(info.last_error_date * 1000).toISOString()
          : 'unknown time';
        line('warn', `webhook: Telegram's last delivery error, at ${when}: ${info.last_error_message}`);
      }
    }
  } catch (error) {
    line('fail', `webhook: not readable (${reason(error, config)})`);
  }

  return finish();
};
