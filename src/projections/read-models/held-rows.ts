// Conversations' rows a projection's runner holds between batches, so that a batch about conversations
// it touched lately reads nothing before it writes (docs/design.md, "Projections and rebuilds"). They
// live in the runner's memory for one run of its generation: a restart or a swapped generation starts
// with none, and a batch whose write fails ends the run.
import type { RecordedEvent } from '../../domain/event-log.ts';
import { conversationIdOfStream } from './rows.ts';

/**
 * The conversations a desk is working on. Held rows are replaced by every batch that touches them and
 * die old, which costs major garbage collections: 10,000 cost the whole process more than their reads.
 */
export const HELD_CONVERSATIONS = 1000;

/** The rows held under `key` in the runner's memory, the one touched longest ago first. */
export const heldRows = <T>(memory: Map<string, unknown>, key: string): Map<string, T> => {
  let held = memory.get(key) as Map<string, T> | undefined;
  if (!held) {
    held = new Map();
    memory.set(key, held);
  }
  return held;
};

/**
 * The conversations whose stream begins in this batch (their first event is in it): no batch before
 * wrote a row of theirs, since rows and checkpoint move together, so theirs are not looked up.
 */
export const begunIn = (events: readonly RecordedEvent[]): Set<string> => {
  const begun = new Set<string>();
  for (const e of events) {
    const id = e.revision === 0 ? conversationIdOfStream(e.stream) : undefined;
    if (id) begun.add(id);
  }
  return begun;
};

/** The rows of `ids`: the held ones, the others as `load` finds them, none for those `begun` here. */
export const rowsFor = async <T extends { readonly conversation_id: string }>(
  held: ReadonlyMap<string, T>,
  ids: Iterable<string>,
  begun: ReadonlySet<string>,
  load: (missing: readonly string[]) => Promise<readonly T[]>,
): Promise<Map<string, T>> => {
  const rows = new Map<string, T>();
  const missing: string[] = [];
  for (const id of ids) {
    const row = held.get(id);
    if (row) rows.set(id, row);
    else if (!begun.has(id)) missing.push(id);
  }
  if (missing.length > 0) for (const row of await load(missing)) rows.set(row.conversation_id, row);
  return rows;
};

/**
 * Holds `rows` as the ones touched last; past `max`, the ones touched longest ago go, each handed to
 * `letGo` first (to store what only memory has).
 */
export const hold = <T>(
  held: Map<string, T>,
  rows: Iterable<readonly [string, T]>,
  max: number = HELD_CONVERSATIONS,
  letGo?: (id: string, row: T) => void,
): void => {
  for (const [id, row] of rows) {
    held.delete(id);
    held.set(id, row);
  }
  for (const [id, row] of held) {
    if (held.size <= max) break;
    letGo?.(id, row);
    held.delete(id);
  }
};
