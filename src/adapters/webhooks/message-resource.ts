// The API's message resource (docs/design.md, "The message resource") for a manager's answer, as a
// webhook carries it. Built from the conversation's stream, folded up to the event being announced,
// so a replayed batch posts what the message looked like then, not what it became later. The
// manager's Telegram id is never part of it (nor the manager's name: the API's resource has
// neither).
import type { RecordedEvent } from '../../domain/event-log.ts';
import type {
  Attachment,
  AutomaticReason,
  ConversationEvent,
  DeliveryOperation,
  MessageButton,
  TemplateUse,
} from '../../domain/events.ts';

export type MessageEventName = 'message.created' | 'message.edited' | 'message.deleted';

/** What a webhook announces: an answer, its edit or deletion, or a request to rate (CSAT). */
export type WebhookEventName = MessageEventName | 'conversation.rating_requested';

export const eventNameOf: Record<DeliveryOperation, MessageEventName> = {
  send: 'message.created',
  edit: 'message.edited',
  delete: 'message.deleted',
};

export interface AttachmentResource {
  readonly id: string;
  readonly kind: string;
  readonly file_name: string | null;
  readonly mime_type: string | null;
  readonly size: number | null;
  /** Where the source downloads the file (`GET /api/external/files/{id}`); null for a location, contact… */
  readonly url: string | null;
}

export interface MessageResource {
  readonly id: string;
  readonly external_id: string;
  readonly direction: 'incoming' | 'outgoing';
  readonly text: string;
  readonly attachments: readonly AttachmentResource[];
  readonly reply_to: string | null;
  readonly status: 'received' | 'forwarded' | 'delivered' | 'failed';
  /** When the manager sent it. */
  readonly created_at: string;
  readonly edited_at: string | null;
  readonly deleted_at: string | null;
  /** When topicdesk's log recorded it. */
  readonly recorded_at: string | null;
  /** The message's cursor in the API's listings; null while the read model has not recorded it yet. */
  readonly cursor: number | null;
  /** Present on an answer topicdesk gave by itself: why (a welcome, an off-hours answer). */
  readonly automatic?: AutomaticReason;
  /** Present on an answer a manager sent from a saved answer (`/t <name>`): which one. */
  readonly template?: TemplateUse;
}

/** A link button under an answer, as a webhook carries it. */
export interface ButtonResource {
  readonly text: string;
  readonly url: string;
}

/** The message a webhook carries: the API's resource and the answer's link buttons, row by row. */
export interface WebhookMessageResource extends MessageResource {
  /** `[]` when the answer has none (docs/design.md, "Buttons in answers"). */
  readonly buttons: readonly (readonly ButtonResource[])[];
}

export interface MessagePayload {
  readonly event: MessageEventName;
  readonly source: string;
  readonly external_id: string;
  readonly message: WebhookMessageResource;
}

/**
 * `conversation.rating_requested` (docs/design.md, "Satisfaction (CSAT)"): the conversation was
 * closed and the client may rate it, `POST /api/external/{externalId}/rating`, until it reopens.
 */
export interface RatingRequestPayload {
  readonly event: 'conversation.rating_requested';
  readonly source: string;
  readonly external_id: string;
  readonly rating_request: {
    /** The request's id (one per closing). */
    readonly id: string;
    /** When the conversation was closed. */
    readonly requested_at: string;
    readonly min: number;
    readonly max: number;
  };
}

export type WebhookPayload = MessagePayload | RatingRequestPayload;

/**
 * An attachment's id in the API (the same as src/adapters/api/read-model.ts hands out): Telegram's
 * file_unique_id when there is one (stable for the same file), otherwise `<messageId>:<index>`.
 */
export const attachmentIdOf = (messageId: string, index: number, a: Attachment): string =>
  a.fileUniqueId ?? `${messageId}:${index}`;

export const attachmentResources = (
  messageId: string,
  attachments: readonly Attachment[],
  publicUrl?: string,
): AttachmentResource[] =>
  attachments.map((a, index) => {
    const id = attachmentIdOf(messageId, index, a);
    const path = `/api/external/files/${id}`;
    return {
      id,
      kind: a.kind,
      file_name: a.fileName ?? null,
      mime_type: a.mimeType ?? null,
      size: a.size ?? null,
      url: a.fileRef ? `${(publicUrl ?? '').replace(/\/+$/, '')}${path}` : null,
    };
  });

/** A manager's answer as the stream tells it, up to some event. */
export interface AnswerSnapshot {
  readonly messageId: string;
  readonly text: string;
  readonly attachments: readonly Attachment[];
  /** The link buttons under it, as the answer (or its latest edit) has them. */
  readonly buttons: readonly (readonly MessageButton[])[];
  readonly replyTo: string | null;
  readonly createdAt: string;
  /** When the log recorded the answer. */
  readonly recordedAt: string;
  readonly editedAt: string | null;
  readonly deletedAt: string | null;
  /** How many edits so far: the n-th edit's delivery is `edit` number n. */
  readonly editCount: number;
  /** Outcome of carrying the answer itself, as the API's status shows it. */
  readonly status: 'received' | 'delivered' | 'failed';
  /** The saved answer it was sent from. */
  readonly template?: TemplateUse;
  /** Why topicdesk sent it by itself; null for a manager's answer. */
  readonly automatic: AutomaticReason | null;
}

export interface ConversationIdentity {
  readonly channel: string;
  readonly source: string;
  readonly clientId: string;
}

/** A fold of one conversation stream down to what webhooks need: its identity and its answers. */
export class AnswerFold {
  identity: ConversationIdentity | undefined;
  readonly answers = new Map<string, AnswerSnapshot>();
  /** Events (by id) whose delivery was settled by a recorded outcome caused by them. */
  readonly settled = new Set<string>();

  constructor(private readonly outcomeActorId: string) {}

  apply(recorded: RecordedEvent): AnswerSnapshot | undefined {
    const event = { type: recorded.type, data: recorded.data } as ConversationEvent;
    const at = recorded.metadata.occurredAt;
    switch (event.type) {
      case 'ConversationStarted':
        this.identity = {
          channel: event.data.channel,
          source: event.data.source,
          clientId: event.data.clientId,
        };
        return undefined;
      case 'ManagerReplied': {
        if (this.answers.has(event.data.messageId)) return undefined;
        const answer: AnswerSnapshot = {
          messageId: event.data.messageId,
          text: event.data.text,
          attachments: event.data.attachments,
          buttons: event.data.buttons ?? [],
          replyTo: event.data.replyTo ?? null,
          createdAt: at,
          recordedAt: recorded.recordedAt.toISOString(),
          editedAt: null,
          deletedAt: null,
          editCount: 0,
          status: 'received',
          ...(event.data.template ? { template: event.data.template } : {}),
          automatic: event.data.automatic?.reason ?? null,
        };
        this.answers.set(answer.messageId, answer);
        return answer;
      }
      case 'ManagerReplyEdited':
        return this.update(event.data.messageId, (a) => ({
          ...a,
          text: event.data.text,
          attachments: event.data.attachments,
          buttons: event.data.buttons ?? [],
          editedAt: at,
          editCount: a.editCount + 1,
        }));
      case 'ManagerReplyDeleted':
        return this.update(event.data.messageId, (a) => ({ ...a, deletedAt: a.deletedAt ?? at }));
      case 'ReplyDelivered':
        if (recorded.metadata.actor.id === this.outcomeActorId)
          this.settled.add(recorded.metadata.causationId);
        if (event.data.operation === 'send')
          this.update(event.data.messageId, (a) => ({ ...a, status: 'delivered' }));
        return undefined;
      case 'DeliveryFailed':
        if (event.data.permanent && recorded.metadata.actor.id === this.outcomeActorId)
          this.settled.add(recorded.metadata.causationId);
        if (event.data.operation === 'send' && event.data.permanent)
          this.update(event.data.messageId, (a) =>
            a.status === 'delivered' ? a : { ...a, status: 'failed' },
          );
        return undefined;
      default:
        return undefined;
    }
  }

  private update(
    messageId: string,
    change: (a: AnswerSnapshot) => AnswerSnapshot,
  ): AnswerSnapshot | undefined {
    const answer = this.answers.get(messageId);
    if (!answer) return undefined;
    const next = change(answer);
    this.answers.set(messageId, next);
    return next;
  }
}

export const messageResourceOf = (
  answer: AnswerSnapshot,
  externalId: string,
  options: { cursor?: number | null; publicUrl?: string } = {},
): WebhookMessageResource => ({
  id: answer.messageId,
  external_id: externalId,
  direction: 'outgoing',
  text: answer.text,
  attachments: attachmentResources(answer.messageId, answer.attachments, options.publicUrl),
  reply_to: answer.replyTo,
  status: answer.status,
  created_at: answer.createdAt,
  edited_at: answer.editedAt,
  deleted_at: answer.deletedAt,
  recorded_at: answer.recordedAt,
  cursor: options.cursor ?? null,
  buttons: answer.buttons.map((row) => row.map((b) => ({ text: b.text, url: b.url }))),
  ...(answer.automatic ? { automatic: answer.automatic } : {}),
  ...(answer.template ? { template: answer.template } : {}),
});
