// Reminders and the daily digest wired from the configuration (docs/design.md, "Reminders and the
// daily digest"): off unless REMIND_AFTER_MINUTES or DIGEST_HOUR is set; posted into the support
// group through the Telegram channel's limiter, after a quiet moment.
import type { GroupPoster } from '../adapters/reminders/reminders.ts';
import { type Reminders, type RemindersOptions, startReminders } from '../adapters/reminders/service.ts';
import type { TelegramChannel } from '../adapters/telegram/channel.ts';
import type { Config } from './config.ts';

export const groupPoster = (
  telegram: Pick<TelegramChannel, 'api' | 'limiter'>,
  chatId: string,
): GroupPoster => ({
  quiet: (signal) => telegram.limiter.whenQuiet(chatId, signal),
  async post(topicId, text, entities) {
    await telegram.api.sendMessage(chatId, text, {
      ...(topicId !== undefined ? { message_thread_id: Number(topicId) } : {}),
      ...(entities?.length ? { entities } : {}),
      link_preview_options: { is_disabled: true },
    });
  },
});

export const startRemindersIfConfigured = (
  config: Pick<
    Config,
    'REMIND_AFTER_MINUTES' | 'REMIND_REPEAT_MINUTES' | 'REMIND_MAX' | 'DIGEST_HOUR' | 'DIGEST_TIME_ZONE'
  >,
  options: Omit<RemindersOptions, 'reminders' | 'digest'>,
): Reminders | undefined => {
  const after = config.REMIND_AFTER_MINUTES;
  if (after === undefined && config.DIGEST_HOUR === undefined) return undefined;
  return startReminders({
    ...options,
    ...(after !== undefined
      ? {
          reminders: {
            afterMs: after * 60_000,
            repeatMs: (config.REMIND_REPEAT_MINUTES ?? after) * 60_000,
            max: config.REMIND_MAX,
          },
        }
      : {}),
    ...(config.DIGEST_HOUR !== undefined
      ? { digest: { hour: config.DIGEST_HOUR, timeZone: config.DIGEST_TIME_ZONE } }
      : {}),
  });
};
