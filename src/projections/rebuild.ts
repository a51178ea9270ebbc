// Zero-downtime rebuild: a new generation is built from position zero beside the one in service
// (bulk load first, indexes after), then swapped in by replacing the readers' views in the same
// transaction that retires the old generation. The live runner follows the swap on its next batch.
import type { EventLog } from '../domain/event-log.ts';
import { startOfLog } from '../domain/event-log.ts';
import { applyBatch } from './apply-batch.ts';
import { releaseLead, tryLead } from './leader.ts';
import type { Projection } from './projection.ts';
import { tableNamer } from './projection.ts';
import { createGeneration, dropGenerationTables, pointViews, readGeneration } from './registry.ts';
import { inTransaction, type SqlDatabase } from './sql.ts';

export interface RebuildProgress {
  readonly projection: string;
  readonly phase: 'loading' | 'indexing' | 'swapping' | 'done';
  readonly events: number;
  readonly total?: number;
  readonly eventsPerSecond: number;
}

export interface RebuildOptions {
  readonly db: SqlDatabase;
  readonly log: EventLog;
  readonly projection: Projection;
  readonly batchSize?: number;
  /** An estimate of the log's size, for the ETA. */
  readonly estimateTotal?: () => Promise<number | undefined>;
  readonly onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildResult {
  readonly generation: number;
  readonly previous?: number;
  readonly events: number;
  readonly ms: number;
}

export class RebuildInProgressError extends Error {
  override readonly name = 'RebuildInProgressError';
  readonly code = 'rebuild_in_progress';
}

export const rebuildLockKey = (name: string) => `topicdesk:rebuild:${name}`;

export const rebuildProjection = async (options: RebuildOptions): Promise<RebuildResult> => {
  const { db, log, projection, batchSize = 5000 } = options;
  const started = performance.now();
  const session = await tryLead(db, rebuildLockKey(projection.name));
  if (!session) throw new RebuildInProgressError(`a rebuild of ${projection.name} is already running`);
  let broken = true;
  try {
    const total = await options.estimateTotal?.();

    // A rebuild that died half-way left a building generation: start over.
    const generation = await inTransaction(session, async () => {
      const stale = await readGeneration(session, projection.name, { status: 'building' }, true);
      if (stale) {
        await dropGenerationTables(session, projection, stale.generation);
        await session.query(
          `UPDATE td_projections SET status = 'retired' WHERE name = $1 AND generation = $2`,
          [projection.name, stale.generation],
        );
      }
      return createGeneration(session, projection, 'building', false);
    });

    const memory = new Map<string, unknown>();
    let events = 0;
    const report = (phase: RebuildProgress['phase']) =>
      options.onProgress?.({
        projection: projection.name,
        phase,
        events,
        ...(total === undefined ? {} : { total }),
        eventsPerSecond: events / Math.max(0.001, (performance.now() - started) / 1000),
      });
    // At once: whoever watches knows the rebuild holds its lock and has a generation.
    report('loading');

    const catchUp = async () => {
      for (;;) {
        const row = (await readGeneration(session, projection.name, { generation }))!;
        const batch = await log.readAll(row.checkpoint ?? startOfLog, batchSize);
        if (batch.length === 0) return;
        events += (
          await inTransaction(session, () => applyBatch(session, projection, row, batch, memory, log))
        ).applied;
        report('loading');
      }
    };

    await catchUp();
    report('indexing');
    const indexes = projection.createIndexes(tableNamer(generation));
    if (indexes) await session.query(indexes);
    // VACUUM as well as ANALYZE: the tables are read at once after the swap, and a visibility map
    // set now lets index-only scans skip the heap (autovacuum would set it only some time later).
    await session.query(
      `VACUUM (ANALYZE) ${projection.tables.map((t) => tableNamer(generation)(t)).join(', ')}`,
    );
    await catchUp();

    report('swapping');
    const previous = await inTransaction(session, async () => {
      // Waits for the live runner's batch in flight, then holds it off until the views point here.
      const active = await readGeneration(session, projection.name, { status: 'active' }, true);
      for (;;) {
        const row = (await readGeneration(session, projection.name, { generation }, true))!;
        const batch = await log.readAll(row.checkpoint ?? startOfLog, batchSize);
        if (batch.length === 0) break;
        events += (await applyBatch(session, projection, row, batch, memory, log)).applied;
      }
      if (active) {
        await session.query(
          `UPDATE td_projections SET status = 'retired', updated_at = now() WHERE name = $1 AND generation = $2`,
          [projection.name, active.generation],
        );
      }
      await session.query(
        `UPDATE td_projections SET status = 'active', activated_at = now(), updated_at = now() WHERE name = $1 AND generation = $2`,
        [projection.name, generation],
      );
      await pointViews(session, projection, generation);
      return active?.generation;
    });
    if (previous !== undefined) await dropGenerationTables(session, projection, previous);
    report('done');
    broken = false;
    return { generation, previous, events, ms: performance.now() - started };
  } finally {
    await releaseLead(session, broken);
  }
};
