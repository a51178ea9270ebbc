import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { createTestDatabase } from '../support/db.ts';
import { runEventLogContract } from './event-log-contract.ts';

runEventLogContract('PostgreSQL', async () => {
  const db = await createTestDatabase();
  const log = createPgEventLog({ pool: db.pool, connectionString: db.url, pollIntervalMs: 200 });
  return {
    log,
    async beginSlowAppend(stream, events) {
      const client = await db.pool.connect();
      await client.query('BEGIN');
      await client.query(
        'SELECT * FROM td_try_append($1, -2, $2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[])',
        [
          stream,
          events.map((e) => e.id),
          events.map((e) => e.type),
          events.map((e) => JSON.stringify(e.data)),
          events.map((e) => JSON.stringify(e.metadata)),
        ],
      );
      return {
        async commit() {
          await client.query('COMMIT');
          client.release();
        },
      };
    },
    teardown: () => db.drop(),
  };
});
