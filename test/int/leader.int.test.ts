// The leader loop on a real PostgreSQL: one loop leads a named lock while the others stand by; a
// leader whose connection the server drops stops working at once and a standby takes over within its
// retry interval; stop() waits for the work in flight and leaves the lock free; a stopped loop never
// leads again; LISTEN on the lock's connection reaches the leader only.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import {
  type Leader,
  type LeaderOptions,
  type LeaderTerm,
  startLeaderLoop,
} from '../../src/projections/leader.ts';
import { waitFor } from '../support/app-harness.ts';
import { createTestDatabase, lockHolders, type TestDatabase } from '../support/db.ts';

const RETRY_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ended = (signal: AbortSignal) =>
  new Promise((r) => (signal.aborted ? r(undefined) : signal.addEventListener('abort', r, { once: true })));

/** What one loop did: each term's backend, when it ended and why, each failure it reported. */
interface Probe {
  readonly loop: Leader;
  readonly terms: { pid: number; endedAt?: number; reason?: unknown; finished?: boolean }[];
  readonly errors: { error: unknown; phase: string }[];
  notified: number;
}

describe('the leader loop', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  after(async () => {
    await db.drop();
  });

  const holders = (key: string) => lockHolders(db.pool, key);
  // Every loop a test starts is stopped after it, passed or failed: a loop left running keeps the
  // test process (and the database it would drop) alive.
  const started: Leader[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((loop) => loop.stop()));
  });
  /** `leading` resolves once the lock is held; the work's first query may still be on its way. */
  const termStarted = (probe: Probe, n = 1) =>
    waitFor(`term ${n} of the work to start`, () => probe.terms[n - 1]);

  /** A loop whose work notes its backend, then holds on until its term ends (`onEnd` runs then). */
  const startProbe = (
    key: string,
    { onEnd, ...extra }: Partial<LeaderOptions> & { onEnd?: (term: LeaderTerm) => Promise<void> } = {},
  ): Probe => {
    const probe: Omit<Probe, 'loop'> = { terms: [], errors: [], notified: 0 };
    const loop = startLeaderLoop({
      db: sqlDatabase(db.pool),
      key,
      standbyRetryMs: RETRY_MS,
      retryMs: RETRY_MS,
      onError: (error, phase) => probe.errors.push({ error, phase }),
      lead: async (term) => {
        const { rows } = await term.session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const record: Probe['terms'][number] = { pid: rows[0]!.pid };
        probe.terms.push(record);
        await ended(term.signal);
        record.endedAt = Date.now();
        record.reason = term.signal.reason;
        await onEnd?.(term);
        record.finished = true;
      },
      ...extra,
    });
    started.push(loop);
    return Object.assign(probe, { loop });
  };

  it('one loop leads, the other stands by; when the leader stops the other takes over', async () => {
    const key = 'test:leader:standby';
    const a = startProbe(key);
    await termStarted(a);
    const b = startProbe(key);
    await sleep(RETRY_MS * 5); // b tried several times
    assert.equal(a.loop.isLeader(), true);
    assert.equal(b.loop.isLeader(), false);
    assert.equal(b.terms.length, 0, 'the standby never ran its work');
    assert.deepEqual(
      await holders(key),
      [a.terms[0]!.pid],
      'the lock is held on the connection the work uses',
    );

    await a.loop.stop();
    await termStarted(b);
    assert.deepEqual(await holders(key), [b.terms[0]!.pid]);
    assert.deepEqual([...a.errors, ...b.errors], [], 'nothing failed');
    await b.loop.stop();
  });

  it('a leader whose connection is killed ends its work at once; the standby takes over within its retry interval', async () => {
    const key = 'test:leader:killed';
    // The old leader waits longer after its failure than the standby between tries: the standby wins.
    const a = startProbe(key, { retryMs: 2000 });
    await termStarted(a);
    const b = startProbe(key);
    await sleep(RETRY_MS * 2);
    const victim = a.terms[0]!.pid;

    const killedAt = Date.now();
    await db.pool.query('SELECT pg_terminate_backend($1)', [victim]);
    await termStarted(b);
    const takeoverMs = Date.now() - killedAt;
    // The standby tries every RETRY_MS; the rest is a lock query on a machine that may be busy.
    assert.ok(takeoverMs < RETRY_MS + 1000, `taken over in ${takeoverMs} ms`);

    const ended = a.terms[0]!;
    assert.ok(ended.finished, 'the old leader’s work ended');
    assert.ok(
      ended.endedAt! - killedAt < 1000,
      `its work was told at once (${ended.endedAt! - killedAt} ms)`,
    );
    assert.ok(ended.reason instanceof Error, 'its signal says why: the connection error');
    assert.equal(a.loop.isLeader(), false);
    assert.deepEqual(
      a.errors.map((e) => e.phase),
      ['leading'],
      'the loss is reported once, as a failure while leading',
    );
    assert.deepEqual(await holders(key), [b.terms[0]!.pid]);

    // The old leader stands by now: it leads again when the new one goes.
    await b.loop.stop();
    await termStarted(a, 2);
    assert.equal(a.terms.length, 2);
    await a.loop.stop();
  });

  it('stop() during work waits for it to finish on the locked connection, then leaves the lock free', async () => {
    const key = 'test:leader:stop';
    const a = startProbe(key, {
      // Work that takes a while to wind down and still writes through the locked session meanwhile.
      onEnd: async ({ session }) => {
        await session.query('SELECT pg_sleep(0.3)');
      },
    });
    await a.loop.leading;
    const started = Date.now();
    await a.loop.stop();
    assert.ok(Date.now() - started >= 300, 'stop() waited for the work');
    assert.equal(a.terms[0]!.finished, true, 'the work finished before stop() resolved');
    assert.equal(a.loop.isLeader(), false);
    assert.deepEqual(await holders(key), [], 'the lock is free once stop() resolves');
    assert.deepEqual(a.errors, []);
  });

  it('a stopped loop never leads again, whether it led or stood by', async () => {
    const key = 'test:leader:stopped';
    const a = startProbe(key);
    await termStarted(a);
    const b = startProbe(key);
    await sleep(RETRY_MS * 2);
    await b.loop.stop(); // stopped while standing by
    await a.loop.stop(); // stopped while leading: the lock is free now
    await sleep(RETRY_MS * 5);
    assert.equal(a.loop.isLeader(), false);
    assert.equal(b.loop.isLeader(), false);
    assert.equal(a.terms.length, 1);
    assert.equal(b.terms.length, 0);
    assert.deepEqual(await holders(key), [], 'nobody took the lock again');
    await b.loop.stop(); // a second stop() is harmless
  });

  it('work that fails gives the lock up, is reported, and is tried again after the retry interval', async () => {
    const key = 'test:leader:fails';
    let runs = 0;
    let secondRunAt = 0;
    const failures: { error: unknown; phase: string; at: number }[] = [];
    const loop = startLeaderLoop({
      db: sqlDatabase(db.pool),
      key,
      standbyRetryMs: RETRY_MS,
      retryMs: RETRY_MS,
      onError: (error, phase) => failures.push({ error, phase, at: Date.now() }),
      lead: async ({ signal }) => {
        runs += 1;
        if (runs === 1) throw new Error('the first run fails');
        secondRunAt = Date.now();
        await ended(signal);
      },
    });
    started.push(loop);
    await waitFor('the second run', () => runs >= 2 || undefined);
    assert.equal(failures.length, 1);
    assert.equal((failures[0]!.error as Error).message, 'the first run fails');
    assert.equal(failures[0]!.phase, 'leading');
    const waited = secondRunAt - failures[0]!.at;
    assert.ok(waited >= RETRY_MS - 2, `it waited the retry interval first (${waited} ms)`);
    assert.equal(loop.isLeader(), true);
    // The failed run's lock was given up: the second run holds it once, on one connection.
    assert.equal((await holders(key)).length, 1);
    await loop.stop();
    assert.deepEqual(await holders(key), []);
  });

  it('a notification on the LISTEN channel reaches the leader only, and the new leader after a takeover', async () => {
    const key = 'test:leader:listen';
    const channel = 'test_leader_wake';
    const notifiedOf = (probe: () => Probe) => ({
      channel,
      onNotify: () => {
        probe().notified += 1;
      },
    });
    const a: Probe = startProbe(key, { listen: notifiedOf(() => a) });
    await termStarted(a);
    const b: Probe = startProbe(key, { listen: notifiedOf(() => b) });
    await sleep(RETRY_MS * 2);

    await db.pool.query('SELECT pg_notify($1, $2)', [channel, 'one']);
    await waitFor('the leader notified', () => a.notified === 1 || undefined);
    await sleep(100);
    assert.equal(b.notified, 0, 'the standby listens to nothing');

    await a.loop.stop();
    await b.loop.leading;
    await db.pool.query('SELECT pg_notify($1, $2)', [channel, 'two']);
    await waitFor('the new leader notified', () => b.notified === 1 || undefined);
    assert.equal(a.notified, 1, 'the old leader hears nothing once stopped');
    await b.loop.stop();
  });
});
