// Wakes long polls (and the POST that waits for its message to be listed) when the messages read
// model moves on. The read model lives in the shared database and its projection may run on any
// instance, so the truth is the database: while someone waits, one cheap query per instance reads
// the highest cursor (`max(cursor)`, an index lookup) every `idleMs`, and every `fastMs` for a
// second after a hint that something was appended — a NOTIFY on the event log's channel (any
// instance's append) or a poke from this process. Waiters are woken together, whatever their number.
import pg from 'pg';
import { comparePositions, type LogPosition } from '../../domain/event-log.ts';
import type { ApiMessageRow } from './read-model.ts';

/** The rows a batch of the messages projection wrote, looked up by message (a source's own only). */
export type ListedRows = (
  source: string,
  conversationId: string,
  messageId: string,
) => ApiMessageRow | undefined;

/** A message a writer waits to see listed. */
export interface WantedRow {
  readonly source: string;
  readonly conversationId: string;
  readonly messageId: string;
}

export interface HeadWatcher {
  /** The highest cursor now in the read model (0 when empty). */
  head(): Promise<bigint>;
  /** The highest cursor this watcher has seen so far, without asking (-1 before the first look). */
  known(): bigint;
  /**
   * Resolves true once the read model holds a cursor above `after`, false when `timeoutMs` passes
   * or the signal aborts or the watcher stops.
   */
  waitBeyond(after: bigint, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /**
   * Resolves `applied` once the messages projection has applied the log up to `position` (its
   * checkpoint is there), not on timeout or stop. A write that knows where its event landed waits on
   * this, so it looks its row up once instead of on every move of the head; when the batch that
   * listed it was committed by this process, the `wanted` row comes with the answer and is not read.
   */
  waitApplied(
    position: LogPosition,
    timeoutMs: number,
    wanted?: WantedRow,
  ): Promise<{ readonly applied: boolean; readonly row?: ApiMessageRow | undefined }>;
  /** Something was appended here: look often for a while. */
  poke(): void;
  /** A row with this cursor was seen: waiters below it wake at once. */
  seen(cursor: bigint): void;
  stop(): Promise<void>;
}

export interface HeadWatcherOptions {
  readonly readHead: () => Promise<bigint>;
  /** The messages projection's checkpoint (null before its first batch); needed for waitApplied. */
  readonly readCheckpoint?: () => Promise<LogPosition | null>;
  /**
   * The messages projection's commits when its runner is in this process, with the rows each wrote:
   * waiters for a checkpoint are settled at once, and the registry is asked only when no report came
   * for a while (another instance leads it). Returns a function that stops the reports.
   */
  readonly committedHere?: (listener: (position: LogPosition, listed: ListedRows) => void) => () => void;
  /** LISTEN on this channel (the PostgreSQL event log's `td_events`) to hear other instances' appends. */
  readonly listen?: { readonly connectionString: string; readonly channel: string };
  readonly idleMs?: number;
  readonly fastMs?: number;
  readonly fastForMs?: number;
  readonly onError?: (error: unknown) => void;
}

interface Waiter {
  readonly after?: bigint;
  readonly applied?: LogPosition;
  readonly wanted?: WantedRow | undefined;
  readonly resolve: (beyond: boolean, row?: ApiMessageRow) => void;
}

export const createHeadWatcher = (options: HeadWatcherOptions): HeadWatcher => {
  const { readHead, idleMs = 50, fastMs = 10, fastForMs = 1000, onError = () => {} } = options;
  const waiters = new Set<Waiter>();
  let latest = -1n;
  let checkpoint: LogPosition | null = null;
  let stopped = false;
  let running = false;
  let fastUntil = 0;
  let wake: (() => void) | undefined;
  let listener: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let nextListenAttempt = 0;

  const reached = (w: Pick<Waiter, 'after' | 'applied'>) =>
    w.applied
      ? checkpoint !== null && comparePositions(checkpoint, w.applied) >= 0
      : w.after !== undefined && latest > w.after;
  const settle = (listed?: ListedRows) => {
    for (const w of waiters) {
      if (!reached(w)) continue;
      const { wanted } = w;
      w.resolve(true, wanted && listed?.(wanted.source, wanted.conversationId, wanted.messageId));
    }
  };
  const advance = (head: bigint) => {
    if (head > latest) latest = head;
    settle();
  };

  // A waiter registered before this batch committed and reached by it: the batch holds its event.
  const appliedUpTo = (position: LogPosition, listed?: ListedRows) => {
    if (checkpoint === null || comparePositions(position, checkpoint) > 0) checkpoint = position;
    settle(listed);
  };
  let toldAt = Number.NEGATIVE_INFINITY;
  const toldRecently = () => Date.now() - toldAt < fastForMs;
  const stopTelling = options.committedHere?.((position, listed) => {
    toldAt = Date.now();
    appliedUpTo(position, listed);
  });

  const poke = () => {
    fastUntil = Date.now() + fastForMs;
    wake?.();
  };

  const ensureListening = () => {
    const target = options.listen;
    if (!target || listener || connecting || stopped || Date.now() < nextListenAttempt) return;
    connecting = (async () => {
      const client = new pg.Client({ connectionString: target.connectionString });
      client.on('error', (error) => {
        onError(error);
        if (listener === client) listener = undefined;
        nextListenAttempt = Date.now() + 1000;
        void client.end().catch(() => undefined);
      });
      try {
        await client.connect();
        client.on('notification', poke);
        await client.query(`LISTEN ${pg.escapeIdentifier(target.channel)}`);
        if (stopped) await client.end();
        else listener = client;
      } catch (error) {
        onError(error);
        nextListenAttempt = Date.now() + 1000;
        await client.end().catch(() => undefined);
      }
    })().finally(() => {
      connecting = undefined;
    });
  };

  const loop = async () => {
    running = true;
    try {
      while (waiters.size > 0 && !stopped) {
        ensureListening();
        const list = [...waiters];
        const needHead = list.some((w) => w.after !== undefined);
        // While this process's own runner reports its commits, nobody needs to ask for them.
        const needCheckpoint = options.readCheckpoint && !toldRecently() && list.some((w) => w.applied);
        try {
          const [head, applied] = await Promise.all([
            needHead ? readHead() : undefined,
            needCheckpoint ? options.readCheckpoint?.() : undefined,
          ]);
          if (applied) appliedUpTo(applied);
          if (head !== undefined) advance(head);
        } catch (error) {
          onError(error);
        }
        if (waiters.size === 0 || stopped) break;
        const fast = Date.now() < fastUntil && (needHead || needCheckpoint);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, fast ? fastMs : idleMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      running = false;
    }
  };

  const wait = (
    target: { after: bigint } | { applied: LogPosition; wanted?: WantedRow | undefined },
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ applied: boolean; row?: ApiMessageRow | undefined }> =>
    new Promise((resolve) => {
      const done = (beyond: boolean, row?: ApiMessageRow) => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve({ applied: beyond, row });
      };
      const waiter: Waiter = { ...target, resolve: done };
      if (reached(waiter)) {
        resolve({ applied: true });
        return;
      }
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', onAbort);
      waiters.add(waiter);
      if (!running) void loop();
      else wake?.();
    });

  return {
    head: async () => {
      const head = await readHead();
      if (head > latest) latest = head;
      return head;
    },
    async waitBeyond(after, timeoutMs, signal) {
      if (stopped || signal?.aborted || timeoutMs <= 0) return latest > after;
      return (await wait({ after }, timeoutMs, signal)).applied;
    },
    async waitApplied(position, timeoutMs, wanted) {
      if (!options.readCheckpoint) return { applied: false };
      if (stopped || timeoutMs <= 0) return { applied: reached({ applied: position }) };
      return wait({ applied: position, wanted }, timeoutMs);
    },
    known: () => latest,
    poke,
    seen: advance,
    async stop() {
      stopped = true;
      stopTelling?.();
      for (const w of [...waiters]) w.resolve(false);
      wake?.();
      await connecting;
      await listener?.end().catch(() => undefined);
      listener = undefined;
    },
  };
};
