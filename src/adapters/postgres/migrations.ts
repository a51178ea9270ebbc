// Schema of the PostgreSQL event log and the shared bookkeeping tables, applied in order under an
// advisory lock so that several instances starting at once migrate once.
import type pg from 'pg';

export interface Migration {
  readonly id: string;
  readonly sql: string;
  /**
   * What the service role (the running app's) may do with what this migration created: SQL run by
   * the owner at every start, given the role as a quoted identifier. It describes the current schema.
   */
  readonly grants?: (role: string) => string;
}

const eventLog: Migration = {
  id: '001_event_log',
  sql: `
CREATE TABLE td_events (
  position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  event_id       uuid NOT NULL,
  stream         text NOT NULL,
  revision       bigint NOT NULL,
  type           text NOT NULL,
  data           jsonb NOT NULL,
  metadata       jsonb NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT td_events_event_id_key UNIQUE (event_id),
  CONSTRAINT td_events_stream_revision_key UNIQUE (stream, revision)
);
-- Readers walk the log in (transaction id, position) order: a transaction that took a low
-- position but committed late still sorts before everything appended after it began.
CREATE INDEX td_events_log_order ON td_events (transaction_id, position);

CREATE FUNCTION td_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'td_events is append-only: % refused', TG_OP USING ERRCODE = 'TD403';
END $$;
CREATE TRIGGER td_events_append_only BEFORE UPDATE OR DELETE ON td_events
  FOR EACH ROW EXECUTE FUNCTION td_events_refuse_change();
CREATE TRIGGER td_events_no_truncate BEFORE TRUNCATE ON td_events
  FOR EACH STATEMENT EXECUTE FUNCTION td_events_refuse_change();

-- One round trip per append: idempotency by event id, the expected-revision check, the insert.
-- No NOTIFY here: a notifying commit holds a database-wide lock through its WAL flush, which
-- serialises every appender and defeats group commit (16 writers ran at 21 % of raw INSERT).
-- The adapter notifies after commit instead, coalesced. Two appends racing past the check collide on
-- (stream, revision); the loser's unique violation is reported as a revision conflict.
CREATE FUNCTION td_append(p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_data jsonb[], p_meta jsonb[])
RETURNS TABLE (next_revision bigint, commit_id xid8, last_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_current bigint;
  v_position bigint;
BEGIN
  SELECT max(revision) INTO v_current FROM td_events WHERE stream = p_stream;
  v_current := coalesce(v_current, -1);
  -- p_expected: -2 any, -1 no stream, n the revision of the last event
  IF p_expected <> -2 AND v_current <> p_expected THEN
    -- A re-delivered append whose events are all stored already is a success, not a conflict.
    IF (SELECT count(*) FROM td_events WHERE event_id = ANY (p_ids)) = cardinality(p_ids) THEN
      RETURN QUERY SELECT e.revision, e.transaction_id, e.position FROM td_events e
        WHERE e.event_id = ANY (p_ids) ORDER BY e.position DESC LIMIT 1;
      RETURN;
    END IF;
    RAISE EXCEPTION '%', v_current USING ERRCODE = 'TD409';
  END IF;

  -- An event id stored before fails on td_events_event_id_key; the adapter then asks
  -- td_stored_append whether the whole append is already there.
  WITH inserted AS (
    INSERT INTO td_events (event_id, stream, revision, type, data, metadata)
    SELECT t.id, p_stream, v_current + t.n, t.type, t.data, t.meta
    FROM unnest(p_ids, p_types, p_data, p_meta) WITH ORDINALITY AS t (id, type, data, meta, n)
    RETURNING position)
  SELECT max(position) INTO v_position FROM inserted;
  RETURN QUERY SELECT v_current + cardinality(p_ids), pg_current_xact_id(), v_position;
END $$;

-- Where an append whose events are all stored already landed; no rows when only some are.
CREATE FUNCTION td_stored_append(p_ids uuid[])
RETURNS TABLE (next_revision bigint, commit_id xid8, last_position bigint)
LANGUAGE sql STABLE AS $$
  SELECT e.revision, e.transaction_id, e.position FROM td_events e
  WHERE e.event_id = ANY (p_ids)
    AND (SELECT count(*) FROM td_events WHERE event_id = ANY (p_ids)) = cardinality(p_ids)
  ORDER BY e.position DESC LIMIT 1
$$;
`,
  // Read and append, nothing else: no UPDATE, DELETE, TRUNCATE or TRIGGER, and INSERT only of the
  // event's own columns, so the position, transaction id and recording time are always the database's.
  grants: (role) => `
REVOKE ALL ON td_events FROM ${role};
GRANT SELECT, INSERT (event_id, stream, revision, type, data, metadata) ON td_events TO ${role};
GRANT EXECUTE ON FUNCTION td_append(text, bigint, uuid[], text[], jsonb[], jsonb[]), td_stored_append(uuid[]) TO ${role};
`,
};

// A re-delivered append is one whose events are all in the *same* stream. Event ids found in another
// stream mean two different commands were given the same ids: that is refused (TD412, naming the other
// stream), never reported as stored — the caller would otherwise retry for ever. td_stored_append
// stays for instances still running the previous release during an upgrade.
const appendWithinStream: Migration = {
  id: '002_append_within_stream',
  sql: `
CREATE OR REPLACE FUNCTION td_append(p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_data jsonb[], p_meta jsonb[])
RETURNS TABLE (next_revision bigint, commit_id xid8, last_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_current bigint;
  v_position bigint;
  v_elsewhere text;
BEGIN
  SELECT max(revision) INTO v_current FROM td_events WHERE stream = p_stream;
  v_current := coalesce(v_current, -1);
  -- p_expected: -2 any, -1 no stream, n the revision of the last event
  IF p_expected <> -2 AND v_current <> p_expected THEN
    IF (SELECT count(*) FROM td_events WHERE event_id = ANY (p_ids) AND stream = p_stream) = cardinality(p_ids) THEN
      RETURN QUERY SELECT e.revision, e.transaction_id, e.position FROM td_events e
        WHERE e.event_id = ANY (p_ids) AND e.stream = p_stream ORDER BY e.position DESC LIMIT 1;
      RETURN;
    END IF;
    SELECT e.stream INTO v_elsewhere FROM td_events e
      WHERE e.event_id = ANY (p_ids) AND e.stream <> p_stream LIMIT 1;
    IF v_elsewhere IS NOT NULL THEN
      RAISE EXCEPTION '%', v_elsewhere USING ERRCODE = 'TD412';
    END IF;
    RAISE EXCEPTION '%', v_current USING ERRCODE = 'TD409';
  END IF;

  WITH inserted AS (
    INSERT INTO td_events (event_id, stream, revision, type, data, metadata)
    SELECT t.id, p_stream, v_current + t.n, t.type, t.data, t.meta
    FROM unnest(p_ids, p_types, p_data, p_meta) WITH ORDINALITY AS t (id, type, data, meta, n)
    RETURNING position)
  SELECT max(position) INTO v_position FROM inserted;
  RETURN QUERY SELECT v_current + cardinality(p_ids), pg_current_xact_id(), v_position;
END $$;

-- After an insert failed on td_events_event_id_key: another stream holding one of the ids (one row,
-- other_stream set), else where the append landed when all of it is in p_stream, else no rows.
CREATE FUNCTION td_stored_in_stream(p_stream text, p_ids uuid[])
RETURNS TABLE (next_revision bigint, commit_id xid8, last_position bigint, other_stream text)
LANGUAGE sql STABLE AS $$
  (SELECT NULL::bigint, NULL::xid8, NULL::bigint, e.stream FROM td_events e
    WHERE e.event_id = ANY (p_ids) AND e.stream <> p_stream LIMIT 1)
  UNION ALL
  (SELECT e.revision, e.transaction_id, e.position, NULL FROM td_events e
    WHERE e.event_id = ANY (p_ids) AND e.stream = p_stream
      AND NOT EXISTS (SELECT 1 FROM td_events o WHERE o.event_id = ANY (p_ids) AND o.stream <> p_stream)
      AND (SELECT count(*) FROM td_events c WHERE c.event_id = ANY (p_ids) AND c.stream = p_stream) = cardinality(p_ids)
    ORDER BY e.position DESC LIMIT 1)
$$;
`,
  grants: (role) => `GRANT EXECUTE ON FUNCTION td_stored_in_stream(text, uuid[]) TO ${role};`,
};

// Several streams' appends in one transaction (docs/design.md, "Appends shared by concurrent
// commands"): one commit, one round trip. Each request is checked as td_append checks it; one whose
// stream is not where it expects gets no row and is appended alone by the adapter, which then says why.
const appendMany: Migration = {
  id: '009_append_many',
  sql: `
CREATE FUNCTION td_append_many(p_streams text[], p_expected bigint[], p_counts int[], p_ids uuid[], p_types text[], p_data jsonb[], p_meta jsonb[])
RETURNS TABLE (request int, next_revision bigint, commit_id xid8, last_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_current bigint;
  v_first int := 1;
  v_last int;
BEGIN
  FOR i IN 1 .. cardinality(p_streams) LOOP
    v_last := v_first + p_counts[i] - 1;
    SELECT max(revision) INTO v_current FROM td_events WHERE stream = p_streams[i];
    v_current := coalesce(v_current, -1);
    IF p_expected[i] = -2 OR v_current = p_expected[i] THEN
      WITH inserted AS (
        INSERT INTO td_events (event_id, stream, revision, type, data, metadata)
        SELECT t.id, p_streams[i], v_current + t.n, t.type, t.data, t.meta
        FROM unnest(p_ids[v_first:v_last], p_types[v_first:v_last], p_data[v_first:v_last], p_meta[v_first:v_last])
          WITH ORDINALITY AS t (id, type, data, meta, n)
        RETURNING position)
      SELECT i, v_current + p_counts[i], pg_current_xact_id(), max(position)
        INTO request, next_revision, commit_id, last_position FROM inserted;
      RETURN NEXT;
    END IF;
    v_first := v_last + 1;
  END LOOP;
END $$;
`,
  grants: (role) =>
    `GRANT EXECUTE ON FUNCTION td_append_many(text[], bigint[], int[], uuid[], text[], jsonb[], jsonb[]) TO ${role};`,
};

// Appends that answer a refusal instead of raising it (docs/design.md, "Refusals answered, not
// raised"): pg closes the pooled connection of every failed statement, so each stale command cost
// PostgreSQL a new server process. td_append and td_append_many stay for instances of the previous release.
const appendOutcomes: Migration = {
  id: '010_append_outcomes',
  sql: `
-- Why an append to p_stream at p_current was refused, checked as td_append checks it: all its ids
-- in this stream already is a repeat ('stored', where they landed); one of them in another stream
-- is 'elsewhere' (detail: that stream); else 'conflict' (detail: the stream's revision).
CREATE FUNCTION td_append_refusal(p_stream text, p_ids uuid[], p_current bigint)
RETURNS TABLE (outcome text, next_revision bigint, commit_id xid8, last_position bigint, detail text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_elsewhere text;
BEGIN
  IF (SELECT count(*) FROM td_events e WHERE e.event_id = ANY (p_ids) AND e.stream = p_stream) = cardinality(p_ids) THEN
    RETURN QUERY SELECT 'stored'::text, e.revision, e.transaction_id, e.position, NULL::text FROM td_events e
      WHERE e.event_id = ANY (p_ids) AND e.stream = p_stream ORDER BY e.position DESC LIMIT 1;
    RETURN;
  END IF;
  SELECT e.stream INTO v_elsewhere FROM td_events e
    WHERE e.event_id = ANY (p_ids) AND e.stream <> p_stream LIMIT 1;
  IF v_elsewhere IS NOT NULL THEN
    RETURN QUERY SELECT 'elsewhere'::text, NULL::bigint, NULL::xid8, NULL::bigint, v_elsewhere;
    RETURN;
  END IF;
  RETURN QUERY SELECT 'conflict'::text, NULL::bigint, NULL::xid8, NULL::bigint, p_current::text;
END $$;

-- The insert of both: the events as those after revision p_after of p_stream; the last position.
CREATE FUNCTION td_insert_events(p_stream text, p_after bigint, p_ids uuid[], p_types text[], p_data jsonb[], p_meta jsonb[])
RETURNS bigint
LANGUAGE sql AS $$
  WITH inserted AS (
    INSERT INTO td_events (event_id, stream, revision, type, data, metadata)
    SELECT t.id, p_stream, p_after + t.n, t.type, t.data, t.meta
    FROM unnest(p_ids, p_types, p_data, p_meta) WITH ORDINALITY AS t (id, type, data, meta, n)
    RETURNING position)
  SELECT max(position) FROM inserted
$$;

-- td_append answering instead of raising: 'appended', or td_append_refusal's answer. An id stored
-- before at the expected revision still fails the insert (td_events_event_id_key), as do two appends
-- racing past the check (td_events_stream_revision_key): both are rare, and the adapter handles them.
CREATE FUNCTION td_try_append(p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_data jsonb[], p_meta jsonb[])
RETURNS TABLE (outcome text, next_revision bigint, commit_id xid8, last_position bigint, detail text)
LANGUAGE plpgsql AS $$
DECLARE
  v_current bigint;
BEGIN
  SELECT max(e.revision) INTO v_current FROM td_events e WHERE e.stream = p_stream;
  v_current := coalesce(v_current, -1);
  -- p_expected: -2 any, -1 no stream, n the revision of the last event
  IF p_expected <> -2 AND v_current <> p_expected THEN
    RETURN QUERY SELECT * FROM td_append_refusal(p_stream, p_ids, v_current);
    RETURN;
  END IF;
  RETURN QUERY SELECT 'appended'::text, v_current + cardinality(p_ids), pg_current_xact_id(),
    td_insert_events(p_stream, v_current, p_ids, p_types, p_data, p_meta), NULL::text;
END $$;

-- td_append_many with an answer for every request: a request whose stream is not at its expected
-- revision writes nothing and gets td_append_refusal's answer; the others are written together.
CREATE FUNCTION td_try_append_many(p_streams text[], p_expected bigint[], p_counts int[], p_ids uuid[], p_types text[], p_data jsonb[], p_meta jsonb[])
RETURNS TABLE (request int, outcome text, next_revision bigint, commit_id xid8, last_position bigint, detail text)
LANGUAGE plpgsql AS $$
DECLARE
  v_current bigint;
  v_first int := 1;
  v_last int;
BEGIN
  FOR i IN 1 .. cardinality(p_streams) LOOP
    v_last := v_first + p_counts[i] - 1;
    SELECT max(e.revision) INTO v_current FROM td_events e WHERE e.stream = p_streams[i];
    v_current := coalesce(v_current, -1);
    IF p_expected[i] = -2 OR v_current = p_expected[i] THEN
      RETURN QUERY SELECT i, 'appended'::text, v_current + p_counts[i], pg_current_xact_id(),
        td_insert_events(p_streams[i], v_current, p_ids[v_first:v_last], p_types[v_first:v_last],
          p_data[v_first:v_last], p_meta[v_first:v_last]), NULL::text;
    ELSE
      RETURN QUERY SELECT i, r.outcome, r.next_revision, r.commit_id, r.last_position, r.detail
        FROM td_append_refusal(p_streams[i], p_ids[v_first:v_last], v_current) r;
    END IF;
    v_first := v_last + 1;
  END LOOP;
END $$;
`,
  grants: (role) => `GRANT EXECUTE ON FUNCTION td_append_refusal(text, uuid[], bigint),
  td_insert_events(text, bigint, uuid[], text[], jsonb[], jsonb[]),
  td_try_append(text, bigint, uuid[], text[], jsonb[], jsonb[]),
  td_try_append_many(text[], bigint[], int[], uuid[], text[], jsonb[], jsonb[]) TO ${role};`,
};

export const eventLogMigrations: readonly Migration[] = [
  eventLog,
  appendWithinStream,
  appendMany,
  appendOutcomes,
];

// Which log the checkpoints in td_projections and td_reactors are positions of (docs/design.md,
// "Moving the log to EventStoreDB"): a PostgreSQL position read as an EventStoreDB one would skip or
// repeat events silently. An install older than this table had its checkpoints written by the
// PostgreSQL log when td_events holds events, else by EventStoreDB; a fresh one has no row yet and
// the first start claims it (checkpoint-log.ts). Runs after the registry and reactor migrations.
export const checkpointLogMigration: Migration = {
  id: '005_checkpoint_log',
  sql: `
CREATE TABLE td_checkpoint_log (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  log        text NOT NULL CHECK (log IN ('postgres', 'esdb')),
  updated_at timestamptz NOT NULL DEFAULT now()
);
DO $$
DECLARE
  v_events boolean := false;
BEGIN
  IF EXISTS (SELECT 1 FROM td_reactors WHERE checkpoint_commit IS NOT NULL)
     OR EXISTS (SELECT 1 FROM td_projections WHERE checkpoint_commit IS NOT NULL AND status <> 'retired') THEN
    IF to_regclass('td_events') IS NOT NULL THEN
      EXECUTE 'SELECT EXISTS (SELECT 1 FROM td_events)' INTO v_events;
    END IF;
    INSERT INTO td_checkpoint_log (log) VALUES (CASE WHEN v_events THEN 'postgres' ELSE 'esdb' END);
  END IF;
END $$;
`,
  grants: (role) => `GRANT SELECT, INSERT, UPDATE ON td_checkpoint_log TO ${role};`,
};

/** Applies the migrations not yet recorded; safe to call from many processes at once. */
export const migrate = async (pool: pg.Pool, migrations: readonly Migration[]): Promise<string[]> => {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('topicdesk:migrate'))`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS td_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ id: string }>('SELECT id FROM td_migrations')).rows.map((r) => r.id),
    );
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO td_migrations (id) VALUES ($1)', [m.id]);
        await client.query('COMMIT');
        applied.push(m.id);
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext('topicdesk:migrate'))`).catch(() => undefined);
    client.release();
  }
  return applied;
};
