// The checkpoints this process's projection runners commit, told to whoever waits on them in the same
// process (a POST waits for `messages` to list its message), so that they need not ask the database.
import type { LogPosition } from '../domain/event-log.ts';

/** Called after a batch commits: where it left the projection, and the rows it told of (BatchContext.written). */
export type CommitListener = (position: LogPosition, written: readonly unknown[]) => void;

export interface ProjectionProgress {
  committed(name: string, position: LogPosition, written: readonly unknown[]): void;
  /** Calls `listener` after each batch of `name` committed here; returns a function that stops it. */
  on(name: string, listener: CommitListener): () => void;
}

export const createProjectionProgress = (): ProjectionProgress => {
  const listeners = new Map<string, Set<CommitListener>>();
  return {
    committed(name, position, written) {
      for (const listener of listeners.get(name) ?? []) listener(position, written);
    },
    on(name, listener) {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  };
};
