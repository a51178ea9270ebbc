// The reactors' fan-out: a failed conversation must not leave the others' calls running while the
// batch is retried (they would be made twice, concurrently).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachConcurrently } from '../../src/adapters/conversation-workers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('forEachConcurrently', () => {
  it('handles every item, at most `concurrency` at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, new AbortController().signal, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(5);
      running -= 1;
      done.push(n);
    });
    assert.deepEqual([...done].sort(), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(most, 3);
  });

  it('after a failure: starts nothing new, lets the others finish, then throws the first error', async () => {
    const log: string[] = [];
    const run = forEachConcurrently(
      ['fails', 'slow', 'later-1', 'later-2'],
      2,
      new AbortController().signal,
      async (item) => {
        log.push(`start ${item}`);
        if (item === 'fails') throw new Error('Bot API said no');
        await sleep(50);
        log.push(`end ${item}`);
      },
    );
    await assert.rejects(run, /Bot API said no/);
    assert.deepEqual(
      log,
      ['start fails', 'start slow', 'end slow'],
      'the slow one ended before the error came out',
    );
  });

  it('stops taking items once the signal aborts', async () => {
    const abort = new AbortController();
    const seen: number[] = [];
    await forEachConcurrently([1, 2, 3], 1, abort.signal, async (n) => {
      seen.push(n);
      abort.abort();
    });
    assert.deepEqual(seen, [1]);
  });
});
