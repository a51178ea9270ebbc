// Runs projections live: one instance at a time (session advisory locks, one per projection, held on
// the very connection that writes, so losing them means losing the ability to write), catch-up from
// the stored checkpoints, then live batches. The projections of one runner share each batch's
// transaction and one checkpoint statement; one that fails leaves the group and runs on its own, so
// it cannot hold the others up (docs/design.md, "Projections and rebuilds"). Another instance takes over from the
// checkpoints when this one dies. A swap by projections:rebuild is noticed and followed.
import { comparePositions, type EventLog, type LogPosition, startOfLog } from '../domain/event-log.ts';
import { type AppliedEvents, applyBatch, applyEvents, sendWrites } from './apply-batch.ts';
import {
  followWhileLeading,
  type Leader,
  type LeaderTerm,
  releaseLead,
  startLeaderLoop,
  tryLead,
} from './leader.ts';
import type { Projection } from './projection.ts';
import {
  activeGeneration,
  GENERATION_SWAPPED,
  type GenerationRow,
  moveActiveCheckpoints,
  movedRows,
  saveCheckpoints,
} from './registry.ts';
import {
  BEGIN_NOT_DURABLE,
  inTransaction,
  isConnectionFailure,
  type LeaderDatabase,
  type SqlDatabase,
  type SqlSession,
} from './sql.ts';

export interface RunnerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ProjectionRunnerOptions {
  readonly db: LeaderDatabase;
  readonly log: EventLog;
  /** Led together: each batch applies them all in one transaction. */
  readonly projections: readonly Projection[];
  readonly logger?: RunnerLogger;
  readonly batchSize?: number;
  /** How often a standby instance tries to take the locks. */
  readonly standbyRetryMs?: number;
  /** Called after each committed batch, per projection that applied events (metrics, tests). */
  readonly onBatch?: (info: {
    name: string;
    generation: number;
    events: number;
    position: LogPosition;
    /** What the projection told of the rows it wrote (BatchContext.written). */
    written: readonly unknown[];
  }) => void;
}

/** Resolves `leading` once this instance holds the locks (it may wait while another instance runs). */
export type ProjectionRunner = Leader;

const silent: RunnerLogger = { info() {}, warn() {}, error() {} };

class GenerationChanged extends Error {}

/** A projection's own apply threw: the batch is rolled back and that projection leaves the group. */
class ProjectionFailed extends Error {
  constructor(
    readonly projection: string,
    override readonly cause: unknown,
  ) {
    super(`projection ${projection} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export const lockKey = (name: string) => `topicdesk:projection:${name}`;

interface RunContext {
  readonly options: ProjectionRunnerOptions;
  readonly logger: RunnerLogger;
  /** The projections this group leads now (one that failed has left it). */
  readonly members: Projection[];
}

interface Member {
  readonly projection: Projection;
  row: GenerationRow;
  readonly memory: Map<string, unknown>;
}

/** The active generation of each projection, created when it has none. */
const activeRows = (s: LeaderTerm['session'], projections: readonly Projection[]) =>
  inTransaction(s, async () => {
    const rows: GenerationRow[] = [];
    for (const projection of projections) rows.push(await activeGeneration(s, projection));
    return rows;
  });

type ScriptSession = SqlSession & Required<Pick<SqlSession, 'script'>>;

const failedIn = (name: string, error: unknown, signal: AbortSignal) =>
  signal.aborted || isConnectionFailure(error) ? error : new ProjectionFailed(name, error);

/**
 * Whether a rebuild swapped one of these generations out: a batch that failed on it (its writes went
 * to tables dropped with it) follows the swap rather than counting as the projection's failure.
 */
const swappedOut = async (s: SqlSession, rows: readonly GenerationRow[]): Promise<boolean> => {
  const active = await s
    .query<{ name: string; generation: number }>(
      `SELECT name, generation FROM td_projections WHERE name = ANY ($1::text[]) AND status = 'active'`,
      [rows.map((r) => r.name)],
    )
    .then((r) => r.rows)
    .catch(() => undefined);
  return (
    active !== undefined &&
    rows.some((r) => !active.some((a) => a.name === r.name && a.generation === r.generation))
  );
};

/**
 * A batch's writes and checkpoint moves, one statement after another in one transaction. Each
 * checkpoint moves only while its generation is still active, and the update waits for a swap in
 * progress: a batch that loses the race is rolled back whole.
 */
const writeOneByOne = (s: SqlSession, applied: ReadonlyMap<string, AppliedEvents>, signal: AbortSignal) =>
  inTransaction(
    s,
    async () => {
      for (const [name, { writes }] of applied) {
        try {
          await sendWrites(s, writes);
        } catch (error) {
          throw failedIn(name, error, signal);
        }
      }
      const moves = [...applied.values()].map((a) => a.move);
      const saved = await saveCheckpoints(s, moves, { whileActive: true });
      if (saved.length < moves.length) throw new GenerationChanged();
      return saved;
    },
    // Lost in a crash, the batch is applied again from the checkpoint lost with it, to the same rows
    // and cursors: its commit need not wait for the disk.
    { durable: false },
  );

/**
 * The same in one round trip (docs/design.md, "Projections and rebuilds"). A write that fails does
 * not say whose it was: the batch is rolled back and written again one statement at a time, which names it.
 */
const writeInOneTrip = async (
  s: ScriptSession,
  rows: readonly GenerationRow[],
  applied: ReadonlyMap<string, AppliedEvents>,
  signal: AbortSignal,
  logger: RunnerLogger,
): Promise<GenerationRow[]> => {
  const moves = [...applied.values()].map((a) => a.move);
  const writes = [...applied.values()].flatMap((a) => a.writes);
  try {
    const results = await s.script([
      { text: BEGIN_NOT_DURABLE },
      ...writes,
      moveActiveCheckpoints(moves),
      { text: 'COMMIT' },
    ]);
    return movedRows(results[results.length - 2]!.rows);
  } catch (error) {
    await s.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: unknown }).code === GENERATION_SWAPPED) throw new GenerationChanged();
    if (signal.aborted || isConnectionFailure(error)) throw error;
    if (await swappedOut(s, rows)) throw new GenerationChanged();
    logger.warn(
      { err: error },
      'a batch written in one round trip failed; writing it one statement at a time',
    );
    return writeOneByOne(s, applied, signal);
  }
};

/** Follows the active generations from their checkpoints until the term ends or a rebuild swaps one. */
const runGenerations = async ({ options, logger, members: projections }: RunContext, term: LeaderTerm) => {
  const { log, batchSize = 1000 } = options;
  const { session: s, signal } = term;
  // Only this runner moves the active generations' checkpoints and counters (it holds the locks), so
  // its own copies of the rows stay true from one batch to the next.
  const rows = await activeRows(s, projections);
  const members: Member[] = projections.map((projection, i) => ({
    projection,
    row: rows[i]!,
    memory: new Map(),
  }));
  for (const { projection, row } of members) {
    if (row.version !== projection.version) {
      logger.warn(
        { projection: projection.name, stored: row.version, code: projection.version },
        'projection version changed: run projections:rebuild to build the new version beside the old one',
      );
    }
  }
  // From the checkpoint furthest behind: each projection skips what it has applied already.
  const from = members
    .map((m) => m.row.checkpoint ?? startOfLog)
    .reduce((a, b) => (comparePositions(a, b) <= 0 ? a : b));
  const subscription = log.subscribeAll({ from, batchSize }, async (batch) => {
    // Every read done first, outside a transaction: the batch takes a transaction id (and holds the
    // log's readers back) only when it writes, in one round trip where the port allows.
    const applied = new Map<string, AppliedEvents>();
    const rows = members.map((m) => m.row);
    let saved: GenerationRow[];
    try {
      for (const m of members) {
        try {
          const done = await applyEvents(s, m.projection, m.row, batch, m.memory, log);
          if (done) applied.set(m.projection.name, done);
        } catch (error) {
          throw failedIn(m.projection.name, error, signal);
        }
      }
      if (applied.size === 0) return;
      saved = s.script
        ? await writeInOneTrip(s as ScriptSession, rows, applied, signal, logger)
        : await writeOneByOne(s, applied, signal);
    } catch (error) {
      if (error instanceof ProjectionFailed && (await swappedOut(s, rows))) throw new GenerationChanged();
      throw error;
    }
    for (const row of saved) {
      members.find((m) => m.row.name === row.name)!.row = row;
      const { move, written } = applied.get(row.name)!;
      options.onBatch?.({
        name: row.name,
        generation: row.generation,
        events: move.applied,
        position: move.checkpoint,
        written,
      });
    }
  });
  await followWhileLeading(subscription, signal);
};

const runWhileLeading = async (ctx: RunContext, term: LeaderTerm) => {
  const names = ctx.members.map((p) => p.name);
  ctx.logger.info({ projections: names }, 'projections running on this instance');
  while (!term.signal.aborted) {
    try {
      await runGenerations(ctx, term);
    } catch (error) {
      if (!(error instanceof GenerationChanged)) throw error;
      ctx.logger.info({ projections: names }, 'a rebuilt generation was swapped in: following it');
    }
  }
};

export const startProjectionRunner = (options: ProjectionRunnerOptions): ProjectionRunner => {
  const { db, logger = silent, standbyRetryMs = 1000 } = options;
  const members = [...options.projections];
  const ctx: RunContext = { options, logger, members };
  const alone: ProjectionRunner[] = [];
  const group = startLeaderLoop({
    db,
    key: () => members.map((p) => lockKey(p.name)),
    standbyRetryMs,
    lead: (term) => runWhileLeading(ctx, term),
    onError: (err) => {
      const failed = err instanceof ProjectionFailed ? err : undefined;
      const index = members.findIndex((p) => p.name === failed?.projection);
      if (index < 0 || members.length === 1) {
        logger.error(
          { projections: members.map((p) => p.name), err: failed?.cause ?? err },
          'projection failed; retrying from its checkpoint',
        );
        return;
      }
      // The others go on together at once; the failing one retries from its checkpoint on its own.
      const [projection] = members.splice(index, 1);
      logger.error(
        { projection: projection!.name, err: failed!.cause },
        'projection failed; it runs on its own from now on, retrying from its checkpoint',
      );
      alone.push(startProjectionRunner({ ...options, projections: [projection!] }));
    },
  });
  return {
    leading: group.leading,
    isLeader: () => group.isLeader(),
    async stop() {
      await group.stop();
      await Promise.all(alone.map((r) => r.stop()));
    },
  };
};

/**
 * Brings a projection up to the log's head once, for a command run while the service is down.
 * When a running instance holds the projection, it is the one keeping it current: nothing to do.
 */
export const catchUpProjection = async (options: {
  readonly db: SqlDatabase;
  readonly log: EventLog;
  readonly projection: Projection;
  readonly batchSize?: number;
}): Promise<'caught-up' | 'held-elsewhere'> => {
  const { db, log, projection, batchSize = 1000 } = options;
  const s = await tryLead(db, lockKey(projection.name));
  if (!s) return 'held-elsewhere';
  try {
    const memory = new Map<string, unknown>();
    // Events committed behind an older, still open transaction are not readable yet: wait for them a
    // while rather than report a read model that misses them.
    const hiddenDeadline = Date.now() + 30_000;
    for (;;) {
      const { applied, from } = await inTransaction(s, async () => {
        const row = await activeGeneration(s, projection);
        const from = row.checkpoint ?? startOfLog;
        const batch = await log.readAll(from, batchSize);
        return {
          from,
          applied:
            batch.length === 0
              ? 0
              : Math.max(1, (await applyBatch(s, projection, row, batch, memory, log)).applied),
        };
      });
      if (applied > 0) continue;
      if (Date.now() > hiddenDeadline || !(await log.hasHidden?.(from))) return 'caught-up';
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await releaseLead(s);
  }
};
