// One batch, one transaction: the read-model writes and the checkpoint move together, so a crash
// anywhere applies the batch wholly or not at all.
import { comparePositions, type RecordedEvent } from '../domain/event-log.ts';
import type { BatchContext, Projection } from './projection.ts';
import { tableNamer } from './projection.ts';
import { type GenerationRow, saveCheckpoint } from './registry.ts';
import type { SqlClient } from './sql.ts';

/** Events at or before the checkpoint were applied already (a redelivery after a restart). */
export const after = (events: readonly RecordedEvent[], checkpoint: GenerationRow['checkpoint']) =>
  checkpoint ? events.filter((e) => comparePositions(e.position, checkpoint) > 0) : events;

export interface AppliedBatch {
  /** Events applied (those after the checkpoint). */
  readonly applied: number;
  /** The generation's row after the batch; undefined when `whileActive` found it swapped out. */
  readonly row: GenerationRow | undefined;
}

export const applyBatch = async (
  sql: SqlClient,
  projection: Projection,
  row: GenerationRow,
  events: readonly RecordedEvent[],
  memory: Map<string, unknown>,
  options: { readonly whileActive?: boolean } = {},
): Promise<AppliedBatch> => {
  const fresh = after(events, row.checkpoint);
  if (fresh.length === 0) return { applied: 0, row };
  const ctx: BatchContext = { t: tableNamer(row.generation), counter: row.counter, memory };
  await projection.apply(sql, fresh, ctx);
  const saved = await saveCheckpoint(
    sql,
    row.name,
    row.generation,
    fresh[fresh.length - 1]!.position,
    fresh.length,
    ctx.counter,
    options,
  );
  return { applied: fresh.length, row: saved };
};
