// The shape of the VK events topicdesk reads (`message_new`, `message_edit`, `message_event`), checked before vk-io
// or the translation touch them. VK sends more fields (all accepted as they are); a field that vk-io
// or topicdesk reads, missing or of the wrong type, makes the event malformed: answered 400 and never
// recorded. Without this check such an event threw inside vk-io's MessageContext or the translation,
// was answered 503 and delivered again and again by VK (or held the long poll on it for ever).
import { z } from 'zod';

/** PostgreSQL cannot store U+0000 in jsonb: a text holding it could never be recorded. */
const text = z.string().refine((s) => !s.includes('\u0000'), 'contains U+0000');
const int = z.number().int();
/** Unix seconds up to the end of year 9999 (ISO 8601's four-digit years). */
const unixTime = int.min(0).max(253_402_300_799);
const isJson = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

/** `{ type, [type]: object }`: vk-io builds its attachment object from the one named by `type`. */
const attachment = z.looseObject({ type: text }).refine((a) => {
  const inner = (a as Record<string, unknown>)[a.type];
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner);
}, 'the attachment has no object named by its type');

interface Nested {
  [key: string]: unknown;
}
/** A message as it appears inside another (forwarded, replied to): vk-io reads it the same way. */
const fields = {
  id: int.optional(),
  conversation_message_id: int.optional(),
  out: int.optional(),
  peer_id: int.optional(),
  from_id: int.optional(),
  text: text.optional(),
  date: unixTime.optional(),
  update_time: unixTime.optional(),
  attachments: z.array(attachment).optional(),
  geo: z
    .looseObject({
      coordinates: z.looseObject({ latitude: z.number(), longitude: z.number() }).optional(),
      place: z
        .looseObject({
          title: text.optional(),
          city: text.optional(),
          country: z.union([text, z.number()]).optional(),
        })
        .optional(),
    })
    .optional(),
  // vk-io parses a keyboard button's payload as JSON.
  payload: text.refine(isJson, 'is not JSON').optional(),
};
const nested: z.ZodType<Nested> = z.lazy(() =>
  z.looseObject({
    ...fields,
    reply_message: nested.optional(),
    fwd_messages: z.array(nested).optional(),
  }),
);
/** The message of an event: who wrote, in which dialog, when. */
const message = z.looseObject({
  ...fields,
  peer_id: int,
  from_id: int,
  date: unixTime,
  reply_message: nested.optional(),
  fwd_messages: z.array(nested).optional(),
});

const messageNew = z.looseObject({
  event_id: text.optional(),
  object: z.looseObject({
    message,
    client_info: z.looseObject({ lang_id: int.optional() }),
  }),
});
const messageEdit = z.looseObject({ event_id: text.optional(), object: message });
/** A press of a callback button (the rating's): who pressed, in which dialog, the button's payload. */
const messageEvent = z.looseObject({
  event_id: text.optional(),
  object: z.looseObject({
    user_id: int,
    peer_id: int,
    event_id: text,
    payload: z.unknown().optional(),
    conversation_message_id: int.optional(),
  }),
});

/** The event does not have the shape VK gives it: refused (400), never recorded. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  readonly code = 'malformed_event';
}

/** Throws MalformedEventError naming the first wrong field of a message_new / message_edit / message_event. */
export const checkEvent = (event: { readonly type: string }): void => {
  const schema =
    event.type === 'message_new'
      ? messageNew
      : event.type === 'message_edit'
        ? messageEdit
        : event.type === 'message_event'
          ? messageEvent
          : undefined;
  const result = schema?.safeParse(event);
  if (!result || result.success) return;
  const issue = result.error.issues[0];
  const field = (issue?.path ?? []).map(String).join('.') || 'event';
  throw new MalformedEventError(`malformed ${event.type} event: ${field}: ${issue?.message ?? 'invalid'}`);
};
