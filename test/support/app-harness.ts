// The whole app as `npm start` runs it, on a fresh database, wired to the Telegram stand-in.
import pino from 'pino';
import { type App, startApp } from '../../src/app/app.ts';
import { loadConfig } from '../../src/app/config.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startTelegramStandIn, type TelegramStandIn } from './telegram-stand-in.ts';

export const WEBHOOK_SECRET = 'test_secret_token';

export interface Harness {
  readonly app: App;
  readonly tg: TelegramStandIn;
  readonly db: TestDatabase;
  readonly url: string;
  /** POSTs an update to /webhooks/telegram as Telegram would. */
  postUpdate(update: unknown, secret?: string | null): Promise<Response>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const startHarness = async (env: Record<string, string> = {}): Promise<Harness> => {
  const db = await createTestDatabase({ migrate: false });
  const tg = await startTelegramStandIn();
  const config = () =>
    loadConfig({
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_SUPPORT_CHAT_ID: String(tg.supportChatId),
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      // The stand-in has no rate limit unless a test turns it on; neither need the app's limiter.
      TELEGRAM_LIMIT_PER_CHAT_PER_SECOND: '1000',
      TELEGRAM_LIMIT_GROUP_PER_MINUTE: '100000',
      TELEGRAM_LIMIT_PER_SECOND: '1000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    });
  const logger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let app = await startApp(config(), logger());
  const harness: Harness = {
    get app() {
      return app;
    },
    tg,
    db,
    get url() {
      return app.address();
    },
    postUpdate(update, secret = WEBHOOK_SECRET) {
      return fetch(`${app.address()}/webhooks/telegram`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
        },
        body: JSON.stringify(update),
      });
    },
    async restart() {
      await app.stop();
      app = await startApp(config(), logger());
    },
    async stop() {
      await app.stop();
      await tg.close();
      await db.drop();
    },
  };
  return harness;
};

export const waitFor = async <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
