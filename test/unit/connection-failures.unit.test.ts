// Which failures of a projection's batch are the connection's (the runner retries the whole group)
// and which are the projection's own (it leaves its group and retries alone).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConnectionFailure } from '../../src/projections/sql.ts';

const pgError = (code: string, message = 'error') => Object.assign(new Error(message), { code });

describe('isConnectionFailure', () => {
  it('a lost or refused connection, a shutdown, a deadlock: the connection’s', () => {
    for (const code of ['08006', '08003', '57P01', '57P03', '53300', '40001', '40P01', '58030'])
      assert.equal(isConnectionFailure(pgError(code)), true, code);
    assert.equal(isConnectionFailure(pgError('ECONNRESET', 'read ECONNRESET')), true);
    assert.equal(isConnectionFailure(pgError('EPIPE', 'write EPIPE')), true);
    assert.equal(isConnectionFailure(new Error('Connection terminated unexpectedly')), true);
    assert.equal(
      isConnectionFailure(new Error('Client has encountered a connection error and is not queryable')),
      true,
    );
  });

  it('a bad statement, a constraint, a bug in the code: the projection’s own', () => {
    for (const code of ['22012', '23505', '42P01', '42703', 'P0001', 'XX000'])
      assert.equal(isConnectionFailure(pgError(code)), false, code);
    assert.equal(
      isConnectionFailure(new TypeError("Cannot read properties of undefined (reading 'id')")),
      false,
    );
    assert.equal(isConnectionFailure(undefined), false);
  });
});
