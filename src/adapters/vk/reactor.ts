// The VK reactor: carries managers' answers, their edits and deletions to VK clients and records the
// outcomes (ReplyDelivered / DeliveryFailed). Each step consults the conversation's state first, so a
// batch replayed after a crash repeats at most the one call whose outcome was not yet recorded — and
// a repeated messages.send carries the same random_id, which VK answers without sending twice.
//
// Transient failures (VK error 6, 9, 10, the network, upload servers) are recorded as non-permanent
// DeliveryFailed and retried with exponential backoff, in order within the conversation; a client
// the community may not write to (901 and its kin) is a permanent failure, reported in the topic once.
import { setTimeout as delay } from 'node:timers/promises';
import type { Api } from 'grammy';
import type { Logger } from 'pino';
import type { API, Upload } from 'vk-io';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationMessage, DeliveryOutcome } from '../../domain/conversation-core.ts';
import type { ConversationEventType, DeliveryOperation } from '../../domain/events.ts';
import { waitingFrom, waitingIdsFrom } from '../../domain/sender-order.ts';
import type { Reactor } from '../../projections/reactor-runner.ts';
import { shippedTexts, type Texts } from '../../texts/texts.ts';
import { CSAT_OFF, type CsatOptions, ratingRequestIdOf } from '../csat.ts';
import { reactWithTurns, type Turn } from '../reactor-kernel.ts';
import { backoffMs, classify, type Failure } from './errors.ts';
import type { FileStore } from './files.ts';
import type { VkAttachment } from './objects.ts';
import { outgoingOf } from './outgoing.ts';
import { ratingKeyboard } from './rating.ts';
import { randomIdOf } from './refs.ts';
import { createVkUploads } from './uploads.ts';

export interface VkRetryOptions {
  /** First wait after a transient failure; doubled each time. Default 1000 ms. */
  readonly baseMs?: number;
  /** Longest wait. Default 5 minutes. */
  readonly maxMs?: number;
  /** Attempts before a transient failure is given up as permanent (and reported). Default 20 (about an hour). */
  readonly maxAttempts?: number;
}

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

export interface VkRetryInfo {
  readonly operation: DeliveryOperation;
  /** VK's error code, when VK answered with one. */
  readonly code?: number;
  readonly waitMs: number;
  readonly attempt: number;
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

const UNREACHABLE_REASON = /^VK error 90[012]\b/;

/** The attempt a failed-but-retryable operation continues from (after a restart, too). */
const attemptsSoFar = (outcome: DeliveryOutcome | undefined): number =>
  outcome?.outcome === 'failed' && !outcome.permanent ? outcome.attempt : 0;

const finished = (outcome: DeliveryOutcome | undefined): boolean =>
  outcome?.outcome === 'delivered' || (outcome?.outcome === 'failed' && outcome.permanent);

export const createVkReactor = (options: VkReactorOptions): Reactor => {
  const { api, upload, handler, files, telegram, supportChatId, logger, concurrency = 16 } = options;
  const baseMs = options.retry?.baseMs ?? 1000;
  const maxMs = options.retry?.maxMs ?? 5 * 60_000;
  const maxAttempts = options.retry?.maxAttempts ?? 20;
  const orderWaitMs = options.orderWaitMs ?? 1000;
  const texts = options.texts ?? shippedTexts();
  const csat = options.csat ?? CSAT_OFF;
  const uploads = createVkUploads({ upload, files });

  // ---- Telegram notices ---------------------------------------------------------------------------

  const notice = async (turn: Turn, text: string, about?: ConversationMessage) => {
    const topic = turn.state.topic;
    if (!topic) return;
    await telegram
      .sendMessage(supportChatId, text, {
        message_thread_id: Number(topic.topicId),
        ...(about?.groupMessage
          ? {
              reply_parameters: {
                message_id: Number(about.groupMessage.messageId),
                allow_sending_without_reply: true,
              },
            }
          : {}),
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not post a VK delivery notice in the topic'));
  };

  // ---- VK calls -----------------------------------------------------------------------------------

  const peerOf = (turn: Turn) => Number(turn.state.clientId);

  /**
   * Runs one delivery operation until it succeeds, fails for good, or has failed `maxAttempts` times;
   * every failed attempt is recorded. Returns the failure that ended it, if any.
   */
  const withRetries = async (
    turn: Turn,
    m: ConversationMessage,
    operation: DeliveryOperation,
    stepKey: string,
    work: () => Promise<void>,
  ): Promise<Failure | undefined> => {
    // Resumed after a restart: the recorded schedule still holds.
    const previous = m.deliveries[operation];
    if (previous?.outcome === 'failed' && previous.nextAttemptAt) {
      const left = Date.parse(previous.nextAttemptAt) - Date.now();
      if (left > 0) await delay(Math.min(left, maxMs), undefined, { signal: turn.signal });
    }
    for (let attempt = attemptsSoFar(previous) + 1; ; attempt++) {
      let failure: Failure;
      try {
        await work();
        return undefined;
      } catch (error) {
        if (turn.signal.aborted) throw error;
        failure = classify(error);
      }
      const retry = failure.kind === 'transient' && attempt < maxAttempts;
      const wait = backoffMs(attempt, baseMs, maxMs);
      await turn.record(
        {
          type: 'RecordDeliveryFailed',
          messageId: m.messageId,
          operation,
          reason:
            retry || failure.kind !== 'transient'
              ? failure.reason
              : `${failure.reason} (gave up after ${attempt} attempts)`,
          permanent: !retry,
          attempt,
          ...(retry ? { nextAttemptAt: new Date(Date.now() + wait).toISOString() } : {}),
        },
        `${stepKey}-failed:${attempt}`,
      );
      if (!retry) {
        logger.warn(
          { conversationId: turn.conversationId, messageId: m.messageId, operation, reason: failure.reason },
          'vk delivery failed',
        );
        return failure;
      }
      options.onRetry?.({
        operation,
        ...(failure.code === undefined ? {} : { code: failure.code }),
        waitMs: wait,
        attempt,
      });
      logger.info(
        {
          conversationId: turn.conversationId,
          messageId: m.messageId,
          operation,
          attempt,
          waitMs: wait,
          reason: failure.reason,
        },
        'vk delivery failed; retrying',
      );
      await delay(wait, undefined, { signal: turn.signal });
    }
  };

  // ---- steps --------------------------------------------------------------------------------------

  const send = async (turn: Turn, messageId: string) => {
    await turn.need([messageId]);
    const m = turn.state.messages.get(messageId);
    if (m?.direction !== 'outgoing' || m.deleted || finished(m.deliveries.send)) return;
    await turn.need([m.replyTo]);
    const peer_id = peerOf(turn);
    // Steps named by the answer: one event may carry several (a burst), each recorded on its own.
    const failure = await withRetries(turn, m, 'send', `send:${messageId}`, async () => {
      // The content as it stands now: an edit recorded before the first delivery goes with it.
      const current = turn.state.messages.get(messageId) ?? m;
      const out = outgoingOf(current.content);
      const attachments: string[] = [];
      for (const file of out.files)
        attachments.push(
          await uploads.attachmentOf({ peerId: peerOf(turn), signal: turn.signal }, messageId, file),
        );
      const replyRef = current.replyTo ? turn.state.messages.get(current.replyTo)?.channelMessage : undefined;
      const text = out.text || (attachments.length > 0 ? '' : '…');
      const id = (await api.messages.send({
        peer_id,
        random_id: randomIdOf(messageId),
        ...(text ? { message: text } : {}),
        ...(attachments.length > 0 ? { attachment: attachments.join(',') } : {}),
        ...(out.location ? { lat: out.location.latitude, long: out.location.longitude } : {}),
        ...(out.keyboard ? { keyboard: out.keyboard } : {}),
        ...(replyRef && /^\d+$/.test(replyRef.messageId) ? { reply_to: Number(replyRef.messageId) } : {}),
      })) as unknown as number;
      await turn.record(
        {
          type: 'RecordDelivered',
          messageId,
          operation: 'send',
          channelMessage: { chatId: String(peer_id), messageId: String(id) },
        },
        `send:${messageId}`,
      );
    });
    uploads.forget(messageId);
    if (!failure) return;
    if (failure.kind === 'unreachable') {
      // Told once: not again while later answers fail the same way, again after one got through.
      const previous = turn.state.sendOutcomes.findLast((o) => o.messageId !== messageId)?.outcome;
      const already = previous?.outcome === 'failed' && UNREACHABLE_REASON.test(previous.reason);
      if (!already) {
        await notice(
          turn,
          failure.code === 901
            ? await texts.topic('topic.vk_not_allowed')
            : await texts.topic('topic.vk_cannot_reach', { reason: failure.reason }),
          m,
        );
      }
      return;
    }
    await notice(turn, await texts.topic('topic.vk_answer_failed', { reason: failure.reason }), m);
  };

  /** The attachment strings a delivered message carries in VK now (messages.edit replaces them). */
  const attachmentsInVk = async (peer_id: number, vkMessageId: number): Promise<string[]> => {
    const result = (await api.messages.getById({ message_ids: [vkMessageId] })) as unknown as {
      items: Array<{ peer_id?: number; attachments?: VkAttachment[] }>;
    };
    const item = result.items.find((x) => x.peer_id === undefined || x.peer_id === peer_id);
    return (item?.attachments ?? []).flatMap((a) => {
      const o = a[a.type] as Record<string, unknown> | undefined;
      if (!o || o.id === undefined || o.owner_id === undefined) return [];
      const type = a.type === 'audio_message' ? 'doc' : a.type;
      return [`${type}${o.owner_id}_${o.id}${o.access_key ? `_${o.access_key}` : ''}`];
    });
  };

  const edit = async (turn: Turn, messageId: string) => {
    const m = turn.state.messages.get(messageId);
    if (!m?.channelMessage || m.deleted || m.deliveries.send?.outcome !== 'delivered') return;
    if (finished(m.deliveries.edit)) return;
    const peer_id = peerOf(turn);
    const vkId = Number(m.channelMessage.messageId);
    const step = `edit:${m.editCount}`;
    const failure = await withRetries(turn, m, 'edit', step, async () => {
      const current = turn.state.messages.get(messageId) ?? m;
      const out = outgoingOf(current.content);
      // The files stay as delivered; the text (and a location) is what changes.
      const attachments = out.files.length > 0 ? await attachmentsInVk(peer_id, vkId) : [];
      await api.messages.edit({
        peer_id,
        message_id: vkId,
        message: out.text || (attachments.length > 0 ? '' : '…'),
        ...(attachments.length > 0 ? { attachment: attachments.join(',') } : {}),
        ...(out.location ? { lat: out.location.latitude, long: out.location.longitude } : {}),
        ...(out.keyboard ? { keyboard: out.keyboard } : {}),
        keep_forward_messages: 1,
        keep_snippets: 1,
      });
      await turn.record({ type: 'RecordDelivered', messageId, operation: 'edit' }, step);
    });
    if (failure) await notice(turn, await texts.topic('topic.vk_edit_failed', { reason: failure.reason }), m);
  };

  const remove = async (turn: Turn, messageId: string) => {
    const m = turn.state.messages.get(messageId);
    if (!m?.channelMessage || !m.deleted || m.deliveries.send?.outcome !== 'delivered') return;
    if (finished(m.deliveries.delete)) return;
    const peer_id = peerOf(turn);
    const failure = await withRetries(turn, m, 'delete', 'delete', async () => {
      await api.messages.delete({
        peer_id,
        message_ids: [Number(m.channelMessage!.messageId)],
        delete_for_all: 1,
      });
      await turn.record({ type: 'RecordDelivered', messageId, operation: 'delete' }, 'delete');
    });
    if (failure) {
      await notice(turn, await texts.topic('topic.vk_delete_failed', { reason: failure.reason }), m);
    }
  };

  /** A one-off message to the client (ban / close notices); failures are logged, not retried. */
  const tellClient = async (turn: Turn, text: string, seed: string) => {
    try {
      await api.messages.send({ peer_id: peerOf(turn), random_id: randomIdOf(seed), message: text });
    } catch (error) {
      const failure = classify(error);
      logger.info({ reason: failure.reason, conversationId: turn.conversationId }, 'vk notice not delivered');
    }
  };

  /**
   * After a closing, asks the client once to rate the conversation (docs/design.md, "Satisfaction
   * (CSAT)"): the random_id is the request's, so a send repeated after a crash is VK's first one.
   */
  const ratingPrompt = async (turn: Turn) => {
    const s = turn.state;
    const requestId = ratingRequestIdOf(turn.recorded.id);
    if (!s.closed || s.banned || s.rating?.requestId === requestId) return;
    let id: number;
    try {
      id = (await api.messages.send({
        peer_id: peerOf(turn),
        random_id: randomIdOf(`rating:${requestId}`),
        message: await texts.client('client.rating.prompt', s.language),
        keyboard: ratingKeyboard(requestId),
      })) as unknown as number;
    } catch (error) {
      const failure = classify(error);
      logger.info(
        { reason: failure.reason, conversationId: turn.conversationId },
        'vk rating prompt not sent',
      );
      return;
    }
    await turn.record(
      {
        type: 'RecordRatingRequested',
        requestId,
        channelMessage: { chatId: String(peerOf(turn)), messageId: String(id) },
      },
      'rating-request',
    );
  };

  const step = async (turn: Turn): Promise<void> => {
    const { event } = turn;
    switch (event.type) {
      case 'ManagerReplied': {
        const m = turn.state.messages.get(event.data.messageId);
        const waiting = (x: ConversationMessage) => !x.deleted && !finished(x.deliveries.send);
        if (m?.direction !== 'outgoing' || !waiting(m)) return;
        // This answer and the ones the manager wrote around it, in the order they were written.
        await turn.settle(orderWaitMs);
        await turn.need(waitingIdsFrom(turn.state, m));
        for (const x of waitingFrom(turn.state, m, waiting)) await send(turn, x.messageId);
        return;
      }
      case 'ManagerReplyEdited':
        return edit(turn, event.data.messageId);
      case 'ManagerReplyDeleted':
        return remove(turn, event.data.messageId);
      case 'ClientMessageReceived': {
        const s = turn.state;
        const m = s.messages.get(event.data.messageId);
        if (!m?.suppressed || !s.banned || s.banNoticeSent) return;
        await tellClient(
          turn,
          await texts.client('client.banned', s.language),
          `notice:banned:${turn.recorded.id}`,
        );
        await turn.record({ type: 'RecordClientNotified', notice: 'banned' }, 'ban-notice');
        return;
      }
      case 'ConversationClosed': {
        const s = turn.state;
        if (!s.closed) return;
        if (s.closeNoticeSent) {
          if (csat.enabled) await ratingPrompt(turn);
          return;
        }
        await tellClient(
          turn,
          await texts.client('client.closed', s.language),
          `notice:closed:${turn.recorded.id}`,
        );
        await turn.record({ type: 'RecordClientNotified', notice: 'closed' }, 'close-notice');
        if (csat.enabled) await ratingPrompt(turn);
        return;
      }
      case 'RatingCommented':
        await tellClient(
          turn,
          await texts.client('client.rating.comment_thanks', turn.state.language),
          `notice:rating-comment:${turn.recorded.id}`,
        );
        return;
      default:
        return;
    }
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
      step,
    }),
  };
};
