// The checkpoints this process's projection runners commit, told to whoever waits on them in the same
// process (a POST waits for `messages` to list its message), so that they need not ask the database.
import type { LogPosition } from '../domain/event-log.ts';

export interface ProjectionProgress {
  committed(name: string, position: LogPosition): void;
  /** Calls `listener` after each batch of `name` committed here; returns a function that stops it. */
  on(name: string, listener: (position: LogPosition) => void): () => void;
}

export const createProjectionProgress = (): ProjectionProgress => {
  const listeners = new Map<string, Set<(position: LogPosition) => void>>();
  return {
    committed(name, position) {
      for (const listener of listeners.get(name) ?? []) listener(position);
    },
    on(name, listener) {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  };
};
