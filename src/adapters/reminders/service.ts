// Reminders and the daily digest, on one instance at a time (docs/design.md, "Reminders and the
// daily digest"): the leader loop (src/projections/leader.ts) under its own lock name runs a pass —
// the reminders due, then the digest if its hour has come — and sleeps until the next one falls due,
// at most `pollMs`. Time comes from `now()`, so a test moves a clock and calls tick().
import type pg from 'pg';
import type { CommandHandler } from '../../domain/command-handler.ts';
import type { ConversationReader } from '../../domain/conversation-reader.ts';
import type { EventLog } from '../../domain/event-log.ts';
import { type Deadline, type ReminderPolicy, wallClock } from '../../domain/reminders.ts';
import type { WorkingHours } from '../../domain/settings/hours.ts';
import { type Leader, startLeaderLoop } from '../../projections/leader.ts';
import type { Texts } from '../../texts/texts.ts';
import { sqlDatabase } from '../postgres/sql.ts';
import { type DigestContext, type DigestSchedule, postDigestIfDue } from './digest.ts';
import { type GroupPoster, type ReminderContext, remindDue } from './reminders.ts';
import { openDeadline } from './working-time.ts';

export const REMINDERS_LOCK_KEY = 'topicdesk:reminders';

export interface RemindersOptions {
  readonly pool: pg.Pool;
  readonly log: EventLog;
  readonly reader: ConversationReader;
  readonly handler: CommandHandler;
  readonly texts: Texts;
  readonly poster: GroupPoster;
  /** Reminders in topics; absent: none. */
  readonly reminders?: ReminderPolicy;
  /** The daily digest in General; absent: none. */
  readonly digest?: DigestSchedule;
  /** The working hours now (null: none set): waiting is counted inside them only. */
  readonly hours?: () => Promise<WorkingHours | null>;
  readonly logger: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Default: the system clock. */
  readonly now?: () => Date;
  /** The longest sleep between two passes. Default 60 s. */
  readonly pollMs?: number;
  /** How often a standby instance tries to take the lock. Default 1 s. */
  readonly standbyRetryMs?: number;
}

export interface Reminders {
  readonly leading: Promise<void>;
  isLeader(): boolean;
  /** Runs a pass now and resolves when it is done (tests: after moving the clock); waits while another instance leads. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export const startReminders = (options: RemindersOptions): Reminders => {
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? 60_000;
  const remindCtx: ReminderContext | undefined = options.reminders && {
    ...options,
    policy: options.reminders,
    memo: new Map(),
  };
  const digestCtx: DigestContext | undefined = options.digest && { ...options, schedule: options.digest };
  /** Callers of tick() waiting for the next pass to finish. */
  let waiting: Array<() => void> = [];
  let interrupt: (() => void) | undefined;
  let dirty = false;

  const wake = () => {
    dirty = true;
    interrupt?.();
  };

  const deadline = async (): Promise<Deadline> => {
    const hours = options.hours ? await options.hours() : null;
    return hours ? openDeadline(hours) : wallClock;
  };

  /** One pass; answers when the next one is due. */
  const pass = async (signal: AbortSignal): Promise<number> => {
    const next: number[] = [now().getTime() + pollMs];
    if (remindCtx) {
      const due = await remindDue(remindCtx, now, await deadline(), signal);
      if (due.posted > 0) options.logger.info({ posted: due.posted }, 'reminders posted');
      if (due.nextDueAt) next.push(due.nextDueAt.getTime());
    }
    if (digestCtx) {
      const digest = await postDigestIfDue(digestCtx, now, signal);
      if (digest.posted) options.logger.info({ day: digestCtx.postedOn }, 'daily digest posted');
      next.push(digest.nextAt.getTime());
    }
    return Math.min(...next);
  };

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (dirty || signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        interrupt = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(ms, pollMs)));
      interrupt = done;
      signal.addEventListener('abort', done);
    });

  const leader: Leader = startLeaderLoop({
    db: sqlDatabase(options.pool),
    key: REMINDERS_LOCK_KEY,
    ...(options.standbyRetryMs !== undefined
      ? { standbyRetryMs: options.standbyRetryMs, retryMs: options.standbyRetryMs }
      : {}),
    lead: async ({ signal }) => {
      while (!signal.aborted) {
        dirty = false;
        const served = waiting;
        waiting = [];
        let nextAt = now().getTime() + 1000;
        try {
          nextAt = await pass(signal);
        } catch (error) {
          // The database or the log failed, or a call was refused: the next pass tries again.
          if (!signal.aborted) options.logger.warn({ err: error }, 'reminders pass failed');
        } finally {
          for (const done of served) done();
        }
        await sleep(nextAt - now().getTime(), signal);
      }
    },
    onError: (err, phase) =>
      options.logger.warn(
        { err },
        phase === 'standby'
          ? 'reminders could not reach the database'
          : 'reminders lost the lead; standing by',
      ),
  });

  return {
    leading: leader.leading,
    isLeader: () => leader.isLeader(),
    tick: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        wake();
      }),
    async stop() {
      await leader.stop();
      for (const done of waiting) done();
      waiting = [];
    },
  };
};
