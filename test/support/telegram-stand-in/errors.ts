// Errors exactly as the Bot API reports them: `{ ok: false, error_code, description, parameters? }`
// with the HTTP status equal to error_code. Descriptions are Telegram's own wording.
import type { ResponseParameters } from 'grammy/types';

export class TelegramApiError extends Error {
  constructor(
    readonly error_code: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
  }
}

export const badRequest = (what: string) => new TelegramApiError(400, `Bad Request: ${what}`);
export const forbidden = (what: string) => new TelegramApiError(403, `Forbidden: ${what}`);
export const tooManyRequests = (retryAfter: number) =>
  new TelegramApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });

export const errors = {
  unauthorized: () => new TelegramApiError(401, 'Unauthorized'),
  notFound: () => new TelegramApiError(404, 'Not Found'),
  tooLarge: () => new TelegramApiError(413, 'Request Entity Too Large'),
  chatNotFound: () => badRequest('chat not found'),
  userNotFound: () => badRequest('user not found'),
  threadNotFound: () => badRequest('message thread not found'),
  textEmpty: () => badRequest('message text is empty'),
  textTooLong: () => badRequest('message is too long'),
  captionTooLong: () => badRequest('message caption is too long'),
  replyNotFound: () => badRequest('message to be replied not found'),
  editNotFound: () => badRequest('message to edit not found'),
  notModified: () =>
    badRequest(
      'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    ),
  cantBeEdited: () => badRequest("message can't be edited"),
  noTextToEdit: () => badRequest('there is no text in the message to edit'),
  noCaptionToEdit: () => badRequest('there is no caption in the message to edit'),
  copyNotFound: () => badRequest('message to copy not found'),
  cantBeCopied: () => badRequest("message can't be copied"),
  forwardNotFound: () => badRequest('message to forward not found'),
  cantBeForwarded: () => badRequest("message can't be forwarded"),
  deleteNotFound: () => badRequest('message to delete not found'),
  cantBeDeleted: () => badRequest("message can't be deleted for everyone"),
  topicIdInvalid: () => badRequest('TOPIC_ID_INVALID'),
  topicNotModified: () => badRequest('TOPIC_NOT_MODIFIED'),
  topicTitleEmpty: () => badRequest('Title must be non-empty'),
  notAForum: () => badRequest('the chat is not a forum'),
  noTopicRights: () => badRequest('not enough rights to create a topic'),
  noManageTopicRights: () => badRequest('not enough rights to manage topics'),
  wrongFileId: () => badRequest('wrong file identifier/HTTP URL specified'),
  fileTypeMismatch: () => badRequest('type of file mismatch'),
  invalidFileId: () => badRequest('invalid file_id'),
  fileTooBig: () => badRequest('file is too big'),
  urlContentFailed: () => badRequest('failed to get HTTP URL content'),
  noMedia: (field: string) => badRequest(`there is no ${field.replace(/_/g, ' ')} in the request`),
  empty: (param: string) => badRequest(`${param} is empty`),
  blocked: () => forbidden('bot was blocked by the user'),
  cantInitiate: () => forbidden("bot can't initiate conversation with a user"),
  webhookActive: () =>
    new TelegramApiError(
      409,
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    ),
  otherGetUpdates: () =>
    new TelegramApiError(
      409,
      'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    ),
  cantParse: (detail: string) => badRequest(`can't parse entities: ${detail}`),
  mediaGroupSize: () => badRequest('media must include 2-10 items'),
  pollOptions: () => badRequest('poll must have at least 2 option'),
  pollQuestionEmpty: () => badRequest('poll question must be non-empty'),
  commandInvalid: () => badRequest('BOT_COMMAND_INVALID'),
} as const;
