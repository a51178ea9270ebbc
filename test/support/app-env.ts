// The app's configuration for a Telegram stand-in: what every whole-app test sets the same way.
import { LEGACY_ALIASES } from '../../src/app/legacy-env.ts';
import type { TelegramStandIn } from './telegram-stand-in.ts';

/** The Telegram channel pointed at the stand-in, its webhook secret, and no outgoing limiter. */
export const telegramStandInEnv = (tg: TelegramStandIn, webhookSecret: string): Record<string, string> => ({
  TELEGRAM_BOT_TOKEN: tg.token,
  TELEGRAM_API_ROOT: tg.apiRoot,
  TELEGRAM_SUPPORT_CHAT_ID: String(tg.supportChatId),
  TELEGRAM_WEBHOOK_SECRET: webhookSecret,
  // The stand-in enforces no flood limits unless a test turns them on; neither need the app's limiter.
  TELEGRAM_LIMIT_PER_CHAT_PER_SECOND: '1000',
  TELEGRAM_LIMIT_GROUP_PER_MINUTE: '100000',
  TELEGRAM_LIMIT_PER_SECOND: '1000',
  // Tests that do not test the sender's order send one message at a time: a short hold keeps them
  // quick (test/e2e/sender-order.e2e.test.ts runs with the default).
  ORDER_WAIT_MS: '100',
});

/** The same settings under tg-support-bot's variable names, where it has one (src/app/legacy-env.ts). */
export const underOldNames = (env: Record<string, string>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const old = Object.entries(LEGACY_ALIASES).find(([, current]) => current === name)?.[0];
    out[old ?? name] = value;
  }
  return out;
};
