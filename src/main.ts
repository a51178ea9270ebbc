// `npm start`: read the configuration, start everything, stop cleanly on SIGINT/SIGTERM.
import dotenv from 'dotenv';
import { createLogger } from './adapters/logging/logger.ts';
import { createRedactor } from './adapters/logging/redact.ts';
import { startApp } from './app/app.ts';
import { ConfigError, legacyEnvNotices, loadConfig } from './app/config.ts';
import { configuredSecrets } from './app/config-secrets.ts';

dotenv.config({ quiet: true });

const main = async () => {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`topicdesk: configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({
    level: config.LOG_LEVEL,
    base: { service: 'topicdesk' },
    secrets: configuredSecrets(config),
  });
  for (const notice of legacyEnvNotices()) logger.warn(notice);
  const app = await startApp(config, logger);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 20 s, exiting');
      process.exit(1);
    }, 20_000);
    force.unref();
    void app.stop().then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
};

main().catch((error: unknown) => {
  const redact = createRedactor(configuredSecrets(process.env));
  console.error(
    `topicdesk: failed to start: ${redact(error instanceof Error ? error.message : String(error))}`,
  );
  process.exit(1);
});
