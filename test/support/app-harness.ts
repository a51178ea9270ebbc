// The whole app as `npm start` runs it, on a fresh database, wired to the Telegram stand-in. It
// connects as a service role and migrates as an owner role, as the embedded start-up sets them up.
import assert from 'node:assert/strict';
import type { Message } from 'grammy/types';
import { telegramConversationId } from '../../src/adapters/telegram/refs.ts';
import { type App, startApp } from '../../src/app/app.ts';
import { type Config, loadConfig } from '../../src/app/config.ts';
import { telegramStandInEnv, underOldNames } from './app-env.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startTelegramStandIn, type TelegramStandIn } from './telegram-stand-in.ts';
import { type LogCapture, testLogger } from './test-logger.ts';
import { waitFor } from './wait.ts';
import { RECEIVER_ALLOWANCE } from './webhook-receiver.ts';

export const WEBHOOK_SECRET = 'test_secret_token';

/** An event as the log holds it. */
export interface LoggedEvent {
  readonly type: string;
  readonly stream: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

export interface EventFilter {
  /** One type or several. */
  readonly type?: string | readonly string[];
  /** Only this conversation's stream. */
  readonly conversationId?: string;
}

export interface HarnessOptions {
  /** Keep the app's log lines, at this level, in `logLines` instead of writing them to stdout. */
  readonly captureLogs?: string;
  /** The Telegram channel configured under tg-support-bot's variable names (TELEGRAM_TOKEN, …). */
  readonly tgSupportBotNames?: boolean;
  /** The clock reminders and the digest judge time by (a test moves it). */
  readonly now?: () => Date;
}

export interface Harness {
  readonly app: App;
  /** Every log line the app wrote, as written (with `captureLogs`; empty otherwise). */
  readonly logLines: readonly string[];
  readonly tg: TelegramStandIn;
  readonly db: TestDatabase;
  readonly url: string;
  /** POSTs an update to /webhooks/telegram as Telegram would. */
  postUpdate(update: unknown, secret?: string | null): Promise<Response>;
  /** POSTs an update, expects 200 and returns the outcome the app answered (recorded, duplicate, ignored). */
  send(update: unknown): Promise<string>;
  /** Events in the log in the order they were appended, optionally of some types / one conversation. */
  events(filter?: EventFilter): Promise<LoggedEvent[]>;
  /** The Telegram user's conversation id. */
  conversationOf(userId: number): string;
  /** The forum topic the user's conversation uses now (waits until one is open). */
  topicOf(userId: number): Promise<number>;
  /** The topic copy of the client's message (waits until the log records it forwarded). */
  topicCopyOf(userId: number, clientMessageId: number): Promise<Message>;
  /** The client's copy of a manager's message in the topic (waits until the log records it delivered). */
  clientCopyOf(userId: number, groupMessageId: number): Promise<Message>;
  /** The app's configuration with `extra` on top: for a second instance on the same database. */
  config(extra?: Record<string, string>): Config;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const startHarness = async (
  env: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<Harness> => {
  const db = await createTestDatabase({ migrate: false, roles: true });
  const tg = await startTelegramStandIn();
  const logs: LogCapture = testLogger(options.captureLogs);
  const config = (extra: Record<string, string> = {}) =>
    loadConfig({
      DATABASE_URL: db.roles!.serviceUrl,
      DATABASE_OWNER_URL: db.roles!.ownerUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      ...(options.tgSupportBotNames
        ? underOldNames(telegramStandInEnv(tg, WEBHOOK_SECRET))
        : telegramStandInEnv(tg, WEBHOOK_SECRET)),
      WEBHOOK_ALLOW_PRIVATE: RECEIVER_ALLOWANCE,
      LOG_LEVEL: logs.level,
      ...env,
      ...extra,
    });
  const logger = () => logs.loggerFor(config());
  const overrides = options.now ? { now: options.now } : {};
  let app = await startApp(config(), logger(), overrides);

  const events = async (filter: EventFilter = {}): Promise<LoggedEvent[]> => {
    const types = filter.type === undefined ? null : ([] as string[]).concat(filter.type);
    const stream = filter.conversationId === undefined ? null : `conversation-${filter.conversationId}`;
    const { rows } = await db.pool.query<LoggedEvent>(
      `SELECT type, stream, data, metadata FROM td_events
        WHERE ($1::text[] IS NULL OR type = ANY($1)) AND ($2::text IS NULL OR stream = $2)
        ORDER BY transaction_id, position`,
      [types, stream],
    );
    return rows;
  };

  const harness: Harness = {
    get app() {
      return app;
    },
    config,
    tg,
    db,
    logLines: logs.lines,
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
    async send(update) {
      const res = await harness.postUpdate(update);
      const body = (await res.json()) as { outcome?: string };
      assert.equal(res.status, 200, `the webhook answered ${res.status}: ${JSON.stringify(body)}`);
      return String(body.outcome);
    },
    events,
    conversationOf: (userId) => telegramConversationId(userId),
    topicOf: (userId) =>
      waitFor(`a topic for user ${userId}`, async () => {
        const log = await events({
          type: ['TopicOpened', 'TopicLost'],
          conversationId: telegramConversationId(userId),
        });
        const last = log.at(-1);
        return last?.type === 'TopicOpened' ? Number(last.data.topicId) : undefined;
      }),
    async topicCopyOf(userId, clientMessageId) {
      const conversationId = telegramConversationId(userId);
      const forwarded = await waitFor(`client message ${clientMessageId} in the topic`, async () => {
        const log = await events({
          type: ['ClientMessageReceived', 'ClientMessageForwarded'],
          conversationId,
        });
        const received = log.find(
          (e) => e.type === 'ClientMessageReceived' && refOf(e.data.channelMessage) === clientMessageId,
        );
        return received
          ? log.findLast(
              (e) => e.type === 'ClientMessageForwarded' && e.data.messageId === received.data.messageId,
            )
          : undefined;
      });
      const copyId = refOf(forwarded.data.groupMessage);
      const copy = tg.message(tg.supportChatId, copyId);
      assert.ok(copy, `the copy ${copyId} is in the support group`);
      return copy;
    },
    async clientCopyOf(userId, groupMessageId) {
      const conversationId = telegramConversationId(userId);
      const delivered = await waitFor(`manager message ${groupMessageId} delivered`, async () => {
        const log = await events({ type: ['ManagerReplied', 'ReplyDelivered'], conversationId });
        const replied = log.find(
          (e) => e.type === 'ManagerReplied' && refOf(e.data.groupMessage) === groupMessageId,
        );
        return replied
          ? log.find(
              (e) =>
                e.type === 'ReplyDelivered' &&
                e.data.messageId === replied.data.messageId &&
                e.data.operation === 'send',
            )
          : undefined;
      });
      const copyId = refOf(delivered.data.channelMessage);
      const copy = tg.message(userId, copyId);
      assert.ok(copy, `the copy ${copyId} is in the client's chat`);
      return copy;
    },
    async restart() {
      await app.stop();
      app = await startApp(config(), logger(), overrides);
    },
    async stop() {
      await app.stop();
      await tg.close();
      await db.drop();
    },
  };
  return harness;
};

const refOf = (ref: unknown): number => Number((ref as { messageId?: string } | undefined)?.messageId);

export { waitFor };
