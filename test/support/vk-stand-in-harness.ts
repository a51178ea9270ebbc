// The whole app as `npm start` runs it, on a fresh database, wired to the Telegram stand-in (the
// support group, the file store) and the VK stand-in (VK_API_BASE_URL). Callback API events are
// POSTed to /webhooks/vk; with VK_MODE=longpoll the app polls the stand-in instead.
//
// POST /webhooks/vk comes from openapi/openapi.yaml (operationId vkWebhook). While the document does
// not declare it yet, the harness serves the app's own vkWebhook handler on a plain Fastify route
// beside the app, so the tests exercise the same handler either way.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { specificationPath } from '../../src/adapters/http/server.ts';
import { type App, startApp } from '../../src/app/app.ts';
import { loadConfig } from '../../src/app/config.ts';
import { telegramStandInEnv, underOldNames } from './app-env.ts';
import { WEBHOOK_SECRET } from './app-harness.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startTelegramStandIn, type TelegramStandIn } from './telegram-stand-in.ts';
import { testLogger } from './test-logger.ts';
import {
  startVkStandIn,
  type VkCallbackEvent,
  type VkStandIn,
  type VkStandInOptions,
} from './vk-stand-in.ts';
import { waitFor } from './wait.ts';

export interface VkHarness {
  readonly app: App;
  readonly tg: TelegramStandIn;
  readonly vk: VkStandIn;
  readonly db: TestDatabase;
  /** Every log line the app wrote, as written (with `captureLogs`; empty otherwise). */
  readonly logLines: readonly string[];
  /** Where VK's Callback API requests go. */
  readonly callbackUrl: string;
  /** POSTs an event to the Callback API endpoint as VK would; `secret` overrides the event's. */
  postEvent(
    event: VkCallbackEvent,
    opts?: { secret?: string | null },
  ): Promise<{ status: number; body: string; type: string | null }>;
  /** POSTs a Telegram update (a manager in the topic) to /webhooks/telegram. */
  postUpdate(update: unknown): Promise<Response>;
  /** Stops the app and starts it again; `whileStopped` runs in between. */
  restart(whileStopped?: () => void | Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface VkHarnessOptions {
  readonly mode?: 'callback' | 'longpoll';
  readonly env?: Record<string, string>;
  readonly vk?: VkStandInOptions;
  /** Keep the app's log lines, at this level, in `logLines` instead of writing them to stdout. */
  readonly captureLogs?: string;
  /** The channels configured under tg-support-bot's variable names (TELEGRAM_TOKEN, VK_SECRET_CODE, …). */
  readonly tgSupportBotNames?: boolean;
  /** Where VK's Callback API requests go, when not /webhooks/vk (tg-support-bot's /api/vk/bot). */
  readonly callbackPath?: string;
}

const specDeclaresVkWebhook = () =>
  /operationId:\s*vkWebhook\b/.test(readFileSync(specificationPath, 'utf8'));

export const startVkHarness = async (options: VkHarnessOptions = {}): Promise<VkHarness> => {
  const mode = options.mode ?? 'callback';
  const db = await createTestDatabase({ migrate: false });
  const tg = await startTelegramStandIn();
  const vk = await startVkStandIn({ longPollEchoes: mode === 'longpoll', ...options.vk });
  const logs = testLogger(options.captureLogs);
  const channels = {
    ...telegramStandInEnv(tg, WEBHOOK_SECRET),
    VK_TOKEN: vk.token,
    VK_GROUP_ID: String(vk.groupId),
    VK_CONFIRMATION: vk.confirmation,
    VK_SECRET: vk.secret,
    VK_API_BASE_URL: vk.apiBaseUrl,
    VK_MODE: mode,
    // The stand-in serves the files VK would put on its CDN: its address is the allowed file host.
    VK_FILE_HOSTS: new URL(vk.baseUrl).host,
    // A failed send is tried again after 0.1 s, 0.2 s, … instead of 1 s, 2 s, …: the same steps, sooner.
    VK_RETRY_INITIAL_MS: '100',
  };
  const config = () =>
    loadConfig({
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      ...(options.tgSupportBotNames ? underOldNames(channels) : channels),
      LOG_LEVEL: logs.level,
      ...options.env,
    });
  const logger = () => logs.loggerFor(config());
  let app = await startApp(config(), logger());
  // VK answers a first check from "now" on: a test's update must come after the app's first check.
  const polling = async () => {
    if (mode !== 'longpoll') return;
    const before = vk.longPollChecks;
    await waitFor('the app polling VK', () => vk.longPollChecks > before || undefined);
  };
  await polling();

  let side: FastifyInstance | undefined;
  let callbackUrl: string;
  if (specDeclaresVkWebhook()) {
    callbackUrl = '';
  } else {
    side = Fastify();
    side.post('/webhooks/vk', (request, reply) => {
      const route = app.handlers.vkWebhook!;
      return (typeof route === 'function' ? route : route.handler)(request, reply);
    });
    await side.listen({ port: 0, host: '127.0.0.1' });
    const addr = side.server.address();
    callbackUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/webhooks/vk`;
  }
  const urlOfCallback = () => callbackUrl || `${app.address()}${options.callbackPath ?? '/webhooks/vk'}`;

  return {
    get app() {
      return app;
    },
    tg,
    vk,
    db,
    logLines: logs.lines,
    get callbackUrl() {
      return urlOfCallback();
    },
    async postEvent(event, opts = {}) {
      const body: Record<string, unknown> = { ...vk.body(event) };
      if (opts.secret === null) delete body.secret;
      else if (opts.secret !== undefined) body.secret = opts.secret;
      const res = await fetch(urlOfCallback(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'VKCallbackAPI' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
    },
    postUpdate(update) {
      return fetch(`${app.address()}/webhooks/telegram`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
        body: JSON.stringify(update),
      });
    },
    async restart(whileStopped) {
      await app.stop();
      await whileStopped?.();
      app = await startApp(config(), logger());
      await polling();
    },
    async stop() {
      await side?.close();
      await app.stop();
      await vk.close();
      await tg.close();
      await db.drop();
    },
  };
};
