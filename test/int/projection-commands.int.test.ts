// projections:status and projections:rebuild run as `npx topicdesk` runs them (the CLI in a child
// process) against a real database: what an operator sees before, during and after an upgrade.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { commandEventId, conversationIdOf } from '../../src/adapters/ids.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { createCommandHandler } from '../../src/domain/command-handler.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { messagesProjection } from '../../src/projections/read-models/messages.ts';
import { cli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

interface StatusRow {
  name: string;
  generation: number;
  version: number;
  codeVersion: number | null;
  status: string;
  lag: number;
}

describe('projection commands (CLI, real database)', () => {
  let db: TestDatabase;
  let log: EventLog;
  const env = () => ({ DATABASE_URL: db.url });
  const status = async (): Promise<StatusRow[]> => {
    const run = await cli(['projections:status', '--json'], env());
    assert.equal(run.code, 0, run.stderr);
    return (JSON.parse(run.stdout) as StatusRow[]).filter((r) => r.status === 'active');
  };

  before(async () => {
    db = await createTestDatabase();
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    const handler = createCommandHandler({ log, eventId: commandEventId });
    for (const clientId of ['1', '2', '3']) {
      const conversationId = conversationIdOf('external', 'shop', clientId);
      await handler.execute(
        conversationId,
        {
          type: 'ReceiveClientMessage',
          conversationId,
          channel: 'external',
          source: 'shop',
          clientId,
          profile: {},
          messageId: `m${clientId}`,
          content: { text: `hello from ${clientId}`, attachments: [] },
        },
        { commandId: `c${clientId}`, actor: { kind: 'source', id: 'shop' } },
      );
    }
  });
  after(async () => {
    await log.close();
    await db.drop();
  });

  it('status before anything ran says so; rebuild --all builds every read model to the head', async () => {
    const empty = await cli(['projections:status'], env());
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /no projection has run yet/);

    const built = await cli(['projections:rebuild', '--all'], env());
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, /messages/, 'progress is shown per projection');
    const rows = await status();
    assert.deepEqual(rows.map((r) => r.name).sort(), [
      'conversation-state',
      'conversations',
      'messages',
      'reports',
      'sources',
    ]);
    for (const r of rows) {
      assert.equal(r.lag, 0, `${r.name} is at the head`);
      assert.equal(r.version, r.codeVersion, `${r.name} is this version's build`);
    }
    const { rows: listed } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rm_messages');
    assert.equal(listed[0]!.n, 3);
  });

  it('after an upgrade the status names the older build, and a rebuild brings the new one in', async () => {
    // The tables in service as the previous release built them.
    await db.pool.query(
      `UPDATE td_projections SET version = version - 1 WHERE name = 'messages' AND status = 'active'`,
    );
    const table = await cli(['projections:status'], env());
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      new RegExp(`${messagesProjection.version - 1} \\(code ${messagesProjection.version}: rebuild\\)`),
    );
    const before = (await status()).find((r) => r.name === 'messages')!;

    const rebuilt = await cli(['projections:rebuild', 'messages'], env());
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const now = (await status()).find((r) => r.name === 'messages')!;
    assert.equal(now.version, messagesProjection.version);
    assert.ok(now.generation > before.generation, 'a new generation is in service');
    assert.doesNotMatch((await cli(['projections:status'], env())).stdout, /rebuild\)/);
  });

  it('an unknown projection is named, with the known ones', async () => {
    const run = await cli(['projections:rebuild', 'nothing'], env());
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /no projection "nothing"; known: conversations, messages, sources/);
  });
});
