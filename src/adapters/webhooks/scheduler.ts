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
//
// This file is the loop; what to send next is delivery-policy.ts, the sending post-delivery.ts,
// one attempt delivery-attempt.ts and recording its outcome delivery-outcomes.ts.
import type pg from 'pg';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { EventLog } from '../../domain/event-log.ts';
import { type Leader, type LeaderTerm, startLeaderLoop } from '../../projections/leader.ts';
import type { RunnerLogger } from '../../projections/runner.ts';
import { sqlDatabase } from '../postgres/sql.ts';
import { type PrivateAddressPolicy, PUBLIC_ONLY, type Resolve, systemResolve } from './address-guard.ts';
import { DELIVERIES_CHANNEL, type DeliveryRow, dueDeliveries, nextDueAt, postpone } from './deliveries.ts';
import { type AttemptContext, attemptDelivery, type DialectWebhook } from './delivery-attempt.ts';
import type { WebhookOutcome } from './delivery-outcomes.ts';
import {
  busyOf,
  type Concurrency,
  type Drained,
  defaultRetryPolicy,
  type InFlightDelivery,
  idleMs,
  pickDeliveries,
  type RetryPolicy,
} from './delivery-policy.ts';
import { type Agents, createAgents } from './post-delivery.ts';

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
  /** What a source speaking another dialect is posted (delivery-attempt.ts). */
  readonly dialect?: DialectWebhook;
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

/** The scheduler's running state: what each attempt is given, and the loop's own. */
interface Scheduler extends AttemptContext {
  readonly agents: Agents;
  readonly concurrency: Concurrency;
  readonly pollIntervalMs: number;
  readonly standbyRetryMs: number;
  readonly stopped: AbortController;
  readonly inflight: Map<string, InFlightDelivery & { readonly done: Promise<void> }>;
  /** Something may have changed since the loop last looked: the next sleep is skipped. */
  dirty: boolean;
  /** Ends the sleep in progress. */
  interrupt: (() => void) | undefined;
  /** Drains one at a time (the loop and tick() may both drain). */
  mutex: Promise<unknown>;
  /** Set once the leader loop is started (it is given `serve`, which needs this state). */
  leader: Leader | undefined;
}

const silent: RunnerLogger = { info() {}, warn() {}, error() {} };

export const SCHEDULER_LOCK_KEY = 'topicdesk:webhooks:scheduler';

export const startWebhookScheduler = (options: WebhookSchedulerOptions): WebhookScheduler => {
  const s = schedulerOf(options);
  // One instance at a time; the lock's connection LISTENs for queued work.
  const leader = startLeaderLoop({
    db: sqlDatabase(s.pool),
    key: SCHEDULER_LOCK_KEY,
    standbyRetryMs: s.standbyRetryMs,
    retryMs: s.standbyRetryMs,
    listen: { channel: DELIVERIES_CHANNEL, onNotify: () => wake(s) },
    lead: (term) => serve(s, term),
    onError: (err, phase) =>
      s.logger.warn(
        { err },
        phase === 'standby'
          ? 'webhook scheduler could not reach the database'
          : 'webhook scheduler lost its database connection; standing by',
      ),
  });
  s.leader = leader;
  return {
    leading: leader.leading,
    isLeader: () => leader.isLeader(),
    wake: () => wake(s),
    tick: () => tick(s),
    stop: () => stop(s),
  };
};

const schedulerOf = (options: WebhookSchedulerOptions): Scheduler => {
  const concurrency = options.concurrency ?? 8;
  const stopped = new AbortController();
  return {
    pool: options.pool,
    log: options.log,
    handler: options.handler,
    logger: options.logger ?? silent,
    onOutcome: options.onOutcome,
    now: options.now ?? (() => new Date()),
    random: options.random ?? Math.random,
    policy: { ...defaultRetryPolicy, ...options.retry },
    timeoutMs: options.timeoutMs ?? 10_000,
    allowPrivate: options.allowPrivate ?? PUBLIC_ONLY,
    resolve: options.resolve ?? systemResolve,
    ...(options.dialect ? { dialect: options.dialect } : {}),
    agents: createAgents(),
    stopping: stopped.signal,
    stopped,
    concurrency: {
      total: concurrency,
      perSource: options.perSourceConcurrency ?? Math.max(1, Math.ceil(concurrency / 2)),
    },
    pollIntervalMs: options.pollIntervalMs ?? 30_000,
    standbyRetryMs: options.standbyRetryMs ?? 1000,
    inflight: new Map(),
    dirty: true,
    interrupt: undefined,
    mutex: Promise.resolve(),
    leader: undefined,
  };
};

// ---- waking and sleeping --------------------------------------------------------------------------
const wake = (s: Scheduler) => {
  s.dirty = true;
  s.interrupt?.();
};

/** Ends early at wake() and when the leadership term ends (stop, a lost lock connection). */
const sleep = (s: Scheduler, ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (s.dirty || signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      if (s.interrupt === done) s.interrupt = undefined;
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    s.interrupt = done;
    signal.addEventListener('abort', done);
  });

// ---- deliveries in flight -------------------------------------------------------------------------
const start = (s: Scheduler, row: DeliveryRow) => {
  const done = attemptDelivery(s, row).catch(async (error: unknown) => {
    // The log or the database failed, not the receiver: try again soon, without counting an attempt.
    s.logger.error({ err: error, deliveryId: row.delivery_id }, 'webhook delivery could not be processed');
    await postpone(s.pool, row.delivery_id, new Date(s.now().getTime() + s.policy.initialMs)).catch(
      () => undefined,
    );
  });
  s.inflight.set(row.delivery_id, { conversationId: row.conversation_id, source: row.source, done });
  void done.finally(() => {
    s.inflight.delete(row.delivery_id);
    wake(s);
  });
};

const allDone = (s: Scheduler) => Promise.all([...s.inflight.values()].map((f) => f.done));

// ---- draining -------------------------------------------------------------------------------------
/** Starts what may start now. */
const drainOnce = async (s: Scheduler): Promise<Drained> => {
  if (!s.leader?.isLeader() || s.stopping.aborted) return { started: 0, quiet: true, blocked: false };
  const free = s.concurrency.total - s.inflight.size;
  if (free <= 0) return { started: 0, quiet: false, blocked: true };
  const busy = busyOf(s.inflight, s.concurrency);
  const rows = await dueDeliveries(s.pool, s.now(), busy, free * 4);
  const picked = s.stopping.aborted ? [] : pickDeliveries(rows, s.inflight, s.concurrency);
  for (const row of picked) start(s, row);
  const started = picked.length;
  return { started, quiet: started === 0 && busy.conversations.length === 0, blocked: rows.length > started };
};

const drain = (s: Scheduler): Promise<Drained> => {
  const run = s.mutex.then(() => drainOnce(s));
  s.mutex = run.catch(() => undefined);
  return run;
};

/** While leading: drain, sleep until woken or the next delivery falls due, again; in flight ends first. */
const serve = async (s: Scheduler, { signal }: LeaderTerm) => {
  while (!signal.aborted) {
    s.dirty = false;
    let wait: number;
    try {
      const drained = await drain(s);
      wait =
        drained.started > 0
          ? 0
          : idleMs(
              drained,
              await nextDueAt(s.pool, busyOf(s.inflight, s.concurrency)),
              s.now(),
              s.pollIntervalMs,
            );
    } catch (error) {
      if (signal.aborted) break;
      s.logger.error({ err: error }, 'webhook scheduler could not read its queue; retrying');
      wait = s.standbyRetryMs;
    }
    await sleep(s, wait, signal);
  }
  await allDone(s);
};

const tick = async (s: Scheduler) => {
  await s.leader?.leading;
  // Done once a look at the queue with nothing in flight started nothing: a delivery that
  // finished while the queue was being read may have let the next one of its conversation go.
  for (;;) {
    const { quiet } = await drain(s);
    const pending = [...s.inflight.values()].map((f) => f.done);
    if (quiet && pending.length === 0) return;
    await Promise.all(pending);
  }
};

const stop = async (s: Scheduler) => {
  s.stopped.abort();
  await s.leader?.stop();
  await allDone(s);
  s.agents.http.destroy();
  s.agents.https.destroy();
};
