// The reactor runner on a real PostgreSQL when the connection holding its lock is lost mid-batch
// (a network cut, PostgreSQL killing the backend): another instance takes the lock and repeats the
// batch from the checkpoint, so the instance that lost it must stop its side effects at once, or
// both send the same messages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { reactorMigration } from '../../src/projections/index.ts';
import { type Reactor, startReactorRunner } from '../../src/projections/reactor-runner.ts';
import { waitFor } from '../support/app-harness.ts';
import { handlerFor, scriptedConversation } from '../support/conversations.ts';
import { createTestDatabase, lockHolders, type TestDatabase } from '../support/db.ts';

/** One side effect a reactor made: which instance, for which event, when. */
interface Sent {
  readonly instance: string;
  readonly eventId: string;
  readonly at: number;
}

/** A reactor that takes a while per event (a Telegram call) and notes each one it made. */
const slowReactor = (instance: string, sent: Sent[]): Reactor => ({
  name: 'slow',
  async handle(events, signal) {
    for (const e of events) {
      await delay(100, undefined, { signal });
      sent.push({ instance, eventId: e.id, at: Date.now() });
    }
  },
});

describe('reactor runner', () => {
  let db: TestDatabase;
  let log: EventLog;
  before(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, [reactorMigration]);
    log = createPgEventLog({ pool: db.pool, connectionString: db.url, pollIntervalMs: 100 });
  });
  after(async () => {
    await log.close();
    await db.drop();
  });

  it('an instance whose lock connection is lost stops sending at once; the new leader repeats the batch alone', async () => {
    await scriptedConversation(handlerFor(log), 'shop', 'lost-lock', { messages: 2 });
    // The log shows events below the oldest open transaction's horizon, which is cluster-wide: a test
    // file running beside this one may hold it back for a moment.
    const events = await waitFor('the conversation readable from the log', async () => {
      const all = (await log.readAll({ commit: -1n, prepare: -1n }, 1000)).map((e) => e.id);
      return all.length >= 8 ? all : undefined;
    });
    const sent: Sent[] = [];
    const runner = (instance: string) =>
      startReactorRunner({
        db: sqlDatabase(db.pool),
        log,
        reactor: slowReactor(instance, sent),
        batchSize: 1000,
        standbyRetryMs: 50,
        // The instance that lost its lock waits before trying again: the other one leads meanwhile.
        retryMs: 5000,
      });
    const a = runner('a');
    await a.leading;
    const b = runner('b');
    await waitFor('a at work on its batch', () => sent.length >= 2 || undefined);

    const holders = await lockHolders(db.pool, 'topicdesk:reactor:slow');
    assert.equal(holders.length, 1);
    const killedAt = Date.now();
    await db.pool.query('SELECT pg_terminate_backend($1)', [holders[0]]);

    const byB = () => sent.filter((s) => s.instance === 'b').map((s) => s.eventId);
    await waitFor('b to handle every event from the checkpoint', () =>
      events.every((id) => byB().includes(id)) ? true : undefined,
    );
    const afterKill = sent.filter((s) => s.instance === 'a' && s.at > killedAt + 100);
    assert.deepEqual(
      afterKill.map((s) => s.eventId),
      [],
      'the instance that lost its lock made no call after it (the new leader makes them)',
    );
    await Promise.all([a.stop(), b.stop()]);
  });
});
