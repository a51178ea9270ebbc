// The webhook work queue: one row per delivery (an answer, an edit or a deletion to post to one
// source), filled by the webhook reactor and drained by the scheduler. The log stays the record of
// what happened (every outcome is an event); this table only remembers what is still to do and when,
// so that a failing receiver waits here instead of holding the reactor or other sources up.
import type pg from 'pg';
import type { DeliveryOperation } from '../../domain/events.ts';
import { namespaceOf, uuidv5 } from '../ids.ts';
import type { WebhookEventName, WebhookPayload } from './message-resource.ts';

/** What a queued delivery carries: an answer's operation, or a request to rate (no message; CSAT). */
export type QueuedOperation = DeliveryOperation | 'rating_request';

export const webhookDeliveriesMigration = {
  id: '004_webhook_deliveries',
  sql: `
CREATE TABLE td_webhook_deliveries (
  delivery_id      uuid PRIMARY KEY,
  seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  source           text NOT NULL,
  conversation_id  uuid NOT NULL,
  external_id      text NOT NULL,
  message_id       text NOT NULL,
  operation        text NOT NULL CHECK (operation IN ('send', 'edit', 'delete')),
  edit_number      integer NOT NULL DEFAULT 0,
  event            text NOT NULL,
  -- The log event that asked for this delivery: the outcomes' causation, and their order in the conversation.
  event_id         text NOT NULL,
  correlation_id   text NOT NULL,
  stream_revision  bigint NOT NULL,
  payload          jsonb NOT NULL,
  attempt          integer NOT NULL DEFAULT 0,
  first_attempt_at timestamptz,
  last_attempt_at  timestamptz,
  next_attempt_at  timestamptz NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'superseded')),
  last_error       text,
  last_status      integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX td_webhook_deliveries_due ON td_webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX td_webhook_deliveries_conversation ON td_webhook_deliveries (conversation_id, stream_revision)
  WHERE status = 'pending';
CREATE INDEX td_webhook_deliveries_source ON td_webhook_deliveries (source, seq) WHERE attempt > 0;
`,
  grants: (role: string) => `GRANT SELECT, INSERT, UPDATE, DELETE ON td_webhook_deliveries TO ${role}`,
};

/** The queue takes requests to rate too (docs/design.md, "Satisfaction (CSAT)"). */
export const webhookRatingRequestsMigration = {
  id: '008_webhook_rating_requests',
  sql: `
ALTER TABLE td_webhook_deliveries DROP CONSTRAINT IF EXISTS td_webhook_deliveries_operation_check;
ALTER TABLE td_webhook_deliveries ADD CONSTRAINT td_webhook_deliveries_operation_check
  CHECK (operation IN ('send', 'edit', 'delete', 'rating_request'));
`,
};

/** Channel the reactor notifies (after enqueuing) so a scheduler on another instance wakes at once. */
export const DELIVERIES_CHANNEL = 'td_webhook_deliveries';

/** Namespace of delivery ids. Fixed forever: a receiver de-duplicates on them. */
export const DELIVERY_ID_NAMESPACE = '6f1f9d2e-4f0b-5c7a-9d43-2b8e51a0c7e4';
const deliveryNamespace = namespaceOf(DELIVERY_ID_NAMESPACE);

/**
 * `X-Topicdesk-Delivery`: the same on every retry of one delivery, and the same if the log is
 * replayed. `editNumber` is the n-th edit for `edit`, 0 otherwise.
 */
export const deliveryIdOf = (
  conversationId: string,
  messageId: string,
  operation: QueuedOperation,
  editNumber = 0,
): string => uuidv5(`${conversationId}:${messageId}:${operation}:${editNumber}`, deliveryNamespace);

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'superseded';

export interface NewDelivery {
  readonly delivery_id: string;
  readonly source: string;
  readonly conversation_id: string;
  readonly external_id: string;
  /** The answer's id; a request to rate's id for `rating_request`. */
  readonly message_id: string;
  readonly operation: QueuedOperation;
  readonly edit_number: number;
  readonly event: WebhookEventName;
  readonly event_id: string;
  readonly correlation_id: string;
  readonly stream_revision: number;
  readonly payload: WebhookPayload;
  readonly next_attempt_at: string;
}

export interface DeliveryRow extends NewDelivery {
  readonly seq: string;
  readonly attempt: number;
  readonly first_attempt_at: Date | null;
  readonly last_attempt_at: Date | null;
  readonly status: DeliveryStatus;
  readonly last_error: string | null;
}

/** Adds deliveries; one already queued (a replayed batch) is left as it is. Returns how many were new. */
export const enqueueDeliveries = async (
  db: Pick<pg.Pool, 'query'>,
  deliveries: readonly NewDelivery[],
): Promise<number> => {
  if (deliveries.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO td_webhook_deliveries (delivery_id, source, conversation_id, external_id, message_id, operation,
       edit_number, event, event_id, correlation_id, stream_revision, payload, next_attempt_at)
     SELECT r.delivery_id, r.source, r.conversation_id, r.external_id, r.message_id, r.operation, r.edit_number,
       r.event, r.event_id, r.correlation_id, r.stream_revision, r.payload, r.next_attempt_at
     FROM jsonb_to_recordset($1::jsonb) AS r(delivery_id uuid, source text, conversation_id uuid, external_id text,
       message_id text, operation text, edit_number integer, event text, event_id text, correlation_id text,
       stream_revision bigint, payload jsonb, next_attempt_at timestamptz, n integer)
     ORDER BY r.n
     ON CONFLICT (delivery_id) DO NOTHING`,
    [JSON.stringify(deliveries.map((d, n) => ({ ...d, n })))],
  );
  return rowCount ?? 0;
};

const rowColumns = `delivery_id, seq::text AS seq, source, conversation_id, external_id, message_id, operation,
  edit_number, event, event_id, correlation_id, stream_revision::int AS stream_revision, payload,
  to_json(next_attempt_at)#>>'{}' AS next_attempt_at, attempt, first_attempt_at, last_attempt_at, status, last_error`;

/** What may not start now: conversations with a delivery in flight, sources with all theirs taken. */
export interface Busy {
  readonly conversations: readonly string[];
  readonly sources: readonly string[];
}

/**
 * Deliveries due at `now` that may go now: the earliest pending one of their conversation (order is
 * kept per conversation), outside what is busy, most overdue first. A source at its cap is left out
 * here, not after the LIMIT: its backlog would otherwise fill every page and hold other sources up.
 */
export const dueDeliveries = async (
  db: Pick<pg.Pool, 'query'>,
  now: Date,
  busy: Busy,
  limit: number,
): Promise<DeliveryRow[]> => {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${rowColumns} FROM td_webhook_deliveries d
     WHERE d.status = 'pending' AND d.next_attempt_at <= $1
       AND NOT (d.conversation_id = ANY ($2::uuid[])) AND NOT (d.source = ANY ($4::text[]))
       AND NOT EXISTS (SELECT 1 FROM td_webhook_deliveries e WHERE e.status = 'pending'
         AND e.conversation_id = d.conversation_id AND e.stream_revision < d.stream_revision)
     ORDER BY d.next_attempt_at, d.seq
     LIMIT $3`,
    [now, busy.conversations, limit, busy.sources],
  );
  return rows;
};

/**
 * When the next delivery that waits on nothing becomes due (null: nothing pending). Busy sources'
 * are left out: a delivery of theirs ending wakes the scheduler anyway.
 */
export const nextDueAt = async (db: Pick<pg.Pool, 'query'>, busy: Busy): Promise<Date | null> => {
  const { rows } = await db.query<{ at: Date | null }>(
    `SELECT min(d.next_attempt_at) AS at FROM td_webhook_deliveries d
     WHERE d.status = 'pending' AND NOT (d.conversation_id = ANY ($1::uuid[]))
       AND NOT (d.source = ANY ($2::text[]))
       AND NOT EXISTS (SELECT 1 FROM td_webhook_deliveries e WHERE e.status = 'pending'
         AND e.conversation_id = d.conversation_id AND e.stream_revision < d.stream_revision)`,
    [busy.conversations, busy.sources],
  );
  return rows[0]?.at ?? null;
};

/** Whether a later edit of the same answer is queued: this one need not be carried any more. */
export const laterEditQueued = async (db: Pick<pg.Pool, 'query'>, row: DeliveryRow): Promise<boolean> => {
  const { rowCount } = await db.query(
    `SELECT 1 FROM td_webhook_deliveries WHERE conversation_id = $1 AND message_id = $2 AND operation = 'edit'
       AND edit_number > $3 LIMIT 1`,
    [row.conversation_id, row.message_id, row.edit_number],
  );
  return (rowCount ?? 0) > 0;
};

export interface AttemptUpdate {
  readonly status: DeliveryStatus;
  readonly attempt: number;
  readonly attemptedAt: Date | null;
  readonly nextAttemptAt?: Date;
  readonly lastError?: string | null;
  readonly lastStatus?: number | null;
}

export const recordAttempt = async (
  db: Pick<pg.Pool, 'query'>,
  deliveryId: string,
  update: AttemptUpdate,
): Promise<void> => {
  await db.query(
    `UPDATE td_webhook_deliveries SET status = $2, attempt = $3,
       first_attempt_at = coalesce(first_attempt_at, $4), last_attempt_at = coalesce($4, last_attempt_at),
       next_attempt_at = coalesce($5, next_attempt_at),
       last_error = CASE WHEN $4::timestamptz IS NULL THEN last_error ELSE $6 END,
       last_status = CASE WHEN $4::timestamptz IS NULL THEN last_status ELSE $7::integer END, updated_at = now()
     WHERE delivery_id = $1`,
    [
      deliveryId,
      update.status,
      update.attempt,
      update.attemptedAt,
      update.nextAttemptAt ?? null,
      update.lastError ?? null,
      update.lastStatus ?? null,
    ],
  );
};

/** Puts a delivery off without counting an attempt (the log or the source could not be read). */
export const postpone = async (
  db: Pick<pg.Pool, 'query'>,
  deliveryId: string,
  until: Date,
): Promise<void> => {
  await db.query(
    `UPDATE td_webhook_deliveries SET next_attempt_at = $2, updated_at = now() WHERE delivery_id = $1 AND status = 'pending'`,
    [deliveryId, until],
  );
};

/** Fills the message's cursor into a queued payload once the read model has assigned it. */
export const fillCursor = async (db: Pick<pg.Pool, 'query'>, row: DeliveryRow): Promise<WebhookPayload> => {
  if (!('message' in row.payload) || row.payload.message.cursor !== null) return row.payload;
  let cursor: string | undefined;
  try {
    const { rows } = await db.query<{ cursor: string }>(
      'SELECT cursor::text AS cursor FROM rm_messages WHERE conversation_id = $1 AND message_id = $2',
      [row.conversation_id, row.message_id],
    );
    cursor = rows[0]?.cursor;
  } catch {
    return row.payload; // the read model is not there yet (first start, mid-migration)
  }
  if (cursor === undefined) return row.payload;
  const payload = { ...row.payload, message: { ...row.payload.message, cursor: Number(cursor) } };
  await db.query(
    `UPDATE td_webhook_deliveries SET payload = jsonb_set(payload, '{message,cursor}', to_jsonb($2::bigint))
     WHERE delivery_id = $1`,
    [row.delivery_id, cursor],
  );
  return payload;
};

export interface FailedDelivery {
  readonly delivery_id: string;
  readonly event: WebhookEventName;
  readonly message_id: string;
  readonly external_id: string;
  readonly attempts: number;
  readonly first_attempt_at: string | null;
  readonly last_attempt_at: string | null;
  /** When the next try is, for a delivery still being retried; null once it failed for good. */
  readonly next_attempt_at: string | null;
  readonly last_error: string | null;
  /** `failed`: given up (after 24 hours of retries); `retrying`: failed so far, tried again later. */
  readonly status: 'failed' | 'retrying';
}

export interface ListFailedOptions {
  /** 1–200; default 50. */
  readonly limit?: number;
  /** The last delivery_id of the previous page. */
  readonly after?: string;
  /** Include deliveries still being retried (default true); false lists only those given up. */
  readonly includeRetrying?: boolean;
}

/**
 * A source's failed webhook deliveries, oldest first, `limit` at a time; pass the last delivery_id
 * back as `after` for the next page. An unknown `after` starts from the beginning.
 */
export const listFailedDeliveries = async (
  pool: Pick<pg.Pool, 'query'>,
  sourceCode: string,
  options: ListFailedOptions = {},
): Promise<FailedDelivery[]> => {
  const limit = Math.min(200, Math.max(1, Math.trunc(options.limit ?? 50)));
  const after =
    options.after && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.after)
      ? options.after
      : null;
  const statuses = options.includeRetrying === false ? ['failed'] : ['failed', 'pending'];
  const { rows } = await pool.query<{
    delivery_id: string;
    event: WebhookEventName;
    message_id: string;
    external_id: string;
    attempt: number;
    first_attempt_at: Date | null;
    last_attempt_at: Date | null;
    next_attempt_at: Date;
    last_error: string | null;
    status: DeliveryStatus;
  }>(
    `SELECT delivery_id::text AS delivery_id, event, message_id, external_id, attempt, first_attempt_at,
       last_attempt_at, next_attempt_at, last_error, status
     FROM td_webhook_deliveries
     WHERE source = $1 AND attempt > 0 AND status = ANY ($2::text[])
       AND seq > coalesce((SELECT seq FROM td_webhook_deliveries WHERE delivery_id = $3::uuid AND source = $1), 0)
     ORDER BY seq
     LIMIT $4`,
    [sourceCode, statuses, after, limit],
  );
  return rows.map((r) => ({
    delivery_id: r.delivery_id,
    event: r.event,
    message_id: r.message_id,
    external_id: r.external_id,
    attempts: r.attempt,
    first_attempt_at: r.first_attempt_at?.toISOString() ?? null,
    last_attempt_at: r.last_attempt_at?.toISOString() ?? null,
    next_attempt_at: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    last_error: r.last_error,
    status: r.status === 'failed' ? 'failed' : 'retrying',
  }));
};
