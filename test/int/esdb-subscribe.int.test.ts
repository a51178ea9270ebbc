// The EventStoreDB log's subscriptions at the head, through the real client and gRPC against the
// stand-in (docs/design.md, "The EventStoreDB event log", Batches): a lone event is not held back
// for the linger, and what arrives while the subscriber is busy still comes as one batch.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import { startEsdbStandIn } from '../support/esdb-stand-in.ts';
import { newEvent } from '../support/events.ts';
import { waitFor } from '../support/wait.ts';

const event = (type: string) => newEvent(type, {}, 'esdb-subscribe');

describe('EventStoreDB log: batches at the head', () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  });

  it('a lone event after a quiet spell is handed on at once; events that come while the handler is busy come as one batch', async () => {
    const esdb = await startEsdbStandIn();
    const log = createEsdbEventLog({ connectionString: esdb.url, batchLingerMs: 600 });
    stops.push(
      () => esdb.stop(),
      () => log.close(),
    );
    const stream = `linger-${randomUUID()}`;
    const batches: Array<{ at: number; count: number }> = [];
    let release: (() => void) | undefined;
    const subscription = log.subscribeAll({ from: { commit: -1n, prepare: -1n } }, async (batch) => {
      const count = batch.filter((e) => e.stream === stream).length;
      if (count === 0) return;
      batches.push({ at: performance.now(), count });
      // The first batch holds the subscriber busy while the burst is appended.
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
    });
    stops.push(() => subscription.stop());
    stops.push(async () => release?.()); // runs first: a failed assertion must not leave the handler waiting
    await new Promise((r) => setTimeout(r, 1500)); // subscribed, caught up, then quiet

    const appended = performance.now();
    await log.append(stream, [event('Lone')], 'no_stream');
    await waitFor('the lone event', () => batches.length === 1, 5000);
    assert.ok(
      batches[0]!.at - appended < 400,
      `handed on ${Math.round(batches[0]!.at - appended)} ms after the append, not after a linger of 600 ms`,
    );
    for (let i = 1; i <= 3; i++) await log.append(stream, [event('Burst')], i - 1);
    await new Promise((r) => setTimeout(r, 100));
    release!();
    await waitFor('the burst', () => batches.reduce((n, b) => n + b.count, 0) === 4, 5000);
    assert.deepEqual(
      batches.map((b) => b.count),
      [1, 3],
      'the three events that came while the handler was busy came as one batch',
    );
  });
});
