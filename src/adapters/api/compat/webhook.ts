// A manager's answer as tg-support-bot posts it to a source (docs/design.md, "Speaking
// tg-support-bot's dialect"): 5.0+ `{type_query, externalId, message}`, 3.x–4.x one flat object.
// Built at send time from topicdesk's queued payload; still signed with topicdesk's headers.
import type { SourceCompat } from '../../../domain/source.ts';
import type { WebhookPayload } from '../../webhooks/message-resource.ts';
import { dialectMessage } from './answers.ts';
import { formatMinute } from './dates.ts';
import { rulesOf } from './dialect.ts';

/**
 * The body to post, or undefined when the dialect has no such webhook (a deletion, a rating
 * request: tg-support-bot never posts them, so nothing is posted and the delivery counts as done).
 */
export const dialectWebhook = (
  compat: SourceCompat,
  payload: WebhookPayload,
  fileLink: (fileId: string) => string,
): unknown => {
  if (!('message' in payload) || payload.event === 'message.deleted') return undefined;
  const base = dialectMessage(payload.message, compat, fileLink);
  const message = {
    ...base,
    ...(payload.message.buttons.length > 0 ? { buttons: payload.message.buttons } : {}),
  };
  if (rulesOf(compat).webhook === 'typed') {
    return {
      type_query: payload.event === 'message.edited' ? 'edit_message' : 'send_message',
      externalId: payload.external_id,
      message,
    };
  }
  const file = payload.message.attachments[0];
  return {
    source: payload.source,
    external_id: payload.external_id,
    message_type: 'outgoing',
    to_id: base.to_id,
    from_id: base.from_id,
    text: payload.message.text,
    file_path: file?.url ? fileLink(file.id) : null,
    dop_params: null,
    date: formatMinute(payload.message.created_at, compat.timeZone),
  };
};
