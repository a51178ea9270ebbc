// The projections' scripts (a batch's writes sent in one round trip, their parameters written in as
// literals): every value a message can carry lands exactly as the same statement with parameters
// stores it, a statement that fails ends the script with nothing after it run, and a batch whose
// generation was swapped out meanwhile fails before its COMMIT, moving no checkpoint.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import {
  type CheckpointMove,
  GENERATION_SWAPPED,
  moveActiveCheckpoints,
  movedRows,
} from '../../src/projections/registry.ts';
import type { SqlSession } from '../../src/projections/sql.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { withLogDatabase } from '../support/log-database.ts';

const tricky = [
  "it's a quote",
  'back\\slash and \\x00 and \\\\ two',
  "E'\\'",
  'placeholders $1 and $2 inside a value',
  'привет, 世界, 👋🏽',
  'line one\nline two\r\n\ttabbed',
  '',
  "''; DROP TABLE script_rows; --",
];

const insert = `INSERT INTO script_rows (k, text, tags, doc, at, n, nothing)
  VALUES ($1, $2, $3::text[], $4::jsonb, $5::timestamptz, $6::bigint, $7)`;

const rowOf = (k: string, i: number) => [
  k,
  tricky[i % tricky.length],
  [tricky[(i + 1) % tricky.length], null, 'a,b', '{braces}', '"quoted"'],
  { text: tricky[(i + 2) % tricky.length], nested: { list: [1, 'two', null], quote: '"\'' } },
  new Date(Date.UTC(2026, 11, 5, 4, 30, i, 123)),
  (2n ** 62n + BigInt(i)).toString(),
  null,
];

describe('projection scripts: statements in one round trip', () => {
  let db: TestDatabase;
  let session: SqlSession;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
    await db.pool.query(
      `CREATE TABLE script_rows (k text PRIMARY KEY, text text, tags text[], doc jsonb, at timestamptz, n bigint, nothing text)`,
    );
    session = await sqlDatabase(db.pool).session();
  });
  after(async () => {
    session.release();
    await db.drop();
  });

  it('stores every value exactly as the statement with its parameters does', async () => {
    assert.ok(session.script, 'the PostgreSQL port sends scripts');
    for (let i = 0; i < tricky.length; i++) await session.query(insert, rowOf(`param-${i}`, i));
    const results = await session.script(
      tricky.map((_, i) => ({ text: insert, params: rowOf(`script-${i}`, i) })),
    );
    assert.equal(results.length, tricky.length, 'one result per statement');
    const { rows } = await db.pool.query<{ k: string; same: boolean }>(
      `SELECT s.k, (s.text, s.tags, s.doc, s.at, s.n, s.nothing) IS NOT DISTINCT FROM (p.text, p.tags, p.doc, p.at, p.n, p.nothing) AS same
         FROM script_rows s JOIN script_rows p ON p.k = replace(s.k, 'script-', 'param-')
        WHERE s.k LIKE 'script-%' ORDER BY s.k`,
    );
    assert.equal(rows.length, tricky.length);
    assert.deepEqual(
      rows.filter((r) => !r.same).map((r) => r.k),
      [],
    );
    const stored = await db.pool.query<{ text: string }>(`SELECT text FROM script_rows WHERE k = 'script-3'`);
    assert.equal(stored.rows[0]!.text, 'placeholders $1 and $2 inside a value');
  });

  it('stops at a failing statement: nothing after it runs, and its transaction rolls back', async () => {
    assert.ok(session.script);
    await assert.rejects(
      session.script([
        { text: 'BEGIN' },
        { text: insert, params: rowOf('before-failure', 0) },
        { text: 'SELECT 1 / $1::int', params: [0] },
        { text: insert, params: rowOf('after-failure', 1) },
        { text: 'COMMIT' },
      ]),
      /division by zero/,
    );
    await session.query('ROLLBACK');
    const { rows } = await db.pool.query(
      `SELECT k FROM script_rows WHERE k IN ('before-failure', 'after-failure')`,
    );
    assert.deepEqual(rows, []);
  });

  it('refuses a placeholder that has no parameter', async () => {
    assert.ok(session.script);
    await assert.rejects(session.script([{ text: 'SELECT $2::int', params: [1] }]), /no parameter \$2/);
  });
});

describe('checkpoints moved in a script', () => {
  let db: TestDatabase;
  withLogDatabase((x) => {
    ({ db } = x);
  });
  const move = (name: string): CheckpointMove => ({
    name,
    generation: 1,
    checkpoint: { commit: 900n, prepare: 901n },
    applied: 3,
    counter: 7n,
  });
  const checkpoints = async () =>
    (
      await db.pool.query<{ name: string; c: string | null; n: string }>(
        `SELECT name, checkpoint_commit::text AS c, events_applied::text AS n FROM td_projections ORDER BY name`,
      )
    ).rows;

  it('moves the active generations and fails the whole batch when one was swapped out', async () => {
    await db.pool.query(
      `INSERT INTO td_projections (name, generation, version, status) VALUES ('live', 1, 1, 'active'), ('swapped', 1, 1, 'retired')`,
    );
    const session = await sqlDatabase(db.pool).session();
    try {
      assert.ok(session.script);
      const results = await session.script([
        { text: 'BEGIN' },
        moveActiveCheckpoints([move('live')]),
        { text: 'COMMIT' },
      ]);
      const [moved] = movedRows(results[1]!.rows);
      assert.deepEqual(
        {
          name: moved?.name,
          checkpoint: moved?.checkpoint,
          applied: moved?.eventsApplied,
          counter: moved?.counter,
        },
        { name: 'live', checkpoint: { commit: 900n, prepare: 901n }, applied: 3, counter: 7n },
      );
      await assert.rejects(
        session.script([
          { text: 'BEGIN' },
          {
            text: `INSERT INTO td_projections (name, generation, version, status) VALUES ('written', 1, 1, 'building')`,
          },
          moveActiveCheckpoints([move('live'), move('swapped')]),
          { text: 'COMMIT' },
        ]),
        (error: { code?: string }) => error.code === GENERATION_SWAPPED,
      );
      await session.query('ROLLBACK');
    } finally {
      session.release();
    }
    assert.deepEqual(await checkpoints(), [
      { name: 'live', c: '900', n: '3' },
      { name: 'swapped', c: null, n: '0' },
    ]);
  });
});
