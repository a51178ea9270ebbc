// The EventStoreDB adapter when the server misbehaves, through the real client and real gRPC against
// the stand-in (docs/design.md, "The EventStoreDB stand-in"): connections cut under a live subscription,
// a server that accepts connections and answers nothing, a restart, an append over the size limit,
// and positions past 2^53.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import {
  createEsdbEventLog,
  type EsdbEventLogOptions,
} from '../../src/adapters/eventstore/esdb-event-log.ts';
import type { EventLog, LogPosition, NewEvent, RecordedEvent } from '../../src/domain/event-log.ts';
import { comparePositions } from '../../src/domain/event-log.ts';
import { type EsdbStandIn, startEsdbStandIn } from '../support/esdb-stand-in.ts';
import { newEvent } from '../support/events.ts';

const event = (type: string, data: unknown = {}) => newEvent(type, data, 'esdb-faults');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const start: LogPosition = { commit: -1n, prepare: -1n };

const open = (esdb: EsdbStandIn, options: Partial<EsdbEventLogOptions> = {}) =>
  createEsdbEventLog({
    connectionString: esdb.url,
    timeoutMs: 2000,
    pingTimeoutMs: 1000,
    reconnect: { maxAttempts: 50, initialDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });

/** Appends like a command handler that retries a failed call with the same events (ids make it safe). */
const appendRetrying = async (
  log: EventLog,
  stream: string,
  events: NewEvent[],
  expected: number | 'no_stream' | 'any',
) => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await log.append(stream, events, expected);
    } catch (error) {
      if (attempt >= 50) throw error;
      await sleep(50);
    }
  }
};

/** Collects what a subscription delivers for one stream prefix. */
const subscribe = (log: EventLog, prefix: string, from = start) => {
  const seen: RecordedEvent[] = [];
  const subscription = log.subscribeAll({ from, batchSize: 20 }, async (batch) => {
    for (const e of batch) if (e.stream.startsWith(prefix)) seen.push(e);
  });
  const waitFor = async (count: number, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (seen.length < count && Date.now() < deadline) await sleep(20);
    return seen;
  };
  return { seen, subscription, waitFor };
};

/** Settles `promise`, failing the test if that takes longer than `limitMs`; says how it settled. */
const settleWithin = async (limitMs: number, promise: Promise<unknown>) => {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(
      () => 'resolved' as const,
      (error: unknown) => error,
    ),
    new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), limitMs);
    }),
  ]);
  clearTimeout(timer);
  assert.notEqual(outcome, 'hung', `did not settle within ${limitMs} ms`);
  return { outcome, ms: Date.now() - started };
};

const assertExactlyOnceInOrder = (seen: readonly RecordedEvent[], expected: readonly NewEvent[]) => {
  assert.deepEqual(
    seen.map((e) => e.id),
    expected.map((e) => e.id),
    'every event delivered once, in order',
  );
  for (let i = 1; i < seen.length; i++)
    assert.ok(comparePositions(seen[i - 1]!.position, seen[i]!.position) < 0);
};

describe('EventStoreDB adapter against a misbehaving server (stand-in)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  const setUp = async (options: Parameters<typeof startEsdbStandIn>[0] = {}, logOptions = {}) => {
    const esdb = await startEsdbStandIn(options);
    const log = open(esdb, logOptions);
    cleanups.push(
      () => esdb.stop(),
      () => log.close(),
    );
    return { esdb, log };
  };

  it('a subscriber whose connection is cut again and again sees every event exactly once', async () => {
    const { esdb, log } = await setUp();
    const stream = `drop-${randomUUID()}`;
    const sub = subscribe(log, stream);
    const written: NewEvent[] = [];
    for (let i = 0; i < 120; i++) {
      const e = event('Counted', { i });
      written.push(e);
      await appendRetrying(log, stream, [e], i === 0 ? 'no_stream' : i - 1);
      if (i % 30 === 15) esdb.dropConnections();
    }
    const seen = await sub.waitFor(written.length);
    await sleep(200);
    await sub.subscription.stop();
    assertExactlyOnceInOrder(seen, written);
    assert.ok(esdb.connectionsAccepted() >= 5, 'the client had to reconnect after every cut');
  });

  it('a cut while the subscriber is idle: it resumes after its last event and misses nothing', async () => {
    const { esdb, log } = await setUp();
    const stream = `idle-${randomUUID()}`;
    const sub = subscribe(log, stream);
    const first = [event('Before1'), event('Before2')];
    await log.append(stream, first, 'no_stream');
    await sub.waitFor(2);
    esdb.dropConnections();
    const later = [event('After1'), event('After2')];
    await appendRetrying(log, stream, later, 1);
    const seen = await sub.waitFor(4);
    await sleep(200);
    await sub.subscription.stop();
    assertExactlyOnceInOrder(seen, [...first, ...later]);
    assert.ok(esdb.connectionsAccepted() >= 2, 'the client reconnected');
  });

  it('a server that answers nothing: append, reads and ping reject within the timeout, and all work again after', async () => {
    const { esdb, log } = await setUp();
    const stream = `silent-${randomUUID()}`;
    await log.append(stream, [event('Seen')], 'no_stream');
    esdb.silence(true);
    // A fresh client too: its first call asks for the server's features, which the client does with no deadline.
    const fresh = open(esdb);
    cleanups.push(() => fresh.close());
    const calls: Array<[string, Promise<unknown>]> = [
      ['append', log.append(stream, [event('Lost')], 0)],
      ['fresh append', fresh.append(`${stream}-b`, [event('Lost')], 'no_stream')],
      ['readStream', log.readStream(stream)],
      ['readAll', log.readAll(start, 10)],
      ['headPosition', log.headPosition()],
      ['ping', log.ping()],
    ];
    const settled = await Promise.all(calls.map(([, call]) => settleWithin(5000, call)));
    for (const [i, { outcome, ms }] of settled.entries()) {
      const name = calls[i]![0];
      assert.ok(outcome instanceof Error, `${name} should reject, got ${String(outcome)}`);
      assert.match(outcome.message, /did not answer within/, name);
      assert.ok(ms < 4000, `${name} took ${ms} ms`);
    }
    esdb.silence(false);
    await settleWithin(10_000, appendRetrying(log, stream, [event('Later')], 0));
    const read = await log.readStream(stream);
    assert.deepEqual(
      read.map((e) => e.type).filter((t) => t !== 'Lost'),
      ['Seen', 'Later'],
    );
    await fresh.ping();
  });

  it('a subscription that hears nothing while the server is silent catches up when it answers again', async () => {
    const { esdb, log } = await setUp();
    const stream = `silent-sub-${randomUUID()}`;
    const sub = subscribe(log, stream);
    await log.append(stream, [event('One')], 'no_stream');
    await sub.waitFor(1);
    esdb.silence(true);
    const writer = await startWriterDuringSilence(esdb, stream);
    await sleep(1500);
    assert.equal(sub.seen.length, 1, 'nothing arrives while the server is silent');
    esdb.silence(false);
    const seen = await sub.waitFor(2);
    await sub.subscription.stop();
    assert.deepEqual(
      seen.map((e) => e.id),
      [seen[0]!.id, writer.id],
    );
  });

  it('a restart: the subscriber resumes after it and positions keep growing', async () => {
    const { esdb, log } = await setUp();
    const stream = `restart-${randomUUID()}`;
    const sub = subscribe(log, stream);
    const before = [event('Before')];
    const first = await log.append(stream, before, 'no_stream');
    await sub.waitFor(1);
    await esdb.restart();
    const afterEvents = [event('After')];
    const second = await appendRetrying(log, stream, afterEvents, 0);
    assert.ok(comparePositions(first.position, second.position) < 0);
    const seen = await sub.waitFor(2);
    await sleep(200);
    await sub.subscription.stop();
    assertExactlyOnceInOrder(seen, [...before, ...afterEvents]);
  });

  it('a re-delivery after a restart (the server forgot its recent ids) is still stored once', async () => {
    const { esdb, log } = await setUp();
    const stream = `redeliver-${randomUUID()}`;
    const e = event('Once');
    const first = await log.append(stream, [e], 'any');
    await esdb.restart();
    const again = await appendRetrying(log, stream, [e], 'any');
    assert.equal(again.alreadyStored, true);
    assert.deepEqual(again.position, first.position);
    assert.deepEqual(
      (await log.readStream(stream)).map((r) => r.id),
      [e.id],
    );
  });

  for (const batchAppend of [true, false]) {
    it(`an append over 1 MiB is refused with a clear error and writes nothing (${batchAppend ? 'BatchAppend' : 'Append'})`, async () => {
      const { esdb, log } = await setUp({ batchAppend });
      const stream = `big-${randomUUID()}`;
      const countBefore = esdb.events().length;
      const big = event('Big', { blob: 'x'.repeat(1024 * 1024) });
      const { outcome } = await settleWithin(5000, log.append(stream, [big], 'no_stream'));
      assert.ok(outcome instanceof Error, `expected a refusal, got ${String(outcome)}`);
      assert.match(outcome.message, /1048576/, `the message names the limit: "${outcome.message}"`);
      assert.equal(esdb.events().length, countBefore, 'nothing written');
      assert.deepEqual(await log.readStream(stream), []);
      // Just under the limit goes through.
      const fits = event('Fits', { blob: 'x'.repeat(1024 * 1024 - 4096) });
      assert.equal((await log.append(stream, [fits], 'no_stream')).nextRevision, 0);
    });
  }

  it('positions above 2^53 survive: exact bigints, in order, and a checkpoint resumes where it was taken', async () => {
    const first = 2n ** 53n + 1n; // not representable as a double
    const { esdb, log } = await setUp({ firstPosition: first });
    const stream = `big-pos-${randomUUID()}`;
    const events = Array.from({ length: 10 }, (_, i) => event('P', { i }));
    for (const [i, e] of events.entries()) await log.append(stream, [e], i === 0 ? 'no_stream' : i - 1);
    const stored = esdb.events().filter((e) => e.stream === stream);
    const read = (await log.readAll(start, 1000)).filter((e) => e.stream === stream);
    assert.deepEqual(
      read.map((e) => e.position.commit),
      stored.map((e) => e.position),
      'positions read back exactly as the server holds them',
    );
    assert.ok(read.every((e) => e.position.commit > first));
    for (let i = 1; i < read.length; i++)
      assert.ok(comparePositions(read[i - 1]!.position, read[i]!.position) < 0);
    assert.deepEqual(await log.headPosition(), read.at(-1)!.position);

    // A checkpoint taken from a delivered event, stored as text and parsed back, resumes right after it.
    const sub = subscribe(log, stream);
    await sub.waitFor(4);
    await sub.subscription.stop();
    const checkpoint = sub.seen[3]!.position;
    const text = JSON.stringify({
      commit: checkpoint.commit.toString(),
      prepare: checkpoint.prepare.toString(),
    });
    const parsed = JSON.parse(text) as { commit: string; prepare: string };
    const resumed = subscribe(log, stream, {
      commit: BigInt(parsed.commit),
      prepare: BigInt(parsed.prepare),
    });
    const rest = await resumed.waitFor(6);
    await sleep(100);
    await resumed.subscription.stop();
    assert.deepEqual(
      rest.map((e) => e.id),
      events.slice(4).map((e) => e.id),
    );
    assert.deepEqual(
      (await log.readAll(checkpoint, 100)).filter((e) => e.stream === stream).map((e) => e.id),
      events.slice(4).map((e) => e.id),
    );
  });
});

/** An append made by another client while the server is silent: it lands once the server answers. */
const startWriterDuringSilence = async (esdb: EsdbStandIn, stream: string) => {
  const e = event('Two');
  const writer = open(esdb, { timeoutMs: 10_000 });
  void writer
    .append(stream, [e], 0)
    .catch(() => undefined)
    .finally(() => writer.close());
  return e;
};
