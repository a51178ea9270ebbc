// The order a sender wrote their messages in, which need not be the order the log recorded them:
// a burst from one client (a forwarded batch, a long text split in parts, an album with a caption)
// reaches the webhook as concurrent deliveries. Reactors carry messages in the sender's order
// (docs/design.md, "Messages in the order they were sent").
import type { ConversationMessage, ConversationState, MessageDirection } from './conversation-core.ts';

const numeric = (s: string | undefined): number | undefined =>
  s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;

/**
 * A message's number in its sender's chat: an incoming message's `sentOrder` (VK), else its Telegram
 * message id in a Telegram conversation; an answer's message id in the support group. Undefined where
 * the channel numbers nothing: a source's messages were sent in the order they were recorded.
 */
export const senderOrderOf = (state: ConversationState, m: ConversationMessage): number | undefined => {
  if (m.direction === 'outgoing') return numeric(m.groupMessage?.messageId);
  if (m.sentOrder !== undefined) return m.sentOrder;
  return state.channel === 'telegram' ? numeric(m.channelMessage?.messageId) : undefined;
};

/** Whether a message of this direction recorded later may belong before one recorded earlier. */
export const mayArriveOutOfOrder = (state: ConversationState, direction: MessageDirection): boolean =>
  direction === 'outgoing' || state.channel === 'telegram' || state.channel === 'vk';

/**
 * `messages` (recorded in this order) in the order their sender sent them; ties and messages the
 * sender did not number keep the order they were recorded in.
 */
export const inSenderOrder = (
  state: ConversationState,
  messages: readonly ConversationMessage[],
): ConversationMessage[] => {
  const keyed = messages.map((m, i) => ({ m, i, k: senderOrderOf(state, m) }));
  if (keyed.some((x) => x.k === undefined)) return [...messages];
  return keyed.sort((a, b) => a.k! - b.k! || a.i - b.i).map((x) => x.m);
};

/**
 * Ids of the messages of `m`'s direction still waiting to be carried, from `m` on, in the order
 * recorded (the core's waiting list: incoming not yet in the topic, answers not yet delivered).
 * Messages recorded before `m` were the reactor's to carry earlier; one it gave up on is not tried
 * again here. A caller loads these before it looks at them.
 */
export const waitingIdsFrom = (state: ConversationState, m: ConversationMessage): readonly string[] => {
  const list = m.direction === 'incoming' ? state.waitingIncoming : state.waitingOutgoing;
  const from = list.indexOf(m.messageId);
  return from < 0 ? [] : list.slice(from);
};

/** The loaded messages of `waitingIdsFrom` that `waiting` still holds, in the sender's order. */
export const waitingFrom = (
  state: ConversationState,
  m: ConversationMessage,
  waiting: (x: ConversationMessage) => boolean,
): ConversationMessage[] =>
  inSenderOrder(
    state,
    waitingIdsFrom(state, m)
      .map((id) => state.messages.get(id))
      .filter((x): x is ConversationMessage => x !== undefined && waiting(x)),
  );
