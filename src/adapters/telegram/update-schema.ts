// The shape of the Telegram updates topicdesk reads, checked before anything is translated or
// recorded. Telegram sends more fields (all accepted, passed through as they are); a field topicdesk
// reads that is missing or of the wrong type makes the update malformed: answered 400, recorded
// never. Without this check such an update threw deep inside the translation (a 500, which Telegram
// delivers again and again), or was recorded with, say, a number for a name, which then jammed the
// reactor that opens topics for every conversation behind it.
import { z } from 'zod';

/** PostgreSQL cannot store U+0000 in jsonb: a text holding it could never be recorded. */
const text = z.string().refine((s) => !s.includes('\u0000'), 'contains U+0000');
const int = z.number().int();
const count = int.min(0);
/** Unix seconds up to the end of year 9999 (ISO 8601's four-digit years). */
const unixTime = count.max(253_402_300_799);

const user = z.looseObject({
  id: int,
  is_bot: z.boolean(),
  first_name: text,
  last_name: text.optional(),
  username: text.optional(),
  language_code: text.optional(),
});

const entity = z.looseObject({ type: text, offset: count, length: count });

const file = z.looseObject({
  file_id: text,
  file_unique_id: text,
  file_size: count.optional(),
  file_name: text.optional(),
  mime_type: text.optional(),
  width: count.optional(),
  height: count.optional(),
  duration: count.optional(),
  length: count.optional(),
});

const location = z.looseObject({ latitude: z.number(), longitude: z.number() });

const message = z.looseObject({
  message_id: int,
  date: unixTime,
  edit_date: unixTime.optional(),
  chat: z.looseObject({ id: int, type: text }),
  from: user.optional(),
  message_thread_id: int.optional(),
  is_topic_message: z.boolean().optional(),
  media_group_id: text.optional(),
  text: text.optional(),
  caption: text.optional(),
  entities: z.array(entity).optional(),
  caption_entities: z.array(entity).optional(),
  reply_to_message: z
    .looseObject({ message_id: int, from: z.looseObject({ id: int }).optional() })
    .optional(),
  photo: z.array(file.extend({ width: count, height: count })).optional(),
  document: file.optional(),
  video: file.optional(),
  audio: file.extend({ performer: text.optional(), title: text.optional() }).optional(),
  voice: file.optional(),
  video_note: file.optional(),
  animation: file.optional(),
  sticker: file
    .extend({
      emoji: text.optional(),
      set_name: text.optional(),
      type: text.optional(),
      is_animated: z.boolean().optional(),
      is_video: z.boolean().optional(),
    })
    .optional(),
  location: location.optional(),
  venue: z.looseObject({ location, title: text, address: text }).optional(),
  contact: z
    .looseObject({
      phone_number: text,
      first_name: text,
      last_name: text.optional(),
      user_id: int.optional(),
      vcard: text.optional(),
    })
    .optional(),
  poll: z
    .looseObject({ question: text, options: z.array(z.looseObject({ text })), type: text.optional() })
    .optional(),
  dice: z.looseObject({ emoji: text, value: int }).optional(),
});

/** A press of an inline button: its message may be inaccessible (too old), then only its ids are known. */
const callbackQuery = z.looseObject({
  id: text,
  from: user,
  data: text.optional(),
  message: z
    .looseObject({
      message_id: int,
      chat: z.looseObject({ id: int, type: text }),
      date: unixTime,
      message_thread_id: int.optional(),
    })
    .optional(),
});

const update = z.looseObject({
  update_id: count,
  message: message.optional(),
  edited_message: message.optional(),
  callback_query: callbackQuery.optional(),
});

/** The updates topicdesk asks Telegram for, by webhook (telegram:set-webhook) and by polling. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

/** The update does not have the shape Telegram gives it: refused (400), never recorded. */
export class MalformedUpdateError extends Error {
  override readonly name = 'MalformedUpdateError';
  readonly code = 'malformed_update';
}

/** Throws MalformedUpdateError naming the first field that is wrong. */
export const checkUpdate = (value: unknown): void => {
  const result = update.safeParse(value);
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = (issue?.path ?? []).map(String).join('.') || 'update';
  throw new MalformedUpdateError(`malformed update: ${field}: ${issue?.message ?? 'invalid'}`);
};
