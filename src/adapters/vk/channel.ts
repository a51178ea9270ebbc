// The VK channel assembled: vk-io's API (pointed at VK_API_BASE_URL, paced by apiLimit) and Upload,
// the inbound translator behind the Callback API handler or the Bots Long Poll loop (long-poll.ts),
// and the reactor.
//
// vk-io's own webhook callback answers `ok` before the update is handled and its long poll moves on
// before the handlers finish; topicdesk needs the opposite, an answer only after the events are
// appended (docs/design.md, "Answered only after it is recorded"), so the handler and the loop are
// ours and vk-io parses, calls and uploads.
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import { VK } from 'vk-io';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { EventLog } from '../../domain/event-log.ts';
import type { Reactor } from '../../projections/reactor-runner.ts';
import type { Texts } from '../../texts/texts.ts';
import type { AutoReplies } from '../auto-replies/auto-replies.ts';
import type { CsatOptions } from '../csat.ts';
import { problem } from '../http/problem.ts';
import type { RouteHandler } from '../http/routes.ts';
import { type DeliveryReport, reportingDeliveries } from '../reactor-outcomes.ts';
import { createTelegramFiles } from '../telegram/file-store.ts';
import { MalformedEventError } from './event-schema.ts';
import { DEFAULT_VK_FILE_HOSTS, type FileHost, parseFileHosts } from './file-hosts.ts';
import { vkFileStore } from './files.ts';
import { createVkInbound, type VkEvent, type VkInbound } from './inbound.ts';
import { type LongPollPosition, runLongPoll } from './long-poll.ts';
import { createVkReactor } from './reactor.ts';
import type { VkRetryInfo, VkRetryOptions } from './reactor-context.ts';

export interface VkChannelOptions {
  readonly token: string;
  /** Conversations the reactor carries at once (REACTOR_CONCURRENCY). Default 16. */
  readonly reactorConcurrency?: number;
  /** How long the reactor lets a burst of messages settle to carry it in the sender's order. */
  readonly orderWaitMs?: number;
  readonly groupId: number;
  readonly confirmation?: string;
  readonly secret?: string;
  readonly apiBaseUrl: string;
  readonly mode: 'callback' | 'longpoll';
  /** VK API requests a second (vk-io's apiLimit). VK allows 20 for a community token. */
  readonly apiLimit?: number;
  readonly handler: CommandHandler;
  readonly log: EventLog;
  /** The Telegram side: the file store and notices in topics. */
  readonly telegram: {
    readonly api: Api;
    readonly token: string;
    readonly apiRoot: string;
    readonly supportChatId: string;
  };
  readonly logger: Logger;
  readonly retry?: VkRetryOptions;
  /** Metrics hooks: each delivery outcome the reactor records, each retry it waits for. */
  readonly onDelivery?: (report: DeliveryReport) => void;
  readonly onRetry?: (info: VkRetryInfo) => void;
  /** Where the long poll has got to, kept across restarts (VK_MODE=longpoll). */
  readonly pollPosition: LongPollPosition;
  /** Wait between long poll retries after a failure. Default 1000 ms. */
  readonly pollRetryMs?: number;
  /** Hosts clients' files are downloaded from (VK_FILE_HOSTS). Default: VK's content hosts. */
  readonly fileHosts?: readonly FileHost[];
  /** The texts as operators set them (client's language, LOCALE in the topic). */
  readonly texts?: Texts;
  /** The welcome and off-hours answers a client's message calls for. */
  readonly autoReplies?: AutoReplies;
  /** Satisfaction (CSAT, CSAT_COMMENT_MINUTES). Default off. */
  readonly csat?: CsatOptions;
}

export interface VkChannel {
  readonly vk: VK;
  readonly inbound: VkInbound;
  readonly reactor: Reactor;
  /** POST /webhooks/vk (operationId vkWebhook). */
  readonly webhook: RouteHandler;
  /** Starts the Bots Long Poll loop when VK_MODE=longpoll. */
  startLongPoll(): void;
  stop(): Promise<void>;
}

const sameSecret = (given: unknown, expected: string) => {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export const createVkChannel = (options: VkChannelOptions): VkChannel => {
  const { logger, groupId } = options;
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true });
  const vk = new VK({
    token: options.token,
    apiBaseUrl: options.apiBaseUrl.replace(/\/+$/, ''),
    // node-fetch takes an agent per URL: VK_API_BASE_URL may be plain http (a local stand-in), while
    // upload servers are whatever VK names.
    agent: ((url: URL) => (url.protocol === 'http:' ? httpAgent : httpsAgent)) as unknown as https.Agent,
    apiLimit: options.apiLimit ?? 20,
    // Failures surface at once; the reactor retries with backoff and records every attempt.
    apiRetryLimit: 0,
    apiTimeout: 30_000,
    uploadTimeout: 120_000,
    pollingGroupId: groupId,
  });
  const files = vkFileStore(
    createTelegramFiles({
      api: options.telegram.api,
      token: options.telegram.token,
      apiRoot: options.telegram.apiRoot,
      supportChatId: options.telegram.supportChatId,
      logger,
    }),
  );
  const inbound = createVkInbound({
    handler: options.handler,
    api: vk.api,
    upload: vk.upload,
    groupId,
    files,
    logger,
    fileHosts: options.fileHosts ?? parseFileHosts(DEFAULT_VK_FILE_HOSTS),
    ...(options.autoReplies ? { autoReplies: options.autoReplies } : {}),
    ...(options.csat ? { csat: options.csat } : {}),
    ...(options.texts ? { texts: options.texts } : {}),
  });
  const reactor = createVkReactor({
    api: vk.api,
    ...(options.reactorConcurrency ? { concurrency: options.reactorConcurrency } : {}),
    ...(options.orderWaitMs !== undefined ? { orderWaitMs: options.orderWaitMs } : {}),
    upload: vk.upload,
    handler: options.onDelivery ? reportingDeliveries(options.handler, options.onDelivery) : options.handler,
    files,
    telegram: options.telegram.api,
    supportChatId: options.telegram.supportChatId,
    logger,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    ...(options.texts ? { texts: options.texts } : {}),
    ...(options.csat ? { csat: options.csat } : {}),
  });

  const abort = new AbortController();
  let polling: Promise<void> | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      abort.signal.addEventListener('abort', done, { once: true });
    });

  /** Records one update, retrying until it is recorded: the poll moves past it only then. */
  const record = async (update: VkEvent) => {
    for (;;) {
      try {
        await inbound.handleEvent(update);
        return true;
      } catch (error) {
        if (abort.signal.aborted) return false;
        if (error instanceof MalformedEventError) {
          // It would be refused every time: skipped, not retried for ever.
          logger.warn({ err: error, eventId: update.event_id }, 'malformed vk update skipped');
          return true;
        }
        logger.warn({ err: error, eventId: update.event_id }, 'vk update not recorded yet; retrying');
        await pause(options.pollRetryMs ?? 1000);
      }
    }
  };

  return {
    vk,
    inbound,
    reactor,
    async webhook(request, reply) {
      if (options.mode !== 'callback' || !options.secret || options.confirmation === undefined) {
        return problem(reply, 404, 'Not Found', 'the VK Callback API is off (VK_MODE=longpoll)');
      }
      const body = request.body as VkEvent | undefined;
      if (!body || typeof body !== 'object' || typeof body.type !== 'string') {
        return problem(reply, 400, 'Bad Request', 'not a VK Callback API event');
      }
      if (!sameSecret(body.secret, options.secret)) {
        return problem(reply, 403, 'Forbidden', 'wrong or missing secret');
      }
      if (Number(body.group_id) !== groupId) {
        return problem(reply, 403, 'Forbidden', `events of community ${body.group_id} are not served here`);
      }
      if (body.type === 'confirmation') {
        return reply.type('text/plain; charset=utf-8').send(options.confirmation);
      }
      try {
        const outcome = await inbound.handleEvent(body);
        request.log.debug({ type: body.type, eventId: body.event_id, outcome }, 'vk event');
        return reply.type('text/plain; charset=utf-8').send('ok');
      } catch (error) {
        if (error instanceof MalformedEventError) return problem(reply, 400, 'Bad Request', error.message);
        // Anything but `ok` makes VK deliver the event again (a few times, minutes apart).
        request.log.error({ err: error, eventId: body.event_id }, 'vk event not recorded');
        return problem(
          reply.header('Retry-After', '5'),
          503,
          'Service Unavailable',
          'the event was not recorded; VK will deliver it again',
        );
      }
    },
    startLongPoll() {
      polling = runLongPoll({
        api: vk.api,
        groupId,
        position: options.pollPosition,
        record,
        signal: abort.signal,
        pause: () => pause(options.pollRetryMs ?? 1000),
        logger,
      });
      logger.info({ groupId }, `vk: bots long poll for community ${groupId}`);
    },
    async stop() {
      abort.abort();
      await polling?.catch(() => undefined);
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
};
