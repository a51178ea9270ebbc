import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createInFlight } from '../../src/adapters/api/in-flight.ts';

describe('caps on requests in progress', () => {
  it('refuses a key at its own cap, then everyone at the total; a release frees one slot, once', () => {
    const slots = createInFlight({ perKey: 2, total: 3 });
    const a1 = slots.take('a');
    const a2 = slots.take('a');
    assert.deepEqual(slots.take('a'), { refused: 'key' });
    const b1 = slots.take('b');
    assert.deepEqual(slots.take('b'), { refused: 'total' });
    assert.equal(slots.held(), 3);
    if (!('release' in a1) || !('release' in a2) || !('release' in b1)) throw new Error('slots expected');
    a1.release();
    a1.release(); // a second release of the same slot frees nothing more
    assert.equal(slots.held(), 2);
    const b2 = slots.take('b');
    assert.ok('release' in b2, 'b takes the freed slot');
    assert.deepEqual(slots.take('a'), { refused: 'total' });
    a2.release();
    b1.release();
    b2.release();
    assert.equal(slots.held(), 0);
    assert.ok('release' in slots.take('a'));
  });
});
