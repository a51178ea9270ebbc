// A reactor's wait for a burst to settle: messages a sender wrote together reach topicdesk as
// concurrent deliveries and are recorded in any order within a moment of each other.
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits until `ms` after `recordedAt` (at most `ms`, none when that moment has passed: a reactor
 * catching up finds the burst recorded already). True when it waited, so the caller reads again.
 */
export const settleAfter = async (recordedAt: Date, ms: number, signal: AbortSignal): Promise<boolean> => {
  const left = Math.min(ms, recordedAt.getTime() + ms - Date.now());
  if (left <= 0) return false;
  await delay(left, undefined, { signal });
  return true;
};
