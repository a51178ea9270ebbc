// getUpdates as Telegram serves it: updates wait until confirmed by a later offset, a negative
// offset keeps only the last -offset ones, `timeout` long-polls, a second poller terminates the
// first with 409, and allowed_updates is remembered between calls.
import type { Update } from 'grammy/types';
import { errors, type TelegramApiError } from './errors.ts';

const DEFAULT_EXCLUDED = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

const updateType = (u: Update) => Object.keys(u).find((k) => k !== 'update_id') ?? '';

interface Waiter {
  resolve: (updates: Update[]) => void;
  reject: (error: TelegramApiError) => void;
  timer: NodeJS.Timeout;
  limit: number;
}

export class UpdateQueue {
  private pending: Update[] = [];
  private waiter: Waiter | undefined;
  allowedUpdates: string[] | undefined;

  get size(): number {
    return this.pending.length;
  }

  snapshot(): Update[] {
    return structuredClone(this.pending);
  }

  push(update: Update): void {
    this.pending.push(structuredClone(update));
    this.pending.sort((a, b) => a.update_id - b.update_id);
    const w = this.waiter;
    if (w && this.visible(w.limit).length > 0) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(this.visible(w.limit));
    }
  }

  drop(): void {
    this.pending = [];
  }

  private visible(limit: number): Update[] {
    const allowed =
      this.allowedUpdates && this.allowedUpdates.length > 0 ? new Set(this.allowedUpdates) : undefined;
    return this.pending
      .filter((u) => (allowed ? allowed.has(updateType(u)) : !DEFAULT_EXCLUDED.has(updateType(u))))
      .slice(0, limit);
  }

  get(
    params: { offset?: number; limit?: number; timeout?: number; allowed_updates?: string[] },
    signal: AbortSignal,
  ): Promise<Update[]> {
    const { offset } = params;
    if (offset !== undefined && offset > 0) this.pending = this.pending.filter((u) => u.update_id >= offset);
    else if (offset !== undefined && offset < 0) this.pending = this.pending.slice(offset);
    if (params.allowed_updates) this.allowedUpdates = params.allowed_updates;
    const limit = Math.min(100, Math.max(1, params.limit ?? 100));
    const previous = this.waiter;
    if (previous) {
      this.waiter = undefined;
      clearTimeout(previous.timer);
      previous.reject(errors.otherGetUpdates());
    }
    const ready = this.visible(limit);
    const timeout = Math.max(0, params.timeout ?? 0);
    if (ready.length > 0 || timeout === 0) return Promise.resolve(structuredClone(ready));
    return new Promise<Update[]>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (u) => resolve(structuredClone(u)),
        reject,
        limit,
        timer: setTimeout(() => {
          if (this.waiter === waiter) this.waiter = undefined;
          resolve([]);
        }, timeout * 1000),
      };
      this.waiter = waiter;
      signal.addEventListener('abort', () => {
        if (this.waiter === waiter) {
          this.waiter = undefined;
          clearTimeout(waiter.timer);
          resolve([]);
        }
      });
    });
  }

  /** Answer a waiting long poll with nothing (used on close). */
  release(): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.resolve([]);
    }
  }
}
