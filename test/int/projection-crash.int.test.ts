// Projection batches and reactor checkpoints commit without waiting for the disk (docs/design.md,
// "Projections and rebuilds", "Reactors"). PostgreSQL itself is killed right after such a commit: what
// the crash lost is applied again from the checkpoint lost with it, and every cursor a writer was told
// still names its message; a reactor is handed again every event whose checkpoint the crash took.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  type EmbeddedPostgres,
  freePort,
  startEmbeddedPostgres,
} from '../../src/adapters/postgres/embedded.ts';
import { eventLogMigrations, migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import { comparePositions, type LogPosition, startOfLog } from '../../src/domain/event-log.ts';
import { reactorMigration, registryMigrations } from '../../src/projections/index.ts';
import { type Reactor, startReactorRunner } from '../../src/projections/reactor-runner.ts';
import { type MessageRow, messagesProjection } from '../../src/projections/read-models/messages.ts';
import { rebuildProjection } from '../../src/projections/rebuild.ts';
import { readGeneration } from '../../src/projections/registry.ts';
import { startProjectionRunner } from '../../src/projections/runner.ts';
import { driver, handlerFor, scriptedConversation } from '../support/conversations.ts';
import { waitFor } from '../support/wait.ts';

const CONVERSATIONS = 12;

/** The server and every process of it at once, as a power cut would: nothing left to flush. */
const killServer = async (dataDir: string) => {
  const pid = Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  await promisify(execFile)('pkill', ['-KILL', '-P', String(pid)]).catch(() => undefined);
  process.kill(pid, 'SIGKILL');
};

const open = (server: EmbeddedPostgres) => {
  const pool = new pg.Pool({ connectionString: server.url, max: 8 });
  pool.on('error', () => undefined);
  const log = createPgEventLog({ pool, connectionString: server.url, pollIntervalMs: 100 });
  return { pool, log, db: sqlDatabase(pool) };
};

/**
 * A durable server (fsync and synchronous commits on, as in production) in a fresh directory, open:
 * `kill` cuts it down as a power cut would, `restart` lets go of the dead one and opens it again.
 */
const durableServer = async (name: string) => {
  const dataDir = join(tmpdir(), `topicdesk-${name}-${process.pid}-${randomBytes(3).toString('hex')}`);
  const port = await freePort();
  // The WAL writer's round at its longest (10 s, 200 ms by default): a commit that did not wait for
  // the disk is still only in memory when the kill comes, however loaded the machine.
  const settings = ['wal_writer_delay=10000'];
  const start = () => startEmbeddedPostgres({ dataDir, port, settings });
  let server = await start();
  let c = open(server);
  const close = async () => {
    await c.log.close().catch(() => undefined);
    await c.pool.end().catch(() => undefined);
    await server.stop().catch(() => undefined); // this process no longer uses the (dead) server
  };
  return {
    opened: () => c,
    kill: () => killServer(dataDir),
    async restart() {
      await close();
      server = await start();
      c = open(server);
      return c;
    },
    async dispose() {
      await close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
};

describe('projections after PostgreSQL itself crashed', () => {
  it('every cursor reported before the crash names the same message after it, and the model equals a rebuild', {
    timeout: 180_000,
  }, async () => {
    const server = await durableServer('crash');
    try {
      let c = server.opened();
      await migrate(c.pool, [...eventLogMigrations, ...registryMigrations]);
      const handler = handlerFor(c.log);
      // scriptedConversation: 4 messages and 4 answers each; then one last message.
      const expected = CONVERSATIONS * 8 + 1;
      const last = 'crash-last-in-0';
      const told = new Map<string, string>();
      let reported: LogPosition | undefined;
      let killed: Promise<void> | undefined;
      const runner = startProjectionRunner({
        db: c.db,
        log: c.log,
        projections: [messagesProjection],
        onBatch: ({ position, written }) => {
          if (killed) return;
          for (const row of written as readonly MessageRow[]) told.set(row.message_id, row.cursor);
          reported = position;
          // At once, once the last message is reported: its batch's commit has not waited for the disk.
          if (told.has(last)) killed = server.kill();
        },
      });
      await Promise.all(
        Array.from({ length: CONVERSATIONS }, (_, i) =>
          scriptedConversation(handler, 'shop', `crash-${i}`, { messages: 4 }),
        ),
      );
      // The last append, on its own: once it is recorded, the server dies with the batch listing it.
      const client = driver(handler, 'shop', 'crash-last');
      await client.run({
        type: 'ReceiveClientMessage',
        conversationId: client.conversationId,
        channel: 'external',
        source: 'shop',
        clientId: 'crash-last',
        profile: {},
        messageId: last,
        content: { text: 'the last one', attachments: [] },
      });
      await waitFor(
        'the last batch to be reported and the server killed',
        () => killed !== undefined,
        30_000,
      );
      await killed;
      await runner.stop();
      c = await server.restart();
      const stored = (await readGeneration(c.db, 'messages', { status: 'active' }))!.checkpoint;
      // What the crash took: the reported batches whose commit had not reached the disk.
      const lost = stored === null || comparePositions(stored, reported!) < 0;
      const again = startProjectionRunner({ db: c.db, log: c.log, projections: [messagesProjection] });
      await waitFor(
        'every message to be listed again',
        async () =>
          Number((await c.pool.query('SELECT count(*) AS n FROM rm_messages')).rows[0].n) === expected,
        30_000,
      );
      await again.stop();
      const rows = (
        await c.pool.query<{ message_id: string; cursor: string }>(
          'SELECT message_id, cursor::text AS cursor FROM rm_messages m ORDER BY m.cursor',
        )
      ).rows;
      assert.deepEqual(
        rows.map((r) => r.cursor),
        Array.from({ length: expected }, (_, i) => String(i + 1)),
        'cursors 1…n, no gap and none twice',
      );
      for (const r of rows) assert.equal(told.get(r.message_id), r.cursor, `${r.message_id} kept its cursor`);
      const before = (await c.pool.query('SELECT * FROM rm_messages ORDER BY cursor')).rows;
      await rebuildProjection({ db: c.db, log: c.log, projection: messagesProjection });
      assert.deepEqual((await c.pool.query('SELECT * FROM rm_messages ORDER BY cursor')).rows, before);
      // Killed within a moment of the commit, before the WAL writer's next round: the batch was
      // gone, so the cursors above were handed out again, not kept.
      assert.ok(lost, 'the crash took the last reported batch with it');
    } finally {
      await server.dispose();
    }
  });

  it('a reactor is handed again every event whose checkpoint the crash took', {
    timeout: 120_000,
  }, async () => {
    const server = await durableServer('reactor-crash');
    try {
      let c = server.opened();
      await migrate(c.pool, [...eventLogMigrations, reactorMigration]);
      await scriptedConversation(handlerFor(c.log), 'shop', 'reactor-crash', { messages: 3 });
      const all = await c.log.readAll(startOfLog, 1000);
      const last = all[all.length - 1]!.position;
      const handled: string[][] = [[], []];
      const recording = (into: string[]): Reactor => ({
        name: 'recording',
        async handle(events) {
          for (const e of events) into.push(e.id);
        },
      });
      const stored = async () => {
        const { rows } = await c.pool.query<{ c: string | null; p: string | null }>(
          `SELECT checkpoint_commit::text AS c, checkpoint_prepare::text AS p FROM td_reactors WHERE name = 'recording'`,
        );
        const r = rows[0];
        return r?.c == null ? undefined : { commit: BigInt(r.c), prepare: BigInt(r.p!) };
      };
      const first = startReactorRunner({ db: c.db, log: c.log, reactor: recording(handled[0]!) });
      await waitFor(
        'the checkpoint after the last event',
        async () => {
          const at = await stored();
          return at && comparePositions(at, last) === 0 ? true : undefined;
        },
        30_000,
      );
      await server.kill();
      await first.stop();
      c = await server.restart();
      const after = await stored();
      const lost = all.filter((e) => after === undefined || comparePositions(e.position, after) > 0);
      const again = startReactorRunner({ db: c.db, log: c.log, reactor: recording(handled[1]!) });
      await waitFor('the lost events handed again', () =>
        lost.every((e) => handled[1]!.includes(e.id)) ? true : undefined,
      );
      await again.stop();
      assert.deepEqual(
        handled[0],
        all.map((e) => e.id),
        'every event handled before the crash',
      );
      assert.deepEqual(
        handled[1],
        lost.map((e) => e.id),
        'exactly the events past the checkpoint left',
      );
      // Killed within a moment of the commit, before the WAL writer's next round: the checkpoint
      // was gone, so the reactor saw those events twice (its steps skip what is recorded done).
      assert.ok(lost.length > 0, 'the crash took the last checkpoint with it');
    } finally {
      await server.dispose();
    }
  });
});
