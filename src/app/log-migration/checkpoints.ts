// The checkpoints log:migrate carries over: each reactor's and each projection generation's position
// in the PostgreSQL log, replaced by the EventStoreDB position of the last event at or before it
// (verify.ts finds them), so every reactor and projection goes on exactly after what it had handled.
import type pg from 'pg';
import { setCheckpointLog } from '../../adapters/postgres/checkpoint-log.ts';
import { formatPosition, type LogPosition } from '../../domain/event-log.ts';
import { inTransaction } from '../../projections/sql.ts';
import { finishProgress } from './progress.ts';

export interface Checkpoint {
  /** `reactor telegram`, `projection messages g3`. */
  readonly label: string;
  readonly table: 'td_reactors' | 'td_projections';
  readonly name: string;
  readonly generation?: number;
  readonly position: LogPosition;
}

export const readCheckpoints = async (db: Pick<pg.Pool, 'query'>): Promise<Checkpoint[]> => {
  const { rows } = await db.query<{
    kind: string;
    name: string;
    generation: number | null;
    c: string;
    p: string;
  }>(
    `SELECT 'reactor' AS kind, name, NULL::int AS generation, checkpoint_commit::text AS c, checkpoint_prepare::text AS p
       FROM td_reactors WHERE checkpoint_commit IS NOT NULL
     UNION ALL
     SELECT 'projection', name, generation, checkpoint_commit::text, checkpoint_prepare::text
       FROM td_projections WHERE checkpoint_commit IS NOT NULL AND status <> 'retired'
     ORDER BY 1, 2, 3`,
  );
  return rows.map((r) => ({
    label: r.kind === 'reactor' ? `reactor ${r.name}` : `projection ${r.name} g${r.generation}`,
    table: r.kind === 'reactor' ? 'td_reactors' : 'td_projections',
    name: r.name,
    ...(r.generation === null ? {} : { generation: r.generation }),
    position: { commit: BigInt(r.c), prepare: BigInt(r.p) },
  }));
};

export interface MappedCheckpoint extends Checkpoint {
  readonly to: LogPosition | null;
}

/**
 * In one transaction: every checkpoint moved to its EventStoreDB position, the checkpoints marked as
 * EventStoreDB's, and the copy finished. A checkpoint no copied event precedes goes back to the start.
 */
export const applyMappedCheckpoints = async (
  pool: pg.Pool,
  checkpoints: readonly Checkpoint[],
  mapped: ReadonlyMap<string, LogPosition | null>,
  targetName: string,
): Promise<MappedCheckpoint[]> => {
  const out = checkpoints.map((c) => {
    const to = mapped.get(formatPosition(c.position));
    if (to === undefined) throw new Error(`no EventStoreDB position found for ${c.label}`);
    return { ...c, to };
  });
  const client = await pool.connect();
  try {
    await inTransaction(client, async () => {
      for (const c of out) {
        const params = [c.name, c.to?.commit.toString() ?? null, c.to?.prepare.toString() ?? null];
        if (c.table === 'td_reactors')
          await client.query(
            'UPDATE td_reactors SET checkpoint_commit = $2, checkpoint_prepare = $3, updated_at = now() WHERE name = $1',
            params,
          );
        else
          await client.query(
            `UPDATE td_projections SET checkpoint_commit = $2, checkpoint_prepare = $3, updated_at = now()
              WHERE name = $1 AND generation = $4`,
            [...params, c.generation],
          );
      }
      await setCheckpointLog(client, 'esdb');
      await finishProgress(client, targetName);
    });
  } finally {
    client.release();
  }
  return out;
};
