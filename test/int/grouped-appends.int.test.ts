// Appends of concurrent commands shared in one transaction (groupAppends over the PostgreSQL log's
// appendMany): each caller gets its own answer, exactly as an append of its own would give it — its
// revision and position, a refusal for a stale expected revision or an id stored in another stream,
// "stored already" for an append repeated — and one caller's refusal never costs the others theirs.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { commandEventId, conversationIdOf } from '../../src/adapters/ids.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { createCommandHandler } from '../../src/domain/command-handler.ts';
import type { ReceiveClientMessage } from '../../src/domain/conversation-commands.ts';
import { EventIdConflictError, WrongExpectedRevisionError } from '../../src/domain/errors.ts';
import type { AppendResult, EventLog, NewEvent } from '../../src/domain/event-log.ts';
import { groupAppends } from '../../src/domain/grouped-appends.ts';
import type { TestDatabase } from '../support/db.ts';
import { withLogDatabase } from '../support/log-database.ts';

const event = (text: string, id: string = randomUUID()): NewEvent => ({
  id,
  type: 'NoteAdded',
  data: { text },
  metadata: {
    occurredAt: new Date().toISOString(),
    correlationId: id,
    causationId: id,
    actor: { kind: 'system', id: 't' },
  },
});

/** Transactions that wrote more than one stream's events. */
const sharedTransactions = async (db: TestDatabase, streams: readonly string[]) =>
  Number(
    (
      await db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM (
           SELECT transaction_id FROM td_events WHERE stream = ANY ($1::text[])
           GROUP BY transaction_id HAVING count(DISTINCT stream) > 1) t`,
        [streams],
      )
    ).rows[0]!.n,
  );

describe('appends shared by concurrent commands', () => {
  let db: TestDatabase;
  let log: EventLog;
  withLogDatabase((x) => {
    ({ db, log } = x);
  });

  it('appends made while one is in flight go together, each answered with its own revision and position', async () => {
    const grouped = groupAppends(log);
    const streams = Array.from({ length: 12 }, (_, i) => `group-a-${i}`);
    for (const s of streams) await log.append(s, [event('first')], 'no_stream');
    const results = await Promise.all(
      streams.map((s) => grouped.append(s, [event('second'), event('third')], 0)),
    );
    assert.ok((await sharedTransactions(db, streams)) >= 1, 'some appends shared a transaction');
    for (const [i, s] of streams.entries()) {
      const stored = await log.readStream(s);
      assert.deepEqual(
        stored.map((e) => (e.data as { text: string }).text),
        ['first', 'second', 'third'],
      );
      const r = results[i]!;
      assert.equal(r.nextRevision, 2);
      assert.deepEqual(r.position, stored[2]!.position);
      assert.equal(r.alreadyStored, undefined);
    }
  });

  it('a stale expected revision or an id of another stream refuses that append alone; a repeat is stored already', async () => {
    const grouped = groupAppends(log);
    const streams = Array.from({ length: 8 }, (_, i) => `group-b-${i}`);
    const taken = randomUUID();
    await log.append('group-b-other', [event('elsewhere', taken)], 'no_stream');
    const repeated = [event('once')];
    await log.append('group-b-repeat', repeated, 'no_stream');

    const settled = await Promise.allSettled<AppendResult>([
      ...streams.map((s) => grouped.append(s, [event('fine')], 'no_stream')),
      grouped.append('group-b-0', [event('stale')], 'no_stream'),
      grouped.append('group-b-taken', [event('borrowed', taken)], 'no_stream'),
      grouped.append('group-b-repeat', repeated, 'no_stream'),
      ...streams.map((s) => grouped.append(`${s}-more`, [event('fine too')], 'no_stream')),
    ]);

    const fine = [...settled.slice(0, 8), ...settled.slice(11)];
    for (const r of fine) assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
    const [stale, borrowed, repeat] = settled.slice(8, 11);
    assert.equal(stale!.status, 'rejected');
    assert.ok((stale as PromiseRejectedResult).reason instanceof WrongExpectedRevisionError);
    assert.equal(borrowed!.status, 'rejected');
    assert.ok((borrowed as PromiseRejectedResult).reason instanceof EventIdConflictError);
    assert.equal(repeat!.status, 'fulfilled');
    assert.equal((repeat as PromiseFulfilledResult<AppendResult>).value.alreadyStored, true);

    for (const s of streams) {
      assert.equal((await log.readStream(s)).length, 1);
      assert.equal((await log.readStream(`${s}-more`)).length, 1);
    }
    assert.deepEqual(await log.readStream('group-b-taken'), []);
    assert.equal((await log.readStream('group-b-repeat')).length, 1);
  });

  it("the log's appendMany writes what matches and answers the rest as their own appends would", async () => {
    await log.append('group-c-1', [event('one')], 'no_stream');
    const taken = randomUUID();
    await log.append('group-c-other', [event('elsewhere', taken)], 'no_stream');
    const repeated = [event('once')];
    const first = await log.append('group-c-repeat', repeated, 'no_stream');
    const answers = await log.appendMany!([
      { stream: 'group-c-1', events: [event('two')], expected: 0 },
      { stream: 'group-c-2', events: [event('x')], expected: 5 },
      { stream: 'group-c-3', events: [event('y'), event('z')], expected: 'no_stream' },
      { stream: 'group-c-4', events: [event('borrowed', taken)], expected: 2 },
      { stream: 'group-c-repeat', events: repeated, expected: 'no_stream' },
    ]);
    const [one, stale, three, borrowed, repeat] = answers;
    assert.ok(!(one instanceof Error) && !(three instanceof Error));
    assert.equal(one?.nextRevision, 1);
    assert.equal(three?.nextRevision, 1);
    assert.deepEqual(one?.position.commit, three?.position.commit);
    assert.ok(stale instanceof WrongExpectedRevisionError);
    assert.equal(stale.actual, '-1');
    assert.ok(borrowed instanceof EventIdConflictError);
    assert.equal(borrowed.otherStream, 'group-c-other');
    assert.deepEqual(repeat, { ...first, alreadyStored: true });
    assert.deepEqual(await log.readStream('group-c-2'), []);
    assert.deepEqual(await log.readStream('group-c-4'), []);
    assert.equal((await log.readStream('group-c-repeat')).length, 1);
  });

  it('a client message after a restart, to a conversation presumed new, lands once on the stream it finds', async () => {
    const handlerOf = () => createCommandHandler({ log: groupAppends(log), eventId: commandEventId });
    const conversationId = conversationIdOf('external', 'shop', 'restart-1');
    const message = (messageId: string): ReceiveClientMessage => ({
      type: 'ReceiveClientMessage',
      conversationId,
      channel: 'external',
      source: 'shop',
      clientId: 'restart-1',
      profile: {},
      messageId,
      content: { text: `text of ${messageId}`, attachments: [] },
    });
    const meta = (commandId: string) => ({ commandId, actor: { kind: 'source' as const, id: 'shop' } });
    const before = await handlerOf().execute(conversationId, message('m1'), meta('c1'));
    assert.deepEqual(
      before.events.map((e) => e.type),
      ['ConversationStarted', 'ClientMessageReceived'],
    );

    // The process starts again with nothing in memory: the conversation is presumed new, the log refuses.
    const restarted = handlerOf();
    const [again, next] = await Promise.all([
      restarted.execute(conversationId, message('m1'), meta('c1')),
      handlerOf().execute(conversationId, message('m2'), meta('c2')),
    ]);
    assert.equal(again.alreadyHandled, true, 'the first message delivered again');
    assert.deepEqual(
      next.events.map((e) => e.type),
      ['ClientMessageReceived'],
    );
    assert.equal(next.state.messages.get('m1')?.content.text, 'text of m1');
    assert.deepEqual(
      (await log.readStream(`conversation-${conversationId}`)).map((e) => e.type),
      ['ConversationStarted', 'ClientMessageReceived', 'ClientMessageReceived'],
    );
  });

  it('a refused append keeps its pooled connection: a stale command costs no new server process', async () => {
    // pg closes the connection of a statement that fails; a refusal answered as a row keeps it.
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    let closed = 0;
    pool.on('remove', () => closed++);
    const own = createPgEventLog({ pool, connectionString: db.url, pollIntervalMs: 100 });
    const grouped = groupAppends(own);
    try {
      await own.append('group-d', [event('first')], 'no_stream');
      for (let i = 0; i < 10; i++) {
        await assert.rejects(
          own.append('group-d', [event('stale')], 'no_stream'),
          WrongExpectedRevisionError,
        );
        const refused = await Promise.allSettled([
          grouped.append('group-d', [event('stale too')], 'no_stream'),
          grouped.append(`group-d-${i}`, [event('fine')], 'no_stream'),
          grouped.append(`group-d-${i}-b`, [event('fine')], 'no_stream'),
        ]);
        assert.deepEqual(
          refused.map((r) => r.status),
          ['rejected', 'fulfilled', 'fulfilled'],
        );
      }
      assert.equal(closed, 0, 'connections closed by refusals');
      assert.equal((await log.readStream('group-d')).length, 1);
    } finally {
      await own.close();
      await pool.end();
    }
  });
});
