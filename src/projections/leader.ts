// One instance at a time: a named PostgreSQL session advisory lock, held on a connection of its own.
// The leader loop takes it, runs its work on that very connection while it holds it, and stands by
// (trying again every standbyRetryMs) while another instance does. Writes that go through the locked
// connection stop with the lock: a connection the server drops (an instance killed, PostgreSQL
// restarted, the backend terminated) ends the work at once and the loop stands by again.
// tryLead is the same lock taken once, for a one-off job (a rebuild, a catch-up) that refuses to run
// beside the leader.
import type { Subscription } from '../domain/event-log.ts';
import type { LeaderDatabase, LeaderSession, SqlSession } from './sql.ts';

/** One term of leadership, as the work sees it. */
export interface LeaderTerm {
  /** The connection holding the lock: writes that must stop when leadership ends go through it. */
  readonly session: LeaderSession;
  /** Aborts when the term ends: stop() was called or the connection was lost. */
  readonly signal: AbortSignal;
}

export interface LeaderOptions {
  readonly db: LeaderDatabase;
  /**
   * The lock's name (hashed by hashtext): one leader per name across every instance. A list (read
   * again at each attempt) is taken whole or not at all: a group of projections led together.
   */
  readonly key: string | (() => readonly string[]);
  /** Runs while leading, until the term's signal aborts; throwing ends the term (the lock is given up). */
  readonly lead: (term: LeaderTerm) => Promise<void>;
  /** How often a standby instance tries to take the lock. Default 1 s. */
  readonly standbyRetryMs?: number;
  /** The wait after a failure (the database unreachable, the work failed, the connection lost). Default 1 s. */
  readonly retryMs?: number;
  /** LISTENed on the locked connection before the work starts: its notifications reach the leader only. */
  readonly listen?: { readonly channel: string; readonly onNotify: () => void };
  /** Each failure while running: `standby` while taking the lock, `leading` once it was held. */
  readonly onError?: (error: unknown, phase: 'standby' | 'leading') => void;
}

export interface Leader {
  /** Resolves the first time this loop holds the lock (and listens): it may wait while another instance leads. */
  readonly leading: Promise<void>;
  isLeader(): boolean;
  /** Ends the work (its signal aborts) and waits for it, then gives the lock up; this loop never leads again. */
  stop(): Promise<void>;
}

/**
 * A session holding the session-level advisory lock `key` (or every lock of a list), or undefined
 * when another session holds it (one of them: the others taken are given back). A session whose lock
 * query failed is in an unknown state: it is discarded, not pooled.
 */
export const tryLead = async <S extends SqlSession>(
  db: { session(): Promise<S> },
  key: string | readonly string[],
): Promise<S | undefined> => {
  const s = await db.session();
  try {
    const { rows } = await s.query<{ ok: boolean }>(
      'SELECT bool_and(pg_try_advisory_lock(hashtext(k))) AS ok FROM unnest($1::text[]) AS k',
      [typeof key === 'string' ? [key] : key],
    );
    if (rows[0]?.ok) return s;
    if (typeof key !== 'string') await s.query('SELECT pg_advisory_unlock_all()');
  } catch (error) {
    s.release(true);
    throw error;
  }
  s.release();
  return undefined;
};

/** Gives the lock up and the session back to the pool, or discards a broken one. */
export const releaseLead = async (s: SqlSession, broken = false): Promise<void> => {
  await s.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
  s.release(broken);
};

/** Runs a subscription until the term ends; rejects as the subscription does (its handler threw). */
export const followWhileLeading = async (subscription: Subscription, signal: AbortSignal): Promise<void> => {
  const stop = () => void subscription.stop();
  signal.addEventListener('abort', stop);
  // The term may have ended while the subscription was being set up.
  if (signal.aborted) stop();
  try {
    await subscription.done;
  } finally {
    signal.removeEventListener('abort', stop);
  }
};

interface LoopContext {
  readonly options: LeaderOptions;
  /** Aborted by stop(): ends the current term and every wait. */
  readonly stopping: AbortSignal;
  leader: boolean;
  markLeading(): void;
}

/** A wait that ends early when `signal` aborts; its listener goes with it (a standby waits for long). */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });

/** The locked session (listening, if asked), or undefined once stopped; waits while another instance leads. */
const takeLock = async (ctx: LoopContext): Promise<LeaderSession | undefined> => {
  const { db, key, listen, standbyRetryMs = 1000, retryMs = 1000 } = ctx.options;
  while (!ctx.stopping.aborted) {
    let wait = standbyRetryMs;
    try {
      const s = await tryLead(db, typeof key === 'string' ? key : key());
      if (s) return await listening(s, listen);
    } catch (error) {
      if (ctx.stopping.aborted) break;
      ctx.options.onError?.(error, 'standby');
      wait = retryMs;
    }
    await pause(wait, ctx.stopping);
  }
  return undefined;
};

const listening = async (s: LeaderSession, listen: LeaderOptions['listen']): Promise<LeaderSession> => {
  if (!listen) return s;
  try {
    await s.listen(listen.channel, listen.onNotify);
    return s;
  } catch (error) {
    s.release(true);
    throw error;
  }
};

/** The clean end of a term: a pooled connection keeps no LISTEN and no lock. */
const stepDown = async (ctx: LoopContext, session: LeaderSession) => {
  if (ctx.options.listen) await session.query('UNLISTEN *').catch(() => undefined);
  await releaseLead(session);
};

/** One term: the work runs on the locked session until it is stopped, fails or loses the connection. */
const serve = async (ctx: LoopContext, session: LeaderSession): Promise<void> => {
  const lost = new AbortController();
  session.onLost((error) => lost.abort(error));
  const signal = AbortSignal.any([ctx.stopping, lost.signal]);
  if (signal.aborted) return stepDown(ctx, session); // stopped while taking the lock
  ctx.leader = true;
  ctx.markLeading();
  let failure: unknown;
  try {
    await ctx.options.lead({ session, signal });
  } catch (error) {
    failure = error;
  } finally {
    ctx.leader = false;
  }
  // A lost connection is the cause of whatever the work then threw.
  const error = lost.signal.aborted ? lost.signal.reason : failure;
  if (error === undefined) return stepDown(ctx, session);
  // A failed connection is discarded; a live one gives its lock up first, so that stop() ends with
  // the lock free (a discarded connection's lock goes only when the server notices).
  if (lost.signal.aborted) session.release(true);
  else await releaseLead(session, true);
  if (!ctx.stopping.aborted) ctx.options.onError?.(error, 'leading');
};

const run = async (ctx: LoopContext): Promise<void> => {
  while (!ctx.stopping.aborted) {
    const session = await takeLock(ctx);
    if (!session) return;
    await serve(ctx, session);
    await pause(ctx.options.retryMs ?? 1000, ctx.stopping);
  }
};

export const startLeaderLoop = (options: LeaderOptions): Leader => {
  const stopping = new AbortController();
  let markLeading = () => {};
  const leading = new Promise<void>((resolve) => {
    markLeading = resolve;
  });
  const ctx: LoopContext = { options, stopping: stopping.signal, leader: false, markLeading };
  const done = run(ctx);
  return {
    leading,
    isLeader: () => ctx.leader,
    async stop() {
      stopping.abort();
      await done;
    },
  };
};
