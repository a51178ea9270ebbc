// projections:status — each projection's checkpoint, the log's head and the lag.
import type { EventLog } from '../domain/event-log.ts';
import { comparePositions, formatPosition, startOfLog } from '../domain/event-log.ts';
import { allProjections } from './index.ts';
import { listGenerations } from './registry.ts';
import type { SqlClient } from './sql.ts';

export interface ProjectionStatus {
  readonly name: string;
  readonly generation: number;
  readonly version: number;
  /**
   * The version this code builds (null for a projection it no longer has). Above `version` on the
   * active generation: the tables are an older build, and projections:rebuild brings the new one.
   */
  readonly codeVersion: number | null;
  readonly status: 'building' | 'active' | 'retired';
  readonly checkpoint: string | null;
  readonly head: string | null;
  readonly eventsApplied: number;
  /** Events in the log after the checkpoint (counted up to `lagLimit`). */
  readonly lag: number;
  readonly lagCapped: boolean;
  readonly updatedAt: string;
}

export const projectionStatus = async (
  sql: SqlClient,
  log: EventLog,
  lagLimit = 100_000,
): Promise<ProjectionStatus[]> => {
  const head = await log.headPosition();
  const out: ProjectionStatus[] = [];
  for (const g of await listGenerations(sql)) {
    let lag = 0;
    let from = g.checkpoint ?? startOfLog;
    if (head && comparePositions(from, head) < 0) {
      while (lag < lagLimit) {
        const batch = await log.readAll(from, Math.min(5000, lagLimit - lag));
        if (batch.length === 0) break;
        lag += batch.length;
        from = batch[batch.length - 1]!.position;
      }
    }
    out.push({
      name: g.name,
      generation: g.generation,
      version: g.version,
      codeVersion: allProjections.find((p) => p.name === g.name)?.version ?? null,
      status: g.status,
      checkpoint: g.checkpoint ? formatPosition(g.checkpoint) : null,
      head: head ? formatPosition(head) : null,
      eventsApplied: g.eventsApplied,
      lag,
      lagCapped: lag >= lagLimit,
      updatedAt: g.updatedAt.toISOString(),
    });
  }
  return out;
};
