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

export const applyBatch = async (
  sql: SqlClient,
  projection: Projection,
  row: GenerationRow,
  events: readonly RecordedEvent[],
  memory: Map<string, unknown>,
): Promise<number> => {
  const fresh = after(events, row.checkpoint);
  if (fresh.length === 0) return 0;
  const ctx: BatchContext = { t: tableNamer(row.generation), counter: row.counter, memory };
  await projection.apply(sql, fresh, ctx);
  await saveCheckpoint(
    sql,
    row.name,
    row.generation,
    fresh[fresh.length - 1]!.position,
    fresh.length,
    ctx.counter,
  );
  return fresh.length;
};
