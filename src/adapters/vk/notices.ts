// The VK reactor's notices: in the conversation's topic, in LOCALE's (an answer, edit or deletion that
// failed for good); to the client, in their language (banned, conversation closed, thanks for a
// comment, the rating prompt). A notice that fails is logged, never retried: it must not hold up the
// conversation.
import type { ConversationMessage } from '../../domain/conversation-core.ts';
import { ratingRequestIdOf } from '../csat.ts';
import type { Turn } from '../reactor-kernel.ts';
import { classify } from './errors.ts';
import { ratingKeyboard } from './rating.ts';
import { peerOf, type VkReactorContext } from './reactor-context.ts';
import { randomIdOf } from './refs.ts';

/** A notice in the conversation's topic, as a reply to the answer it is about where there is one. */
export const topicNotice = async (
  ctx: VkReactorContext,
  turn: Turn,
  text: string,
  about?: ConversationMessage,
) => {
  const topic = turn.state.topic;
  if (!topic) return;
  await ctx.telegram
    .sendMessage(ctx.supportChatId, text, {
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
    .catch((err: unknown) => ctx.logger.warn({ err }, 'could not post a VK delivery notice in the topic'));
};

/** A one-off message to the client (ban / close notices); failures are logged, not retried. */
export const tellClient = async (ctx: VkReactorContext, turn: Turn, text: string, seed: string) => {
  try {
    await ctx.api.messages.send({ peer_id: peerOf(turn), random_id: randomIdOf(seed), message: text });
  } catch (error) {
    const failure = classify(error);
    ctx.logger.info(
      { reason: failure.reason, conversationId: turn.conversationId },
      'vk notice not delivered',
    );
  }
};

/** Tells a banned client, once, that their messages are not forwarded. */
export const banNotice = async (ctx: VkReactorContext, turn: Turn) => {
  const s = turn.state;
  if (!s.banned || s.banNoticeSent) return;
  await tellClient(
    ctx,
    turn,
    await ctx.texts.client('client.banned', s.language),
    `notice:banned:${turn.recorded.id}`,
  );
  await turn.record({ type: 'RecordClientNotified', notice: 'banned' }, 'ban-notice');
};

/** Tells the client, once, that support closed the conversation. */
export const closeNotice = async (ctx: VkReactorContext, turn: Turn) => {
  const s = turn.state;
  if (!s.closed || s.closeNoticeSent) return;
  await tellClient(
    ctx,
    turn,
    await ctx.texts.client('client.closed', s.language),
    `notice:closed:${turn.recorded.id}`,
  );
  await turn.record({ type: 'RecordClientNotified', notice: 'closed' }, 'close-notice');
};

/**
 * After a closing, asks the client once to rate the conversation (docs/design.md, "Satisfaction
 * (CSAT)"): the random_id is the request's, so a send repeated after a crash is VK's first one.
 */
export const ratingPrompt = async (ctx: VkReactorContext, turn: Turn) => {
  const s = turn.state;
  const requestId = ratingRequestIdOf(turn.recorded.id);
  if (!s.closed || s.banned || s.rating?.requestId === requestId) return;
  let id: number;
  try {
    id = (await ctx.api.messages.send({
      peer_id: peerOf(turn),
      random_id: randomIdOf(`rating:${requestId}`),
      message: await ctx.texts.client('client.rating.prompt', s.language),
      keyboard: ratingKeyboard(requestId),
    })) as unknown as number;
  } catch (error) {
    const failure = classify(error);
    ctx.logger.info(
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
