// Following the PostgreSQL log: the subscriptions of one log, their shared reads of the tail, the
// LISTEN connection that wakes them, and the linger that gathers a burst into one batch
// (docs/design.md, "The PostgreSQL event log").
import pg from 'pg';
import type { LogPosition, RecordedEvent, SubscribeOptions, Subscription } from '../../domain/event-log.ts';
import { columns, type EventRow, positionParams, toRecorded } from './pg-log-rows.ts';
import { prepared } from './prepared.ts';

// The subscription's read: the same order without the guard in the WHERE, each row saying whether
// it is below the horizon. Rows below it come first in this order, so the settled ones are a prefix
// of the page, and an unsettled row after them says events are held back — one query where a read
// and a second look for held-back events would be two on every idle turn.
const readTailSql = `
SELECT ${columns}, transaction_id < pg_snapshot_xmin(pg_current_snapshot()) AS settled FROM td_events
WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
ORDER BY transaction_id, position
LIMIT $3`;

const readTailQuery = prepared('read_tail', readTailSql);

interface Tail {
  readonly batch: readonly RecordedEvent[];
  /** Events after the batch are committed but held back by an older open transaction. */
  readonly hidden: boolean;
}

/** Settled pages kept for subscribers that read the same tail a moment later. */
const maxSharedPages = 8;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface PgFollowerOptions {
  readonly pool: pg.Pool;
  readonly connectionString: string;
  readonly pollIntervalMs: number;
  readonly batchLingerMs: number;
  /** The payload of this log's own NOTIFY: the subscriptions were woken at its append already. */
  readonly ownTag: string;
}

export interface PgFollower {
  /** Something was appended here: every subscription reads again. */
  readonly wake: () => void;
  readonly subscribeAll: (
    options: SubscribeOptions,
    handler: (batch: readonly RecordedEvent[]) => Promise<void>,
  ) => Subscription;
  /** Stops every subscription. */
  readonly close: () => Promise<void>;
}

export const createPgFollower = (options: PgFollowerOptions): PgFollower => {
  const { pool, pollIntervalMs, batchLingerMs, ownTag } = options;
  const subscriptions = new Set<Subscription>();
  const localWakers = new Set<() => void>();
  const own = (n: pg.Notification) => n.payload === ownTag;
  // Bumped by every wake-up: a page of the tail is shared only among reads since the same one.
  let epoch = 0;
  const wakeSubscribers = () => {
    epoch++;
    for (const wake of localWakers) wake();
  };

  const queryTail = async (from: LogPosition, maxCount: number): Promise<Tail> => {
    const { rows } = await pool.query<EventRow & { settled: boolean }>(
      readTailQuery([...positionParams(from), maxCount]),
    );
    const settled = rows.findIndex((r) => !r.settled);
    const batch = (settled < 0 ? rows : rows.slice(0, settled)).map(toRecorded);
    return { batch, hidden: settled >= 0 };
  };

  // The subscribers of one process (projections, reactors) mostly read the same tail from the same
  // position: one query serves them all (docs/design.md, "The PostgreSQL event log").
  interface SharedTail {
    readonly epoch: number;
    readonly tail: Promise<Tail>;
  }
  const tails = new Map<string, SharedTail>();
  const readTail = async (from: LogPosition, maxCount: number): Promise<Tail> => {
    const key = `${from.commit}:${from.prepare}`;
    let entry = tails.get(key);
    // Only a page read since the last wake-up is shared. An older one is still true but may be short:
    // a subscriber taking it would trail the others page by page, a batch per page.
    if (!entry || entry.epoch !== epoch) {
      const mine: SharedTail = { epoch, tail: queryTail(from, maxCount) };
      const forget = () => tails.get(key) === mine && tails.delete(key);
      // An empty page is joined only while it is being read: a subscriber that found events held back
      // looks again a few ms later with no wake-up in between, and must ask the server, not this page.
      mine.tail.then(({ batch }) => {
        if (batch.length === 0) forget();
      }, forget);
      tails.set(key, mine);
      while (tails.size > maxSharedPages) tails.delete(tails.keys().next().value!);
      entry = mine;
    }
    const { batch, hidden } = await entry.tail;
    return batch.length <= maxCount ? { batch, hidden } : { batch: batch.slice(0, maxCount), hidden: true };
  };

  // One LISTEN connection for all of this log's subscriptions (appends of other processes wake them
  // all), held while any subscription runs; the fallback poll covers a lost connection.
  let listening: { stop: () => void; done: Promise<void> } | undefined;
  const startListening = () => {
    if (listening) return;
    let stopped = false;
    // Ended only once connected: pg's end() during connect() leaves connect() unsettled for good,
    // and a subscription that stopped (or failed) that early then never finished stopping.
    let connected: pg.Client | undefined;
    const done = (async () => {
      while (!stopped) {
        const c = new pg.Client({ connectionString: options.connectionString });
        const lost = new Promise<void>((resolve) => {
          c.on('error', () => resolve());
          c.on('end', () => resolve());
        });
        try {
          await c.connect();
          connected = c;
          if (stopped) break;
          c.on('notification', (n) => {
            if (!own(n)) wakeSubscribers();
          });
          await c.query('LISTEN td_events');
          wakeSubscribers(); // anything appended while we were not listening
          await lost;
        } catch {
          // the fallback poll covers the gap; try to listen again shortly
        } finally {
          connected = undefined;
          await c.end().catch(() => undefined);
        }
        if (!stopped) await sleep(500);
      }
    })();
    listening = {
      done,
      stop: () => {
        stopped = true;
        void connected?.end().catch(() => undefined);
      },
    };
  };
  const stopListening = async () => {
    const current = listening;
    listening = undefined;
    current?.stop();
    await current?.done;
  };

  const subscribeAll = (
    { from, batchSize = 500 }: SubscribeOptions,
    handler: (batch: readonly RecordedEvent[]) => Promise<void>,
  ): Subscription => {
    let stopped = false;
    let wake: (() => void) | undefined;
    // Set by every nudge: one that comes while the loop is reading (no `wake` installed yet) must not
    // be lost, or the loop would sleep a whole poll interval with new events waiting.
    let nudged = false;
    const nudge = () => {
      epoch++;
      nudged = true;
      wake?.();
      wake = undefined;
    };
    localWakers.add(nudge);
    startListening();

    const loop = async () => {
      let position = from;
      let atHead = false; // catching up reads at once
      let lastRead = Number.NEGATIVE_INFINITY;
      // Busy, the next read lags a linger behind so a burst comes as one batch (docs/design.md).
      let linger = batchLingerMs;
      while (!stopped) {
        if (atHead && linger > 0) await sleep(linger);
        linger = batchLingerMs;
        lastRead = performance.now();
        nudged = false;
        const { batch, hidden } = await readTail(position, batchSize);
        atHead = batch.length < batchSize;
        if (batch.length > 0) {
          await handler(batch);
          position = batch[batch.length - 1]!.position;
          // A short page held all there was when it was read; what came since has woken us (nudged).
          if (!atHead || hidden || nudged) continue;
        }
        // Committed events held back by an older open transaction: look again soon rather than
        // waiting for a notification that already came.
        const waitMs = hidden ? 5 : pollIntervalMs;
        if (nudged) continue; // something was appended while we read: read again now
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        // Woken after a quiet spell (no read for a linger) it reads at once, and so does a look for
        // events held back, which gathers nothing by waiting longer.
        linger = hidden ? 0 : lastRead + batchLingerMs - performance.now();
      }
    };

    const done = loop().finally(async () => {
      stopped = true;
      localWakers.delete(nudge);
      if (localWakers.size === 0) await stopListening();
    });
    const subscription: Subscription = {
      done,
      async stop() {
        stopped = true;
        nudge();
        await done.catch(() => undefined);
        subscriptions.delete(subscription);
      },
    };
    subscriptions.add(subscription);
    return subscription;
  };

  return {
    wake: wakeSubscribers,
    subscribeAll,
    async close() {
      await Promise.all([...subscriptions].map((s) => s.stop()));
    },
  };
};
