// The `sources` read model's version 2 adds each source's dialect. Until an operator rebuilds it,
// the generation in service has no such column: it must keep being followed and read, every
// source answering in topicdesk's own API, rather than stopping the runner or the API's logins.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCompat } from '../../src/adapters/api/compat/dialect.ts';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import {
  authenticate,
  changeSourceCompat,
  createSource,
  dialectOfRefusedToken,
} from '../../src/adapters/sources/sources.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { registryMigrations } from '../../src/projections/index.ts';
import { sourcesProjection } from '../../src/projections/read-models/sources.ts';
import { catchUpProjection } from '../../src/projections/runner.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('sources read model: dialects before and after the rebuild', () => {
  let db: TestDatabase;
  let log: EventLog;
  const catchUp = () => catchUpProjection({ db: sqlDatabase(db.pool), log, projection: sourcesProjection });

  before(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, [...registryMigrations]);
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
  });
  after(async () => {
    await log.close();
    await db.drop();
  });

  it('a generation without the compat column keeps following the log and logging tokens in', async () => {
    const native = await createSource(log, 'before', null);
    await catchUp();
    // The generation in service as version 1 built it: no compat column.
    const { rows } = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'rm\\_sources\\_g%'`,
    );
    const table = rows[0]!.table_name;
    await db.pool.query(
      `DROP VIEW rm_sources; ALTER TABLE ${table} DROP COLUMN compat; CREATE VIEW rm_sources AS SELECT * FROM ${table}`,
    );

    const dialect = await createSource(log, 'widget', null, 'cli', parseCompat('tg-support-bot@6'));
    await changeSourceCompat(log, 'before', parseCompat('tg-support-bot@5'));
    assert.equal(await catchUp(), 'caught-up');
    const widget = await authenticate(db.pool, dialect.token);
    assert.equal(widget?.code, 'widget', 'a source registered meanwhile logs in');
    assert.equal(widget?.compat, undefined, 'in topicdesk’s own API until the rebuild');
    assert.equal((await authenticate(db.pool, native.token))?.compat, undefined);
    assert.equal(await dialectOfRefusedToken(db.pool, `td_${dialect.tokenId}_${'A'.repeat(43)}`), undefined);
  });

  it('a generation with it answers each token with its dialect', async () => {
    const fresh = await createTestDatabase();
    await migrate(fresh.pool, [...registryMigrations]);
    const freshLog = createPgEventLog({ pool: fresh.pool, connectionString: fresh.url });
    try {
      const dialect = await createSource(freshLog, 'widget', null, 'cli', parseCompat('tg-support-bot@6'));
      const native = await createSource(freshLog, 'own', null);
      await catchUpProjection({ db: sqlDatabase(fresh.pool), log: freshLog, projection: sourcesProjection });
      assert.equal((await authenticate(fresh.pool, dialect.token))?.compat?.version, 6);
      assert.equal((await authenticate(fresh.pool, native.token))?.compat, undefined);
      assert.equal(
        await dialectOfRefusedToken(fresh.pool, `td_${dialect.tokenId}_${'A'.repeat(43)}`),
        'tg-support-bot',
        'a wrong secret for a dialect source is refused in its dialect',
      );
      assert.equal(
        await dialectOfRefusedToken(fresh.pool, `td_${native.tokenId}_${'A'.repeat(43)}`),
        undefined,
      );
    } finally {
      await freshLog.close();
      await fresh.drop();
    }
  });
});
