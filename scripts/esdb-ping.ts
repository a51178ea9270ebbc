// `npm run esdb:ping`: waits until the EventStoreDB / KurrentDB node in EVENTSTORE_URL serves reads
// (up to EVENTSTORE_START_TIMEOUT_MS), as the app's own start-up does; exits 1 if it never does.
// CI runs it before the tests that need the node: its HTTP health check passes before it serves.
import { createLogger } from '../src/adapters/logging/logger.ts';
import { createRedactor } from '../src/adapters/logging/redact.ts';
import { ConfigError, loadConfig } from '../src/app/config.ts';
import { configuredSecrets } from '../src/app/config-secrets.ts';
import { openEsdbEventLog } from '../src/app/context.ts';

try {
  const config = loadConfig({ ...process.env, EVENT_STORE: 'esdb' });
  const logger = createLogger({
    level: process.env.LOG_LEVEL ?? 'info',
    base: null,
    destination: 2,
    secrets: configuredSecrets(config),
  });
  const log = await openEsdbEventLog(config, logger);
  await log.close();
} catch (error) {
  const redact = createRedactor(configuredSecrets(process.env));
  const message = redact(error instanceof Error ? error.message : String(error));
  console.error(`esdb:ping: ${error instanceof ConfigError ? 'configuration error: ' : ''}${message}`);
  process.exitCode = 1;
}
