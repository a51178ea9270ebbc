// Deterministic ids (SPEC §3): any adapter names a conversation's stream without a lookup, and a
// re-delivered update gets the same event ids, so the log appends it once.
import { v5 as uuidv5 } from 'uuid';
import type { Channel } from '../domain/events.ts';

/**
 * Namespace of conversation ids. Fixed forever: changing it renames every conversation stream.
 */
export const CONVERSATION_ID_NAMESPACE = '1573d9b4-d86d-4f4d-bdae-493b76c7c1ea';

/** Namespace of event ids. Fixed forever: changing it would let re-delivered updates append twice. */
export const EVENT_ID_NAMESPACE = '40c809c1-3bb1-456d-9e8a-91293d1b6872';

/** UUIDv5 of `channel:source:clientId`. */
export const conversationIdOf = (channel: Channel, source: string, clientId: string): string =>
  uuidv5(`${channel}:${source}:${clientId}`, CONVERSATION_ID_NAMESPACE);

/** UUIDv5 of a seed such as `${commandId}:${index}`; the command handler's `eventId`. */
export const eventIdOf = (seed: string): string => uuidv5(seed, EVENT_ID_NAMESPACE);
