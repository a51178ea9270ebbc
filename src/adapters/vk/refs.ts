// VK ids in topicdesk's terms: conversations, message ids, command ids and VK's random_id are all
// derived, never looked up, so a re-delivered Callback API event (or a retried send) names the very
// same things.
import { createHash } from 'node:crypto';
import { commandIdOf, conversationIdOf, eventIdOf } from '../ids.ts';

/**
 * VK conversations use the channel name as their source (docs/design.md, "Deterministic ids":
 * channel:source:clientId).
 */
export const VK_SOURCE = 'vk';

/** Peer ids from 2e9 up are group chats; topicdesk serves the community's private dialogs only. */
export const CHAT_PEER_OFFSET = 2_000_000_000;

export const vkConversationId = (userId: number | string): string =>
  conversationIdOf('vk', VK_SOURCE, String(userId));

/**
 * A client message's id in the domain. `id` is the message's id in the community's dialogs (stable
 * across message_new and message_edit); `part` names the extra domain messages one VK message with
 * several files becomes (see translate.ts).
 */
export const vkMessageId = (peerId: number | string, id: number | string, part?: string): string =>
  eventIdOf(`vk-message:${peerId}:${id}${part ? `:${part}` : ''}`);

/**
 * event_id is unique per community: with the group id it names the event for good; `part` names one
 * of the several commands one event may become.
 */
export const eventCommandId = (groupId: number | string, eventId: string, part?: string): string =>
  part ? commandIdOf('vk', groupId, eventId, part) : commandIdOf('vk', groupId, eventId);

/**
 * messages.send's random_id for a domain message (or notice) id: VK keeps the random_id with the
 * message and answers a second send with the same random_id with the first message's id instead of
 * sending it again, so a retried send is never a duplicate. A signed 32-bit integer, never 0 (0 turns
 * the check off).
 */
export const randomIdOf = (seed: string): number => {
  const n = createHash('sha256').update(`vk-random-id:${seed}`).digest().readInt32BE(0);
  return n === 0 ? 1 : n;
};

/** The profile link managers see on the contact card. */
export const vkProfileLink = (userId: number | string): string => `https://vk.com/id${userId}`;
