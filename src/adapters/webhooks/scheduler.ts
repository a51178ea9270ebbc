// The webhook scheduler: drains td_webhook_deliveries. One instance at a time (a PostgreSQL advisory
// lock held on a connection that also LISTENs for new work); it wakes when the reactor queues work
// and when the earliest retry falls due. Deliveries run a few at a time, at most a few per source, and
// in order within a conversation: a later delivery waits while an earlier one of the same
// conversation is pending. Any 2xx is success; anything else is retried with exponential backoff
// for up to 24 hours after the first attempt, then given up. Each attempt resolves the URL's host
// and connects only to addresses the operator's policy allows (address-guard.ts); a refused
// address is a failed attempt like any other, and only the receiver's status code is recorded.
// Every outcome is an event (ReplyDelivered / DeliveryFailed) recorded with a command id derived
// from the delivery and the attempt, so an outcome reported twice is recorded once.
//
// Time comes from `now()`, so a test can run a day of retries in a second: move the clock, call
// `tick()`. Only the HTTP timeout is real time (it bounds real I/O).
import http from 'node:http';
import https from 'node:https';
import type pg from 'pg';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationCommand } from '../../domain/conversation-commands.ts';
import { DomainError } from '../../domain/errors.ts';
import type { EventLog } from '../../domain/event-log.ts';
import { type SourceState, signingSecrets } from '../../domain/source.ts';
import { type LeaderTerm, startLeaderLoop } from '../../projections/leader.ts';
import type { RunnerLogger } from '../../projections/runner.ts';
import { commandIdOf } from '../ids.ts';
import { createRedactor } from '../logging/redact.ts';
import { sqlDatabase } from '../postgres/sql.ts';
import { readSource } from '../sources/sources.ts';
import {
  checkWebhookTarget,
  type PrivateAddressPolicy,
  PUBLIC_ONLY,
  type Resolve,
  systemResolve,
  WebhookAddressError,
} from './address-guard.ts';
import {
  type AttemptUpdate,
  DELIVERIES_CHANNEL,
  type DeliveryRow,
  dueDeliveries,
  fillCursor,
  laterEditQueued,
  nextDueAt,
  postpone,
  recordAttempt,
} from './deliveries.ts';
import type { WebhookPayload } from './message-resource.ts';
import { pinnedPost } from './pinned-post.ts';
import { WEBHOOK_ACTOR_ID } from './reactor.ts';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
  TIMESTAMP_HEADER,
  USER_AGENT,
} from './signature.ts';

export interface WebhookOutcome {
  readonly source: string;
  /** delivered: a 2xx; retry: failed, tried again later; failed: given up. */
  readonly outcome: 'delivered' | 'retry' | 'failed';
  /** The receiver's HTTP status, when it answered. */
  readonly status?: number;
}

export interface RetryPolicy {
  /** Wait after the first failure; doubled after each next one. Default 10 s. */
  readonly initialMs: number;
  /** The longest wait between two attempts. Default 1 h. */
  readonly maxMs: number;
  /** How long after the first attempt a delivery is retried before it is given up. Default 24 h. */
  readonly forMs: number;
  /** Each wait is shortened by up to this fraction, at random, so retries do not come in waves. Default 0.2. */
  readonly jitter: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  initialMs: 10_000,
  maxMs: 3_600_000,
  forMs: 24 * 3_600_000,
  jitter: 0.2,
};

/** The wait after failed attempt `attempt` (1-based): initial·2^(attempt-1), capped, with jitter. */
export const backoffMs = (
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number => {
  const base = Math.min(policy.initialMs * 2 ** Math.max(0, attempt - 1), policy.maxMs);
  return Math.round(base * (1 - policy.jitter * Math.min(1, Math.max(0, random()))));
};

export interface WebhookSchedulerOptions {
  readonly pool: pg.Pool;
  readonly log: EventLog;
  readonly handler: CommandHandler;
  readonly logger?: RunnerLogger;
  /** The clock every schedule is computed with. Default: the system clock. */
  readonly now?: () => Date;
  /** How long a receiver has to answer (real time). Default 10 s. */
  readonly timeoutMs?: number;
  /** Deliveries in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Deliveries in flight at once to one source. Default half of `concurrency`. */
  readonly perSourceConcurrency?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Jitter's random source (0 ≤ x < 1). Default Math.random. */
  readonly random?: () => number;
  /** The longest idle sleep before looking at the queue again (missed notifications). Default 30 s. */
  readonly pollIntervalMs?: number;
  /** How often a standby instance tries to take the lock. Default 1 s. */
  readonly standbyRetryMs?: number;
  /** Metrics hook: one call per attempt's outcome. */
  readonly onOutcome?: (outcome: WebhookOutcome) => void;
  /** Non-public addresses a webhook may go to (WEBHOOK_ALLOW_PRIVATE). Default: none. */
  readonly allowPrivate?: PrivateAddressPolicy;
  /** Name resolution at send time. Default: the system's (dns.lookup). */
  readonly resolve?: Resolve;
}

export interface WebhookScheduler {
  /** Resolves once this instance holds the lock and drains the queue. */
  readonly leading: Promise<void>;
  isLeader(): boolean;
  /** Look at the queue now (new work was queued, the clock was moved). */
  wake(): void;
  /** Runs everything due at `now()` to completion, including deliveries that become possible on the way. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

interface PostResult {
  readonly ok: boolean;
  readonly status?: number;
  readonly reason: string;
  /** The request was cut short by stop(): no outcome to record. */
  readonly aborted?: boolean;
}

const silent: RunnerLogger = { info() {}, warn() {}, error() {} };

const errorText = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code ? `connection failed: ${code}` : `connection failed: ${error.message}`;
};

export const startWebhookScheduler = (options: WebhookSchedulerOptions): WebhookScheduler => {
  const {
    pool,
    log,
    handler,
    logger = silent,
    now = () => new Date(),
    timeoutMs = 10_000,
    concurrency = 8,
    random = Math.random,
    pollIntervalMs = 30_000,
    standbyRetryMs = 1000,
  } = options;
  const perSourceConcurrency = options.perSourceConcurrency ?? Math.max(1, Math.ceil(concurrency / 2));
  const allowPrivate = options.allowPrivate ?? PUBLIC_ONLY;
  const resolve = options.resolve ?? systemResolve;
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const stopping = new AbortController();
  const inflight = new Map<string, { conversationId: string; source: string; done: Promise<void> }>();

  // ---- waking and sleeping ------------------------------------------------------------------------
  let dirty = true;
  let interrupt: (() => void) | undefined;
  const wake = () => {
    dirty = true;
    interrupt?.();
  };
  /** Ends early at wake() and when the leadership term ends (stop, a lost lock connection). */
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (dirty || signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        if (interrupt === done) interrupt = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      interrupt = done;
      signal.addEventListener('abort', done);
    });

  // ---- one delivery -------------------------------------------------------------------------------
  /** The attempt, its reason scrubbed: a reason is logged and recorded in the log for good. */
  const post = async (
    source: SourceState & { webhookUrl: string },
    row: DeliveryRow,
    payload: WebhookPayload,
    at: Date,
  ): Promise<PostResult> => {
    const result = await attemptPost(source, row, payload, at);
    // A reason may quote a secret (a URL with credentials in it names its target in an error).
    return { ...result, reason: createRedactor(signingSecrets(source, at))(result.reason) };
  };

  const attemptPost = async (
    source: SourceState & { webhookUrl: string },
    row: DeliveryRow,
    payload: WebhookPayload,
    at: Date,
  ): Promise<PostResult> => {
    let target: Awaited<ReturnType<typeof checkWebhookTarget>>;
    try {
      // Resolved and checked now, at every attempt; the request connects only to what passed.
      target = await checkWebhookTarget(source.webhookUrl, allowPrivate, resolve);
    } catch (error) {
      if (!(error instanceof WebhookAddressError)) throw error;
      // The operator's log names the address; the source is told only that it was refused.
      logger.warn(
        { deliveryId: row.delivery_id, source: row.source, detail: error.message },
        'webhook refused: its address is not allowed',
      );
      return { ok: false, reason: `refused: ${error.publicReason}` };
    }
    const body = JSON.stringify(payload);
    const timestamp = Math.floor(at.getTime() / 1000);
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const answer = await pinnedPost(target, {
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': USER_AGENT,
          [SIGNATURE_HEADER]: signatureHeader(signingSecrets(source, at), timestamp, row.delivery_id, body),
          [TIMESTAMP_HEADER]: String(timestamp),
          [DELIVERY_HEADER]: row.delivery_id,
        },
        body,
        signal: AbortSignal.any([timeout, stopping.signal]),
        agents,
      });
      // Only the status is kept: what a receiver answers never reaches the source's failure list
      // (it could be an internal service's page). A redirect is a failure: a signed request is not
      // re-sent somewhere else.
      const ok = answer.status >= 200 && answer.status < 300;
      const redirect = answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed)' : '';
      return { ok, status: answer.status, reason: `HTTP ${answer.status}${redirect}` };
    } catch (error) {
      if (stopping.signal.aborted) return { ok: false, reason: 'stopped', aborted: true };
      if (timeout.aborted) return { ok: false, reason: `no answer within ${timeoutMs} ms` };
      return { ok: false, reason: errorText(error) };
    }
  };

  /** An edit overtaken by a later edit of the same answer: its outcome is not the message's any more. */
  const overtaken = async (row: DeliveryRow): Promise<boolean> => {
    if (row.operation !== 'edit') return false;
    const { state } = await handler.reader.read(row.conversation_id, {
      messageIds: [row.message_id],
      fresh: true,
    });
    return (state.messages.get(row.message_id)?.editCount ?? 0) > row.edit_number;
  };

  /** Records an outcome in the log; false when it was not recorded because a later edit overtook it. */
  const recordOutcome = async (
    row: DeliveryRow,
    command: ConversationCommand,
    step: string,
    at: Date,
  ): Promise<boolean> => {
    // The state keeps one outcome per operation, cleared by each edit: an older edit's outcome
    // recorded after a newer edit would stand for the newer one.
    if (await overtaken(row)) return false;
    try {
      await handler.execute(row.conversation_id, command, {
        commandId: commandIdOf('webhook', row.delivery_id, step),
        actor: { kind: 'system', id: WEBHOOK_ACTOR_ID },
        causationId: row.event_id,
        correlationId: row.correlation_id,
        occurredAt: at.toISOString(),
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      logger.warn(
        { err: error, deliveryId: row.delivery_id },
        'webhook outcome refused by the conversation; not recorded',
      );
    }
    return true;
  };

  const settle = async (row: DeliveryRow, update: AttemptUpdate, outcome?: WebhookOutcome) => {
    await recordAttempt(pool, row.delivery_id, update);
    if (outcome) options.onOutcome?.(outcome);
  };

  const attempt = async (row: DeliveryRow): Promise<void> => {
    const n = row.attempt + 1;
    const startedAt = now();
    const first = row.first_attempt_at ?? startedAt;
    if (row.operation === 'edit' && (await laterEditQueued(pool, row))) {
      // A later edit carries the whole message again: this one need not be sent at all.
      await settle(row, { status: 'superseded', attempt: row.attempt, attemptedAt: null });
      return;
    }
    // Read at every attempt: a webhook URL corrected while retries run is used at the next one.
    const source = await readSource(log, row.source);

    let result: PostResult;
    const webhookUrl = source.webhookUrl;
    if (!webhookUrl || !source.webhookSecret) {
      result = { ok: false, reason: 'the source has no webhook URL any more' };
    } else {
      const payload = await fillCursor(pool, row);
      result = await post({ ...source, webhookUrl }, row, payload, startedAt);
      if (result.aborted) return; // stopped mid-request: the next leader tries again
    }
    const at = now();
    const status = result.status !== undefined ? { status: result.status } : {};

    if (result.ok) {
      const recorded = await recordOutcome(
        row,
        { type: 'RecordDelivered', messageId: row.message_id, operation: row.operation },
        'delivered',
        at,
      );
      await settle(
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

    const permanent = !source.webhookUrl || at.getTime() - first.getTime() >= policy.forMs;
    const nextAttemptAt = permanent
      ? undefined
      : new Date(Math.min(at.getTime() + backoffMs(n, policy, random), first.getTime() + policy.forMs));
    const recorded = await recordOutcome(
      row,
      {
        type: 'RecordDeliveryFailed',
        messageId: row.message_id,
        operation: row.operation,
        reason: result.reason,
        permanent,
        attempt: n,
        ...(nextAttemptAt ? { nextAttemptAt: nextAttemptAt.toISOString() } : {}),
      },
      `attempt:${n}`,
      at,
    );
    logger.info(
      { deliveryId: row.delivery_id, source: row.source, attempt: n, permanent, reason: result.reason },
      permanent ? 'webhook delivery given up' : 'webhook delivery failed; will retry',
    );
    await settle(
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

  const start = (row: DeliveryRow) => {
    const done = attempt(row).catch(async (error: unknown) => {
      // The log or the database failed, not the receiver: try again soon, without counting an attempt.
      logger.error({ err: error, deliveryId: row.delivery_id }, 'webhook delivery could not be processed');
      await postpone(pool, row.delivery_id, new Date(now().getTime() + policy.initialMs)).catch(
        () => undefined,
      );
    });
    inflight.set(row.delivery_id, { conversationId: row.conversation_id, source: row.source, done });
    void done.finally(() => {
      inflight.delete(row.delivery_id);
      wake();
    });
  };

  const busyConversations = () => [...new Set([...inflight.values()].map((f) => f.conversationId))];

  // ---- draining -----------------------------------------------------------------------------------
  interface Drained {
    readonly started: number;
    /** Nothing was in flight and nothing started. */
    readonly quiet: boolean;
    /** Something due was left waiting for a free slot (a finishing delivery wakes the loop). */
    readonly blocked: boolean;
  }

  /** Starts what may start now. */
  const drainOnce = async (): Promise<Drained> => {
    if (!leadership.isLeader() || stopping.signal.aborted) return { started: 0, quiet: true, blocked: false };
    const free = concurrency - inflight.size;
    if (free <= 0) return { started: 0, quiet: false, blocked: true };
    const busy = busyConversations();
    const rows = await dueDeliveries(pool, now(), busy, free * 4);
    const perSource = new Map<string, number>();
    for (const f of inflight.values()) perSource.set(f.source, (perSource.get(f.source) ?? 0) + 1);
    let started = 0;
    for (const row of rows) {
      if (inflight.size >= concurrency || stopping.signal.aborted) break;
      const bySource = perSource.get(row.source) ?? 0;
      if (bySource >= perSourceConcurrency || inflight.has(row.delivery_id)) continue;
      perSource.set(row.source, bySource + 1);
      start(row);
      started += 1;
    }
    return { started, quiet: started === 0 && busy.length === 0, blocked: rows.length > started };
  };

  let mutex: Promise<unknown> = Promise.resolve();
  const drain = (): Promise<Drained> => {
    const run = mutex.then(drainOnce);
    mutex = run.catch(() => undefined);
    return run;
  };

  /** How long the loop may sleep after a drain: until the next delivery falls due, at most the poll interval. */
  const idleMs = async (drained: Drained): Promise<number> => {
    if (drained.started > 0) return 0;
    const at = await nextDueAt(pool, busyConversations());
    if (!at) return pollIntervalMs;
    const ms = at.getTime() - now().getTime();
    if (ms > 0) return Math.min(ms, pollIntervalMs);
    // Due already: it fell due while the queue was read (look again now), or it waits for a slot —
    // a finishing delivery wakes the loop; meanwhile look once a second for other sources' work.
    return drained.blocked ? Math.min(pollIntervalMs, 1000) : 0;
  };

  /** While leading: drain, sleep until woken or the next delivery falls due, again; in flight ends first. */
  const serve = async ({ signal }: LeaderTerm) => {
    while (!signal.aborted) {
      dirty = false;
      let wait: number;
      try {
        wait = await idleMs(await drain());
      } catch (error) {
        if (signal.aborted) break;
        logger.error({ err: error }, 'webhook scheduler could not read its queue; retrying');
        wait = standbyRetryMs;
      }
      await sleep(wait, signal);
    }
    await Promise.all([...inflight.values()].map((f) => f.done));
  };

  // One instance at a time; the lock's connection LISTENs for queued work.
  const leadership = startLeaderLoop({
    db: sqlDatabase(pool),
    key: 'topicdesk:webhooks:scheduler',
    standbyRetryMs,
    retryMs: standbyRetryMs,
    listen: { channel: DELIVERIES_CHANNEL, onNotify: wake },
    lead: serve,
    onError: (err, phase) =>
      logger.warn(
        { err },
        phase === 'standby'
          ? 'webhook scheduler could not reach the database'
          : 'webhook scheduler lost its database connection; standing by',
      ),
  });

  return {
    leading: leadership.leading,
    isLeader: () => leadership.isLeader(),
    wake,
    async tick() {
      await leadership.leading;
      // Done once a look at the queue with nothing in flight started nothing: a delivery that
      // finished while the queue was being read may have let the next one of its conversation go.
      for (;;) {
        const { quiet } = await drain();
        const pending = [...inflight.values()].map((f) => f.done);
        if (quiet && pending.length === 0) return;
        await Promise.all(pending);
      }
    },
    async stop() {
      stopping.abort();
      await leadership.stop();
      await Promise.all([...inflight.values()].map((f) => f.done));
      agents.http.destroy();
      agents.https.destroy();
    },
  };
};
