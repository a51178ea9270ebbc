// The EventStoreDB stand-in itself, through the bare client: it must answer as KurrentDB does where the
// adapter relies on it (docs/design.md, "The EventStoreDB stand-in") — conflicts with the current and
// expected revisions, the idempotency rules (strong behind the stream's end, best effort for `any`, lost
// on restart), system events in $all, filtered subscriptions with checkpoints and caught-up.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import {
  type AllStreamResolvedEvent,
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  jsonEvent,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { startEsdbStandIn } from '../support/esdb-stand-in.ts';

const ev = (type = 'Test') => jsonEvent({ id: randomUUID(), type, data: { at: Date.now() } });

const drain = async <T>(read: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of read) out.push(item);
  return out;
};

describe('EventStoreDB stand-in, through the client', () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  });
  const setUp = async (options: Parameters<typeof startEsdbStandIn>[0] = {}) => {
    const esdb = await startEsdbStandIn(options);
    const client = EventStoreDBClient.connectionString(esdb.url);
    stops.push(
      () => esdb.stop(),
      () => client.dispose(),
    );
    return { esdb, client };
  };

  for (const batchAppend of [true, false]) {
    const path = batchAppend ? 'BatchAppend' : 'Append';
    it(`a conflict carries the current and expected revisions (${path})`, async () => {
      const { client, esdb } = await setUp({ batchAppend });
      await client.appendToStream('s', [ev(), ev()], { expectedRevision: 'no_stream' });
      await assert.rejects(client.appendToStream('s', [ev()], { expectedRevision: 0n }), (e: unknown) => {
        assert.ok(e instanceof WrongExpectedVersionError, String(e));
        assert.equal(e.streamName, 's');
        assert.equal(e.expectedVersion, 0n);
        assert.equal(e.actualVersion, 1n);
        return true;
      });
      await assert.rejects(client.appendToStream('new', [ev()], { expectedRevision: 3n }), (e: unknown) => {
        assert.ok(e instanceof WrongExpectedVersionError, String(e));
        assert.equal(e.actualVersion, 'no_stream');
        return true;
      });
      const counts = esdb.counts();
      assert.equal(
        batchAppend ? counts.batchAppend : counts.append,
        3,
        'the client took the advertised path',
      );
    });
  }

  it('idempotency: a repeat behind the stream end answers the original result; a partial one conflicts', async () => {
    const { client } = await setUp();
    const [a, b, c] = [ev(), ev(), ev()];
    const first = await client.appendToStream('s', [a, b], { expectedRevision: 'no_stream' });
    await client.appendToStream('s', [c], { expectedRevision: 1n });
    const again = await client.appendToStream('s', [a, b], { expectedRevision: 'no_stream' });
    assert.equal(again.nextExpectedRevision, 1n);
    assert.deepEqual(again.position, first.position);
    const tail = await client.appendToStream('s', [c], { expectedRevision: 1n });
    assert.equal(tail.nextExpectedRevision, 2n);
    await assert.rejects(
      client.appendToStream('s', [a, ev()], { expectedRevision: 'no_stream' }),
      WrongExpectedVersionError,
    );
    assert.equal((await drain(client.readStream('s'))).length, 3);
  });

  it('idempotency for `any` is best effort: recent ids only, forgotten by a restart', async () => {
    const { client, esdb } = await setUp();
    const a = ev();
    await client.appendToStream('s', [a]);
    await client.appendToStream('s', [a]);
    assert.equal((await drain(client.readStream('s'))).length, 1, 'a quick repeat is deduplicated');
    await esdb.restart();
    for (let attempt = 0; ; attempt++) {
      try {
        await client.appendToStream('s', [a]);
        break;
      } catch (error) {
        if (attempt > 20) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(
      (await drain(client.readStream('s'))).length,
      2,
      'after a restart the same id is written again',
    );
  });

  it('a tombstoned stream: reads and appends fail with stream-deleted, $all holds the marker', async () => {
    const { client, esdb } = await setUp();
    await client.appendToStream('gone', [ev()], { expectedRevision: 'no_stream' });
    esdb.tombstone('gone');
    await assert.rejects(drain(client.readStream('gone')), StreamDeletedError);
    await assert.rejects(client.appendToStream('gone', [ev()]), StreamDeletedError);
    const all = (await drain(client.readAll({ fromPosition: START }))) as AllStreamResolvedEvent[];
    assert.equal(all.at(-1)?.event?.type, '$streamDeleted');
  });

  it('reads: missing streams, backwards from a revision, $all with system events, inclusive forwards', async () => {
    const { client } = await setUp({ firstPosition: 2n ** 60n });
    await assert.rejects(drain(client.readStream('missing')), StreamNotFoundError);
    await client.appendToStream('s', [ev('A'), ev('B'), ev('C')], { expectedRevision: 'no_stream' });
    const back = await drain(client.readStream('s', { direction: BACKWARDS, fromRevision: 1n, maxCount: 5 }));
    assert.deepEqual(
      back.map((r) => r.event?.type),
      ['B', 'A'],
    );
    assert.deepEqual(await drain(client.readStream('s', { fromRevision: 3n })), [], 'nothing past the end');
    const last = await drain(client.readStream('s', { direction: BACKWARDS, fromRevision: 9n, maxCount: 1 }));
    assert.equal(last[0]?.event?.type, 'C');
    const all = (await drain(client.readAll({ fromPosition: START }))) as AllStreamResolvedEvent[];
    assert.ok(
      all.some((r) => r.event?.type.startsWith('$')),
      '$all holds system events',
    );
    assert.ok(all.every((r) => r.event!.position.commit >= 2n ** 60n));
    const b = all.find((r) => r.event?.type === 'B')!.event!;
    const from = (await drain(
      client.readAll({ fromPosition: b.position, maxCount: 2 }),
    )) as AllStreamResolvedEvent[];
    assert.deepEqual(
      from.map((r) => r.event?.type),
      ['B', 'C'],
    );
    const before = (await drain(
      client.readAll({ fromPosition: b.position, direction: BACKWARDS, maxCount: 1 }),
    )) as AllStreamResolvedEvent[];
    assert.equal(before[0]?.event?.type, 'A');
  });

  it('a filtered $all subscription: confirmed, checkpoints, caught up, then live events only after its start', async () => {
    const { client, esdb } = await setUp();
    for (let i = 0; i < 40; i++) esdb.appendSystemEvent();
    const first = await client.appendToStream('s', [ev('Old')], { expectedRevision: 'no_stream' });
    const checkpoints: bigint[] = [];
    const sub = client.subscribeToAll({
      fromPosition: START,
      filter: excludeSystemEvents({
        checkpointInterval: 1,
        checkpointReached: (_s, p) => {
          checkpoints.push(p.commit);
        },
      }),
    });
    const seen: string[] = [];
    const caughtUp = new Promise<void>((resolve) => sub.once('caughtUp', resolve));
    const confirmed = new Promise<void>((resolve) => sub.once('confirmation', resolve));
    sub.on('data', (r: AllStreamResolvedEvent) => seen.push(r.event!.type));
    await confirmed;
    await caughtUp;
    await client.appendToStream('s', [ev('New')], { expectedRevision: 0n });
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 10));
    await sub.unsubscribe();
    assert.deepEqual(seen, ['Old', 'New'], 'system events filtered out');
    assert.ok(checkpoints.length >= 2, `checkpoints while considering system events: ${checkpoints.length}`);
    assert.ok(checkpoints.every((p, i) => i === 0 || p >= checkpoints[i - 1]!));

    const fromEnd = client.subscribeToAll({ fromPosition: END, filter: excludeSystemEvents() });
    const live: string[] = [];
    fromEnd.on('data', (r: AllStreamResolvedEvent) => live.push(r.event!.type));
    await new Promise<void>((resolve) => fromEnd.once('caughtUp', resolve));
    const exclusive = client.subscribeToAll({ fromPosition: first.position! });
    const after: string[] = [];
    exclusive.on('data', (r: AllStreamResolvedEvent) => after.push(r.event!.type));
    await client.appendToStream('s', [ev('Latest')], { expectedRevision: 1n });
    while (live.length < 1 || after.length < 2) await new Promise((r) => setTimeout(r, 10));
    await fromEnd.unsubscribe();
    await exclusive.unsubscribe();
    assert.deepEqual(live, ['Latest']);
    assert.deepEqual(after, ['New', 'Latest'], 'a subscription starts after its position');
  });
});
