// Several subscribers of one process share the PostgreSQL log's tail reads (docs/design.md, "The
// PostgreSQL event log"): each must still see every event once, in log order, whatever its speed and
// batch size — with writers racing and a slow transaction that takes a low position and commits late.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { comparePositions, type EventLog, type RecordedEvent } from '../../src/domain/event-log.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { newEvent } from '../support/events.ts';
import { waitFor } from '../support/wait.ts';

const event = (type: string, i: number) => newEvent(type, { i }, 'shared-tail');

/** Calls `onRead` for every read of the log's tail sent through `pool` (the query that asks for the horizon). */
const onTailRead = (pool: pg.Pool, onRead: () => void) => {
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    if (text?.includes('pg_snapshot_xmin')) onRead();
    return query(...args);
  };
};

/**
 * A log on a pool of its own (each tail read reported to `onRead`), with no fallback poll and the
 * given linger, and a subscription from the head counting the events of `stream`.
 */
const followFromHead = async (url: string, batchLingerMs: number, stream: string, onRead: () => void) => {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  onTailRead(pool, onRead);
  const log = createPgEventLog({ pool, connectionString: url, pollIntervalMs: 60_000, batchLingerMs });
  let seen = 0;
  const start = (await log.headPosition()) ?? { commit: -1n, prepare: -1n };
  const subscription = log.subscribeAll({ from: start }, async (batch) => {
    seen += batch.filter((e) => e.stream === stream).length;
  });
  return {
    log,
    seen: () => seen,
    async close() {
      await subscription.stop();
      await log.close();
      await pool.end();
    },
  };
};

describe('PostgreSQL log: subscribers sharing tail reads', () => {
  let db: TestDatabase;
  let log: EventLog;
  before(async () => {
    // Its tests count tail reads: on the run's shared server, another file's open transaction holds the
    // horizon back and each read finds the event hidden and reads again (61 reads for 10 appends, once).
    db = await createTestDatabase({ isolated: true });
    log = createPgEventLog({ pool: db.pool, connectionString: db.url, pollIntervalMs: 200 });
  });
  after(async () => {
    await log.close();
    await db.drop();
  });

  it('each of five subscribers (slow and fast, batches of 1 to 1000) sees every event once, in order', async () => {
    const prefix = `shared-${randomUUID()}-`;
    const start = (await log.headPosition()) ?? { commit: -1n, prepare: -1n };
    const subscribers = [
      { batchSize: 1000, delayMs: 0 },
      { batchSize: 1000, delayMs: 3 },
      { batchSize: 200, delayMs: 0 },
      { batchSize: 7, delayMs: 1 },
      { batchSize: 1, delayMs: 0 },
    ].map(({ batchSize, delayMs }) => {
      const seen: RecordedEvent[] = [];
      const subscription = log.subscribeAll({ from: start, batchSize }, async (batch) => {
        assert.ok(batch.length <= batchSize, `a batch of at most ${batchSize}`);
        seen.push(...batch.filter((e) => e.stream.startsWith(prefix)));
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      });
      return { seen, subscription };
    });

    // A transaction that takes its positions first and commits after everyone else.
    const slow = await db.pool.connect();
    await slow.query('BEGIN');
    const late = event('Late', 0);
    await slow.query(
      'SELECT * FROM td_try_append($1, -1, $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[])',
      [`${prefix}late`, [late.id], [late.type], [JSON.stringify(late.data)], [JSON.stringify(late.metadata)]],
    );
    const writers = 6;
    const perWriter = 40;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++)
          await log.append(`${prefix}${w}`, [event('W', i)], i === 0 ? 'no_stream' : i - 1);
      }),
    );
    await slow.query('COMMIT');
    slow.release();

    const total = writers * perWriter + 1;
    const deadline = Date.now() + 15_000;
    while (subscribers.some((s) => s.seen.length < total) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300)); // anything delivered twice would show by now
    await Promise.all(subscribers.map((s) => s.subscription.stop()));

    for (const [n, { seen }] of subscribers.entries()) {
      assert.equal(seen.length, total, `subscriber ${n}: every event`);
      assert.equal(new Set(seen.map((e) => e.id)).size, total, `subscriber ${n}: none twice`);
      assert.ok(
        seen.some((e) => e.type === 'Late'),
        `subscriber ${n}: the late commit too`,
      );
      for (let i = 1; i < seen.length; i++)
        assert.ok(
          comparePositions(seen[i - 1]!.position, seen[i]!.position) < 0,
          `subscriber ${n}: log order`,
        );
    }
  });

  it('a subscriber that comes to a position later reads all that is there now, not the page another read earlier', async () => {
    const prefix = `later-${randomUUID()}-`;
    const start = (await log.headPosition()) ?? { commit: -1n, prepare: -1n };
    const ours = (batch: readonly RecordedEvent[]) => batch.filter((e) => e.stream.startsWith(prefix));
    const fast: RecordedEvent[] = [];
    const slowBatches: RecordedEvent[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const a = log.subscribeAll({ from: start }, async (batch) => {
      fast.push(...ours(batch));
    });
    const b = log.subscribeAll({ from: start }, async (batch) => {
      if (ours(batch).length > 0) slowBatches.push(ours(batch));
      if (slowBatches.length === 1) await gate; // busy with its first batch while the others go on
    });
    try {
      await log.append(`${prefix}s`, [event('E', 0)], 'no_stream');
      await waitFor(
        'both to have the first event',
        () => fast.length === 1 && slowBatches.length === 1,
        5000,
      );
      // The fast one reads one event from where the slow one will stand next.
      await log.append(`${prefix}s`, [event('E', 1)], 0);
      await waitFor('the fast one to have the second event', () => fast.length === 2, 5000);
      for (let i = 2; i < 24; i++) await log.append(`${prefix}s`, [event('E', i)], i - 1);
      await waitFor('the fast one to have every event', () => fast.length === 24, 5000);
      release();
      await waitFor('the slow one to have every event', () => slowBatches.flat().length === 24, 5000);
      assert.deepEqual(
        slowBatches.map((batch) => batch.length),
        [1, 23],
        'after its first batch, the 23 events appended meanwhile come as one batch',
      );
    } finally {
      release();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("another process's append wakes every subscriber at once, through one LISTEN connection", async () => {
    const listeners = async () =>
      Number(
        (
          await db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND query = 'LISTEN td_events'`,
          )
        ).rows[0]!.n,
      );
    const before = await listeners();
    // Polling once a minute: only the notification can wake these subscribers within the test.
    const here = createPgEventLog({ pool: db.pool, connectionString: db.url, pollIntervalMs: 60_000 });
    const otherPool = new pg.Pool({ connectionString: db.url, max: 2 });
    const elsewhere = createPgEventLog({ pool: otherPool, connectionString: db.url });
    try {
      const start = (await here.headPosition()) ?? { commit: -1n, prepare: -1n };
      const stream = `elsewhere-${randomUUID()}`;
      const seen = [0, 0, 0];
      const subscriptions = seen.map((_, i) =>
        here.subscribeAll({ from: start }, async (batch) => {
          seen[i]! += batch.filter((e) => e.stream === stream).length;
        }),
      );
      await waitFor('the LISTEN connection', async () => (await listeners()) === before + 1, 5000);
      await new Promise((r) => setTimeout(r, 100)); // the subscribers have read the head and sleep

      await elsewhere.append(stream, [event('Elsewhere', 0)], 'no_stream');
      await waitFor(
        'every subscriber to see the other process’s event',
        () => seen.every((n) => n === 1),
        5000,
      );
      assert.equal(await listeners(), before + 1, 'one LISTEN connection for the three subscribers');

      await Promise.all(subscriptions.map((s) => s.stop()));
      await waitFor('the LISTEN connection to close', async () => (await listeners()) === before, 5000);
    } finally {
      await here.close();
      await elsewhere.close();
      await otherPool.end();
    }
  });

  it('its own NOTIFY does not send a subscription back to read what its append already woke it for', async () => {
    let reads = 0;
    const stream = `own-${randomUUID()}`;
    // No linger and no poll: every read that follows is a wake-up's, and the NOTIFY comes after the read.
    const here = await followFromHead(db.url, 0, stream, () => reads++);
    const notified: string[] = [];
    const watcher = new pg.Client({ connectionString: db.url });
    try {
      await watcher.connect();
      watcher.on('notification', (n) => notified.push(n.payload ?? ''));
      await watcher.query('LISTEN td_events');
      await here.log.append(stream, [event('Own', 0)], 'no_stream');
      await waitFor('the first event and its NOTIFY', () => here.seen() === 1 && notified.length === 1, 5000);
      await new Promise((r) => setTimeout(r, 300)); // the subscription has heard its own NOTIFY by now

      reads = 0;
      for (let i = 1; i <= 10; i++) {
        await here.log.append(stream, [event('Own', i)], i - 1);
        await waitFor(
          `event ${i} and its NOTIFY`,
          () => here.seen() === i + 1 && notified.length === i + 1,
          5000,
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(reads, 10, 'one read of the tail per append, not one more for each NOTIFY');

      // Another instance's NOTIFY (another payload) still wakes it.
      reads = 0;
      await watcher.query(`SELECT pg_notify('td_events', 'another-instance')`);
      await waitFor('a read after the other NOTIFY', () => reads === 1, 5000);
    } finally {
      await watcher.end();
      await here.close();
    }
  });

  it('at the head, an append after a quiet spell is read at once; one within a linger of the last read waits out the rest of it', async () => {
    // The tail reads timed. Reads, not deliveries: another database's open transaction on the same
    // server can hold an event back for a while (the horizon is the server's), whatever the linger.
    const reads: number[] = [];
    const stream = `linger-${randomUUID()}`;
    const lingering = await followFromHead(db.url, 600, stream, () => reads.push(performance.now()));
    const firstReadAfter = (t: number) => reads.find((r) => r >= t);
    try {
      // Quiet: no read for longer than a linger (the LISTEN connection's start wakes it once, perhaps late).
      await new Promise((r) => setTimeout(r, 1000));
      await waitFor('no read for a second', () => performance.now() - reads.at(-1)! > 1000, 15_000);
      const lone = performance.now();
      await lingering.log.append(stream, [event('Lone', 0)], 'no_stream');
      await waitFor('the lone event', () => lingering.seen() === 1, 10_000);
      const readLone = firstReadAfter(lone)!;
      assert.ok(
        readLone - lone < 300,
        `read ${Math.round(readLone - lone)} ms after the append, not a linger of 600 ms`,
      );

      const burst = performance.now();
      for (let i = 1; i <= 3; i++) await lingering.log.append(stream, [event('Burst', i)], i - 1);
      await waitFor('the burst', () => lingering.seen() === 4, 10_000);
      const last = reads.filter((r) => r < burst).at(-1)!;
      const readBurst = firstReadAfter(burst)!;
      assert.ok(
        readBurst - last >= 550,
        `the next read began ${Math.round(readBurst - last)} ms after the last, not a linger of 600 ms`,
      );
    } finally {
      await lingering.close();
    }
  });

  it('a subscription that stops (or fails) while its LISTEN connection is still connecting finishes stopping', async () => {
    // pg's end() on a client still connecting leaves its connect() unsettled: the stop used to wait for it for ever.
    const settled = (p: Promise<unknown>) =>
      Promise.race([
        p.then(
          () => 'settled',
          () => 'settled',
        ),
        new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000)),
      ]);
    for (let i = 0; i < 10; i++) {
      const fresh = createPgEventLog({ pool: db.pool, connectionString: db.url, pollIntervalMs: 60_000 });
      const stopped = fresh.subscribeAll({ from: { commit: -1n, prepare: -1n } }, async () => {});
      assert.equal(await settled(stopped.stop()), 'settled', `stop ${i}`);
      const failing = fresh.subscribeAll({ from: { commit: -1n, prepare: -1n } }, async () => {
        throw new Error('the handler fails at once');
      });
      const failed = settled(failing.done); // watched at once: the first batch may fail before the append below returns
      await log.append(`connecting-${randomUUID()}`, [event('Connecting', i)], 'no_stream');
      assert.equal(await failed, 'settled', `failure ${i}`);
      await fresh.close();
    }
  });
});
