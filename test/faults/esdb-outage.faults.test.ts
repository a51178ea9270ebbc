// Fault: the EventStoreDB log's server goes silent for FAULTS_OUTAGE_MS (connections accepted, nothing
// answered), then restarts, then has every connection cut a few times — while writers append through
// the production adapter and a subscriber follows $all (docs/design.md, "The EventStoreDB stand-in").
// Writers behave like command handlers: an append that fails or times out is made again with the same
// events and expected revision, so an append that did land during the outage must not land twice.
// Every accepted event is delivered exactly once, in stream order, and stored exactly once. A silence
// longer than the client's keepalive (10 s + 10 s; the full run's is 60 s) makes the client give up the
// silent connection and open another, which the summary line's connection count shows.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import type { EventLog, NewEvent, RecordedEvent } from '../../src/domain/event-log.ts';
import { type EsdbStandIn, startEsdbStandIn } from '../support/esdb-stand-in.ts';
import { newEvent } from '../support/events.ts';
import { OUTAGE_MS, report, seconds, sleep } from './support.ts';

const WRITERS = 4;
const DROPS = 3;

const event = (writer: number, n: number): NewEvent => newEvent('FaultProbe', { writer, n }, 'esdb-outage');

/** A writer that appends one event at a time to its stream, retrying each until it is accepted. */
const writer = (log: EventLog, stream: string, w: number, running: () => boolean) => {
  const accepted: NewEvent[] = [];
  let attempts = 0;
  const done = (async () => {
    for (let n = 0; running(); n++) {
      const e = event(w, n);
      for (;;) {
        attempts++;
        try {
          await log.append(stream, [e], n === 0 ? 'no_stream' : n - 1);
          accepted.push(e);
          break;
        } catch {
          await sleep(100);
        }
      }
      await sleep(20);
    }
  })();
  return { accepted, done, attempts: () => attempts };
};

describe('fault: EventStoreDB silent, restarted and cut under writers and a subscriber', () => {
  let esdb: EsdbStandIn | undefined;
  let log: EventLog | undefined;
  after(async () => {
    await log?.close();
    await esdb?.stop();
  });

  it('every accepted event is stored once and delivered once, in order', {
    timeout: OUTAGE_MS + 180_000,
  }, async () => {
    esdb = await startEsdbStandIn({ firstPosition: 2n ** 53n });
    const standIn = esdb;
    log = createEsdbEventLog({
      connectionString: standIn.url,
      timeoutMs: 2000,
      pingTimeoutMs: 1000,
      reconnect: { maxAttempts: 1000, initialDelayMs: 100, maxDelayMs: 1000 },
    });
    const prefix = `outage-${randomUUID()}`;
    const seen: RecordedEvent[] = [];
    const subscription = log.subscribeAll(
      { from: { commit: -1n, prepare: -1n }, batchSize: 50 },
      async (batch) => {
        for (const e of batch) if (e.stream.startsWith(prefix)) seen.push(e);
      },
    );
    let running = true;
    const writers = Array.from({ length: WRITERS }, (_, w) =>
      writer(log!, `${prefix}-${w}`, w, () => running),
    );
    const started = Date.now();

    await sleep(1000);
    standIn.silence(true);
    await sleep(OUTAGE_MS);
    standIn.silence(false);
    await sleep(1000);
    await standIn.restart();
    await sleep(1000);
    for (let i = 0; i < DROPS; i++) {
      standIn.dropConnections();
      await sleep(700);
    }
    running = false;
    await Promise.all(writers.map((x) => x.done));
    const accepted = writers.flatMap((x) => x.accepted);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && new Set(seen.map((e) => e.id)).size < accepted.length) await sleep(100);
    await sleep(500);
    const caughtUpAfter = Date.now() - started;
    await subscription.stop();

    const stored = standIn.events().filter((e) => e.stream.startsWith(prefix));
    const delivered = new Set(seen.map((e) => e.id));
    const lost = accepted.filter((e) => !delivered.has(e.id)).length;
    report(
      'esdb silent / restarted / cut',
      {
        sent: writers.reduce((n, x) => n + x.attempts(), 0),
        accepted: accepted.length,
        delivered: delivered.size,
        duplicated: seen.length - delivered.size,
        lost,
      },
      `stored ${stored.length}, silence ${seconds(OUTAGE_MS)}, ${standIn.connectionsAccepted()} connections, ` +
        `all delivered ${seconds(caughtUpAfter)} after the start`,
    );
    assert.ok(accepted.length > WRITERS, 'the writers got appends through');
    assert.equal(lost, 0, 'every accepted event delivered');
    assert.equal(seen.length, delivered.size, 'no event delivered twice');
    assert.deepEqual(
      stored.map((e) => e.id).sort(),
      accepted.map((e) => e.id).sort(),
      'each accepted event stored exactly once, nothing else stored',
    );
    for (let w = 0; w < WRITERS; w++) {
      const mine = seen.filter((e) => e.stream === `${prefix}-${w}`);
      assert.deepEqual(
        mine.map((e) => e.revision),
        mine.map((_, i) => i),
        `stream ${w} delivered in order`,
      );
    }
  });
});
