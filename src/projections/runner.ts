// Runs one projection live: one instance at a time (a session advisory lock, held on the very
// connection that writes, so losing the lock means losing the ability to write), catch-up from the
// stored checkpoint, then live batches. Another instance takes over from the checkpoint when this
// one dies. A swap by projections:rebuild is noticed and followed.
import { type EventLog, startOfLog } from '../domain/event-log.ts';
import { applyBatch } from './apply-batch.ts';
import type { Projection } from './projection.ts';
import { createGeneration, readGeneration } from './registry.ts';
import {
  inTransaction,
  lockedSession,
  releaseLockedSession,
  type SqlDatabase,
  type SqlSession,
} from './sql.ts';

export interface RunnerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ProjectionRunnerOptions {
  readonly db: SqlDatabase;
  readonly log: EventLog;
  readonly projection: Projection;
  readonly logger?: RunnerLogger;
  readonly batchSize?: number;
  /** How often a standby instance tries to take the lock. */
  readonly standbyRetryMs?: number;
  /** Called after each committed batch (metrics, tests). */
  readonly onBatch?: (info: { generation: number; events: number }) => void;
}

export interface ProjectionRunner {
  /** Resolves once this instance holds the lock (it may wait while another instance runs). */
  readonly leading: Promise<void>;
  isLeader(): boolean;
  stop(): Promise<void>;
}

const silent: RunnerLogger = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class GenerationChanged extends Error {}

export const lockKey = (name: string) => `topicdesk:projection:${name}`;

export const startProjectionRunner = (options: ProjectionRunnerOptions): ProjectionRunner => {
  const { db, log, projection, logger = silent, batchSize = 1000, standbyRetryMs = 1000 } = options;
  let stopped = false;
  let leader = false;
  let session: SqlSession | undefined;
  let stopCurrent: (() => Promise<void>) | undefined;
  let wakeStandby: (() => void) | undefined;
  let markLeading: () => void = () => {};
  const leading = new Promise<void>((resolve) => {
    markLeading = resolve;
  });

  const acquire = async (): Promise<SqlSession | undefined> => {
    while (!stopped) {
      const s = await lockedSession(db, lockKey(projection.name));
      if (s) return s;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, standbyRetryMs);
        wakeStandby = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return undefined;
  };

  const runGeneration = async (s: SqlSession): Promise<void> => {
    let row = await inTransaction(s, async () => {
      const active = await readGeneration(s, projection.name, { status: 'active' }, true);
      if (active) return active;
      await createGeneration(s, projection, 'active', true);
      return (await readGeneration(s, projection.name, { status: 'active' }))!;
    });
    markLeading(); // the generation exists: readers' views are in place
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
          const n = await applyBatch(s, projection, current, batch, memory);
          row = (await readGeneration(s, projection.name, { generation: row.generation }))!;
          return n;
        });
        if (applied > 0) options.onBatch?.({ generation: row.generation, events: applied });
      },
    );
    stopCurrent = () => subscription.stop();
    // stop() may have run while this generation was being set up, before there was anything to stop.
    if (stopped) await subscription.stop();
    try {
      await subscription.done;
    } finally {
      stopCurrent = undefined;
    }
  };

  const loop = async () => {
    while (!stopped) {
      try {
        session = await acquire();
        if (!session) return;
        leader = true;
        logger.info({ projection: projection.name }, 'projection running on this instance');
        while (!stopped) {
          try {
            await runGeneration(session);
          } catch (error) {
            if (!(error instanceof GenerationChanged)) throw error;
            logger.info({ projection: projection.name }, 'a rebuilt generation was swapped in: following it');
          }
        }
      } catch (error) {
        if (stopped) break;
        logger.error(
          { projection: projection.name, err: error },
          'projection failed; retrying from its checkpoint',
        );
        session?.release(true);
        session = undefined;
        leader = false;
        await sleep(1000);
      }
    }
  };

  const done = loop();
  return {
    leading,
    isLeader: () => leader,
    async stop() {
      stopped = true;
      wakeStandby?.();
      await stopCurrent?.();
      await done;
      if (session) {
        await releaseLockedSession(session);
        session = undefined;
      }
      leader = false;
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
  const s = await lockedSession(db, lockKey(projection.name));
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
    await releaseLockedSession(s);
  }
};
