// Projection batches commit without waiting for the disk (docs/design.md, "Projections and rebuilds").
// PostgreSQL itself is killed right after the runner reported a batch: what the crash lost is applied
// again from the checkpoint lost with it, and every cursor a writer was told still names its message.
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
import { comparePositions, type LogPosition } from '../../src/domain/event-log.ts';
import { registryMigrations } from '../../src/projections/index.ts';
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

describe('projections after PostgreSQL itself crashed', () => {
  it('every cursor reported before the crash names the same message after it, and the model equals a rebuild', {
    timeout: 180_000,
  }, async () => {
    const dataDir = join(tmpdir(), `topicdesk-crash-${process.pid}-${randomBytes(3).toString('hex')}`);
    // Durable, as in production: fsync and synchronous commits on.
    const port = await freePort();
    // The WAL writer's round at its longest (10 s, 200 ms by default): a batch committed without
    // waiting for the disk is still only in memory when the kill comes, however loaded the machine.
    const settings = ['wal_writer_delay=10000'];
    let server = await startEmbeddedPostgres({ dataDir, port, settings });
    try {
      let c = open(server);
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
          if (told.has(last)) killed = killServer(dataDir);
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
      await c.log.close();
      await c.pool.end().catch(() => undefined);
      await server.stop().catch(() => undefined); // this process no longer uses the dead server

      server = await startEmbeddedPostgres({ dataDir, port, settings });
      c = open(server);
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
      await c.log.close();
      await c.pool.end();
    } finally {
      await server.stop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
