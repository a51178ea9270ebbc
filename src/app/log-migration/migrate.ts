// log:migrate --to esdb, start to end (docs/design.md, "Moving the log to EventStoreDB"): with every
// leader lock held, copy what is left (resuming where a killed run stopped), verify both logs, then
// map the checkpoints and mark them EventStoreDB's in one transaction. Nothing moves a checkpoint
// until the copy verifies, so a failed or killed run leaves the app able to start on PostgreSQL.
import type pg from 'pg';
import { hasCheckpoints, readCheckpointLog } from '../../adapters/postgres/checkpoint-log.ts';
import type { EventLog } from '../../domain/event-log.ts';
import { applyMappedCheckpoints, type MappedCheckpoint, readCheckpoints } from './checkpoints.ts';
import { copyEvents, reconcile, TargetNotOursError } from './copy.ts';
import { holdLeaderLocks, leaderLockKeys } from './locks.ts';
import { type CopyProgress, loadProgress, startProgress } from './progress.ts';
import { type Verification, verifyCopy } from './verify.ts';

const TARGET = 'esdb';

export interface MigrateLogOptions {
  readonly pool: pg.Pool;
  readonly source: EventLog;
  readonly target: EventLog;
  /** The server's address without credentials (kept with the progress). */
  readonly address: string;
  /** Run although the app holds leader locks. */
  readonly force?: boolean;
  readonly pageSize?: number;
  readonly maxAppend?: number;
  readonly onStart?: (info: { total: number; copied: number; busy: readonly string[] }) => void;
  readonly onCopied?: (copied: number) => void;
  readonly onVerifyStart?: () => void;
  readonly onVerified?: (events: number) => void;
}

export interface MigrateLogResult {
  readonly total: number;
  /** Events this run appended (or found appended by a killed run). */
  readonly copiedNow: number;
  readonly copyMs: number;
  readonly verifyMs: number;
  readonly verification: Verification;
  /** Empty when an earlier run had finished already (nothing is mapped twice). */
  readonly checkpoints: readonly MappedCheckpoint[];
  readonly alreadyFinished: boolean;
  readonly busy: readonly string[];
}

export class VerificationFailedError extends Error {
  override readonly name = 'VerificationFailedError';
  readonly code = 'verification_failed';
}

const begin = async (o: MigrateLogOptions): Promise<CopyProgress> => {
  const saved = await loadProgress(o.pool, TARGET);
  if (saved) {
    if (saved.address !== o.address)
      throw new Error(
        `an unfinished copy into ${saved.address} exists; finish it with --eventstore-url pointing there (or DELETE FROM td_log_copy to start over into an empty server)`,
      );
    return saved;
  }
  if ((await readCheckpointLog(o.pool)) === 'esdb' && (await hasCheckpoints(o.pool)))
    throw new Error('the checkpoints belong to EventStoreDB already: there is nothing to migrate');
  if (await o.target.headPosition())
    throw new TargetNotOursError(
      `EventStoreDB at ${o.address} holds events already: log:migrate copies into an empty server only`,
    );
  return startProgress(o.pool, TARGET, o.address);
};

export const migrateLog = async (o: MigrateLogOptions): Promise<MigrateLogResult> => {
  const locks = await holdLeaderLocks(o.pool, await leaderLockKeys(o.pool), Boolean(o.force));
  try {
    const started = await begin(o);
    const { rows } = await o.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events');
    const total = Number(rows[0]!.n);
    o.onStart?.({ total, copied: started.copied, busy: locks.busy });
    const ctx = {
      db: o.pool,
      source: o.source,
      target: o.target,
      targetName: TARGET,
      ...(o.pageSize ? { pageSize: o.pageSize } : {}),
      ...(o.maxAppend ? { maxAppend: o.maxAppend } : {}),
      onProgress: (p: CopyProgress) => o.onCopied?.(p.copied),
    };
    const t0 = performance.now();
    let progress = started;
    if (!started.finishedAt) progress = await copyEvents(ctx, await reconcile(ctx, started));
    const copyMs = performance.now() - t0;
    const checkpoints = started.finishedAt ? [] : await readCheckpoints(o.pool);
    o.onVerifyStart?.();
    const t1 = performance.now();
    const verification = await verifyCopy(
      o.source,
      o.target,
      checkpoints.map((c) => c.position),
      {
        ...(o.pageSize ? { pageSize: o.pageSize } : {}),
        ...(o.onVerified ? { onProgress: o.onVerified } : {}),
      },
    );
    const base = {
      total,
      copiedNow: progress.copied - started.copied,
      copyMs,
      verifyMs: performance.now() - t1,
      verification,
      busy: locks.busy,
    };
    if (!verification.ok) {
      const counts = [...verification.countMismatches].slice(0, 5).map(([s, [a, b]]) => `${s}: ${a} vs ${b}`);
      throw new VerificationFailedError(
        `the copy does not match: PostgreSQL ${verification.source.events} events (sha256 ${verification.source.checksum}), ` +
          `EventStoreDB ${verification.target.events} (sha256 ${verification.target.checksum})` +
          (verification.firstDifference ? `; first difference at ${verification.firstDifference}` : '') +
          (counts.length > 0 ? `; counts differ in ${counts.join(', ')}` : '') +
          '. The checkpoints were left as they were (the app can still start on PostgreSQL)',
      );
    }
    if (started.finishedAt) return { ...base, checkpoints: [], alreadyFinished: true };
    const mapped = await applyMappedCheckpoints(o.pool, checkpoints, verification.mapped, TARGET);
    return { ...base, checkpoints: mapped, alreadyFinished: false };
  } finally {
    await locks.release();
  }
};
