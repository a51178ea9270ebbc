// A describe block's throwaway database with the projections' registry and a PostgreSQL event log
// on it, made before its tests and dropped after them.
import { after, before } from 'node:test';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { registryMigrations } from '../../src/projections/index.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

/** Hands the database and the log to `take` once they exist (call it in a describe block). */
export const withLogDatabase = (take: (x: { db: TestDatabase; log: EventLog }) => void) => {
  let db: TestDatabase;
  let log: EventLog;
  before(async () => {
    db = await createTestDatabase();
    await migrate(db.pool, [...registryMigrations]);
    log = createPgEventLog({ pool: db.pool, connectionString: db.url, pollIntervalMs: 100 });
    take({ db, log });
  });
  after(async () => {
    await log.close();
    await db.drop();
  });
};
