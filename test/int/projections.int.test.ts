// Projections on a real PostgreSQL: exactly once across crashes, one runner at a time, rebuilds that
// equal the incremental build and never take readers down, cursors that never go backwards.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { describe, it } from 'node:test';
import { findMessage, listedRows } from '../../src/adapters/api/read-model.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { allProjections } from '../../src/projections/index.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { conversationsProjection } from '../../src/projections/read-models/conversations.ts';
import { type MessageRow, messagesProjection } from '../../src/projections/read-models/messages.ts';
import { reportsProjection } from '../../src/projections/read-models/reports.ts';
import { rebuildProjection } from '../../src/projections/rebuild.ts';
import { ensureActiveGeneration, readGeneration } from '../../src/projections/registry.ts';
import { startProjectionRunner } from '../../src/projections/runner.ts';
import { handlerFor, scriptedConversation } from '../support/conversations.ts';
import type { TestDatabase } from '../support/db.ts';
import { withLogDatabase } from '../support/log-database.ts';
import { waitFor } from '../support/wait.ts';

const eventCount = async (db: TestDatabase) =>
  Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM td_events')).rows[0]!.n);

const snapshot = async (db: TestDatabase) => ({
  conversations: (await db.pool.query('SELECT * FROM rm_conversations ORDER BY conversation_id')).rows,
  messages: (await db.pool.query('SELECT * FROM rm_messages ORDER BY cursor')).rows,
});

// Runners catching up on a busy machine: longer than waitFor's default.
const waitUntil = (what: string, check: () => Promise<boolean>, timeoutMs = 15_000) =>
  waitFor(what, check, timeoutMs);

const caughtUp = (db: TestDatabase) => async () => {
  const total = await eventCount(db);
  const { rows } = await db.pool.query<{ n: string }>(
    `SELECT min(events_applied) AS n FROM td_projections WHERE status = 'active'`,
  );
  const { rows: c } = await db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM td_projections WHERE status = 'active'`,
  );
  return Number(c[0]!.n) === allProjections.length && Number(rows[0]!.n) === total;
};

/**
 * A test projection keeping the ids of the events it applied (table `rm_<name>`), after `first` ran
 * on the batch (where a test reads slowly or fails).
 */
const idsProjection = (name: string, first: Projection['apply']): Projection => {
  const table = `rm_${name.replaceAll('-', '_')}`;
  return {
    name,
    version: 1,
    tables: [table],
    createTables: (t) => `CREATE TABLE ${t(table)} (event_id uuid PRIMARY KEY)`,
    createIndexes: () => '',
    async apply(sql, events, ctx) {
      await first(sql, events, ctx);
      ctx.write(`INSERT INTO ${ctx.t(table)} SELECT unnest($1::uuid[])`, [events.map((e) => e.id)]);
    },
  };
};

/**
 * A runner of `projections` whose logger keeps its errors, and whether one of them has left the
 * group to run on its own (after a failed batch).
 */
const runnerKeepingErrors = (db: TestDatabase, log: EventLog, projections: Projection[]) => {
  const errors: Array<{ projection?: string; msg: string }> = [];
  const logger = {
    info() {},
    warn() {},
    error: (o: object, msg: string) => errors.push({ ...(o as { projection?: string }), msg }),
  };
  const runner = startProjectionRunner({
    db: sqlDatabase(db.pool),
    log,
    projections,
    logger,
    standbyRetryMs: 50,
  });
  const leftGroup = (name: string) =>
    errors.some((e) => e.projection === name && e.msg.includes('runs on its own'));
  return { runner, leftGroup };
};

describe('projections', () => {
  let db: TestDatabase;
  let log: EventLog;
  withLogDatabase((x) => {
    ({ db, log } = x);
  });

  it('builds both read models live, and a rebuild equals the incremental build row for row', async () => {
    const runner = startProjectionRunner({ db: sqlDatabase(db.pool), log, projections: allProjections });
    const handler = handlerFor(log);
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => scriptedConversation(handler, 'shop', `c${i}`, { messages: 4 })),
    );
    await waitUntil('runners to catch up', caughtUp(db));
    const incremental = await snapshot(db);
    assert.equal(incremental.conversations.length, 6);
    assert.equal(incremental.messages.length, 6 * 8);
    const c0 = incremental.conversations.find((r) => r.client_id === 'c0')!;
    assert.equal(c0.topic_id, 'c0');
    assert.equal(c0.message_count, 8);
    const m = incremental.messages.find((r) => r.message_id === 'c0-in-0')!;
    assert.equal(m.text, 'hello 0 (edited)');
    assert.ok(m.edited_at instanceof Date);
    assert.equal(m.status, 'forwarded');
    const reply = incremental.messages.find((r) => r.message_id === 'c0-out-2')!;
    assert.equal(reply.status, 'delivered');
    assert.ok(reply.deleted_at instanceof Date, 'deleted replies stay listed with deleted_at');

    for (const projection of allProjections)
      await rebuildProjection({ db: sqlDatabase(db.pool), log, projection });
    await waitUntil('runners to follow the swap', caughtUp(db));
    const rebuilt = await snapshot(db);
    assert.deepEqual(rebuilt, incremental);
    const active = await readGeneration(db.pool as never, 'messages', { status: 'active' });
    assert.equal(active?.generation, 2);

    // The live runner follows the new generation: new events land in it.
    await scriptedConversation(handler, 'shop', 'after-rebuild', { messages: 1 });
    await waitUntil('the new conversation in the rebuilt read model', async () => {
      const { rowCount } = await db.pool.query(
        `SELECT 1 FROM rm_messages WHERE external_id = 'after-rebuild'`,
      );
      return rowCount === 2;
    });
    await runner.stop();
  });

  it('a generation an older version built gets the new columns in place at start-up, and readers see them', async () => {
    const sql = sqlDatabase(db.pool);
    await ensureActiveGeneration(sql, messagesProjection);
    const active = (await readGeneration(db.pool as never, 'messages', { status: 'active' }))!;
    // As version 2 left it: no recorded_at, and the view made without it.
    const table = `rm_messages_g${active.generation}`;
    await db.pool.query(`DROP VIEW rm_messages`);
    await db.pool.query(`ALTER TABLE ${table} DROP COLUMN recorded_at`);
    await db.pool.query(`CREATE VIEW rm_messages AS SELECT * FROM ${table}`);
    await db.pool.query(`UPDATE td_projections SET version = 2 WHERE name = 'messages' AND generation = $1`, [
      active.generation,
    ]);

    await ensureActiveGeneration(sql, messagesProjection); // the next start
    const { rows } = await db.pool.query<{ recorded_at: Date | null }>('SELECT recorded_at FROM rm_messages');
    assert.ok(rows.length > 0);
    // Filled only by a rebuild: the registry still says version 2, so status asks for one.
    const after = (await readGeneration(db.pool as never, 'messages', { status: 'active' }))!;
    assert.equal(after.version, 2);
    await ensureActiveGeneration(sql, messagesProjection); // idempotent
    await rebuildProjection({ db: sql, log, projection: messagesProjection });
    const rebuilt = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM rm_messages WHERE recorded_at IS NULL',
    );
    assert.equal(rebuilt.rows[0]!.n, 0);
    assert.equal((await readGeneration(db.pool as never, 'messages', { status: 'active' }))!.version, 3);
  });

  it('two runners for one projection: one leads, the other takes over from the checkpoint when it stops', async () => {
    const a = startProjectionRunner({
      db: sqlDatabase(db.pool),
      log,
      projections: [messagesProjection],
      standbyRetryMs: 50,
    });
    await a.leading;
    const b = startProjectionRunner({
      db: sqlDatabase(db.pool),
      log,
      projections: [messagesProjection],
      standbyRetryMs: 50,
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.isLeader(), true);
    assert.equal(b.isLeader(), false);
    const handler = handlerFor(log);
    await scriptedConversation(handler, 'shop', 'takeover-1', { messages: 2 });
    await a.stop();
    await b.leading;
    await scriptedConversation(handler, 'shop', 'takeover-2', { messages: 2 });
    const total = await eventCount(db);
    await waitUntil('b to catch up', async () => {
      const row = await readGeneration(sqlDatabase(db.pool), 'messages', { status: 'active' });
      return (
        row?.eventsApplied !== undefined &&
        (await db.pool.query(`SELECT 1 FROM rm_messages WHERE external_id LIKE 'takeover-%'`)).rowCount === 8
      );
    });
    const { rows } = await db.pool.query(
      `SELECT message_id, count(*) FROM rm_messages GROUP BY message_id HAVING count(*) > 1`,
    );
    assert.deepEqual(rows, []);
    assert.ok(total > 0);
    await b.stop();
  });

  it('a projection that fails leaves the shared batch: the others keep up, it retries alone and catches up once it can', async () => {
    let broken = true;
    // A projection with a bug in its SQL until `broken` is cleared, led together with messages.
    const flaky = idsProjection('flaky', async (sql) => {
      if (broken) await sql.query('SELECT 1 / 0');
    });
    const errors: string[] = [];
    const logger = { info() {}, warn() {}, error: (_: object, msg: string) => errors.push(msg) };
    const runner = startProjectionRunner({
      db: sqlDatabase(db.pool),
      log,
      projections: [messagesProjection, flaky],
      logger,
      standbyRetryMs: 50,
    });
    const handler = handlerFor(log);
    await scriptedConversation(handler, 'shop', 'flaky-1', { messages: 2 });
    await waitUntil(
      'messages to list the conversation',
      async () =>
        Number((await db.pool.query(`SELECT 1 FROM rm_messages WHERE external_id = 'flaky-1'`)).rowCount) ===
        4,
    );
    const applied = async () =>
      (await readGeneration(sqlDatabase(db.pool), 'flaky', { status: 'active' }))?.eventsApplied;
    assert.equal(await applied(), 0, 'the failing projection moved nothing');
    assert.ok(
      errors.includes('projection failed; it runs on its own from now on, retrying from its checkpoint'),
    );
    broken = false;
    const total = await eventCount(db);
    await waitUntil('the failing projection to catch up on its own', async () => (await applied()) === total);
    assert.equal(Number((await db.pool.query(`SELECT count(*) AS n FROM rm_flaky`)).rows[0]!.n), total);
    await runner.stop();
    await db.pool.query(`UPDATE td_projections SET status = 'retired' WHERE name = 'flaky'`);
  });

  it('a batch holds a transaction id only for its writes, and a queued write that fails is charged to its projection', async () => {
    // `slow` reads for a while after `messages` has queued its rows; `badWrite` queues a write that fails.
    let sleeping = false;
    const slow = idsProjection('slow-reader', async (sql, events) => {
      if (events.some((e) => JSON.stringify(e.data).includes('held-1'))) {
        sleeping = true;
        await sql.query('SELECT pg_sleep(0.5) /* slow-reader */');
        sleeping = false;
      }
    });
    let broken = true;
    const badWrite = idsProjection('bad-write', async (_sql, _events, ctx) => {
      if (broken) ctx.write('SELECT 1 / 0');
    });
    const { runner, leftGroup } = runnerKeepingErrors(db, log, [messagesProjection, slow, badWrite]);
    try {
      const handler = handlerFor(log);
      await scriptedConversation(handler, 'shop', 'held-0', { messages: 1 });
      await waitUntil('bad-write to leave the group', async () => leftGroup('bad-write'));
      const xids: (string | null)[] = [];
      const conversation = scriptedConversation(handler, 'shop', 'held-1', { messages: 1 });
      await waitUntil('the slow read to start', async () => sleeping);
      while (sleeping) {
        const { rows } = await db.pool.query<{ xid: string | null }>(
          `SELECT backend_xid::text AS xid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(0.5) /* slow-reader */%' AND pid <> pg_backend_pid()`,
        );
        if (rows[0]) xids.push(rows[0].xid);
        await new Promise((r) => setTimeout(r, 20));
      }
      await conversation;
      assert.ok(xids.length > 0, 'the slow read was seen running');
      assert.deepEqual(
        [...new Set(xids)],
        [null],
        'no transaction id while the group still reads, though messages had queued its rows',
      );
      await waitUntil(
        'the group to apply the batch',
        async () =>
          Number((await db.pool.query(`SELECT 1 FROM rm_messages WHERE external_id = 'held-1'`)).rowCount) ===
          2,
      );
      broken = false;
      const total = await eventCount(db);
      const applied = async (name: string) =>
        (await readGeneration(sqlDatabase(db.pool), name, { status: 'active' }))?.eventsApplied;
      await waitUntil('bad-write to catch up on its own', async () => (await applied('bad-write')) === total);
      assert.equal(await applied('slow-reader'), total);
      assert.equal(Number((await db.pool.query(`SELECT count(*) AS n FROM rm_bad_write`)).rows[0]!.n), total);
    } finally {
      await runner.stop();
    }
    await db.pool.query(
      `UPDATE td_projections SET status = 'retired' WHERE name IN ('slow-reader', 'bad-write')`,
    );
  });

  it('a batch rolled back by another projection’s write is applied again in full: rows held between batches do not run ahead of the tables', async () => {
    // The conversation is recorded before the runner starts, so its events come in the first batch,
    // which `bad-write` fails; conversations and reports had folded them into the rows they hold.
    const handler = handlerFor(log);
    await scriptedConversation(handler, 'shop', 'rolled-back', { messages: 2 });
    const badWrite = idsProjection('bad-write-2', async (_sql, events, ctx) => {
      if (events.some((e) => JSON.stringify(e.data).includes('rolled-back'))) ctx.write('SELECT 1 / 0');
    });
    const { runner, leftGroup } = runnerKeepingErrors(db, log, [
      conversationsProjection,
      reportsProjection,
      badWrite,
    ]);
    try {
      await waitUntil('bad-write-2 to leave the group', async () => leftGroup('bad-write-2'));
      const total = await eventCount(db);
      const applied = async (name: string) =>
        (await readGeneration(sqlDatabase(db.pool), name, { status: 'active' }))?.eventsApplied;
      await waitUntil(
        'conversations and reports to apply every event',
        async () => (await applied('conversations')) === total && (await applied('reports')) === total,
      );
      // scriptedConversation: 2 messages in, 2 answers out.
      const { rows } = await db.pool.query(
        `SELECT c.message_count, r.messages_in, r.messages_out FROM rm_conversations c
         JOIN rm_report_conversations r USING (conversation_id) WHERE c.client_id = 'rolled-back'`,
      );
      assert.deepEqual(rows, [{ message_count: 4, messages_in: 2, messages_out: 2 }]);
    } finally {
      await runner.stop();
    }
    await db.pool.query(`UPDATE td_projections SET status = 'retired' WHERE name = 'bad-write-2'`);
  });

  it('a batch hands a waiting POST the rows it wrote exactly as the API reads them back, to their own source only', async () => {
    const batches: (readonly MessageRow[])[] = [];
    const runner = startProjectionRunner({
      db: sqlDatabase(db.pool),
      log,
      projections: [messagesProjection],
      onBatch: ({ written }) => batches.push(written as readonly MessageRow[]),
    });
    // Messages, answers, an edit, a delivery, a deletion: rows created and changed again later.
    const conversationId = await scriptedConversation(handlerFor(log), 'shop', 'handed', { messages: 3 });
    await waitUntil('the conversation to be listed', async () =>
      Boolean(await findMessage(db.pool, 'shop', conversationId, 'handed-in-2')),
    );
    await waitUntil('the runner to be at the head', async () => {
      const row = await readGeneration(sqlDatabase(db.pool), 'messages', { status: 'active' });
      return row?.eventsApplied === (await eventCount(db));
    });
    await runner.stop();

    const ids = new Set(
      batches
        .flat()
        .filter((r) => r.conversation_id === conversationId)
        .map((r) => r.message_id),
    );
    assert.ok(ids.size >= 6, `the client's messages and the answers (${[...ids].join(', ')})`);
    for (const id of ids) {
      // The last batch that wrote the row: what a POST waiting then would have been handed.
      const last = batches.findLast((b) =>
        b.some((r) => r.message_id === id && r.conversation_id === conversationId),
      )!;
      assert.deepEqual(
        listedRows(last)('shop', conversationId, id),
        await findMessage(db.pool, 'shop', conversationId, id),
        `${id} as the API reads it`,
      );
      assert.equal(listedRows(last)('crm', conversationId, id), undefined, `${id} is not another source's`);
    }
  });

  it('a rebuild swapped in while the runner waits: its next batch follows the new generation, no failure logged', async () => {
    const logged: string[] = [];
    const logger = {
      info: (_: object, msg: string) => logged.push(`info: ${msg}`),
      warn: (_: object, msg: string) => logged.push(`warn: ${msg}`),
      error: (_: object, msg: string) => logged.push(`error: ${msg}`),
    };
    const runner = startProjectionRunner({
      db: sqlDatabase(db.pool),
      log,
      projections: [messagesProjection],
      logger,
    });
    const handler = handlerFor(log);
    const listed = async (clientId: string) =>
      Number((await db.pool.query('SELECT 1 FROM rm_messages WHERE external_id = $1', [clientId])).rowCount);
    try {
      await scriptedConversation(handler, 'shop', 'swap-before', { messages: 1 });
      await waitUntil(
        'the runner to list the first conversation',
        async () => (await listed('swap-before')) === 2,
      );
      // Nothing in flight: the swap commits and the old generation's tables are dropped before the next batch.
      await rebuildProjection({ db: sqlDatabase(db.pool), log, projection: messagesProjection });
      await scriptedConversation(handler, 'shop', 'swap-after', { messages: 1 });
      await waitUntil(
        'the runner to list the next conversation',
        async () => (await listed('swap-after')) === 2,
      );
      assert.deepEqual(
        logged.filter((l) => !l.startsWith('info: projections running')),
        ['info: a rebuilt generation was swapped in: following it'],
      );
    } finally {
      await runner.stop();
    }
  });

  it('rebuild keeps readers answering: every read during the rebuild succeeds and sees a full model', async () => {
    const before = (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM rm_messages')).rows[0]!.n;
    let reads = 0;
    let failures = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        try {
          const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM rm_messages');
          assert.ok(Number(rows[0]!.n) >= Number(before));
          reads++;
        } catch {
          failures++;
        }
      }
    })();
    await rebuildProjection({ db: sqlDatabase(db.pool), log, projection: messagesProjection, batchSize: 7 });
    stop = true;
    await reader;
    assert.equal(failures, 0);
    assert.ok(reads > 5, `readers kept reading (${reads} reads)`);
  });
});

describe('projections under crashes and concurrency', () => {
  let db: TestDatabase;
  let log: EventLog;
  withLogDatabase((x) => {
    ({ db, log } = x);
  });

  it('a runner SIGKILLed mid-batch again and again applies every event exactly once', async () => {
    const handler = handlerFor(log);
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => scriptedConversation(handler, 'crash', `k${i}`, { messages: 6 })),
    );
    const total = await eventCount(db);
    let kills = 0;
    const appliedInAll = async () =>
      Number(
        (
          await db.pool.query<{ n: string }>(
            'SELECT coalesce(sum(events_applied), 0) AS n FROM td_projections',
          )
        ).rows[0]!.n,
      );
    const progress: number[] = [];
    // Ten kills at random points of the catch-up; each costs a process start (a second or more here).
    for (let round = 0; round < 10 && !(await caughtUp(db)()); round++) {
      const child = fork(new URL('../support/projection-runner-process.ts', import.meta.url), [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, RUNNER_DATABASE_URL: db.url, RUNNER_BATCH_SIZE: '20' },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      // Kill it only once it is applying: on a busy machine the process may take seconds to start.
      const before = await appliedInAll();
      await waitUntil(
        'the runner process to apply a batch',
        async () => (await appliedInAll()) > before || child.exitCode !== null,
        60_000,
      );
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      const exited = new Promise((r) => child.once('exit', r));
      if (child.exitCode !== null)
        throw new Error(`the runner process died on its own (code ${child.exitCode})`);
      child.kill('SIGKILL');
      kills++;
      await exited;
      progress.push(await appliedInAll());
    }
    // The kills must have landed while work was in progress, or this test proves nothing.
    assert.ok(
      progress.some((n) => n > 0 && n < total * allProjections.length),
      `a kill interrupted a catch-up in progress (applied after each kill: ${progress.join(', ')} of ${total * allProjections.length})`,
    );
    // Finish in this process: whatever the kills left undone.
    const runner = startProjectionRunner({ db: sqlDatabase(db.pool), log, projections: allProjections });
    await waitUntil('the last runner to catch up', caughtUp(db));
    await runner.stop();
    assert.ok(kills >= 1);
    const { rows } = await db.pool.query<{ name: string; events_applied: string }>(
      `SELECT name, events_applied FROM td_projections WHERE status = 'active' ORDER BY name`,
    );
    for (const r of rows) assert.equal(Number(r.events_applied), total, `${r.name} applied each event once`);
    const crashed = await snapshot(db);
    for (const projection of allProjections)
      await rebuildProjection({ db: sqlDatabase(db.pool), log, projection });
    assert.deepEqual(await snapshot(db), crashed);
  });

  it('cursors strictly increase in recording order: a poller under concurrent appenders sees each message once', async () => {
    const runner = startProjectionRunner({ db: sqlDatabase(db.pool), log, projections: allProjections });
    const handler = handlerFor(log);
    const start =
      (await db.pool.query<{ c: string | null }>('SELECT max(cursor) AS c FROM rm_messages')).rows[0]!.c ??
      '0';
    let writing = true;
    const writers = Promise.all(
      Array.from({ length: 8 }, (_, i) => scriptedConversation(handler, 'poll', `p${i}`, { messages: 5 })),
    ).finally(() => {
      writing = false;
    });
    const seen: string[] = [];
    let cursor = start;
    const poll = async () => {
      const { rows } = await db.pool.query<{ message_id: string; cursor: string }>(
        `SELECT message_id, cursor::text FROM rm_messages WHERE source = 'poll' AND cursor > $1 ORDER BY cursor LIMIT 7`,
        [cursor],
      );
      for (const r of rows) {
        assert.ok(BigInt(r.cursor) > BigInt(cursor), 'cursor moves forward');
        seen.push(r.message_id);
        cursor = r.cursor;
      }
      return rows.length;
    };
    while (writing) await poll();
    await writers;
    await waitUntil('runners to catch up', caughtUp(db));
    while ((await poll()) > 0) {}
    await runner.stop();
    assert.equal(seen.length, 8 * 10);
    assert.equal(new Set(seen).size, seen.length, 'no message seen twice');
  });
});
