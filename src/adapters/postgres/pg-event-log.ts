// The embedded default event log: one append-only PostgreSQL table (see migrations.ts) — its appends,
// reads and the NOTIFY after an append. Subscriptions follow it in pg-log-follow.ts.
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
} from '../../domain/event-log.ts';
import { createPgFollower } from './pg-log-follow.ts';
import { columns, type EventRow, positionParams, toRecorded } from './pg-log-rows.ts';
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

// Anything committed after `position` that the last read did not return: held back by an older open
// transaction, or visible by now because that transaction ended between the read and this query (each
// has its own snapshot; asking only for events still held back would miss those and sleep a whole
// poll interval, their notification already spent).
const hiddenSql = `
SELECT EXISTS (
  SELECT 1 FROM td_events
  WHERE (transaction_id, position) > ($1::xid8, $2::bigint)) AS hidden`;

/** The NOTIFY after an append; its payload names the log that sent it (its own LISTEN passes it by). */
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
const hiddenQuery = prepared('hidden', hiddenSql);

export const createPgEventLog = (options: PgEventLogOptions): EventLog => {
  const { pool } = options;
  // This log's own appends wake its subscribers at once (announce): its NOTIFY coming back on the
  // LISTEN connection would only make every subscription read the same tail again.
  const tag = randomUUID();
  const follower = createPgFollower({
    pool,
    connectionString: options.connectionString,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    batchLingerMs: options.batchLingerMs ?? 3,
    ownTag: tag,
  });
  const notify = notifySql(tag);

  // Subscribers in this process wake at once; other instances hear one NOTIFY per round trip at
  // most, sent outside the append's transaction so appenders never queue behind the notify lock.
  let notifying: Promise<void> | undefined;
  let notifyAgain = false;
  let closed = false;
  const announce = () => {
    follower.wake();
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

  const hasHidden = async (after: LogPosition): Promise<boolean> =>
    (await pool.query<{ hidden: boolean }>(hiddenQuery(positionParams(after)))).rows[0]!.hidden;

  return {
    append,
    appendMany,
    readStream,
    readAll,
    subscribeAll: follower.subscribeAll,
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
      await follower.close();
      await notifying;
    },
  };
};
