// The API remembers a checked token instead of looking it up on every request; a revocation must end
// it at once all the same: the sources projection notifies in the transaction that records it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrate } from '../../src/adapters/postgres/migrations.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import { authenticate, createSource, runSourceCommand } from '../../src/adapters/sources/sources.ts';
import {
  type Authenticator,
  createAuthenticator,
  TOKENS_CHANNEL,
} from '../../src/adapters/sources/token-cache.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { registryMigrations } from '../../src/projections/index.ts';
import { sourcesProjection } from '../../src/projections/read-models/sources.ts';
import { catchUpProjection } from '../../src/projections/runner.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const waitFor = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('remembered API tokens (real database)', () => {
  let db: TestDatabase;
  let log: EventLog;
  const authenticators: Authenticator[] = [];
  const fresh = () => catchUpProjection({ db: sqlDatabase(db.pool), log, projection: sourcesProjection });
  /** An authenticator that has connected its LISTEN and remembers `token` (proven by answering from memory). */
  const remembering = async (token: string, tokenId: string, code: string) => {
    const a = createAuthenticator({ pool: db.pool, connectionString: db.url });
    authenticators.push(a);
    await waitFor('the token to be remembered', async () => {
      assert.equal((await a.authenticate(token))?.code, code);
      await revokeBehindItsBack(tokenId, true);
      const fromMemory = await a.authenticate(token);
      await revokeBehindItsBack(tokenId, false);
      return fromMemory ? true : undefined;
    });
    return a;
  };
  /** Marks a token revoked in the read model without the projection (and so without its notification). */
  const revokeBehindItsBack = (tokenId: string, revoked: boolean) =>
    db.pool.query(
      `UPDATE rm_source_tokens SET revoked_at = ${revoked ? 'now()' : 'NULL'} WHERE token_id = $1`,
      [tokenId],
    );

  before(async () => {
    db = await createTestDatabase();
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    await migrate(db.pool, [...registryMigrations]);
  });
  after(async () => {
    for (const a of authenticators) await a.stop();
    await log.close();
    await db.drop();
  });

  it('answers a known token from memory, and refuses it as soon as the revocation is recorded', async () => {
    const { token, tokenId } = await createSource(log, 'shop', null);
    await fresh();
    const a = await remembering(token, tokenId, 'shop');

    // The real revocation: recorded, projected, and refused without waiting for any expiry.
    await runSourceCommand(log, 'shop', { type: 'RevokeToken', tokenId });
    await fresh();
    await waitFor(
      'the revocation to reach the API',
      async () => ((await a.authenticate(token)) === undefined ? true : undefined),
      1000,
    );
    assert.equal(await a.authenticate(token), undefined);
    assert.equal(await a.authenticate(`${token.slice(0, -1)}x`), undefined, 'a wrong secret is never let in');
  });

  it('remembers nothing while its LISTEN connection is lost', async () => {
    const { token, tokenId } = await createSource(log, 'desk', null);
    await fresh();
    const a = await remembering(token, tokenId, 'desk');
    await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND datname = current_database() AND pid <> pg_backend_pid()`,
      [`LISTEN ${TOKENS_CHANNEL}`],
    );
    await new Promise((r) => setTimeout(r, 100));
    await revokeBehindItsBack(tokenId, true);
    assert.equal(await a.authenticate(token), undefined, 'looked up again: the change is seen at once');
  });

  it('without a connection string it always asks the database', async () => {
    const { token, tokenId } = await createSource(log, 'forms', null);
    await fresh();
    const a = createAuthenticator({ pool: db.pool });
    authenticators.push(a);
    assert.equal((await a.authenticate(token))?.code, 'forms');
    await revokeBehindItsBack(tokenId, true);
    assert.equal(await authenticate(db.pool, token), undefined, 'the read model says revoked');
    assert.equal(await a.authenticate(token), undefined);
  });
});
