// td_projections: one row per projection generation with its checkpoint. Exactly one generation of
// a projection is `active` (the one readers' views point at); a rebuild builds a `building` one.
import type { LogPosition } from '../domain/event-log.ts';
import type { Projection } from './projection.ts';
import { tableNamer } from './projection.ts';
import type { SqlClient, Statement } from './sql.ts';

export const registryMigration = {
  id: '002_projection_registry',
  sql: `
CREATE TABLE td_projections (
  name               text NOT NULL,
  generation         int NOT NULL,
  version            int NOT NULL,
  status             text NOT NULL CHECK (status IN ('building', 'active', 'retired')),
  checkpoint_commit  bigint,
  checkpoint_prepare bigint,
  events_applied     bigint NOT NULL DEFAULT 0,
  counter            bigint NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  activated_at       timestamptz,
  PRIMARY KEY (name, generation)
);
CREATE UNIQUE INDEX td_projections_one_active ON td_projections (name) WHERE status = 'active';
`,
  grants: (role: string) => `GRANT SELECT, INSERT, UPDATE, DELETE ON td_projections TO ${role}`,
};

export interface GenerationRow {
  readonly name: string;
  readonly generation: number;
  readonly version: number;
  readonly status: 'building' | 'active' | 'retired';
  readonly checkpoint: LogPosition | null;
  readonly eventsApplied: number;
  readonly counter: bigint;
  readonly updatedAt: Date;
}

interface RawRow {
  name: string;
  generation: number;
  version: number;
  status: GenerationRow['status'];
  checkpoint_commit: string | null;
  checkpoint_prepare: string | null;
  events_applied: string;
  counter: string;
  updated_at: Date;
}

const toRow = (r: RawRow): GenerationRow => ({
  name: r.name,
  generation: r.generation,
  version: r.version,
  status: r.status,
  checkpoint:
    r.checkpoint_commit === null
      ? null
      : { commit: BigInt(r.checkpoint_commit), prepare: BigInt(r.checkpoint_prepare ?? '0') },
  eventsApplied: Number(r.events_applied),
  counter: BigInt(r.counter),
  updatedAt: r.updated_at,
});

export const readGeneration = async (
  sql: SqlClient,
  name: string,
  which: { status: 'active' | 'building' } | { generation: number },
  lock = false,
): Promise<GenerationRow | undefined> => {
  const where = 'status' in which ? 'status = $2' : 'generation = $2';
  const value = 'status' in which ? which.status : which.generation;
  const { rows } = await sql.query<RawRow>(
    `SELECT * FROM td_projections WHERE name = $1 AND ${where} ${lock ? 'FOR UPDATE' : ''}`,
    [name, value],
  );
  return rows[0] ? toRow(rows[0]) : undefined;
};

export const listGenerations = async (sql: SqlClient): Promise<GenerationRow[]> =>
  (
    await sql.query<RawRow>(
      `SELECT * FROM td_projections WHERE status <> 'retired' ORDER BY name, generation`,
    )
  ).rows.map(toRow);

/** Where a batch left one generation: its new checkpoint, the events it applied and its counter. */
export interface CheckpointMove {
  readonly name: string;
  readonly generation: number;
  readonly checkpoint: LogPosition;
  readonly applied: number;
  readonly counter: bigint;
}

const moveParams = (moves: readonly CheckpointMove[]) => [
  moves.map((m) => m.name),
  moves.map((m) => m.generation),
  moves.map((m) => m.checkpoint.commit.toString()),
  moves.map((m) => m.checkpoint.prepare.toString()),
  moves.map((m) => m.applied),
  moves.map((m) => m.counter.toString()),
];

/**
 * Moves generations' checkpoints in one statement; with `whileActive`, only those still active (a
 * rebuild may have swapped one out meanwhile: it is missing from the rows returned).
 */
export const saveCheckpoints = async (
  sql: SqlClient,
  moves: readonly CheckpointMove[],
  options: { readonly whileActive?: boolean } = {},
): Promise<GenerationRow[]> => {
  if (moves.length === 0) return [];
  const { rows } = await sql.query<RawRow>(
    `UPDATE td_projections p SET checkpoint_commit = m.c, checkpoint_prepare = m.p,
       events_applied = p.events_applied + m.n, counter = m.k, updated_at = now()
       FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) AS m(name, generation, c, p, n, k)
       WHERE p.name = m.name AND p.generation = m.generation ${options.whileActive ? "AND p.status = 'active'" : ''}
       RETURNING p.*`,
    moveParams(moves),
  );
  return rows.map(toRow);
};

/** SQLSTATE of td_move_active_checkpoints when a generation was swapped out meanwhile. */
export const GENERATION_SWAPPED = 'TD410';

/**
 * saveCheckpoints with `whileActive`, as a statement that fails (GENERATION_SWAPPED) when a generation
 * is no longer active: sent in a script before its COMMIT, it rolls the batch back whole.
 */
export const moveActiveCheckpoints = (moves: readonly CheckpointMove[]): Statement => ({
  text: 'SELECT * FROM td_move_active_checkpoints($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])',
  params: moveParams(moves),
});

/** The rows moveActiveCheckpoints answered. */
export const movedRows = (rows: readonly Record<string, unknown>[]): GenerationRow[] =>
  rows.map((r) => toRow(r as unknown as RawRow));

export const moveCheckpointsMigration = {
  id: '011_move_active_checkpoints',
  sql: `
CREATE FUNCTION td_move_active_checkpoints(p_names text[], p_generations int[], p_commits bigint[], p_prepares bigint[], p_applied bigint[], p_counters bigint[])
RETURNS SETOF td_projections
LANGUAGE plpgsql AS $$
DECLARE
  v_moved int;
BEGIN
  RETURN QUERY
    UPDATE td_projections p SET checkpoint_commit = m.c, checkpoint_prepare = m.p,
      events_applied = p.events_applied + m.n, counter = m.k, updated_at = now()
    FROM unnest(p_names, p_generations, p_commits, p_prepares, p_applied, p_counters) AS m(name, generation, c, p, n, k)
    WHERE p.name = m.name AND p.generation = m.generation AND p.status = 'active'
    RETURNING p.*;
  GET DIAGNOSTICS v_moved = ROW_COUNT;
  IF v_moved < cardinality(p_names) THEN
    RAISE EXCEPTION 'a projection generation was swapped out while its batch was applied' USING ERRCODE = 'TD410';
  END IF;
END $$;
`,
  grants: (role: string) =>
    `GRANT EXECUTE ON FUNCTION td_move_active_checkpoints(text[], int[], bigint[], bigint[], bigint[], bigint[]) TO ${role}`,
};

/**
 * The projection's active generation, locked for this transaction, created (tables and views) when it
 * has none. Runs inside the caller's transaction.
 */
export const activeGeneration = async (sql: SqlClient, projection: Projection): Promise<GenerationRow> => {
  const active = await readGeneration(sql, projection.name, { status: 'active' }, true);
  if (active) return active;
  await createGeneration(sql, projection, 'active', true);
  return (await readGeneration(sql, projection.name, { status: 'active' }, true))!;
};

/** Creates a generation's tables and its registry row. Runs inside the caller's transaction. */
export const createGeneration = async (
  sql: SqlClient,
  projection: Projection,
  status: 'building' | 'active',
  withIndexes: boolean,
): Promise<number> => {
  const { rows } = await sql.query<{ next: number }>(
    'SELECT coalesce(max(generation), 0) + 1 AS next FROM td_projections WHERE name = $1',
    [projection.name],
  );
  const generation = rows[0]!.next;
  const t = tableNamer(generation);
  for (const table of projection.tables) await sql.query(`DROP TABLE IF EXISTS ${t(table)} CASCADE`);
  await sql.query(projection.createTables(t));
  const indexes = withIndexes ? projection.createIndexes(t) : '';
  if (indexes) await sql.query(indexes);
  await sql.query(
    `INSERT INTO td_projections (name, generation, version, status, activated_at)
     VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'active' THEN now() END)`,
    [projection.name, generation, projection.version, status],
  );
  if (status === 'active') await pointViews(sql, projection, generation);
  return generation;
};

/** Readers query views named after the tables; swapping a generation is replacing the views. */
export const pointViews = async (
  sql: SqlClient,
  projection: Projection,
  generation: number,
): Promise<void> => {
  const t = tableNamer(generation);
  for (const table of projection.tables) {
    await sql.query(`DROP VIEW IF EXISTS ${table}`);
    await sql.query(`CREATE VIEW ${table} AS SELECT * FROM ${t(table)}`);
  }
};

/** Whether a view shows fewer columns than its generation's table has (columns added since it was made). */
const viewsBehind = async (sql: SqlClient, projection: Projection, generation: number): Promise<boolean> => {
  const t = tableNamer(generation);
  const { rows } = await sql.query<{ behind: boolean }>(
    `SELECT bool_or(v.n < g.n) AS behind FROM unnest($1::text[], $2::text[]) AS x(view, tab)
       CROSS JOIN LATERAL (SELECT count(*) AS n FROM information_schema.columns WHERE table_name = x.view) v
       CROSS JOIN LATERAL (SELECT count(*) AS n FROM information_schema.columns WHERE table_name = x.tab) g`,
    [projection.tables, projection.tables.map(t)],
  );
  return rows[0]?.behind === true;
};

export const dropGenerationTables = async (sql: SqlClient, projection: Projection, generation: number) => {
  const t = tableNamer(generation);
  for (const table of projection.tables) await sql.query(`DROP TABLE IF EXISTS ${t(table)}`);
};

/**
 * Makes sure a projection has an active generation (tables and readers' views), so a service that
 * has just started answers queries against an empty model rather than a missing table. Safe when
 * several instances start at once: they queue on a transaction-scoped advisory lock.
 */
export const ensureActiveGeneration = async (
  sql: { session(): Promise<SqlClient & { release(broken?: boolean): void }> },
  projection: Projection,
): Promise<void> => {
  const s = await sql.session();
  try {
    await s.query('BEGIN');
    await s.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `topicdesk:projection-setup:${projection.name}`,
    ]);
    const active = await readGeneration(s, projection.name, { status: 'active' });
    if (!active) await createGeneration(s, projection, 'active', true);
    // Generations an older release built: given this version's columns now (a rebuild fills them).
    // A view's `*` was expanded when it was made: the active one is made again to show them.
    for (const which of ['active', 'building'] as const) {
      const g = which === 'active' ? active : await readGeneration(s, projection.name, { status: which });
      if (!g || g.version >= projection.version) continue;
      const ddl = projection.upgrade?.(tableNamer(g.generation), g.version);
      if (!ddl) continue;
      await s.query(ddl);
      if (which === 'active' && (await viewsBehind(s, projection, g.generation)))
        await pointViews(s, projection, g.generation);
    }
    await s.query('COMMIT');
    s.release();
  } catch (error) {
    await s.query('ROLLBACK').catch(() => undefined);
    s.release(true);
    throw error;
  }
};

/** The registry's migrations, in order: its table, then the function the live runner moves checkpoints with. */
export const registryMigrations = [registryMigration, moveCheckpointsMigration] as const;
