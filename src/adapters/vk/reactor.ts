// The VK reactor: carries managers' answers, their edits and deletions to VK clients and records the
// outcomes (ReplyDelivered / DeliveryFailed), and tells clients what the desk tells them (banned,
// closed, the rating prompt). The deliveries are in deliveries.ts, the notices in notices.ts.
//
// Transient failures (VK error 6, 9, 10, the network, upload servers) are recorded as non-permanent
// DeliveryFailed and retried with exponential backoff, in order within the conversation; a client
// the community may not write to (901 and its kin) is a permanent failure, reported in the topic once.
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { API, Upload } from 'vk-io';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationMessage } from '../../domain/conversation-core.ts';
import type { ConversationEventType } from '../../domain/events.ts';
import { waitingFrom, waitingIdsFrom } from '../../domain/sender-order.ts';
import type { Reactor } from '../../projections/reactor-runner.ts';
import { shippedTexts, type Texts } from '../../texts/texts.ts';
import { CSAT_OFF, type CsatOptions } from '../csat.ts';
import { reactWithTurns, type Turn } from '../reactor-kernel.ts';
import { deleteAnswer, editAnswer, finished, sendAnswer } from './deliveries.ts';
import type { FileStore } from './files.ts';
import { banNotice, closeNotice, ratingPrompt, tellClient } from './notices.ts';
import type { VkReactorContext, VkRetryInfo, VkRetryOptions } from './reactor-context.ts';
import { createVkUploads } from './uploads.ts';

export interface VkReactorOptions {
  readonly api: API;
  readonly upload: Upload;
  readonly handler: CommandHandler;
  readonly files: FileStore;
  /** The Telegram Bot API, for notices in the conversation's topic. */
  readonly telegram: Api;
  readonly supportChatId: string;
  readonly logger: Logger;
  readonly concurrency?: number;
  readonly retry?: VkRetryOptions;
  /** Told of each failed attempt that will be tried again, before the wait (metrics). */
  readonly onRetry?: (info: VkRetryInfo) => void;
  /**
   * How long after an answer was recorded the reactor waits for answers the manager wrote before it
   * (recorded later) before sending them all in the order they were written. Default 1000 ms.
   */
  readonly orderWaitMs?: number;
  /** The texts as operators set them (client's language, LOCALE in the topic); shipped English by default. */
  readonly texts?: Texts;
  /** Satisfaction (CSAT=on): a VK client is asked to rate after a closing. Default off. */
  readonly csat?: CsatOptions;
}

/** Events the VK reactor acts on; every other event is skipped without reading its stream. */
const RELEVANT = new Set<ConversationEventType>([
  'ManagerReplied',
  'ManagerReplyEdited',
  'ManagerReplyDeleted',
  'ClientMessageReceived',
  'ConversationClosed',
  'RatingCommented',
]);

/** What each relevant event asks of the VK client's side. */
const step = async (ctx: VkReactorContext, turn: Turn): Promise<void> => {
  const { event } = turn;
  switch (event.type) {
    case 'ManagerReplied': {
      const m = turn.state.messages.get(event.data.messageId);
      const waiting = (x: ConversationMessage) => !x.deleted && !finished(x.deliveries.send);
      if (m?.direction !== 'outgoing' || !waiting(m)) return;
      // This answer and the ones the manager wrote around it, in the order they were written.
      await turn.settle(ctx.orderWaitMs);
      await turn.need(waitingIdsFrom(turn.state, m));
      for (const x of waitingFrom(turn.state, m, waiting)) await sendAnswer(ctx, turn, x.messageId);
      return;
    }
    case 'ManagerReplyEdited':
      return editAnswer(ctx, turn, event.data.messageId);
    case 'ManagerReplyDeleted':
      return deleteAnswer(ctx, turn, event.data.messageId);
    case 'ClientMessageReceived':
      // Only a message from a banned client (recorded, not carried) may call for the notice.
      if (!turn.state.messages.get(event.data.messageId)?.suppressed) return;
      return banNotice(ctx, turn);
    case 'ConversationClosed':
      if (!turn.state.closed) return;
      await closeNotice(ctx, turn);
      if (ctx.csat.enabled) await ratingPrompt(ctx, turn);
      return;
    case 'RatingCommented':
      await tellClient(
        ctx,
        turn,
        await ctx.texts.client('client.rating.comment_thanks', turn.state.language),
        `notice:rating-comment:${turn.recorded.id}`,
      );
      return;
    default:
      return;
  }
};

export const createVkReactor = (options: VkReactorOptions): Reactor => {
  const { api, upload, handler, files, telegram, supportChatId, logger, concurrency = 16 } = options;
  const ctx: VkReactorContext = {
    api,
    uploads: createVkUploads({ upload, files }),
    telegram,
    supportChatId,
    logger,
    texts: options.texts ?? shippedTexts(),
    retry: {
      baseMs: options.retry?.baseMs ?? 1000,
      maxMs: options.retry?.maxMs ?? 5 * 60_000,
      maxAttempts: options.retry?.maxAttempts ?? 20,
    },
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    orderWaitMs: options.orderWaitMs ?? 1000,
    csat: options.csat ?? CSAT_OFF,
  };
  return {
    name: 'vk',
    handle: reactWithTurns({
      name: 'vk',
      handler,
      reader: handler.reader,
      concurrency,
      relevant: (e) => RELEVANT.has(e.type as ConversationEventType),
      serves: (state) => state.channel === 'vk' && state.clientId !== undefined,
      step: (turn) => step(ctx, turn),
    }),
  };
};
