// The EventStoreDB adapter against a server that is not there: every call fails fast and clearly,
// nothing hangs. (The full contract runs in esdb.contract.int.test.ts when EVENTSTORE_URL is set.)
// Port 1 on the loopback refuses connections at once, a local socket that accepts and then says
// nothing stands in for a hung server, and a gRPC server with the client's own service definition
// confirms every subscription and then fails it, so these tests need no EventStoreDB.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import * as grpc from '@grpc/grpc-js';

const { ReadResp } = streamsPb;

import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import { startOfLog } from '../../src/domain/event-log.ts';
import { newEvent } from '../support/events.ts';

const unreachable = 'esdb://127.0.0.1:1?tls=false';

/** Settles `promise` and says how long it took; fails the test if it takes longer than `limitMs`. */
const settleWithin = async <T>(limitMs: number, promise: Promise<T>) => {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), limitMs);
    }),
  ]);
  clearTimeout(timer);
  assert.notEqual(outcome, 'hung', `did not settle within ${limitMs} ms`);
  return { outcome: outcome as Exclude<typeof outcome, 'hung'>, ms: Date.now() - started };
};

const expectRejection = async (limitMs: number, promise: Promise<unknown>) => {
  const { outcome } = await settleWithin(limitMs, promise);
  assert.equal(outcome.ok, false, 'expected a rejection');
  if (!outcome.ok)
    assert.ok(outcome.error instanceof Error, `rejected with a non-error: ${String(outcome.error)}`);
};

describe('EventStoreDB event log with no server', () => {
  const log = createEsdbEventLog({
    connectionString: unreachable,
    pingTimeoutMs: 2000,
    reconnect: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
  });
  after(() => log.close());

  const event = () => newEvent('Probe', { ok: true }, 'unit-test');

  it('ping() rejects within its deadline', async () => {
    await expectRejection(3000, log.ping());
  });

  it('append rejects instead of hanging', async () => {
    await expectRejection(3000, log.append(`probe-${randomUUID()}`, [event()], 'no_stream'));
  });

  it('an unreachable server is an error, not an empty stream', async () => {
    await expectRejection(3000, log.readStream(`probe-${randomUUID()}`));
  });

  it('readAll and headPosition reject', async () => {
    await expectRejection(3000, log.readAll(startOfLog, 10));
    await expectRejection(3000, log.headPosition());
  });

  it('append with no events is refused before any call', async () => {
    await assert.rejects(log.append('probe', [], 'any'), /at least one event/);
  });

  it('a subscription retries, then `done` rejects; the handler is never called', async () => {
    let calls = 0;
    const sub = log.subscribeAll({ from: startOfLog, batchSize: 10 }, async () => {
      calls++;
    });
    await expectRejection(3000, sub.done);
    assert.equal(calls, 0);
    await settleWithin(1000, sub.stop());
  });

  it('stop() ends a subscription that is waiting to reconnect, and `done` resolves', async () => {
    const patient = createEsdbEventLog({
      connectionString: unreachable,
      reconnect: { maxAttempts: 1000, initialDelayMs: 50, maxDelayMs: 50 },
    });
    const sub = patient.subscribeAll({ from: startOfLog }, async () => {});
    await new Promise((r) => setTimeout(r, 200));
    await settleWithin(1000, sub.stop());
    const { outcome } = await settleWithin(1000, sub.done);
    assert.equal(outcome.ok, true);
    await settleWithin(1000, patient.close());
  });

  it('a server that accepts the connection and never answers: calls reject at their deadline', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const hung = createEsdbEventLog({
      connectionString: `esdb://127.0.0.1:${port}?tls=false`,
      pingTimeoutMs: 300,
      timeoutMs: 300,
    });
    try {
      await expectRejection(2000, hung.ping());
      await expectRejection(2000, hung.readStream('probe'));
      await expectRejection(2000, hung.append(`probe-${randomUUID()}`, [event()], 'any'));
    } finally {
      await settleWithin(2000, hung.close());
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('EventStoreDB event log against a server that confirms every subscription, then fails it', () => {
  it('`done` rejects after maxAttempts failures in a row with no event delivered', async () => {
    let subscribes = 0;
    const server = new grpc.Server();
    server.addService(StreamsService, {
      read(call: grpc.ServerWritableStream<unknown, InstanceType<typeof ReadResp>>) {
        subscribes++;
        call.write(
          new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId('s')),
        );
        setTimeout(
          () => call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'node going down' }),
          5,
        );
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
        error ? reject(error) : resolve(p),
      ),
    );
    const log = createEsdbEventLog({
      connectionString: `esdb://127.0.0.1:${port}?tls=false`,
      reconnect: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
    });
    try {
      let calls = 0;
      const sub = log.subscribeAll({ from: startOfLog }, async () => {
        calls++;
      });
      // Before: every confirmation reset the count, so this retried forever without a word.
      await expectRejection(5000, sub.done);
      assert.equal(subscribes, 4, 'the first subscription and three retries');
      assert.equal(calls, 0);
    } finally {
      await settleWithin(2000, log.close());
      server.forceShutdown();
    }
  });
});
