// Deterministic ids (docs/design.md, "Deterministic ids"): any adapter names a conversation's stream
// without a lookup, and a re-delivered update gets the same event ids, so the log appends it once.
// Every seed built from several parts is unambiguous: no part's text can move a boundary.
import { parse, v5 } from 'uuid';
import type { Channel } from '../domain/events.ts';

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * UUIDv5 of `name` in `namespace` (parsed once by `namespaceOf`). The name goes in as UTF-8 bytes:
 * the same id as the string form, which the library re-encodes character by character on every call.
 * A name with a lone surrogate has no UTF-8 form: the string form refuses it, as it always did.
 */
export const uuidv5 = (name: string, namespace: Uint8Array): string =>
  v5(LONE_SURROGATE.test(name) ? name : Buffer.from(name, 'utf8'), namespace);

/** A namespace's bytes, parsed once where it is declared rather than on every id. */
export const namespaceOf = (uuid: string): Uint8Array => parse(uuid);

/**
 * Namespace of conversation ids. Fixed forever: changing it renames every conversation stream.
 */
export const CONVERSATION_ID_NAMESPACE = '1573d9b4-d86d-4f4d-bdae-493b76c7c1ea';
const conversationNamespace = namespaceOf(CONVERSATION_ID_NAMESPACE);

/** Namespace of event ids. Fixed forever: changing it would let re-delivered updates append twice. */
export const EVENT_ID_NAMESPACE = '40c809c1-3bb1-456d-9e8a-91293d1b6872';
const eventNamespace = namespaceOf(EVENT_ID_NAMESPACE);

/**
 * UUIDv5 of `channel:source:clientId`. Unambiguous because channel and source never hold `:`
 * (source codes are a-z, 0-9, _ and -): the client id is everything after the second colon.
 */
export const conversationIdOf = (channel: Channel, source: string, clientId: string): string =>
  uuidv5(`${channel}:${source}:${clientId}`, conversationNamespace);

/**
 * UUIDv5 of a single-part seed. Used for message ids whose seeds are fixed words and numbers
 * (`telegram-message:<chat>:<message>`); those ids are in stored events, so their seeds never change.
 */
export const eventIdOf = (seed: string): string => uuidv5(seed, eventNamespace);

/** UUIDv5 of the JSON array of `parts`: a different list of parts can never give the same seed. */
export const idOfParts = (parts: readonly (string | number)[]): string =>
  uuidv5(JSON.stringify(parts), eventNamespace);

/**
 * The id of the `index`-th event a command appends to `stream` (the command handler's `eventId`).
 * The stream is part of the seed, so two commands that happen to share a command id in different
 * conversations still write different events.
 */
export const commandEventId = (stream: string, commandId: string, index: number): string =>
  idOfParts(['event', stream, commandId, index]);

/** `%` and `:` escaped, so a part's own colons cannot be told from the separators. */
const escapePart = (part: string | number): string =>
  String(part).replaceAll('%', '%25').replaceAll(':', '%3A');

/** A readable command id (`api:shop:user%3A7:…`) whose parts can always be told apart. */
export const commandIdOf = (...parts: readonly (string | number)[]): string =>
  parts.map(escapePart).join(':');

/** The message id an Idempotency-Key gives a source's message: the same key, client and source, the same id. */
export const apiMessageId = (source: string, externalId: string, idempotencyKey: string): string =>
  idOfParts(['api-message', source, externalId, idempotencyKey]);
