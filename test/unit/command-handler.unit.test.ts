import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeConversationEvent } from '../../src/adapters/event-codec.ts';
import { commandEventId, eventIdOf } from '../../src/adapters/ids.ts';
import { type Clock, createCommandHandler } from '../../src/domain/command-handler.ts';
import { CommandGaveUpError, DomainError, WrongExpectedRevisionError } from '../../src/domain/errors.ts';
import type {
  AppendResult,
  EventLog,
  ExpectedRevision,
  LogPosition,
  NewEvent,
  RecordedEvent,
} from '../../src/domain/event-log.ts';
import { type Actor, conversationStream } from '../../src/domain/events.ts';
import { CONVERSATION_ID, receive, received, started } from './conversation-fixtures.ts';

/**
 * A test double of the event-log port: honours expected revisions like the real adapters, and by
 * default deliberately does NOT de-duplicate event ids, so the handler's own de-duplication is what
 * is tested. With `storedIsSuccess` it answers like the PostgreSQL log's append: an append whose
 * events are all stored already succeeds, with where they were stored, whatever revision it expected.
 */
const createMemoryLog = ({ storedIsSuccess = false } = {}) => {
  const streams = new Map<string, RecordedEvent[]>();
  const all: RecordedEvent[] = [];
  let appendCalls = 0;
  const reads: number[] = [];
  const log: EventLog = {
    async append(
      stream: string,
      events: readonly NewEvent[],
      expected: ExpectedRevision,
    ): Promise<AppendResult> {
      appendCalls++;
      const existing = streams.get(stream) ?? [];
      const actual = existing.length - 1;
      const ok =
        expected === 'any' || (expected === 'no_stream' ? existing.length === 0 : expected === actual);
      const stored = existing.filter((e) => events.some((n) => n.id === e.id));
      if (!ok && storedIsSuccess && stored.length === events.length) {
        return {
          nextRevision: stored.at(-1)!.revision,
          position: stored.at(-1)!.position,
          alreadyStored: true,
        };
      }
      if (!ok) {
        throw new WrongExpectedRevisionError(
          stream,
          String(expected),
          actual < 0 ? 'no_stream' : String(actual),
        );
      }
      let position: LogPosition = { commit: BigInt(all.length), prepare: 0n };
      const recorded = events.map((event, i) => {
        position = { commit: BigInt(all.length + 1), prepare: BigInt(i) };
        const r: RecordedEvent = {
          ...event,
          stream,
          revision: existing.length + i,
          position,
          recordedAt: new Date(0),
        };
        all.push(r);
        return r;
      });
      streams.set(stream, [...existing, ...recorded]);
      return { nextRevision: existing.length + recorded.length - 1, position };
    },
    async readStream(stream, options = {}) {
      const from = options.fromRevision ?? 0;
      reads.push(from);
      const events = (streams.get(stream) ?? []).filter((e) => e.revision >= from);
      return options.maxCount === undefined ? events : events.slice(0, options.maxCount);
    },
    async readAll(from, maxCount) {
      return all.filter((e) => e.position.commit > from.commit).slice(0, maxCount);
    },
    subscribeAll() {
      throw new Error('not used by the command handler');
    },
    async headPosition() {
      return all.at(-1)?.position ?? null;
    },
    async ping() {},
    async close() {},
  };
  return {
    log,
    streamOf: (conversationId: string) => streams.get(conversationStream(conversationId)) ?? [],
    appendCalls: () => appendCalls,
    /** fromRevision of every readStream call, in order. */
    reads,
  };
};

const client: Actor = { kind: 'client', id: '5550001' };
const manager: Actor = { kind: 'manager', id: '42', name: 'Grace' };
const clock: Clock = { now: () => new Date('2030-01-01T12:00:00.000Z') };

describe('command handler', () => {
  test('decides on what it holds without reading, and reads the tail when another writer moved on', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    const other = createCommandHandler({ log: memory.log, eventId: commandEventId, clock, cacheSize: 0 });
    for (let i = 0; i < 20; i++) {
      await handler.execute(CONVERSATION_ID, receive(`m${i}`, `text ${i}`), {
        commandId: `c${i}`,
        actor: client,
      });
    }
    // 21 events stored and the stream never read: the first message was presumed to start the
    // conversation (it did), and every command after it was decided on what the handler held.
    assert.deepEqual(memory.reads, []);
    await other.execute(CONVERSATION_ID, { type: 'BanClient' }, { commandId: 'ban', actor: manager });
    const result = await handler.execute(CONVERSATION_ID, receive('late', 'after the ban'), {
      commandId: 'late',
      actor: client,
    });
    assert.equal(result.state.banned, true, 'the ban appended by the other writer was read');
    assert.equal(result.state.messages.get('late')?.suppressed, true);
    assert.equal(memory.reads.at(-1), 21, 'after the refused append, only what came after was read');
    const again = await handler.execute(CONVERSATION_ID, receive('late', 'after the ban'), {
      commandId: 'late',
      actor: client,
    });
    assert.equal(again.alreadyHandled, true);

    // A command run before, repeated while another writer moved on: the state handed back has it all.
    await other.execute(CONVERSATION_ID, receive('elsewhere', 'by the other'), {
      commandId: 'elsewhere',
      actor: client,
    });
    const replayed = await handler.execute(CONVERSATION_ID, receive('late', 'after the ban'), {
      commandId: 'late',
      actor: client,
    });
    assert.equal(replayed.alreadyHandled, true);
    assert.ok(replayed.state.messages.has('elsewhere'), 'what the other writer appended is in the state');
  });

  test('a command another writer recorded already, repeated on a stale view, leaves the view whole', async () => {
    // The PostgreSQL log answers such an append with where the events were stored, far behind the
    // stream's end: taking that for this append's revision would skip what came after for good.
    const memory = createMemoryLog({ storedIsSuccess: true });
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    const other = createCommandHandler({ log: memory.log, eventId: commandEventId, clock, cacheSize: 0 });
    await handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client });
    await other.execute(CONVERSATION_ID, receive('m2'), { commandId: 'c2', actor: client });
    await other.execute(CONVERSATION_ID, receive('m3'), { commandId: 'c3', actor: client });

    const repeated = await handler.execute(CONVERSATION_ID, receive('m2'), {
      commandId: 'c2',
      actor: client,
    });
    assert.deepEqual(repeated.events, [], 'nothing appended twice');
    assert.ok(repeated.state.messages.has('m3'), 'what came after the repeated command is in the state');
    const edited = await handler.execute(
      CONVERSATION_ID,
      { type: 'EditClientMessage', messageId: 'm3', content: { text: 'm3 again', attachments: [] } },
      { commandId: 'e3', actor: client },
    );
    assert.equal(edited.events.length, 1);
    assert.deepEqual(
      memory.streamOf(CONVERSATION_ID).map((e) => e.revision),
      [0, 1, 2, 3, 4],
      'one stream, no revision written twice',
    );
  });

  test('a command its stale view would refuse or find unchanged is decided again on the tail', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    const other = createCommandHandler({ log: memory.log, eventId: commandEventId, clock, cacheSize: 0 });
    await handler.execute(CONVERSATION_ID, receive('m1', 'A'), { commandId: 'c1', actor: client });

    // Recorded elsewhere: an edit of m1 to B.
    await other.execute(
      CONVERSATION_ID,
      { type: 'EditClientMessage', messageId: 'm1', content: { text: 'B', attachments: [] } },
      { commandId: 'e1', actor: client },
    );
    // Its view said m1 reads A, so editing it to A looked unchanged; it reads B: the edit is kept.
    const back = await handler.execute(
      CONVERSATION_ID,
      { type: 'EditClientMessage', messageId: 'm1', content: { text: 'A', attachments: [] } },
      { commandId: 'e2', actor: client },
    );
    assert.equal(back.events.length, 1);
    assert.equal(memory.streamOf(CONVERSATION_ID).at(-1)?.type, 'ClientMessageEdited');
    assert.equal(back.state.messages.get('m1')?.content.text, 'A');

    // Recorded elsewhere: a message this handler has not seen. Its view says m2 does not exist: not
    // a refusal before the stream is read.
    await other.execute(CONVERSATION_ID, receive('m2', 'new'), { commandId: 'c2', actor: client });
    const edited = await handler.execute(
      CONVERSATION_ID,
      { type: 'EditClientMessage', messageId: 'm2', content: { text: 'newer', attachments: [] } },
      { commandId: 'e3', actor: client },
    );
    assert.equal(edited.state.messages.get('m2')?.content.text, 'newer');
  });

  test('appends the decided events with deterministic ids and default metadata', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    const result = await handler.execute(CONVERSATION_ID, receive('m1', 'hello'), {
      commandId: 'tg:1:1001',
      actor: client,
    });
    assert.equal(result.revision, 1);
    assert.equal(result.alreadyHandled, false);
    assert.deepEqual(
      result.events.map((e) => e.type),
      ['ConversationStarted', 'ClientMessageReceived'],
    );
    const stream = memory.streamOf(CONVERSATION_ID);
    assert.deepEqual(
      stream.map((e) => e.id),
      [
        commandEventId(conversationStream(CONVERSATION_ID), 'tg:1:1001', 0),
        commandEventId(conversationStream(CONVERSATION_ID), 'tg:1:1001', 1),
      ],
    );
    assert.deepEqual(stream[0]?.metadata, {
      occurredAt: '2030-01-01T12:00:00.000Z',
      correlationId: 'tg:1:1001',
      causationId: 'tg:1:1001',
      actor: client,
    });
    assert.deepEqual(stream[1]?.data, received('m1', 'hello').data);
    assert.equal(result.state.messages.get('m1')?.content.text, 'hello');
  });

  test('explicit metadata and a per-call clock win over the defaults', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    await handler.execute(CONVERSATION_ID, receive('m1'), {
      commandId: 'c1',
      actor: client,
      correlationId: 'corr',
      causationId: 'cause',
    });
    await handler.execute(
      CONVERSATION_ID,
      { type: 'BanClient' },
      { commandId: 'c2', actor: manager, occurredAt: '2031-05-05T05:05:05.000Z' },
    );
    await handler.execute(
      CONVERSATION_ID,
      { type: 'CloseConversation' },
      { commandId: 'c3', actor: manager },
      { now: () => new Date('2032-02-02T02:02:02.000Z') },
    );
    const [first, , ban, close] = memory.streamOf(CONVERSATION_ID);
    assert.equal(first?.metadata.correlationId, 'corr');
    assert.equal(first?.metadata.causationId, 'cause');
    assert.equal(ban?.metadata.occurredAt, '2031-05-05T05:05:05.000Z');
    assert.deepEqual(ban?.metadata.actor, manager);
    assert.equal(close?.metadata.occurredAt, '2032-02-02T02:02:02.000Z');
  });

  test('the same command id executed twice appends once', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    const meta = { commandId: 'tg:1:1001', actor: client };
    await handler.execute(CONVERSATION_ID, receive('m1'), meta);
    const again = await handler.execute(CONVERSATION_ID, receive('m1'), meta);
    assert.equal(memory.streamOf(CONVERSATION_ID).length, 2);
    assert.equal(memory.appendCalls(), 1);
    assert.deepEqual(again.events, []);
    assert.equal(again.alreadyHandled, true);
    assert.equal(again.revision, 1);
  });

  test('a re-delivered command that would now be refused is still a quiet no-op', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    await handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client });
    const meta = { commandId: 'ban-1', actor: manager };
    await handler.execute(CONVERSATION_ID, { type: 'BanClient' }, meta);
    const again = await handler.execute(CONVERSATION_ID, { type: 'BanClient' }, meta);
    assert.equal(again.alreadyHandled, true);
    await assert.rejects(
      handler.execute(CONVERSATION_ID, { type: 'BanClient' }, { commandId: 'ban-2', actor: manager }),
      (error: unknown) => error instanceof DomainError && error.code === 'already_banned',
    );
    assert.equal(memory.streamOf(CONVERSATION_ID).length, 3);
  });

  test('a command that decides nothing appends nothing', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    await handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client });
    const result = await handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c2', actor: client });
    assert.deepEqual(result.events, []);
    assert.equal(result.alreadyHandled, false);
    assert.equal(memory.appendCalls(), 1);
  });

  test('a refused command appends nothing and surfaces the domain error', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    await assert.rejects(
      handler.execute(CONVERSATION_ID, { type: 'BanClient' }, { commandId: 'c1', actor: manager }),
      (error: unknown) => error instanceof DomainError && error.code === 'conversation_not_started',
    );
    assert.equal(memory.appendCalls(), 0);
  });

  test('a conflicting append is retried on the fresh state', async () => {
    const memory = createMemoryLog();
    const setup = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    await setup.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client });

    // Another instance bans the client between this handler's read and its append.
    let interfered = false;
    const racing: EventLog = {
      ...memory.log,
      append: async (stream, events, expected) => {
        if (!interfered) {
          interfered = true;
          await setup.execute(CONVERSATION_ID, { type: 'BanClient' }, { commandId: 'ban', actor: manager });
        }
        return memory.log.append(stream, events, expected);
      },
    };
    const handler = createCommandHandler({ log: racing, eventId: commandEventId, clock });
    const result = await handler.execute(CONVERSATION_ID, receive('m2'), { commandId: 'c2', actor: client });

    assert.equal(memory.appendCalls(), 4); // c1, the ban, c2 refused, c2 again
    assert.equal(result.revision, 3);
    assert.deepEqual(
      memory.streamOf(CONVERSATION_ID).map((e) => e.type),
      ['ConversationStarted', 'ClientMessageReceived', 'ClientBanned', 'ClientMessageReceived'],
    );
    // Decided again after the ban was seen: the message is recorded as suppressed.
    assert.deepEqual(result.events[0]?.data, received('m2', undefined, { suppressed: true }).data);
    assert.equal(result.state.banned, true);
  });

  test('a client message to a conversation the handler never saw is appended unread; one that exists after all is decided on its stream', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    const fresh = await handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client });
    assert.deepEqual(
      fresh.events.map((e) => e.type),
      ['ConversationStarted', 'ClientMessageReceived'],
    );
    assert.deepEqual(memory.reads, [], 'a new conversation is not read');

    // Another instance (a handler of its own) has not seen it: its first append is refused, and it
    // goes on from the stream, which it reads once.
    const other = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    const second = await other.execute(CONVERSATION_ID, receive('m2'), { commandId: 'c2', actor: client });
    assert.deepEqual(
      second.events.map((e) => e.type),
      ['ClientMessageReceived'],
    );
    assert.equal(
      second.state.messages.get('m1')?.content.text,
      'text of m1',
      'the state has what was there before',
    );
    assert.deepEqual(memory.reads, [0]);
    assert.equal(memory.appendCalls(), 3, 'c1, c2 refused as a first message, c2');
    assert.deepEqual(
      memory.streamOf(CONVERSATION_ID).map((e) => e.type),
      ['ConversationStarted', 'ClientMessageReceived', 'ClientMessageReceived'],
    );
    // A command it ran and then forgot (a cache it lost) is not decided again: its conversation is known.
    other.reader.forget(CONVERSATION_ID);
    const again = await other.execute(CONVERSATION_ID, receive('m2'), { commandId: 'c2', actor: client });
    assert.equal(again.alreadyHandled, true);
    assert.equal(memory.appendCalls(), 3, 'known to exist, it was read, not presumed new');
  });

  test('a first message delivered again to a process that never saw the conversation appends nothing', async () => {
    for (const storedIsSuccess of [false, true]) {
      const memory = createMemoryLog({ storedIsSuccess });
      const first = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
      await first.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client });
      const restarted = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
      const result = await restarted.execute(CONVERSATION_ID, receive('m1'), {
        commandId: 'c1',
        actor: client,
      });
      assert.equal(result.alreadyHandled, true, `storedIsSuccess ${storedIsSuccess}`);
      assert.equal(memory.streamOf(CONVERSATION_ID).length, 2);
      assert.equal(result.state.messages.get('m1')?.content.text, 'text of m1');
    }
  });

  test('two first messages racing on an empty stream: both land, the conversation starts once', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    await Promise.all([
      handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client }),
      handler.execute(CONVERSATION_ID, receive('m2'), { commandId: 'c2', actor: client }),
    ]);
    const types = memory.streamOf(CONVERSATION_ID).map((e) => e.type);
    assert.deepEqual(types, ['ConversationStarted', 'ClientMessageReceived', 'ClientMessageReceived']);
  });

  test('a burst of commands on one conversation in one process queues: each appends once, none conflicts', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    await handler.execute(CONVERSATION_ID, receive('first'), { commandId: 'first', actor: client });
    const before = memory.appendCalls();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        handler.execute(CONVERSATION_ID, receive(`b${i}`), { commandId: `b${i}`, actor: client }),
      ),
    );
    assert.equal(memory.appendCalls() - before, 10, 'one append per command, no refused ones');
    assert.deepEqual(
      results.map((r) => r.revision),
      Array.from({ length: 10 }, (_, i) => 2 + i),
      'recorded in the order they were handed in',
    );
  });

  test('gives up after maxRetries conflicts, with an error naming the conversation', async () => {
    const memory = createMemoryLog();
    let attempts = 0;
    const alwaysBehind: EventLog = {
      ...memory.log,
      append: async (stream) => {
        attempts++;
        throw new WrongExpectedRevisionError(stream, 'no_stream', '0');
      },
    };
    const handler = createCommandHandler({
      log: alwaysBehind,
      eventId: commandEventId,
      clock,
      maxRetries: 3,
    });
    await assert.rejects(
      handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client }),
      (error: unknown) =>
        error instanceof CommandGaveUpError &&
        error.code === 'command_gave_up' &&
        error.conversationId === CONVERSATION_ID &&
        error.message.includes(CONVERSATION_ID) &&
        error.cause instanceof WrongExpectedRevisionError,
    );
    // The first append is on a conversation presumed new, unread, and is not counted; then the read
    // one and three retries.
    assert.equal(attempts, 5);
  });

  test('an append the log calls stored already in this stream: the command ran before, nothing is decided again', async () => {
    const memory = createMemoryLog();
    let attempts = 0;
    const repeating: EventLog = {
      ...memory.log,
      append: async () => {
        attempts++;
        return { nextRevision: 0, position: { commit: 1n, prepare: 0n }, alreadyStored: true };
      },
    };
    const handler = createCommandHandler({ log: repeating, eventId: commandEventId, clock, maxRetries: 3 });
    const result = await handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client });
    assert.equal(result.alreadyHandled, true);
    assert.deepEqual(result.events, []);
    assert.equal(attempts, 1);
  });

  test('other append errors are not retried', async () => {
    const memory = createMemoryLog();
    let attempts = 0;
    const broken: EventLog = {
      ...memory.log,
      append: async () => {
        attempts++;
        throw new Error('connection reset');
      },
    };
    const handler = createCommandHandler({ log: broken, eventId: commandEventId, clock });
    await assert.rejects(
      handler.execute(CONVERSATION_ID, receive('m1'), { commandId: 'c1', actor: client }),
      /connection reset/,
    );
    assert.equal(attempts, 1);
  });

  test('events read back go through the decoder it is given', async () => {
    const memory = createMemoryLog();
    await memory.log.append(
      conversationStream(CONVERSATION_ID),
      [
        {
          id: eventIdOf('seed:0'),
          type: 'ConversationStarted',
          data: started.data,
          metadata: {
            occurredAt: '2030-01-01T00:00:00.000Z',
            correlationId: 'seed',
            causationId: 'seed',
            actor: client,
          },
        },
        {
          id: eventIdOf('seed:1'),
          type: 'ClientMessageReceived',
          data: { text: 'no id', attachments: [], suppressed: false },
          metadata: {
            occurredAt: '2030-01-01T00:00:00.000Z',
            correlationId: 'seed',
            causationId: 'seed',
            actor: client,
          },
        },
      ],
      'no_stream',
    );
    let decoded = 0;
    const handler = createCommandHandler({
      log: memory.log,
      eventId: commandEventId,
      clock,
      decode: (event) => {
        decoded++;
        return decodeConversationEvent(event);
      },
    });
    await assert.rejects(
      handler.execute(CONVERSATION_ID, receive('m2'), { commandId: 'c2', actor: client }),
      /data\.messageId/,
    );
    assert.equal(decoded, 2);
  });

  test('a first message naming another conversation is refused', async () => {
    const memory = createMemoryLog();
    const handler = createCommandHandler({ log: memory.log, eventId: commandEventId, clock });
    await assert.rejects(
      handler.execute('00000000-0000-5000-8000-000000000000', receive('m1'), {
        commandId: 'c1',
        actor: client,
      }),
      (error: unknown) => error instanceof DomainError && error.code === 'invalid_command',
    );
    assert.equal(memory.appendCalls(), 0);
  });
});
