// What the webhook scheduler sends next, and when a failed delivery is tried again: pure rules, so
// the loop in scheduler.ts only reads the queue, applies them and sleeps.
import type { Busy, DeliveryRow } from './deliveries.ts';

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

export interface AfterFailure {
  /** Given up: the retry window is over, or the source has no webhook any more. */
  readonly permanent: boolean;
  /** When to try again (never past the end of the retry window); absent when given up. */
  readonly nextAttemptAt?: Date;
}

/** What follows failed attempt `attempt` of a delivery first tried at `first`, as of `at`. */
export const afterFailure = (
  attempt: number,
  first: Date,
  at: Date,
  hasWebhook: boolean,
  policy: RetryPolicy,
  random: () => number,
): AfterFailure => {
  const permanent = !hasWebhook || at.getTime() - first.getTime() >= policy.forMs;
  if (permanent) return { permanent };
  const next = Math.min(at.getTime() + backoffMs(attempt, policy, random), first.getTime() + policy.forMs);
  return { permanent, nextAttemptAt: new Date(next) };
};

/** How many deliveries may be in flight: in all, and to one source. */
export interface Concurrency {
  readonly total: number;
  readonly perSource: number;
}

/** A delivery being attempted. */
export interface InFlightDelivery {
  readonly conversationId: string;
  readonly source: string;
}

/** What the queue is read without: conversations with one in flight, sources at their cap. */
export const busyOf = (inflight: ReadonlyMap<string, InFlightDelivery>, concurrency: Concurrency): Busy => {
  const perSource = new Map<string, number>();
  for (const f of inflight.values()) perSource.set(f.source, (perSource.get(f.source) ?? 0) + 1);
  return {
    conversations: [...new Set([...inflight.values()].map((f) => f.conversationId))],
    sources: [...perSource].filter(([, n]) => n >= concurrency.perSource).map(([source]) => source),
  };
};

/**
 * Which of the due rows to start now, in their order: up to the free slots, at most `perSource`
 * per source counting those in flight, none already in flight.
 */
export const pickDeliveries = (
  due: readonly DeliveryRow[],
  inflight: ReadonlyMap<string, InFlightDelivery>,
  concurrency: Concurrency,
): DeliveryRow[] => {
  const perSource = new Map<string, number>();
  for (const f of inflight.values()) perSource.set(f.source, (perSource.get(f.source) ?? 0) + 1);
  const picked: DeliveryRow[] = [];
  for (const row of due) {
    if (inflight.size + picked.length >= concurrency.total) break;
    const bySource = perSource.get(row.source) ?? 0;
    if (bySource >= concurrency.perSource || inflight.has(row.delivery_id)) continue;
    perSource.set(row.source, bySource + 1);
    picked.push(row);
  }
  return picked;
};

/** What one look at the queue did. */
export interface Drained {
  readonly started: number;
  /** Nothing was in flight and nothing started. */
  readonly quiet: boolean;
  /** Something due was left waiting for a free slot (a finishing delivery wakes the loop). */
  readonly blocked: boolean;
}

/**
 * How long the loop may sleep after a drain that started nothing: until the next delivery falls due
 * (`nextDue`, null when nothing is pending), at most the poll interval.
 */
export const idleMs = (drained: Drained, nextDue: Date | null, now: Date, pollIntervalMs: number): number => {
  if (!nextDue) return pollIntervalMs;
  const ms = nextDue.getTime() - now.getTime();
  if (ms > 0) return Math.min(ms, pollIntervalMs);
  // Due already: it fell due while the queue was read (look again now), or it waits for a slot —
  // a finishing delivery wakes the loop; meanwhile look once a second for other sources' work.
  return drained.blocked ? Math.min(pollIntervalMs, 1000) : 0;
};
