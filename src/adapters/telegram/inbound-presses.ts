// Presses of inline buttons (docs/design.md, "Callbacks"): a manager's in the support group, a
// client's in their private chat (the rating's buttons, "Satisfaction (CSAT)").
import type { CallbackQuery, Update } from 'grammy/types';
import type { CallbackAnswer } from './callbacks.ts';
import { type InboundContext, type InboundOutcome, managerActor } from './inbound-context.ts';
import { telegramConversationId, updateCommandId } from './refs.ts';
/**
 * A press of an inline button (docs/design.md, "Callbacks"). Every press is answered
 * (answerCallbackQuery: Telegram shows a spinner until then); only members of the support group may
 * press, and the press goes to the ctx.options.handler of its callback_data's prefix.
 */
export const fromPress = async (
  ctx: InboundContext,
  update: Update,
  q: CallbackQuery,
): Promise<InboundOutcome> => {
  const answer = async (a: Omit<CallbackAnswer, 'outcome'>) => {
    await ctx.options.api
      .answerCallbackQuery(q.id, {
        ...(a.text ? { text: a.text } : {}),
        ...(a.showAlert ? { show_alert: true } : {}),
      })
      // Answered already (a re-delivered press), or too late: the press itself is what counts.
      .catch((err: unknown) => ctx.options.logger.info({ err }, 'a button press could not be answered'));
  };
  // A client's press in their private chat with the bot: the rating's buttons.
  if (q.message?.chat.type === 'private' && q.message.chat.id === q.from.id && !q.from.is_bot) {
    return fromClientPress(ctx, update, q, answer);
  }
  // Buttons elsewhere are not the bot's to act on.
  if (!q.message || String(q.message.chat.id) !== ctx.options.supportChatId) {
    await answer({});
    return 'ignored';
  }
  const pressed = ctx.options.callbacks.find(q.data ?? '');
  try {
    if (!(await ctx.options.isMember(q.from.id))) {
      ctx.options.logger.info(
        { user: q.from.id },
        'a button press by someone outside the support group was refused',
      );
      await answer({ text: await ctx.topicText('topic.press.not_member'), showAlert: true });
      return 'ignored';
    }
    if (!pressed) {
      await answer({ text: await ctx.topicText('topic.press.unknown') });
      return 'ignored';
    }
    const message = q.message;
    const result = await pressed.handler({
      query: q,
      args: pressed.args,
      actor: managerActor(q),
      commandId: updateCommandId(ctx.options.botId, update.update_id),
      at: new Date(),
      conversationOfTopic: async () =>
        'message_thread_id' in message && message.message_thread_id !== undefined
          ? ctx.options.findConversationByTopic(ctx.options.supportChatId, String(message.message_thread_id))
          : undefined,
    });
    await answer(result);
    return result.outcome;
  } catch (error) {
    // Not recorded: the update fails, so Telegram delivers it again; the manager is told meanwhile.
    await answer({ text: await ctx.topicText('topic.press.failed') });
    throw error;
  }
};

/** A client's press: no membership to check; the presser's own chat names the conversation. */
export const fromClientPress = async (
  ctx: InboundContext,
  update: Update,
  q: CallbackQuery,
  answer: (a: Omit<CallbackAnswer, 'outcome'>) => Promise<void>,
): Promise<InboundOutcome> => {
  const pressed = ctx.options.clientCallbacks?.find(q.data ?? '');
  if (!pressed) {
    await answer({});
    return 'ignored';
  }
  try {
    const result = await pressed.handler({
      query: q,
      args: pressed.args,
      actor: { kind: 'client', id: String(q.from.id) },
      conversationId: telegramConversationId(q.from.id),
      commandId: updateCommandId(ctx.options.botId, update.update_id),
      at: new Date(),
    });
    await answer(result);
    return result.outcome;
  } catch (error) {
    // Not recorded: Telegram delivers the press again; the spinner ends meanwhile.
    await answer({});
    throw error;
  }
};
