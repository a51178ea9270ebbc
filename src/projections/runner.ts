// Runs one projection live: one instance at a time (a session advisory lock, held on the very
// connection that writes, so losing the lock means losing the ability to write), catch-up from the
// stored checkpoint, then live batches. Another instance takes over from the checkpoint when this
// one dies. A swap by projections:rebuild is noticed and followed.
import { type EventLog, type LogPosition, startOfLog } from '../domain/event-log.ts';
import { applyBatch } from './apply-batch.ts';
import {
  followWhileLeading,
  type Leader,
  type LeaderTerm,
  releaseLead,
  startLeaderLoop,
  tryLead,
} from './leader.ts';
import type { Projection } from './projection.ts';
import { createGeneration, readGeneration } from './registry.ts';
import { inTransaction, type LeaderDatabase, type SqlDatabase } from './sql.ts';

export interface RunnerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ProjectionRunnerOptions {
  readonly db: LeaderDatabase;
  readonly log: EventLog;
  readonly projection: Projection;
  readonly logger?: RunnerLogger;
  readonly batchSize?: number;
  /** How often a standby instance tries to take the lock. */
  readonly standbyRetryMs?: number;
  /** Called after each committed batch (metrics, tests). */
  readonly onBatch?: (info: { generation: number; events: number; position: LogPosition }) => void;
}

/** Resolves `leading` once this instance holds the lock (it may wait while another instance runs). */
export type ProjectionRunner = Leader;

const silent: RunnerLogger = { info() {}, warn() {}, error() {} };

class GenerationChanged extends Error {}

export const lockKey = (name: string) => `topicdesk:projection:${name}`;

interface RunContext {
  readonly options: ProjectionRunnerOptions;
  readonly logger: RunnerLogger;
}

/** Follows the active generation from its checkpoint until the term ends or a rebuild swaps it. */
const runGeneration = async ({ options, logger }: RunContext, { session: s, signal }: LeaderTerm) => {
  const { log, projection, batchSize = 1000 } = options;
  const row = await inTransaction(s, async () => {
    const active = await readGeneration(s, projection.name, { status: 'active' }, true);
    if (active) return active;
    await createGeneration(s, projection, 'active', true);
    return (await readGeneration(s, projection.name, { status: 'active' }))!;
  });
  if (row.version !== projection.version) {
    logger.warn(
      { projection: projection.name, stored: row.version, code: projection.version },
      'projection version changed: run projections:rebuild to build the new version beside the old one',
    );
  }
  const memory = new Map<string, unknown>();
  const subscription = log.subscribeAll(
    { from: row.checkpoint ?? { commit: -1n, prepare: -1n }, batchSize },
    async (batch) => {
      const applied = await inTransaction(s, async () => {
        // Locks the checkpoint row: a rebuild swapping generations waits for this batch, and
        // this batch waits for a swap in progress.
        const current = await readGeneration(s, projection.name, { status: 'active' }, true);
        if (!current || current.generation !== row.generation) throw new GenerationChanged();
        return applyBatch(s, projection, current, batch, memory);
      });
      // The checkpoint is now the batch's last event (applyBatch skips only events before it).
      if (applied > 0)
        options.onBatch?.({ generation: row.generation, events: applied, position: batch.at(-1)!.position });
    },
  );
  await followWhileLeading(subscription, signal);
};

const runWhileLeading = async (ctx: RunContext, term: LeaderTerm) => {
  const { projection } = ctx.options;
  ctx.logger.info({ projection: projection.name }, 'projection running on this instance');
  while (!term.signal.aborted) {
    try {
      await runGeneration(ctx, term);
    } catch (error) {
      if (!(error instanceof GenerationChanged)) throw error;
      ctx.logger.info({ projection: projection.name }, 'a rebuilt generation was swapped in: following it');
    }
  }
};

export const startProjectionRunner = (options: ProjectionRunnerOptions): ProjectionRunner => {
  const { db, projection, logger = silent, standbyRetryMs = 1000 } = options;
  const ctx: RunContext = { options, logger };
  return startLeaderLoop({
    db,
    key: lockKey(projection.name),
    standbyRetryMs,
    lead: (term) => runWhileLeading(ctx, term),
    onError: (err) =>
      logger.error({ projection: projection.name, err }, 'projection failed; retrying from its checkpoint'),
  });
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
        let row = await readGeneration(s, projection.name, { status: 'active' }, true);
        if (!row) {
          await createGeneration(s, projection, 'active', true);
          row = (await readGeneration(s, projection.name, { status: 'active' }, true))!;
        }
        const from = row.checkpoint ?? startOfLog;
        const batch = await log.readAll(from, batchSize);
        return {
          from,
          applied: batch.length === 0 ? 0 : Math.max(1, await applyBatch(s, projection, row, batch, memory)),
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
