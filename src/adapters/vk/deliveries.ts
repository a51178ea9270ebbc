// The VK reactor's deliveries: a manager's answer sent to the VK client, its edits and its deletion,
// each run until it succeeds or fails for good, every failed attempt recorded (DeliveryFailed) and
// every success recorded (ReplyDelivered). A step consults the state first, so a batch replayed
// after a crash repeats at most the one call whose outcome was not yet recorded — and a repeated
// messages.send carries the same random_id, which VK answers without sending twice.
import { setTimeout as delay } from 'node:timers/promises';
import type { ConversationMessage, DeliveryOutcome } from '../../domain/conversation-core.ts';
import type { DeliveryOperation } from '../../domain/events.ts';
import type { Turn } from '../reactor-kernel.ts';
import { backoffMs, classify, type Failure } from './errors.ts';
import { topicNotice } from './notices.ts';
import type { VkAttachment } from './objects.ts';
import { outgoingOf } from './outgoing.ts';
import { peerOf, type VkReactorContext } from './reactor-context.ts';
import { randomIdOf } from './refs.ts';

const UNREACHABLE_REASON = /^VK error 90[012]\b/;

/** The attempt a failed-but-retryable operation continues from (after a restart, too). */
const attemptsSoFar = (outcome: DeliveryOutcome | undefined): number =>
  outcome?.outcome === 'failed' && !outcome.permanent ? outcome.attempt : 0;

/** Delivered, or failed for good: nothing more to try. */
export const finished = (outcome: DeliveryOutcome | undefined): boolean =>
  outcome?.outcome === 'delivered' || (outcome?.outcome === 'failed' && outcome.permanent);

/**
 * Runs one delivery operation until it succeeds, fails for good, or has failed `maxAttempts` times;
 * every failed attempt is recorded. Returns the failure that ended it, if any.
 */
const withRetries = async (
  ctx: VkReactorContext,
  turn: Turn,
  m: ConversationMessage,
  operation: DeliveryOperation,
  stepKey: string,
  work: () => Promise<void>,
): Promise<Failure | undefined> => {
  const { baseMs, maxMs, maxAttempts } = ctx.retry;
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
      ctx.logger.warn(
        { conversationId: turn.conversationId, messageId: m.messageId, operation, reason: failure.reason },
        'vk delivery failed',
      );
      return failure;
    }
    ctx.onRetry?.({
      operation,
      ...(failure.code === undefined ? {} : { code: failure.code }),
      waitMs: wait,
      attempt,
    });
    ctx.logger.info(
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

/** Sends an answer to the client, files uploaded first; a failure for good is told in the topic. */
export const sendAnswer = async (ctx: VkReactorContext, turn: Turn, messageId: string) => {
  const { api, uploads, texts } = ctx;
  await turn.need([messageId]);
  const m = turn.state.messages.get(messageId);
  if (m?.direction !== 'outgoing' || m.deleted || finished(m.deliveries.send)) return;
  await turn.need([m.replyTo]);
  const peer_id = peerOf(turn);
  // Steps named by the answer: one event may carry several (a burst), each recorded on its own.
  const failure = await withRetries(ctx, turn, m, 'send', `send:${messageId}`, async () => {
    // The content as it stands now: an edit recorded before the first delivery goes with it.
    const current = turn.state.messages.get(messageId) ?? m;
    const out = outgoingOf(current.content);
    const attachments: string[] = [];
    for (const file of out.files)
      attachments.push(await uploads.attachmentOf({ peerId: peer_id, signal: turn.signal }, messageId, file));
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
      await topicNotice(
        ctx,
        turn,
        failure.code === 901
          ? await texts.topic('topic.vk_not_allowed')
          : await texts.topic('topic.vk_cannot_reach', { reason: failure.reason }),
        m,
      );
    }
    return;
  }
  await topicNotice(ctx, turn, await texts.topic('topic.vk_answer_failed', { reason: failure.reason }), m);
};

/** The attachment strings a delivered message carries in VK now (messages.edit replaces them). */
const attachmentsInVk = async (
  ctx: VkReactorContext,
  peer_id: number,
  vkMessageId: number,
): Promise<string[]> => {
  const result = (await ctx.api.messages.getById({ message_ids: [vkMessageId] })) as unknown as {
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

/** Carries an edit of a delivered answer: the text (and a location) changes, the files stay. */
export const editAnswer = async (ctx: VkReactorContext, turn: Turn, messageId: string) => {
  const m = turn.state.messages.get(messageId);
  if (!m?.channelMessage || m.deleted || m.deliveries.send?.outcome !== 'delivered') return;
  if (finished(m.deliveries.edit)) return;
  const peer_id = peerOf(turn);
  const vkId = Number(m.channelMessage.messageId);
  const step = `edit:${m.editCount}`;
  const failure = await withRetries(ctx, turn, m, 'edit', step, async () => {
    const current = turn.state.messages.get(messageId) ?? m;
    const out = outgoingOf(current.content);
    const attachments = out.files.length > 0 ? await attachmentsInVk(ctx, peer_id, vkId) : [];
    await ctx.api.messages.edit({
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
  if (failure)
    await topicNotice(
      ctx,
      turn,
      await ctx.texts.topic('topic.vk_edit_failed', { reason: failure.reason }),
      m,
    );
};

/** Deletes a delivered answer for everyone in the client's dialog. */
export const deleteAnswer = async (ctx: VkReactorContext, turn: Turn, messageId: string) => {
  const m = turn.state.messages.get(messageId);
  if (!m?.channelMessage || !m.deleted || m.deliveries.send?.outcome !== 'delivered') return;
  if (finished(m.deliveries.delete)) return;
  const peer_id = peerOf(turn);
  const failure = await withRetries(ctx, turn, m, 'delete', 'delete', async () => {
    await ctx.api.messages.delete({
      peer_id,
      message_ids: [Number(m.channelMessage!.messageId)],
      delete_for_all: 1,
    });
    await turn.record({ type: 'RecordDelivered', messageId, operation: 'delete' }, 'delete');
  });
  if (failure)
    await topicNotice(
      ctx,
      turn,
      await ctx.texts.topic('topic.vk_delete_failed', { reason: failure.reason }),
      m,
    );
};
