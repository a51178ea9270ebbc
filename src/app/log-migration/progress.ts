// log:migrate's own checkpoint (td_log_copy): the last PostgreSQL event copied and where it landed in
// EventStoreDB. Saved after each page of appends; a resumed copy first walks whatever EventStoreDB
// holds past it (copy.ts, reconcile), so an event appended just before a crash is never appended again.
import type pg from 'pg';
import type { LogPosition } from '../../domain/event-log.ts';

export const logCopyMigration = {
  id: '006_log_copy',
  sql: `
CREATE TABLE td_log_copy (
  target         text PRIMARY KEY,
  address        text NOT NULL,
  source_commit  bigint,
  source_prepare bigint,
  target_commit  numeric(20),
  target_prepare numeric(20),
  copied         bigint NOT NULL DEFAULT 0,
  started_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);`,
  grants: (role: string) => `GRANT SELECT, INSERT, UPDATE, DELETE ON td_log_copy TO ${role}`,
};

export interface CopyProgress {
  /** The server copied into, without credentials. */
  readonly address: string;
  /** The last PostgreSQL event copied (null: none yet). */
  readonly source: LogPosition | null;
  /** Where that event is in EventStoreDB. */
  readonly target: LogPosition | null;
  readonly copied: number;
  readonly finishedAt: Date | null;
}

type Queryable = Pick<pg.Pool, 'query'>;

interface Row {
  address: string;
  source_commit: string | null;
  source_prepare: string | null;
  target_commit: string | null;
  target_prepare: string | null;
  copied: string;
  finished_at: Date | null;
}

const position = (c: string | null, p: string | null): LogPosition | null =>
  c === null || p === null ? null : { commit: BigInt(c), prepare: BigInt(p) };

export const loadProgress = async (db: Queryable, target: string): Promise<CopyProgress | undefined> => {
  const r = (await db.query<Row>('SELECT * FROM td_log_copy WHERE target = $1', [target])).rows[0];
  if (!r) return undefined;
  return {
    address: r.address,
    source: position(r.source_commit, r.source_prepare),
    target: position(r.target_commit, r.target_prepare),
    copied: Number(r.copied),
    finishedAt: r.finished_at,
  };
};

export const startProgress = async (
  db: Queryable,
  target: string,
  address: string,
): Promise<CopyProgress> => {
  await db.query('INSERT INTO td_log_copy (target, address) VALUES ($1, $2)', [target, address]);
  return { address, source: null, target: null, copied: 0, finishedAt: null };
};

export const saveProgress = async (db: Queryable, target: string, p: CopyProgress): Promise<void> => {
  await db.query(
    `UPDATE td_log_copy SET source_commit = $2, source_prepare = $3, target_commit = $4, target_prepare = $5,
       copied = $6, updated_at = now() WHERE target = $1`,
    [
      target,
      p.source?.commit.toString() ?? null,
      p.source?.prepare.toString() ?? null,
      p.target?.commit.toString() ?? null,
      p.target?.prepare.toString() ?? null,
      p.copied,
    ],
  );
};

export const finishProgress = async (db: Queryable, target: string): Promise<void> => {
  await db.query('UPDATE td_log_copy SET finished_at = now(), updated_at = now() WHERE target = $1', [
    target,
  ]);
};
