// A projection runner in its own process, so a test can SIGKILL it mid-batch.
import pg from 'pg';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import { allProjections } from '../../src/projections/index.ts';
import { startProjectionRunner } from '../../src/projections/runner.ts';

const url = process.env.RUNNER_DATABASE_URL!;
const pool = new pg.Pool({ connectionString: url, max: 10 });
const log = createPgEventLog({ pool, connectionString: url, pollIntervalMs: 100 });
startProjectionRunner({
  db: sqlDatabase(pool),
  log,
  projections: allProjections,
  batchSize: Number(process.env.RUNNER_BATCH_SIZE ?? 100),
});
