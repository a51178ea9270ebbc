// One batch, one transaction: the read-model writes and the checkpoint move together, so a crash
// anywhere applies the batch wholly or not at all. The live runner applies several projections in
// one transaction and moves their checkpoints in one statement (docs/design.md, "Projections and rebuilds").
import {
  comparePositions,
  type EventLog,
  type LogPosition,
  type RecordedEvent,
} from '../domain/event-log.ts';
import type { BatchContext, Projection, QueuedWrite } from './projection.ts';
import { tableNamer } from './projection.ts';
import { type CheckpointMove, type GenerationRow, saveCheckpoints } from './registry.ts';
import type { SqlClient } from './sql.ts';

/** Where a projection reads a stream it no longer holds (BatchContext.readStream). */
export type StreamReader = Pick<EventLog, 'readStream'>;

/** Events at or before the checkpoint were applied already (a redelivery after a restart). */
export const after = (events: readonly RecordedEvent[], checkpoint: GenerationRow['checkpoint']) =>
  checkpoint ? events.filter((e) => comparePositions(e.position, checkpoint) > 0) : events;

export interface AppliedBatch {
  /** Events applied (those after the checkpoint). */
  readonly applied: number;
  /** The generation's row after the batch; undefined when `whileActive` found it swapped out. */
  readonly row: GenerationRow | undefined;
}

/** What applying a batch did to one projection: its queued writes, the checkpoint move, the rows it told of. */
export interface AppliedEvents {
  readonly writes: readonly QueuedWrite[];
  readonly move: CheckpointMove;
  readonly written: readonly unknown[];
}

/**
 * Applies the events after the generation's checkpoint: the projection reads what it needs and queues
 * its writes. Sending the writes (sendWrites) and the checkpoint move (undefined when no event was
 * new) is left to the caller, inside the same transaction.
 */
export const applyEvents = async (
  sql: SqlClient,
  projection: Projection,
  row: GenerationRow,
  events: readonly RecordedEvent[],
  memory: Map<string, unknown>,
  log: StreamReader,
): Promise<AppliedEvents | undefined> => {
  const fresh = after(events, row.checkpoint);
  if (fresh.length === 0) return undefined;
  const writes: QueuedWrite[] = [];
  const ctx: BatchContext = {
    t: tableNamer(row.generation),
    counter: row.counter,
    memory,
    written: [],
    write: (text, params) => writes.push(params === undefined ? { text } : { text, params }),
    readStream: (stream, fromRevision, maxCount) => log.readStream(stream, { fromRevision, maxCount }),
  };
  await projection.apply(sql, fresh, ctx);
  const checkpoint: LogPosition = fresh[fresh.length - 1]!.position;
  const { name, generation } = row;
  return {
    writes,
    move: { name, generation, checkpoint, applied: fresh.length, counter: ctx.counter },
    written: ctx.written,
  };
};

/** Sends a projection's queued writes in the order it queued them. */
export const sendWrites = async (sql: SqlClient, writes: readonly QueuedWrite[]): Promise<void> => {
  for (const w of writes) await sql.query(w.text, w.params);
};

/** One projection's batch: its events, its writes and its checkpoint (a rebuild, a catch-up). */
export const applyBatch = async (
  sql: SqlClient,
  projection: Projection,
  row: GenerationRow,
  events: readonly RecordedEvent[],
  memory: Map<string, unknown>,
  log: StreamReader,
  options: { readonly whileActive?: boolean } = {},
): Promise<AppliedBatch> => {
  const done = await applyEvents(sql, projection, row, events, memory, log);
  if (!done) return { applied: 0, row };
  await sendWrites(sql, done.writes);
  const [saved] = await saveCheckpoints(sql, [done.move], options);
  return { applied: done.move.applied, row: saved };
};
