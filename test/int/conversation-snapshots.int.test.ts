// The conversation-state projection stores a conversation's core only once it trails the stream by
// SNAPSHOT_EVERY events, and holds it in memory between batches. What it stores must always equal a
// fold of the whole stream up to the stored revision, also after a runner that held newer cores
// stopped (the next one catches up from the log) and after cores leave memory past the cap.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import pg from 'pg';
import { commandEventId } from '../../src/adapters/ids.ts';
import { createPgConversationStore } from '../../src/adapters/postgres/conversation-store.ts';
import { sqlDatabase } from '../../src/adapters/postgres/sql.ts';
import { type CommandHandler, createCommandHandler } from '../../src/domain/command-handler.ts';
import { foldConversation } from '../../src/domain/conversation-fold.ts';
import { createConversationReader, WINDOW_MESSAGES } from '../../src/domain/conversation-reader.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import {
  conversationStateProjectionWith,
  SNAPSHOT_EVERY,
  type StoredNote,
} from '../../src/projections/read-models/conversation-state.ts';
import { rebuildProjection } from '../../src/projections/rebuild.ts';
import { type ProjectionRunner, startProjectionRunner } from '../../src/projections/runner.ts';
import { driver, handlerFor } from '../support/conversations.ts';
import type { TestDatabase } from '../support/db.ts';
import { withLogDatabase } from '../support/log-database.ts';
import { waitFor } from '../support/wait.ts';

interface Stored {
  readonly revision: number;
  readonly core: Record<string, unknown>;
  readonly recent: string[];
}

const stored = async (db: TestDatabase, conversationId: string): Promise<Stored | undefined> => {
  const { rows } = await db.pool.query<{ revision: string; core: Record<string, unknown>; recent: string[] }>(
    `SELECT revision::text, core, recent_event_ids AS recent FROM rm_conversation_state WHERE conversation_id = $1`,
    [conversationId],
  );
  const r = rows[0];
  return r ? { revision: Number(r.revision), core: r.core, recent: r.recent } : undefined;
};

/** The stream's first `count` events (all of them when absent) and the state a fold of them gives. */
const foldedStream = async (log: EventLog, conversationId: string, count?: number) => {
  const events = await log.readStream(
    `conversation-${conversationId}`,
    count === undefined ? {} : { maxCount: count },
  );
  const state = foldConversation(
    events.map((e) => ({
      event: { type: e.type, data: e.data } as ConversationEvent,
      revision: e.revision,
      at: e.metadata.occurredAt,
    })),
  );
  return { events, state };
};

/** The core and the last 64 event ids a fold of the whole stream gives at `revision`. */
const foldedAt = async (log: EventLog, conversationId: string, revision: number) => {
  const { events, state } = await foldedStream(log, conversationId, revision + 1);
  const { messages: _messages, ...core } = state;
  return { core: JSON.parse(JSON.stringify(core)), recent: events.slice(-64).map((e) => e.id) };
};

/** `rounds` client messages and answers to them in one conversation, each with ids of its own. */
const talk = async (handler: CommandHandler, clientId: string, tag: string, rounds: number) => {
  const d = driver(handler, 'shop', clientId);
  for (let i = 0; i < rounds; i++) {
    await d.run({
      type: 'ReceiveClientMessage',
      conversationId: d.conversationId,
      channel: 'external',
      source: 'shop',
      clientId,
      profile: { firstName: `Client ${clientId}` },
      messageId: `${tag}-in-${i}`,
      content: { text: `hello ${tag} ${i}`, attachments: [] },
    });
    await d.run(
      {
        type: 'ReplyAsManager',
        messageId: `${tag}-out-${i}`,
        managerId: '777',
        managerName: 'Alice',
        content: { text: `answer ${tag} ${i}`, attachments: [] },
      },
      { kind: 'manager', id: '777', name: 'Alice' },
    );
    if (i % 3 === 0)
      await d.run({
        type: 'EditClientMessage',
        messageId: `${tag}-in-${i}`,
        content: { text: 'edited', attachments: [] },
      });
  }
  return d.conversationId;
};

const headOf = async (log: EventLog, conversationId: string) =>
  (await log.readStream(`conversation-${conversationId}`)).length - 1;

/** Waits until the projection's checkpoint is past every event in the log. */
const caughtUp = (db: TestDatabase) =>
  waitFor(
    'conversation-state at the head of the log',
    async () => {
      const { rows } = await db.pool.query<{ done: boolean }>(
        `SELECT p.events_applied = (SELECT count(*) FROM td_events) AS done
           FROM td_projections p WHERE p.name = 'conversation-state' AND p.status = 'active'`,
      );
      return rows[0]?.done ? true : undefined;
    },
    20_000,
  );

const assertStoredIsAFold = async (db: TestDatabase, log: EventLog, conversationId: string) => {
  const head = await headOf(log, conversationId);
  const s = await stored(db, conversationId);
  assert.ok(s, 'a core is stored');
  assert.ok(
    s.revision <= head && s.revision > head - SNAPSHOT_EVERY,
    `stored at ${s.revision}, head ${head}`,
  );
  const want = await foldedAt(log, conversationId, s.revision);
  assert.deepEqual(s.core, want.core);
  assert.deepEqual(s.recent, want.recent);
  return s;
};

describe('conversation-state cores stored every SNAPSHOT_EVERY events', () => {
  let db: TestDatabase;
  let log: EventLog;
  withLogDatabase((x) => {
    ({ db, log } = x);
  });
  const running: ProjectionRunner[] = [];
  const start = (maxHeld: number) => {
    const runner = startProjectionRunner({
      db: sqlDatabase(db.pool),
      log,
      projections: [conversationStateProjectionWith({ maxHeld })],
    });
    running.push(runner);
    return runner;
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });

  it('trail the stream by fewer than SNAPSHOT_EVERY events and equal a fold of it, across a runner that stops', async () => {
    const handler = handlerFor(log);
    const runner = start(1000);
    const id = await talk(handler, 'long', 'first', 30);
    await caughtUp(db);
    const first = await assertStoredIsAFold(db, log, id);
    assert.ok(
      (await headOf(log, id)) >= 2 * SNAPSHOT_EVERY,
      'the conversation is long enough to be stored twice',
    );

    // The runner stops holding cores newer than the stored one; more events come meanwhile.
    await runner.stop();
    await talk(handler, 'long', 'second', 30);
    start(1000);
    await caughtUp(db);
    const second = await assertStoredIsAFold(db, log, id);
    assert.ok(second.revision > first.revision, 'the core was stored again after the restart');
  });

  it('a runner that starts after a stop catches up a core whose missing events edit a message it predates', async () => {
    const handler = handlerFor(log);
    const first = start(1000);
    // An old message, then enough events for the core to be stored once, after it.
    const d = driver(handler, 'shop', 'gap');
    const receive = (messageId: string) =>
      d.run({
        type: 'ReceiveClientMessage',
        conversationId: d.conversationId,
        channel: 'external',
        source: 'shop',
        clientId: 'gap',
        profile: { firstName: 'Gap' },
        messageId,
        content: { text: messageId, attachments: [] },
      });
    await receive('gap-old');
    while ((await headOf(log, d.conversationId)) < SNAPSHOT_EVERY + 1) await receive(randomUUID());
    await caughtUp(db);
    const storedAt = (await stored(db, d.conversationId))!.revision;
    // The edit is held by the runner, not stored, when it stops: the next runner must fold it from the log.
    await d.run({
      type: 'EditClientMessage',
      messageId: 'gap-old',
      content: { text: 'edited', attachments: [] },
    });
    await caughtUp(db);
    assert.equal((await stored(db, d.conversationId))!.revision, storedAt, 'the edit is not stored yet');
    await first.stop();
    await receive('gap-new');
    start(1000);
    await caughtUp(db);
    await assertStoredIsAFold(db, log, d.conversationId);
  });

  it('a core that leaves memory past the cap is stored first, so the next batch finds no gap', async () => {
    const handler = handlerFor(log);
    start(2);
    const ids: string[] = [];
    for (let round = 0; round < 3; round++)
      for (const client of ['a', 'b', 'c', 'd']) {
        ids.push(await talk(handler, client, `r${round}`, 2));
        await caughtUp(db);
      }
    for (const id of new Set(ids)) await assertStoredIsAFold(db, log, id);
    // A new conversation's first events need no stored core: a reader folds them from the log.
    const fresh = await talk(handler, 'fresh', 'only', 1);
    await caughtUp(db);
    assert.equal(await stored(db, fresh), undefined);
  });

  it('each batch tells, per conversation, the revision its messages are stored at: a reader told so holds only its window', async () => {
    const reader = createConversationReader({ log, store: createPgConversationStore({ pool: db.pool }) });
    const handler = createCommandHandler({ log, eventId: commandEventId, reader });
    const notes: StoredNote[] = [];
    running.push(
      startProjectionRunner({
        db: sqlDatabase(db.pool),
        log,
        projections: [conversationStateProjectionWith({ maxHeld: 1000 })],
        onBatch: ({ written }) => {
          for (const note of written as readonly StoredNote[]) {
            notes.push(note);
            reader.stored(note.conversationId, note.revision);
          }
        },
      }),
    );
    // The store is asked only once the runner's generation is there (it answers "no copy" for 10 s otherwise).
    await caughtUp(db);
    // 20 events: fewer than SNAPSHOT_EVERY, so no core is stored, but every message is.
    const id = await talk(handler, 'told', 'window', 8);
    await caughtUp(db);
    const head = await headOf(log, id);
    assert.ok(head < SNAPSHOT_EVERY - 1, `head ${head}`);
    assert.equal(await stored(db, id), undefined, 'no core stored yet');
    assert.equal(notes.at(-1)?.conversationId, id);
    assert.equal(notes.at(-1)?.revision, head, 'the last note is at the head');
    const { state, held } = await reader.read(id);
    assert.equal(held, true);
    assert.equal(
      [...state.messages.entriesWithRevisions()].length,
      WINDOW_MESSAGES,
      'the window alone is held',
    );
    // What it let go of is one query away, as the fold of the whole stream has it.
    const { state: whole } = await foldedStream(log, id);
    for (const mid of ['window-in-0', 'window-out-0', 'window-in-3']) {
      const again = await reader.read(id, { messageIds: [mid] });
      assert.deepEqual(again.state.messages.get(mid), whole.messages.get(mid), mid);
    }
  });

  it("the store's prepared reads keep answering on the same connection after a rebuild swaps its views", async () => {
    const handler = handlerFor(log);
    start(1000);
    const id = await talk(handler, 'swap', 'before', 14); // 33 events: a core stored at 32
    await caughtUp(db);
    // One connection: the statements prepared before the swap are the ones asked after it.
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const store = createPgConversationStore({ pool });
      const before = await store.core(id);
      assert.ok(before, 'a stored core before the rebuild');
      const [message] = await store.messages(id, ['before-in-0']);
      assert.equal(message?.message.content.text, 'edited');
      await rebuildProjection({
        db: sqlDatabase(db.pool),
        log,
        projection: conversationStateProjectionWith({ maxHeld: 1000 }),
      });
      const generation = await db.pool.query<{ generation: number }>(
        `SELECT generation FROM td_projections WHERE name = 'conversation-state' AND status = 'active'`,
      );
      assert.equal(generation.rows[0]?.generation, 2, 'the rebuilt generation is in service');
      // The rebuild stores its cores where its own batches end: compare with its table, read afresh.
      const after = await store.core(id);
      const fresh = await stored(db, id);
      assert.ok(after && fresh, 'a stored core after the rebuild');
      assert.deepEqual(
        { revision: after.revision, core: after.core, recent: after.recentEventIds },
        fresh,
        'the rebuilt core, read through the new views',
      );
      const [again] = await store.messages(id, ['before-in-0']);
      assert.deepEqual(again, message);
    } finally {
      await pool.end();
    }
  });
});
