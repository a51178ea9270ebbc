// One attempt at one delivery, from the queue row to its recorded outcome: an edit a later edit
// makes unnecessary is dropped; otherwise the source is read afresh (a corrected URL is used at the
// next attempt), the payload posted, and success, a retry or giving up recorded.
import type { EventLog } from '../../domain/event-log.ts';
import type { SourceCompat } from '../../domain/source.ts';
import { readSource } from '../sources/sources.ts';
import { type DeliveryRow, fillCursor, laterEditQueued } from './deliveries.ts';
import { type OutcomeContext, recordOutcome, settle } from './delivery-outcomes.ts';
import { afterFailure, type RetryPolicy } from './delivery-policy.ts';
import type { WebhookPayload } from './message-resource.ts';
import { type PostContext, type PostResult, postDelivery } from './post-delivery.ts';

export interface AttemptContext extends PostContext, OutcomeContext {
  readonly log: EventLog;
  /** The clock every schedule is computed with. */
  readonly now: () => Date;
  readonly policy: RetryPolicy;
  /** Jitter's random source (0 ≤ x < 1). */
  readonly random: () => number;
  /** What a source speaking another dialect is posted instead (undefined: nothing); see below. */
  readonly dialect?: DialectWebhook;
}

/** The body in a source's dialect (the API's compat/webhook.ts, given by the composition root). */
export type DialectWebhook = (compat: SourceCompat, source: string, payload: WebhookPayload) => unknown;

export const attemptDelivery = async (ctx: AttemptContext, row: DeliveryRow): Promise<void> => {
  const n = row.attempt + 1;
  const startedAt = ctx.now();
  const first = row.first_attempt_at ?? startedAt;
  if (row.operation === 'edit' && (await laterEditQueued(ctx.pool, row))) {
    // A later edit carries the whole message again: this one need not be sent at all.
    await settle(ctx, row, { status: 'superseded', attempt: row.attempt, attemptedAt: null });
    return;
  }
  // Read at every attempt: a webhook URL corrected while retries run is used at the next one.
  const source = await readSource(ctx.log, row.source);

  let result: PostResult;
  const webhookUrl = source.webhookUrl;
  if (!webhookUrl || !source.webhookSecret) {
    result = { ok: false, reason: 'the source has no webhook URL any more' };
  } else {
    const payload = await fillCursor(ctx.pool, row);
    // A source speaking another dialect is posted its shape (docs/design.md, "Speaking tg-support-bot's dialect").
    const body = source.compat && ctx.dialect ? ctx.dialect(source.compat, row.source, payload) : payload;
    result =
      body === undefined
        ? { ok: true, reason: 'not part of the source dialect' }
        : await postDelivery(ctx, { ...source, webhookUrl }, row, body, startedAt);
    if (result.aborted) return; // stopped mid-request: the next leader tries again
  }
  const at = ctx.now();
  const status = result.status !== undefined ? { status: result.status } : {};

  // A request to rate is no message: its outcome is the queue row's alone (docs/design.md,
  // "Satisfaction (CSAT)"); an answer's is recorded in its conversation.
  const operation = row.operation === 'rating_request' ? undefined : row.operation;
  if (result.ok) {
    const recorded =
      operation === undefined ||
      (await recordOutcome(
        ctx,
        row,
        { type: 'RecordDelivered', messageId: row.message_id, operation },
        'delivered',
        at,
      ));
    await settle(
      ctx,
      row,
      {
        status: recorded ? 'delivered' : 'superseded',
        attempt: n,
        attemptedAt: startedAt,
        lastStatus: result.status ?? null,
      },
      { source: row.source, outcome: 'delivered', ...status },
    );
    return;
  }

  const { permanent, nextAttemptAt } = afterFailure(
    n,
    first,
    at,
    Boolean(source.webhookUrl),
    ctx.policy,
    ctx.random,
  );
  const recorded =
    operation === undefined ||
    (await recordOutcome(
      ctx,
      row,
      {
        type: 'RecordDeliveryFailed',
        messageId: row.message_id,
        operation,
        reason: result.reason,
        permanent,
        attempt: n,
        ...(nextAttemptAt ? { nextAttemptAt: nextAttemptAt.toISOString() } : {}),
      },
      `attempt:${n}`,
      at,
    ));
  ctx.logger.info(
    { deliveryId: row.delivery_id, source: row.source, attempt: n, permanent, reason: result.reason },
    permanent ? 'webhook delivery given up' : 'webhook delivery failed; will retry',
  );
  await settle(
    ctx,
    row,
    {
      status: !recorded ? 'superseded' : permanent ? 'failed' : 'pending',
      attempt: n,
      attemptedAt: startedAt,
      ...(nextAttemptAt ? { nextAttemptAt } : {}),
      lastError: result.reason,
      lastStatus: result.status ?? null,
    },
    { source: row.source, outcome: permanent ? 'failed' : 'retry', ...status },
  );
};
