// What an EventStoreDB append costs and how it tells a repeat, counted by the stand-in: calls, and
// events sent back to reads (docs/design.md, "The EventStoreDB event log"). With an exact expected
// revision: one read of what follows it, which gets nothing, and one write — not a read of the
// stream's last hundred events before every append.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import { WrongExpectedRevisionError } from '../../src/domain/errors.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { type EsdbStandIn, startEsdbStandIn } from '../support/esdb-stand-in.ts';
import { newEvent } from '../support/events.ts';

const event = (type: string) => newEvent(type, {}, 'append-test');

describe('EventStoreDB appends, counted', () => {
  let esdb: EsdbStandIn;
  let log: EventLog;
  before(async () => {
    esdb = await startEsdbStandIn();
    log = createEsdbEventLog({ connectionString: esdb.url });
    await log.ping();
  });
  after(async () => {
    await log?.close();
    await esdb?.stop();
  });
  beforeEach(() => esdb.resetCounts());

  const calls = () => {
    const c = esdb.counts();
    return { reads: c.read ?? 0, writes: (c.append ?? 0) + (c.batchAppend ?? 0), eventsRead: c.eventsRead };
  };
  const streamOf = (n: number) => {
    const s = `counted-${randomUUID()}`;
    return { s, events: Array.from({ length: n }, (_, i) => event(`E${i}`)) };
  };

  it('a new stream, then each next append: one read of what follows the revision, one write', async () => {
    const { s, events } = streamOf(150);
    await log.append(s, events, 'no_stream');
    assert.deepEqual(calls(), { reads: 1, writes: 1, eventsRead: 0 });
    for (let revision = 149; revision < 152; revision++) {
      esdb.resetCounts();
      const result = await log.append(s, [event('Next')], revision);
      assert.equal(result.nextRevision, revision + 1);
      assert.notEqual(result.alreadyStored, true);
      assert.deepEqual(calls(), { reads: 1, writes: 1, eventsRead: 0 }, `append after revision ${revision}`);
    }
  });

  it('a repeat with its revision is found by that read and writes nothing', async () => {
    const { s, events } = streamOf(3);
    await log.append(s, events.slice(0, 2), 'no_stream');
    await log.append(s, events.slice(2), 1);
    esdb.resetCounts();
    const repeated = await log.append(s, events.slice(0, 2), 'no_stream');
    assert.equal(repeated.alreadyStored, true);
    assert.equal(repeated.nextRevision, 1);
    assert.deepEqual(calls(), { reads: 1, writes: 0, eventsRead: 3 }, 'the pair and one more');
  });

  it('other events after the revision: a conflict, without a write', async () => {
    const { s, events } = streamOf(2);
    await log.append(s, events, 'no_stream');
    esdb.resetCounts();
    await assert.rejects(log.append(s, [event('Late')], 0), (e: unknown) => {
      assert.ok(e instanceof WrongExpectedRevisionError);
      assert.equal(e.actual, '1', "the stream's end, named");
      return true;
    });
    assert.deepEqual(calls(), { reads: 1, writes: 0, eventsRead: 1 });
    assert.equal((await log.readStream(s)).length, 2);
  });
});
