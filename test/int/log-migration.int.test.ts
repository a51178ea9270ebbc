// log:migrate's copy, resume, verification and checkpoint mapping, and the start-up check on which
// log the checkpoints belong to, with a second PostgreSQL log standing in as the target (the same
// port; test/e2e/log-migrate.e2e.test.ts runs the CLI against the EventStoreDB stand-in).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  CheckpointLogMismatchError,
  claimCheckpointLog,
  readCheckpointLog,
} from '../../src/adapters/postgres/checkpoint-log.ts';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import type { Config } from '../../src/app/config.ts';
import { allMigrations } from '../../src/app/context.ts';
import { AppRunningError } from '../../src/app/log-migration/locks.ts';
import { migrateLog } from '../../src/app/log-migration/migrate.ts';
import { withOriginalTimes } from '../../src/app/log-migration/original-times.ts';
import { loadProgress } from '../../src/app/log-migration/progress.ts';
import { type EventLog, formatPosition, type RecordedEvent, startOfLog } from '../../src/domain/event-log.ts';
import type { EventMetadata } from '../../src/domain/events.ts';
import { reactorLockKey } from '../../src/projections/reactor-runner.ts';
import { cli } from '../support/cli.ts';
import { handlerFor, scriptedConversation } from '../support/conversations.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const meta = (): EventMetadata => ({
  occurredAt: new Date().toISOString(),
  correlationId: randomUUID(),
  causationId: randomUUID(),
  actor: { kind: 'system', id: 'test' },
});

const readWhole = async (log: EventLog): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for (;;) {
    const page = await log.readAll(out.at(-1)?.position ?? startOfLog, 1000);
    if (page.length === 0) return out;
    out.push(...page);
  }
};

describe('log:migrate (PostgreSQL into a second log)', () => {
  let sourceDb: TestDatabase;
  let targetDb: TestDatabase;
  let source: EventLog;
  let target: EventLog;
  let events: RecordedEvent[];

  before(async () => {
    // Servers of their own: both logs are read below the cluster's oldest open transaction, and on the
    // run's shared server another file's would hide landed events from the copy's resumption (seen once).
    sourceDb = await createTestDatabase({ migrate: false, isolated: true });
    targetDb = await createTestDatabase({ isolated: true });
    await migrate(sourceDb.pool, allMigrations({ EVENT_STORE: 'postgres' } as Config));
    source = createPgEventLog({ pool: sourceDb.pool, connectionString: sourceDb.url });
    target = withOriginalTimes(createPgEventLog({ pool: targetDb.pool, connectionString: targetDb.url }));
    // Three streams in runs of 1 to 7 events, interleaved, recorded a little apart.
    const revisions = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const stream = `conversation-${i % 3}`;
      const n = 1 + ((i * 5) % 7);
      const next = revisions.get(stream) ?? 0;
      await source.append(
        stream,
        Array.from({ length: n }, (_, k) => ({
          id: randomUUID(),
          type: 'ClientMessageReceived',
          data: {
            messageId: `m${i}-${k}`,
            text: `message ${i}.${k}`,
            attachments: [],
            z: 1,
            a: [2, { y: 1, b: 2 }],
          },
          metadata: meta(),
        })),
        next === 0 ? 'no_stream' : next - 1,
      );
      revisions.set(stream, next + n);
    }
    events = await readWhole(source);
    // The app ran on this log: its checkpoints are PostgreSQL positions.
    await claimCheckpointLog(sourceDb.pool, 'postgres');
    const at = (i: number) => [events[i]!.position.commit.toString(), events[i]!.position.prepare.toString()];
    await sourceDb.pool.query(
      `INSERT INTO td_reactors (name, checkpoint_commit, checkpoint_prepare) VALUES ('telegram', $1, $2), ('webhooks', $3, $4)`,
      [...at(70), ...at(events.length - 1)],
    );
    await sourceDb.pool.query(
      `INSERT INTO td_projections (name, generation, version, status, checkpoint_commit, checkpoint_prepare)
       VALUES ('messages', 1, 1, 'active', $1, $2)`,
      at(150),
    );
  });
  after(async () => {
    await source.close();
    await target.close();
    await sourceDb.drop();
    await targetDb.drop();
  });

  it('refuses to start on EventStoreDB while the checkpoints are PostgreSQL positions, naming the way out', async () => {
    await assert.rejects(claimCheckpointLog(sourceDb.pool, 'esdb'), (error: unknown) => {
      assert.ok(error instanceof CheckpointLogMismatchError);
      assert.match(error.message, /log:migrate --to esdb/);
      assert.match(error.message, /log:reset/);
      return true;
    });
    await claimCheckpointLog(sourceDb.pool, 'postgres');
  });

  it('refuses while the app holds a leader lock', async () => {
    const app = new pg.Client(sourceDb.url);
    await app.connect();
    try {
      await app.query('SELECT pg_advisory_lock(hashtext($1))', [reactorLockKey('telegram')]);
      await assert.rejects(
        migrateLog({ pool: sourceDb.pool, source, target, address: 'test' }),
        (error: unknown) =>
          error instanceof AppRunningError && /topicdesk:reactor:telegram/.test(error.message),
      );
      assert.equal(await loadProgress(sourceDb.pool, 'esdb'), undefined);
    } finally {
      await app.end();
    }
  });

  it('a copy that dies between appends and its progress resumes without appending anything twice', async () => {
    let appends = 0;
    const dying: EventLog = {
      ...target,
      append: async (stream, batch, expected) => {
        const result = await target.append(stream, batch, expected);
        if (++appends === 25) throw new Error('killed');
        return result;
      },
    };
    await assert.rejects(
      migrateLog({ pool: sourceDb.pool, source, target: dying, address: 'test', pageSize: 40 }),
      /killed/,
    );
    const saved = await loadProgress(sourceDb.pool, 'esdb');
    // Counted in the table: a read of the log stops below any transaction still open on the shared
    // test server (another test file's), and would see fewer than landed.
    const { rows: landedRows } = await targetDb.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM td_events',
    );
    const landed = Number(landedRows[0]!.n);
    assert.ok(saved && saved.copied < landed, `progress ${saved?.copied} behind ${landed} landed`);
    assert.equal(
      await readCheckpointLog(sourceDb.pool),
      'postgres',
      'nothing moved before the copy verified',
    );

    const result = await migrateLog({ pool: sourceDb.pool, source, target, address: 'test', pageSize: 40 });
    assert.equal(result.verification.ok, true);
    assert.equal(result.verification.target.events, events.length);
    const copied = await readWhole(target);
    assert.deepEqual(
      copied.map((e) => [e.id, e.stream, e.revision, e.type, e.data, e.metadata, e.recordedAt.toISOString()]),
      events.map((e) => [e.id, e.stream, e.revision, e.type, e.data, e.metadata, e.recordedAt.toISOString()]),
    );
    // The stored copy carries the original time; the log read through the decorator shows it as recordedAt.
    const { rows } = await targetDb.pool.query<{ t: string }>(
      `SELECT metadata->>'recordedAt' AS t FROM td_events WHERE event_id = $1`,
      [events[0]!.id],
    );
    assert.equal(rows[0]!.t, events[0]!.recordedAt.toISOString());

    const byLabel = new Map(result.checkpoints.map((c) => [c.label, c.to && formatPosition(c.to)]));
    assert.equal(byLabel.get('reactor telegram'), formatPosition(copied[70]!.position));
    assert.equal(byLabel.get('reactor webhooks'), formatPosition(copied.at(-1)!.position));
    assert.equal(byLabel.get('projection messages g1'), formatPosition(copied[150]!.position));
    const reactors = await sourceDb.pool.query<{ name: string; c: string; p: string }>(
      'SELECT name, checkpoint_commit::text AS c, checkpoint_prepare::text AS p FROM td_reactors ORDER BY name',
    );
    assert.deepEqual(
      reactors.rows.map((r) => `${r.name} ${r.c}/${r.p}`),
      [
        `telegram ${formatPosition(copied[70]!.position)}`,
        `webhooks ${formatPosition(copied.at(-1)!.position)}`,
      ],
    );

    // Now the checkpoints are EventStoreDB's: a start on it is accepted, one on PostgreSQL refused.
    await claimCheckpointLog(sourceDb.pool, 'esdb');
    await assert.rejects(claimCheckpointLog(sourceDb.pool, 'postgres'), CheckpointLogMismatchError);

    // Run again: verified once more, nothing appended, nothing remapped.
    const again = await migrateLog({ pool: sourceDb.pool, source, target, address: 'test' });
    assert.equal(again.alreadyFinished, true);
    assert.equal(again.checkpoints.length, 0);
    assert.equal((await readWhole(target)).length, events.length);
  });
});

describe('log:reset (CLI)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
    await migrate(db.pool, allMigrations({ EVENT_STORE: 'postgres' } as Config));
    const log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    await scriptedConversation(handlerFor(log), 'shop', '1');
    await log.close();
    // Checkpoints some other log wrote: positions that mean nothing in this one.
    await db.pool.query(`INSERT INTO td_checkpoint_log (log) VALUES ('esdb')`);
    await db.pool.query(
      `INSERT INTO td_reactors (name, checkpoint_commit, checkpoint_prepare) VALUES ('telegram', 99999999, 99999999)`,
    );
  });
  after(async () => {
    await db.drop();
  });

  it('any command is refused with the way out; log:reset --yes starts afresh on the configured log', async () => {
    const env = { DATABASE_URL: db.url };
    const refused = await cli(['projections:status'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /EVENT_STORE=postgres, but .* positions in the esdb log/);
    assert.match(refused.stderr, /log:reset --yes/);

    const unsure = await cli(['log:reset'], env);
    assert.equal(unsure.code, 1);
    assert.match(unsure.stderr, /pass --yes/);

    const reset = await cli(['log:reset', '--yes'], env);
    assert.equal(reset.code, 0, reset.stderr);
    const head = await db.pool.query<{ c: string; p: string }>(
      'SELECT transaction_id::text AS c, position::text AS p FROM td_events ORDER BY transaction_id DESC, position DESC LIMIT 1',
    );
    const { rows } = await db.pool.query<{ c: string; p: string }>(
      `SELECT checkpoint_commit::text AS c, checkpoint_prepare::text AS p FROM td_reactors WHERE name = 'telegram'`,
    );
    assert.deepEqual(
      rows[0],
      head.rows[0],
      'the reactor starts at the head: nothing in the log is sent again',
    );
    assert.equal(await readCheckpointLog(db.pool), 'postgres');
    const status = await cli(['projections:status', '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    for (const p of JSON.parse(status.stdout) as { status: string; lag: number }[])
      if (p.status === 'active') assert.equal(p.lag, 0);
  });
});

describe('td_checkpoint_log on an install older than it', () => {
  const upgrade = async (eventStore: 'postgres' | 'esdb', withEvents: boolean) => {
    const db = await createTestDatabase({ migrate: false });
    try {
      const all = allMigrations({ EVENT_STORE: eventStore } as Config);
      const older = all.filter((m) => m.id !== '005_checkpoint_log' && m.id !== '006_log_copy');
      await migrate(db.pool, older);
      if (withEvents) {
        const log = createPgEventLog({ pool: db.pool, connectionString: db.url });
        await scriptedConversation(handlerFor(log), 'shop', '1');
        await log.close();
      }
      await db.pool.query(
        `INSERT INTO td_reactors (name, checkpoint_commit, checkpoint_prepare) VALUES ('telegram', 7, 7)`,
      );
      await migrate(db.pool, all);
      return await readCheckpointLog(db.pool);
    } finally {
      await db.drop();
    }
  };

  it('gives its checkpoints to PostgreSQL when td_events holds events, else to EventStoreDB', async () => {
    assert.equal(await upgrade('postgres', true), 'postgres');
    assert.equal(await upgrade('esdb', false), 'esdb');
  });
});
