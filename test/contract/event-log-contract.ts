// The one contract every event-log adapter keeps (docs/design.md, "The event-log contract"). Run by
// pg.contract.int.test.ts always and by esdb.contract.int.test.ts when EVENTSTORE_URL is set.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EventIdConflictError, WrongExpectedRevisionError } from '../../src/domain/errors.ts';
import type { AppendResult, EventLog, NewEvent, RecordedEvent } from '../../src/domain/event-log.ts';
import { APPEND_DEDUP_WINDOW, comparePositions } from '../../src/domain/event-log.ts';
import { newEvent as testEvent } from '../support/events.ts';

export interface SlowAppend {
  /** Resolves once the events hold their place in the log; they become visible only on commit(). */
  commit(): Promise<void>;
}

export interface EventLogHarness {
  readonly log: EventLog;
  /** Starts an append whose transaction stays open: how a slow writer looks to the log. */
  readonly beginSlowAppend?: (stream: string, events: readonly NewEvent[]) => Promise<SlowAppend>;
  /** Why beginSlowAppend is absent for this adapter. */
  readonly noSlowAppend?: string;
  teardown(): Promise<void>;
}

const newEvent = (type: string, data: unknown = {}) => testEvent(type, data, 'contract-test');

/** Collects everything a subscription delivers for streams under one prefix. */
const collect = (log: EventLog, prefix: string, from = { commit: -1n, prepare: -1n }) => {
  const seen: RecordedEvent[] = [];
  const waiters: Array<() => void> = [];
  const subscription = log.subscribeAll({ from, batchSize: 50 }, async (batch) => {
    for (const e of batch) if (e.stream.startsWith(prefix)) seen.push(e);
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (count: number, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (seen.length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return seen;
  };
  return { seen, subscription, waitFor };
};

export const runEventLogContract = (
  name: string,
  makeHarness: () => Promise<EventLogHarness>,
  suiteOptions: { skip?: string | false } = {},
): void => {
  describe(`event log contract: ${name}`, { skip: suiteOptions.skip ?? false }, () => {
    let h: EventLogHarness;
    let prefix: string;
    let n = 0;
    const stream = () => `${prefix}-${++n}`;

    before(async () => {
      h = await makeHarness();
      prefix = `contract${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    });
    after(async () => {
      await h?.log.close();
      await h?.teardown();
    });

    it('appends to a new stream and reads it back in revision order', async () => {
      const s = stream();
      const events = [newEvent('A', { n: 1 }), newEvent('B', { n: 2, nested: { ok: true } }), newEvent('C')];
      const result = await h.log.append(s, events, 'no_stream');
      assert.equal(result.nextRevision, 2);
      const read = await h.log.readStream(s);
      assert.deepEqual(
        read.map((e) => [e.id, e.type, e.revision, e.data]),
        events.map((e, i) => [e.id, e.type, i, e.data]),
      );
      assert.deepEqual(read[0]!.metadata, events[0]!.metadata);
      assert.ok(read[0]!.recordedAt instanceof Date);
      assert.equal(comparePositions(read[2]!.position, result.position), 0);
    });

    it('reads a missing stream as empty', async () => {
      assert.deepEqual(await h.log.readStream(`${prefix}-never-written`), []);
    });

    it('reads a stream from a revision, at most maxCount', async () => {
      const s = stream();
      await h.log.append(s, [newEvent('A'), newEvent('B'), newEvent('C'), newEvent('D')], 'no_stream');
      const read = await h.log.readStream(s, { fromRevision: 1, maxCount: 2 });
      assert.deepEqual(
        read.map((e) => [e.type, e.revision]),
        [
          ['B', 1],
          ['C', 2],
        ],
      );
    });

    it('refuses a wrong expected revision with the typed error and writes nothing', async () => {
      const s = stream();
      await h.log.append(s, [newEvent('A'), newEvent('B')], 'no_stream');
      const head = await h.log.headPosition();
      for (const expected of [0, 5, 'no_stream'] as const) {
        await assert.rejects(h.log.append(s, [newEvent('X')], expected), (e: unknown) => {
          assert.ok(e instanceof WrongExpectedRevisionError, `got ${String(e)}`);
          assert.equal(e.code, 'wrong_expected_revision');
          assert.equal(e.stream, s);
          return true;
        });
      }
      assert.deepEqual(
        (await h.log.readStream(s)).map((e) => e.type),
        ['A', 'B'],
      );
      assert.deepEqual(await h.log.headPosition(), head);
    });

    it('appends with the right expected revision and with any', async () => {
      const s = stream();
      await h.log.append(s, [newEvent('A')], 'no_stream');
      assert.equal((await h.log.append(s, [newEvent('B')], 0)).nextRevision, 1);
      assert.equal((await h.log.append(s, [newEvent('C'), newEvent('D')], 'any')).nextRevision, 3);
      assert.equal((await h.log.readStream(s)).length, 4);
    });

    it('stores an event id once, however often the append is repeated', async () => {
      const s = stream();
      const e = newEvent('Once', { v: 1 });
      await h.log.append(s, [e], 'no_stream');
      assert.equal((await h.log.append(s, [e], 'any')).alreadyStored, true);
      assert.equal((await h.log.append(s, [e], 'no_stream')).alreadyStored, true);
      const read = await h.log.readStream(s);
      assert.equal(read.length, 1);
      assert.equal(read[0]!.id, e.id);
    });

    // The dedup window (APPEND_DEDUP_WINDOW beside AppendResult): what every log finds, at both ends.
    const fillers = (n: number) => Array.from({ length: n }, (_, i) => newEvent('Filler', { i }));

    it("with any: an append of the stream's last event is stored already", async () => {
      const s = stream();
      await h.log.append(s, fillers(3), 'no_stream');
      const last = newEvent('Last');
      await h.log.append(s, [last], 2);
      const repeated = await h.log.append(s, [last], 'any');
      assert.equal(repeated.alreadyStored, true);
      assert.equal(repeated.nextRevision, 3);
      const read = await h.log.readStream(s);
      assert.equal(read.length, 4);
      assert.equal(comparePositions(repeated.position, read[3]!.position), 0, 'where it was stored');
    });

    it(`with any: an append of the event ${APPEND_DEDUP_WINDOW} from the stream's end is stored already`, async () => {
      const s = stream();
      const oldest = newEvent('Oldest');
      await h.log.append(s, [oldest], 'no_stream');
      await h.log.append(s, fillers(APPEND_DEDUP_WINDOW - 1), 0);
      const repeated = await h.log.append(s, [oldest], 'any');
      assert.equal(repeated.alreadyStored, true);
      assert.equal(repeated.nextRevision, 0);
      const read = await h.log.readStream(s);
      assert.equal(read.length, APPEND_DEDUP_WINDOW);
      assert.equal(read.filter((e) => e.id === oldest.id).length, 1);
    });

    it('with its own expected revision: an append repeated far behind the stream is stored already', async () => {
      const s = stream();
      await h.log.append(s, [newEvent('Before')], 'no_stream');
      const pair = [newEvent('P1'), newEvent('P2')];
      await h.log.append(s, pair, 0);
      // Further back than the window a log scans with any: the revision says where to look.
      await h.log.append(s, fillers(APPEND_DEDUP_WINDOW + 20), 2);
      const repeated = await h.log.append(s, pair, 0);
      assert.equal(repeated.alreadyStored, true);
      assert.equal(repeated.nextRevision, 2);
      const read = await h.log.readStream(s);
      assert.equal(read.length, APPEND_DEDUP_WINDOW + 23);
      assert.equal(comparePositions(repeated.position, read[2]!.position), 0, 'where the pair was stored');
      // Only its first event where the pair stood is no repeat: a conflict, nothing written.
      await assert.rejects(h.log.append(s, [pair[0]!, newEvent('Other')], 0), WrongExpectedRevisionError);
      assert.equal((await h.log.readStream(s)).length, APPEND_DEDUP_WINDOW + 23);
    });

    it('an append repeated after the stream moved on writes nothing and does not pass for a new one', async () => {
      const s = stream();
      const first = newEvent('First');
      const fresh = await h.log.append(s, [first], 'no_stream');
      assert.notEqual(fresh.alreadyStored, true, 'a first append is not a repeat');
      await h.log.append(s, [newEvent('Later')], 0);
      // The writer that appended `first` repeats it, still expecting the stream to be new: either a
      // success that says the events were stored already, or a conflict — never a plain success,
      // which a command handler would take for the stream's new end.
      const repeated = await h.log.append(s, [first], 'no_stream').then(
        (r) => r,
        (error: unknown) => error,
      );
      if (repeated instanceof Error)
        assert.ok(repeated instanceof WrongExpectedRevisionError, String(repeated));
      else assert.equal((repeated as AppendResult).alreadyStored, true);
      assert.deepEqual(
        (await h.log.readStream(s)).map((e) => e.type),
        ['First', 'Later'],
      );
    });

    it('an event id stored in another stream is never "stored already" in this one', async () => {
      const s1 = stream();
      const s2 = stream();
      const shared = newEvent('Shared');
      await h.log.append(s1, [shared], 'no_stream');
      await h.log.append(s2, [newEvent('Own')], 'no_stream');
      // Through the insert (the expected revision holds) and through the revision check (it does not):
      // a refusal naming the conflict, or (a log whose ids are per stream) the event written in s2.
      for (const expected of [0, 'no_stream'] as const) {
        const outcome = await h.log.append(s2, [{ ...shared, type: 'Other' }], expected).then(
          (r) => r,
          (error: unknown) => error,
        );
        if (outcome instanceof Error) {
          assert.ok(
            outcome instanceof EventIdConflictError ||
              (expected === 'no_stream' && outcome instanceof WrongExpectedRevisionError),
            String(outcome),
          );
          if (outcome instanceof EventIdConflictError) assert.equal(outcome.code, 'event_id_conflict');
        } else {
          assert.notEqual((outcome as AppendResult).alreadyStored, true, `expected ${expected}`);
          assert.ok((await h.log.readStream(s2)).some((e) => e.id === shared.id));
        }
      }
      assert.deepEqual(
        (await h.log.readStream(s1)).map((e) => e.type),
        ['Shared'],
      );
    });

    it('reads all events after a position, exclusive, in log order', async () => {
      const start = (await h.log.headPosition()) ?? { commit: -1n, prepare: -1n };
      const s1 = stream();
      const s2 = stream();
      await h.log.append(s1, [newEvent('A')], 'no_stream');
      await h.log.append(s2, [newEvent('B')], 'no_stream');
      await h.log.append(s1, [newEvent('C')], 0);
      const all = (await h.log.readAll(start, 1000)).filter((e) => e.stream.startsWith(prefix));
      assert.deepEqual(
        all.map((e) => e.type),
        ['A', 'B', 'C'],
      );
      for (let i = 1; i < all.length; i++)
        assert.ok(comparePositions(all[i - 1]!.position, all[i]!.position) < 0);
      const rest = (await h.log.readAll(all[0]!.position, 1000)).filter((e) => e.stream.startsWith(prefix));
      assert.deepEqual(
        rest.map((e) => e.type),
        ['B', 'C'],
      );
      assert.equal((await h.log.readAll(start, 2)).length, 2);
    });

    it('a subscription catches up, then delivers live events, each once and in order', async () => {
      const start = (await h.log.headPosition()) ?? { commit: -1n, prepare: -1n };
      const s = stream();
      await h.log.append(s, [newEvent('Old1'), newEvent('Old2')], 'no_stream');
      const c = collect(h.log, prefix, start);
      await c.waitFor(2);
      await h.log.append(s, [newEvent('New1')], 1);
      await h.log.append(s, [newEvent('New2')], 2);
      const seen = await c.waitFor(4);
      await c.subscription.stop();
      assert.deepEqual(
        seen.map((e) => e.type),
        ['Old1', 'Old2', 'New1', 'New2'],
      );
    });

    it('a subscriber sees every event once when a slow transaction takes a lower position and commits late', async (t) => {
      if (!h.beginSlowAppend) {
        t.skip(h.noSlowAppend ?? 'this adapter cannot hold an append open');
        return;
      }
      const start = (await h.log.headPosition()) ?? { commit: -1n, prepare: -1n };
      const c = collect(h.log, prefix, start);
      const slow = await h.beginSlowAppend(stream(), [newEvent('Slow')]);
      const fast = stream();
      await h.log.append(fast, [newEvent('Fast1')], 'no_stream');
      await h.log.append(fast, [newEvent('Fast2')], 0);
      // Give the subscriber every chance to run past the open transaction.
      await new Promise((r) => setTimeout(r, 300));
      await slow.commit();
      const seen = await c.waitFor(3);
      await new Promise((r) => setTimeout(r, 200));
      await c.subscription.stop();
      assert.deepEqual(
        seen.map((e) => e.type).sort(),
        ['Fast1', 'Fast2', 'Slow'],
        'every event delivered exactly once',
      );
      assert.equal(new Set(seen.map((e) => e.id)).size, seen.length);
    });

    it('concurrent writers: a subscriber sees every event exactly once', async () => {
      const start = (await h.log.headPosition()) ?? { commit: -1n, prepare: -1n };
      const c = collect(h.log, prefix, start);
      const writers = 8;
      const perWriter = 25;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          const s = stream();
          for (let i = 0; i < perWriter; i++) {
            await h.log.append(s, [newEvent('W', { i })], i === 0 ? 'no_stream' : i - 1);
          }
        }),
      );
      const seen = await c.waitFor(writers * perWriter, 10_000);
      await new Promise((r) => setTimeout(r, 200));
      await c.subscription.stop();
      assert.equal(seen.length, writers * perWriter);
      assert.equal(new Set(seen.map((e) => e.id)).size, writers * perWriter);
      const byStream = new Map<string, number[]>();
      for (const e of seen) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e.revision]);
      for (const revisions of byStream.values()) {
        assert.deepEqual(
          revisions,
          revisions.map((_, i) => i),
          'stream order kept',
        );
      }
    });

    it('concurrent appends to one stream with the same expected revision: one wins, one conflicts', async () => {
      const s = stream();
      await h.log.append(s, [newEvent('A')], 'no_stream');
      const results = await Promise.allSettled([
        h.log.append(s, [newEvent('B1')], 0),
        h.log.append(s, [newEvent('B2')], 0),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(failed.reason instanceof WrongExpectedRevisionError);
      assert.equal((await h.log.readStream(s)).length, 2);
    });
  });
};
