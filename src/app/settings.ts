// The settings every part of the service reads (texts, working hours, saved answers) and the texts built on them,
// opened the same way by `npm start` and the CLI (docs/design.md, "Settings streams").
import type { Logger } from 'pino';
import { hoursKind, textsKind } from '../adapters/settings/kinds.ts';
import { createSettingsStore } from '../adapters/settings/store.ts';
import { createTemplatesStore } from '../adapters/settings/templates.ts';
import type { EventLog } from '../domain/event-log.ts';
import { createTexts } from '../texts/texts.ts';
import type { Config } from './config.ts';

export const openSettings = (
  log: EventLog,
  config: Pick<Config, 'LOCALE' | 'SETTINGS_REFRESH_MS'>,
  logger: Logger,
) => {
  const freshnessMs = config.SETTINGS_REFRESH_MS;
  const textSettings = createSettingsStore({ log, ...textsKind, freshnessMs });
  const hours = createSettingsStore({ log, ...hoursKind, freshnessMs });
  // One store per process: what the admin API changes, `/t` sees at once.
  const templates = createTemplatesStore(log, freshnessMs);
  const texts = createTexts({
    defaultLocale: config.LOCALE,
    overrides: async () => (await textSettings.current()).state.overrides,
    logger: logger.child({ component: 'texts' }),
  });
  return { textSettings, hours, templates, texts };
};

export type Settings = ReturnType<typeof openSettings>;
