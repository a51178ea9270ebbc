// The embedded default event log: one append-only PostgreSQL table (see migrations.ts).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { EventIdConflictError, WrongExpectedRevisionError } from '../../domain/errors.ts';
import type {
  AppendAnswer,
  AppendResult,
  EventLog,
  ExpectedRevision,
  LogPosition,
  NewEvent,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../../domain/event-log.ts';
import type { EventMetadata } from '../../domain/events.ts';
import { prepared } from './prepared.ts';

export interface PgEventLogOptions {
  readonly pool: pg.Pool;
  /** Used for the LISTEN connection of subscriptions (a pooled client cannot hold LISTEN). */
  readonly connectionString: string;
  /** Fallback poll when no notification arrives (a lost connection, a NOTIFY missed while reconnecting). */
  readonly pollIntervalMs?: number;
  /**
   * At the head, a busy subscription waits this long before its next read, so that what is appended
   * meanwhile comes in the same batch (one transaction for the projection, not several); woken after
   * a quiet spell at least this long, it reads at once. Default 3.
   */
  readonly batchLingerMs?: number;
}

interface EventRow {
  position: string;
  transaction_id: string;
  event_id: string;
  stream: string;
  revision: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

const columns = 'position, transaction_id, event_id, stream, revision, type, data, metadata, recorded_at';

const toRecorded = (r: EventRow): RecordedEvent => ({
  id: r.event_id,
  stream: r.stream,
  revision: Number(r.revision),
  position: { commit: BigInt(r.transaction_id), prepare: BigInt(r.position) },
  type: r.type,
  data: r.data,
  metadata: r.metadata,
  recordedAt: r.recorded_at,
});

/** The events as td_try_append and td_try_append_many take them: ids, types, data, metadata. */
const eventColumns = (events: readonly NewEvent[]) => [
  events.map((e) => e.id),
  events.map((e) => e.type),
  events.map((e) => JSON.stringify(e.data)),
  events.map((e) => JSON.stringify(e.metadata)),
];

const expectedCode = (e: ExpectedRevision): number => (e === 'any' ? -2 : e === 'no_stream' ? -1 : e);
const describeExpected = (e: ExpectedRevision): string => (typeof e === 'number' ? String(e) : e);

// Only transactions older than every transaction still running are read: one that took a low
// position but has not committed yet would otherwise be skipped for good by a reader that moved past it.
const readAllSql = `
SELECT ${columns} FROM td_events
WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id, position
LIMIT $3`;

// The subscription's read: the same order without the guard in the WHERE, each row saying whether
// it is below the horizon. Rows below it come first in this order, so the settled ones are a prefix
// of the page, and an unsettled row after them says events are held back — one query where a read
// and a second look for held-back events would be two on every idle turn.
const readTailSql = `
SELECT ${columns}, transaction_id < pg_snapshot_xmin(pg_current_snapshot()) AS settled FROM td_events
WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
ORDER BY transaction_id, position
LIMIT $3`;

// Anything committed after `position` that the last read did not return: held back by an older open
// transaction, or visible by now because that transaction ended between the read and this query (each
// has its own snapshot; asking only for events still held back would miss those and sleep a whole
// poll interval, their notification already spent).
const hiddenSql = `
SELECT EXISTS (
  SELECT 1 FROM td_events
  WHERE (transaction_id, position) > ($1::xid8, $2::bigint)) AS hidden`;

/** The NOTIFY after an append; its payload names the log that sent it (see `own` below). */
const notifySql = (tag: string) =>
  `BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_notify('td_events', ${pg.escapeLiteral(tag)}); COMMIT`;

const tryAppend = prepared(
  'try_append',
  'SELECT * FROM td_try_append($1, $2, $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])',
);
const tryAppendMany = prepared(
  'try_append_many',
  'SELECT * FROM td_try_append_many($1::text[], $2::bigint[], $3::int[], $4::uuid[], $5::text[], $6::jsonb[], $7::jsonb[])',
);
const readStreamQuery = prepared(
  'read_stream',
  `SELECT ${columns} FROM td_events WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
);
const readTailQuery = prepared('read_tail', readTailSql);
const hiddenQuery = prepared('hidden', hiddenSql);

const positionParams = (p: LogPosition) => [(p.commit < 0n ? 0n : p.commit).toString(), p.prepare.toString()];

interface Tail {
  readonly batch: readonly RecordedEvent[];
  /** Events after the batch are committed but held back by an older open transaction. */
  readonly hidden: boolean;
}

/** Settled pages kept for subscribers that read the same tail a moment later. */
const maxSharedPages = 8;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const createPgEventLog = (options: PgEventLogOptions): EventLog => {
  const { pool } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const batchLingerMs = options.batchLingerMs ?? 3;
  const subscriptions = new Set<Subscription>();
  const localWakers = new Set<() => void>();
  // This log's own appends wake its subscribers at once (announce): its NOTIFY coming back on the
  // LISTEN connection would only make every subscription read the same tail again.
  const tag = randomUUID();
  const own = (n: pg.Notification) => n.payload === tag;
  const notify = notifySql(tag);

  // Subscribers in this process wake at once; other instances hear one NOTIFY per round trip at
  // most, sent outside the append's transaction so appenders never queue behind the notify lock.
  let notifying: Promise<void> | undefined;
  let notifyAgain = false;
  let closed = false;
  const wakeSubscribers = () => {
    epoch++;
    for (const wake of localWakers) wake();
  };
  const announce = () => {
    wakeSubscribers();
    if (notifying) {
      notifyAgain = true;
      return;
    }
    notifying = (async () => {
      do {
        notifyAgain = false;
        // A notification is a wake-up call, not data: its commit need not wait for the disk.
        await pool.query(notify).catch(() => undefined);
      } while (notifyAgain && !closed);
      notifying = undefined;
    })();
  };

  // What td_try_append and td_try_append_many answer for one append (migrations.ts, 010).
  interface OutcomeRow {
    outcome: 'appended' | 'stored' | 'elsewhere' | 'conflict';
    next_revision: string | null;
    commit_id: string | null;
    last_position: string | null;
    detail: string | null;
  }
  // Where an append landed, as the append functions and td_stored_in_stream answer it.
  type Landing = Pick<OutcomeRow, 'next_revision' | 'commit_id' | 'last_position'>;
  const toResult = (row: Landing, stored: boolean): AppendResult => ({
    nextRevision: Number(row.next_revision),
    position: { commit: BigInt(row.commit_id!), prepare: BigInt(row.last_position!) },
    ...(stored ? { alreadyStored: true } : {}),
  });
  const answerOf = (row: OutcomeRow, stream: string, expected: ExpectedRevision): AppendAnswer => {
    switch (row.outcome) {
      case 'appended':
      case 'stored':
        return toResult(row, row.outcome === 'stored');
      case 'elsewhere':
        return new EventIdConflictError(stream, row.detail ?? '');
      case 'conflict':
        return new WrongExpectedRevisionError(stream, describeExpected(expected), row.detail ?? '');
    }
  };

  const append = async (
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> => {
    if (events.length === 0) throw new Error('append needs at least one event');
    const ids = events.map((e) => e.id);
    for (let attempt = 0; ; attempt++) {
      try {
        const { rows } = await pool.query<OutcomeRow>(
          tryAppend([stream, expectedCode(expected), ...eventColumns(events)]),
        );
        const answer = answerOf(rows[0]!, stream, expected);
        if (answer instanceof Error) throw answer;
        if (!answer.alreadyStored) announce();
        return answer;
      } catch (error) {
        const e = error as { code?: string; constraint?: string; message: string };
        if (e.code === '23505' && e.constraint === 'td_events_event_id_key') {
          // Stored before in this stream (a re-delivered update): success when all of it is there.
          const stored = await pool.query<Landing & { other_stream: string | null }>(
            'SELECT * FROM td_stored_in_stream($1, $2::uuid[])',
            [stream, ids],
          );
          const row = stored.rows[0];
          if (row?.other_stream) throw new EventIdConflictError(stream, row.other_stream);
          if (row) return toResult(row, true);
          throw new WrongExpectedRevisionError(
            stream,
            describeExpected(expected),
            'some of these events are stored already',
          );
        }
        if (e.code === '23505' && e.constraint === 'td_events_stream_revision_key') {
          // Another append took the revision between our check and our insert.
          if (expected === 'any' && attempt < 20) continue;
          throw new WrongExpectedRevisionError(stream, describeExpected(expected), 'moved on concurrently');
        }
        throw error;
      }
    }
  };

  // Several streams in one transaction (docs/design.md, "Appends shared by concurrent commands").
  const appendMany: NonNullable<EventLog['appendMany']> = async (requests) => {
    const { rows } = await pool.query<OutcomeRow & { request: number }>(
      tryAppendMany([
        requests.map((r) => r.stream),
        requests.map((r) => expectedCode(r.expected)),
        requests.map((r) => r.events.length),
        ...eventColumns(requests.flatMap((r) => r.events)),
      ]),
    );
    if (rows.some((r) => r.outcome === 'appended')) announce();
    const answers: AppendAnswer[] = [];
    for (const row of rows) {
      const r = requests[row.request - 1]!;
      answers[row.request - 1] = answerOf(row, r.stream, r.expected);
    }
    return answers;
  };

  const readStream: EventLog['readStream'] = async (stream, opts = {}) => {
    const { rows } = await pool.query<EventRow>(
      readStreamQuery([stream, opts.fromRevision ?? 0, opts.maxCount ?? null]),
    );
    return rows.map(toRecorded);
  };

  const readAll: EventLog['readAll'] = async (from, maxCount) => {
    const { rows } = await pool.query<EventRow>(readAllSql, [...positionParams(from), maxCount]);
    return rows.map(toRecorded);
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
  let epoch = 0;
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

  const hasHidden = async (after: LogPosition): Promise<boolean> =>
    (await pool.query<{ hidden: boolean }>(hiddenQuery(positionParams(after)))).rows[0]!.hidden;

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
    append,
    appendMany,
    readStream,
    readAll,
    subscribeAll,
    hasHidden,
    async headPosition() {
      const { rows } = await pool.query<{ transaction_id: string; position: string }>(
        `SELECT transaction_id, position FROM td_events
         WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY transaction_id DESC, position DESC LIMIT 1`,
      );
      const row = rows[0];
      return row ? { commit: BigInt(row.transaction_id), prepare: BigInt(row.position) } : null;
    },
    async ping() {
      await pool.query('SELECT 1 FROM td_events LIMIT 1');
    },
    async close() {
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.stop()));
      await notifying;
    },
  };
};
