// The webhook reactor: turns every manager answer, edit and deletion in a conversation of channel
// `external` into a queued delivery to that source's webhook (docs/design.md, "Webhooks to a source"). It
// only enqueues — the scheduler posts, retries and records the outcomes — so a receiver that is
// down never holds up the log's readers. Enqueuing is idempotent (the delivery id is derived from
// the message, the operation and the edit number), so a batch replayed after a crash queues nothing
// twice, and an event whose delivery the log shows settled is not queued again.
import type pg from 'pg';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationReader } from '../../domain/conversation-reader.ts';
import type { EventLog, RecordedEvent } from '../../domain/event-log.ts';
import { type ConversationEvent, conversationStream, type DeliveryOperation } from '../../domain/events.ts';
import type { SourceState } from '../../domain/source.ts';
import type { Reactor } from '../../projections/reactor-runner.ts';
import type { RunnerLogger } from '../../projections/runner.ts';
import { forEachConcurrently } from '../conversation-workers.ts';
import { byConversation, messagesOf } from '../reactor-kernel.ts';
import { settleAfter } from '../settle.ts';
import { readSource } from '../sources/sources.ts';
import { DELIVERIES_CHANNEL, deliveryIdOf, enqueueDeliveries, type NewDelivery } from './deliveries.ts';
import { AnswerFold, type ConversationIdentity, eventNameOf, messageResourceOf } from './message-resource.ts';
import { ratingRequestsOf } from './rating-requests.ts';

/** The actor id of the outcomes the webhook scheduler records. */
export const WEBHOOK_ACTOR_ID = 'webhooks';

export interface WebhookReactorOptions {
  readonly pool: pg.Pool;
  readonly log: EventLog;
  /** Time the queued deliveries are first due. Default: the system clock. */
  readonly now?: () => Date;
  /** Called after new deliveries were queued (the scheduler's wake-up in this process). */
  readonly onEnqueued?: () => void;
  /** Prefix of attachment URLs (PUBLIC_URL); relative URLs without it. */
  readonly publicUrl?: string;
  readonly logger?: RunnerLogger;
  /** The conversation reader (the state of the batch's conversations, their answers). */
  readonly reader: ConversationReader;
  /** Conversations read at once within a batch. Default 8. */
  readonly concurrency?: number;
  /**
   * How long after an answer was recorded the reactor waits for answers the manager wrote before it
   * (recorded later) before queuing them in the order they were written. Default 1000 ms.
   */
  readonly orderWaitMs?: number;
  /**
   * CSAT=on: each closing of an external conversation asks its client to rate it — recorded with
   * this handler, and queued as `conversation.rating_requested` (rating-requests.ts). Absent: off.
   */
  readonly ratings?: CommandHandler;
}

const operationOf: Partial<Record<ConversationEvent['type'], DeliveryOperation>> = {
  ManagerReplied: 'send',
  ManagerReplyEdited: 'edit',
  ManagerReplyDeleted: 'delete',
};

const groupOrderOf = (recorded: RecordedEvent): number =>
  Number((recorded.data as { groupMessage?: { messageId?: string } }).groupMessage?.messageId ?? 0);

/**
 * The scheduler posts a conversation's deliveries by `stream_revision`. Sends recorded one after the
 * other (no edit or deletion between them) swap their revisions so that they go in the order the
 * manager wrote them (their message ids in the support group); edits and deletions keep their places,
 * after the sends they change.
 */
const inWritingOrder = (
  found: ReadonlyArray<{ recorded: RecordedEvent; delivery: NewDelivery }>,
): NewDelivery[] => {
  const out = found.map((f) => f.delivery);
  for (let start = 0; start < found.length; ) {
    let end = start;
    while (end < found.length && found[end]!.delivery.operation === 'send') end++;
    if (end - start > 1) {
      const run = found.slice(start, end);
      const places = run.map((f) => f.delivery.stream_revision);
      const written = [...run].sort((a, b) => groupOrderOf(a.recorded) - groupOrderOf(b.recorded));
      written.forEach((f, i) => {
        out[start + run.indexOf(f)] = { ...f.delivery, stream_revision: places[i]! };
      });
    }
    start = Math.max(end, start + 1);
  }
  return out;
};

export const createWebhookReactor = (options: WebhookReactorOptions): Reactor => {
  const { pool, log, reader, now = () => new Date(), concurrency = 8, orderWaitMs = 1000 } = options;

  const deliveriesOf = async (
    conversationId: string,
    events: readonly RecordedEvent[],
    sourceOf: (code: string) => Promise<SourceState>,
    signal: AbortSignal,
  ): Promise<NewDelivery[]> => {
    const answers = messagesOf(events);
    const atLeast = Math.max(...events.map((e) => e.revision));
    const { state } = await reader.read(conversationId, { atLeast, messageIds: answers });
    if (state.channel !== 'external' || !state.source || state.clientId === undefined) return [];
    const identity: ConversationIdentity = {
      channel: state.channel,
      source: state.source,
      clientId: state.clientId,
    };
    const source = await sourceOf(identity.source);
    const closings = events.filter((e) => e.type === 'ConversationClosed');
    const requests =
      options.ratings && closings.length > 0
        ? await ratingRequestsOf(
            options.ratings,
            'webhooks',
            conversationId,
            closings,
            state,
            source,
            now().toISOString(),
          )
        : [];
    // A source without a webhook polls the API: nothing is posted to it.
    if (!source.webhookUrl) return [];
    if (!events.some((e) => operationOf[e.type as ConversationEvent['type']] !== undefined)) return requests;

    const wanted = new Set(events.map((e) => e.id));
    // Answers the manager wrote together are recorded in any order: let the burst settle, and queue
    // the answers recorded since with this batch's, in the order they were written.
    const firstSend = events.find((e) => e.type === 'ManagerReplied');
    const settled = firstSend ? await settleAfter(firstSend.recordedAt, orderWaitMs, signal) : false;
    const fold = new AnswerFold(WEBHOOK_ACTOR_ID);
    const found: Array<{ recorded: RecordedEvent; delivery: NewDelivery }> = [];
    const dueAt = now().toISOString();
    // The answers' histories: from the first one's recording on, not the whole conversation.
    const from = Math.min(
      events[0]!.revision,
      ...answers.map((id) => state.messages.get(id)?.recordedRevision ?? 0),
    );
    for (const recorded of await log.readStream(conversationStream(conversationId), { fromRevision: from })) {
      const answer = fold.apply(recorded);
      const operation = operationOf[recorded.type as ConversationEvent['type']];
      const later = settled && operation === 'send' && recorded.revision > firstSend!.revision;
      if (!answer || !operation || !(wanted.has(recorded.id) || later)) continue;
      const editNumber = operation === 'edit' ? answer.editCount : 0;
      const event = eventNameOf[operation];
      found.push({
        recorded,
        delivery: {
          delivery_id: deliveryIdOf(conversationId, answer.messageId, operation, editNumber),
          source: identity.source,
          conversation_id: conversationId,
          external_id: identity.clientId,
          message_id: answer.messageId,
          operation,
          edit_number: editNumber,
          event,
          event_id: recorded.id,
          correlation_id: recorded.metadata.correlationId,
          stream_revision: recorded.revision,
          payload: {
            event,
            source: identity.source,
            external_id: identity.clientId,
            message: messageResourceOf(answer, identity.clientId, {
              ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
            }),
          },
          next_attempt_at: dueAt,
        },
      });
    }
    // Settled in the log already (the queue row was removed by hand, the checkpoint reset): not again.
    const queued = inWritingOrder(found.filter((f) => !fold.settled.has(f.recorded.id)));
    return [...queued, ...requests].sort((a, b) => a.stream_revision - b.stream_revision);
  };

  return {
    name: 'webhooks',
    async handle(events, signal) {
      const conversations = [
        ...byConversation(
          events,
          (e) =>
            operationOf[e.type as ConversationEvent['type']] !== undefined ||
            (options.ratings !== undefined && e.type === 'ConversationClosed'),
        ),
      ];
      if (conversations.length === 0) return;
      const sources = new Map<string, Promise<SourceState>>();
      const sourceOf = (code: string) => {
        let s = sources.get(code);
        if (!s) {
          s = readSource(log, code);
          sources.set(code, s);
        }
        return s;
      };
      const results: NewDelivery[][] = [];
      await forEachConcurrently(
        conversations.map((c, i) => [i, c] as const),
        concurrency,
        signal,
        async ([i, [conversationId, own]]) => {
          results[i] = await deliveriesOf(conversationId, own, sourceOf, signal);
        },
      );
      // Stopped mid-batch: the runner keeps the checkpoint, the batch comes again.
      if (signal.aborted) return;
      const added = await enqueueDeliveries(pool, results.flat());
      if (added > 0) {
        options.logger?.info({ added }, 'webhook deliveries queued');
        await pool.query('SELECT pg_notify($1, $2)', [DELIVERIES_CHANNEL, String(added)]);
        options.onEnqueued?.();
      }
    },
  };
};
