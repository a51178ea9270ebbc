// When the managers are reminded that a client waits (docs/design.md, "Reminders and the daily
// digest"): the rule, pure. How waiting time is counted (the wall clock, or working hours only) is
// the caller's `deadline`; what is recorded is ReminderSent, decided in conversation-decide.ts.
import type { ConversationCore } from './conversation-core.ts';

export interface ReminderPolicy {
  /** Waiting before the first reminder. */
  readonly afterMs: number;
  /** Waiting between one reminder and the next. */
  readonly repeatMs: number;
  /** Reminders of one wait at most. */
  readonly max: number;
}

/** Reminders recorded so far for the wait that began at `waitingSince`. */
export const remindersSent = (core: ConversationCore, waitingSince: string): number =>
  core.reminded?.waitingSince === waitingSince ? core.reminded.number : 0;

/** The reminder that comes next, and what it waits for. */
export interface NextReminder {
  readonly waitingSince: string;
  readonly number: number;
  /** The client must have waited this long since `waitingSince`… */
  readonly waitedMs: number;
  /** …and, after a first reminder, this long since the last one (`repeatMs` after `lastAt`). */
  readonly lastAt?: string;
  readonly repeatMs: number;
}

/**
 * The next reminder of this conversation; undefined when none is coming: nobody waits (answered,
 * closed, no topic to post in) or the wait had its `max` reminders.
 */
export const nextReminder = (core: ConversationCore, policy: ReminderPolicy): NextReminder | undefined => {
  const { waitingSince } = core;
  if (core.closed || !core.awaitingAnswer || waitingSince === undefined || core.topic === null)
    return undefined;
  const sent = remindersSent(core, waitingSince);
  if (sent >= policy.max) return undefined;
  const lastAt = sent > 0 ? core.reminded?.at : undefined;
  return {
    waitingSince,
    number: sent + 1,
    waitedMs: policy.afterMs + sent * policy.repeatMs,
    ...(lastAt !== undefined ? { lastAt } : {}),
    repeatMs: policy.repeatMs,
  };
};

/**
 * The instant `ms` of counted waiting after `from`: the wall clock's `from + ms`, or the working
 * hours' (undefined: support does not open for that long within the schedule's horizon).
 */
export type Deadline = (from: Date, ms: number) => Date | undefined;

export const wallClock: Deadline = (from, ms) => new Date(from.getTime() + ms);

/**
 * When `next` falls due: once the client waited its `waitedMs`, and no sooner than `repeatMs` after
 * the last reminder (a reminder posted late — the service was down — does not bring the next one
 * straight after it). Undefined: never, as the deadline counts.
 */
export const reminderDueAt = (next: NextReminder, deadline: Deadline): Date | undefined => {
  const waited = deadline(new Date(next.waitingSince), next.waitedMs);
  if (waited === undefined || next.lastAt === undefined) return waited;
  const spaced = deadline(new Date(next.lastAt), next.repeatMs);
  if (spaced === undefined) return undefined;
  return new Date(Math.max(spaced.getTime(), waited.getTime()));
};

/** The reminder due at `now`, if any. */
export const dueReminder = (
  core: ConversationCore,
  policy: ReminderPolicy,
  now: Date,
  deadline: Deadline = wallClock,
): NextReminder | undefined => {
  const next = nextReminder(core, policy);
  const at = next && reminderDueAt(next, deadline);
  return at !== undefined && at <= now ? next : undefined;
};
