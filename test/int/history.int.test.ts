// The audit history on a real PostgreSQL log, written by the real command handler: every event in
// order, the state at past moments, and `topicdesk history` run as a child process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeConversationEvent } from '../../src/adapters/event-codec.ts';
import { commandEventId, conversationIdOf } from '../../src/adapters/ids.ts';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { createCommandHandler } from '../../src/domain/command-handler.ts';
import type { ConversationCommand } from '../../src/domain/conversation.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { type Actor, conversationStream } from '../../src/domain/events.ts';
import {
  type ConversationSnapshot,
  conversationAt,
  conversationHistory,
} from '../../src/projections/history.ts';
import { resolveConversationRef } from '../../src/projections/history-refs.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const CLIENT_ID = '424242';
const GROUP_CHAT = '-1001234567890';
const conversationId = conversationIdOf('telegram', 'telegram', CLIENT_ID);
const client: Actor = { kind: 'client', id: CLIENT_ID, name: 'Ivan Petrov' };
const alice: Actor = { kind: 'manager', id: '777', name: 'Alice' };
const system: Actor = { kind: 'system', id: 'reactor' };
const text = (value: string) => ({ text: value, attachments: [] });

// In order; the revision each step's first event lands on is its index + 1 (the first appends two).
const steps: readonly (readonly [Actor, ConversationCommand])[] = [
  [
    client,
    {
      type: 'ReceiveClientMessage',
      conversationId,
      channel: 'telegram',
      source: 'telegram',
      clientId: CLIENT_ID,
      profile: { firstName: 'Ivan', lastName: 'Petrov', username: 'ivan' },
      messageId: 'm-1',
      content: text('hello'),
      channelMessage: { chatId: CLIENT_ID, messageId: '11' },
    },
  ],
  [
    system,
    {
      type: 'RecordTopicOpened',
      topicId: '55',
      chatId: GROUP_CHAT,
      title: 'Ivan Petrov · telegram · 424242',
    },
  ],
  [
    system,
    {
      type: 'RecordForwarded',
      messageId: 'm-1',
      topicId: '55',
      groupMessage: { chatId: GROUP_CHAT, messageId: '101' },
    },
  ],
  [
    alice,
    {
      type: 'ReplyAsManager',
      messageId: 'm-7',
      managerId: '777',
      managerName: 'Alice',
      content: text('Hi! How can I help?'),
      groupMessage: { chatId: GROUP_CHAT, messageId: '102' },
      replyTo: 'm-1',
    },
  ],
  [
    system,
    {
      type: 'RecordDelivered',
      messageId: 'm-7',
      operation: 'send',
      channelMessage: { chatId: CLIENT_ID, messageId: '12' },
    },
  ],
  [client, { type: 'EditClientMessage', messageId: 'm-1', content: text('hello there') }],
  [client, { type: 'DeleteClientMessage', messageId: 'm-1' }],
  [alice, { type: 'BanClient', reason: 'spam' }],
];

const expectedHistory: readonly (readonly [string, string, string])[] = [
  [
    'ConversationStarted',
    `client:${CLIENT_ID}`,
    `conversation started: telegram client ${CLIENT_ID} "Ivan Petrov" @ivan`,
  ],
  ['ClientMessageReceived', `client:${CLIENT_ID}`, 'client message m-1: "hello"'],
  ['TopicOpened', 'system:reactor', 'topic 55 opened "Ivan Petrov · telegram · 424242"'],
  ['ClientMessageForwarded', 'system:reactor', 'forwarded m-1 to topic 55 (group message 101)'],
  ['ManagerReplied', 'manager:777', 'manager Alice replied m-7: "Hi! How can I help?" (reply to m-1)'],
  ['ReplyDelivered', 'system:reactor', 'delivered m-7 (send)'],
  ['ClientMessageEdited', `client:${CLIENT_ID}`, 'edited m-1: "hello" → "hello there"'],
  ['ClientMessageDeleted', `client:${CLIENT_ID}`, 'deleted m-1'],
  ['ClientBanned', 'manager:777', 'client banned: spam'],
];

describe('conversation audit history (PostgreSQL log)', () => {
  let db: TestDatabase;
  let log: EventLog;
  /** recordedAt of each revision, read back from the log. */
  let recorded: Date[] = [];
  /** occurredAt of each revision: when its writer says it happened. */
  let occurred: string[] = [];
  const revisionOf = (type: string) => expectedHistory.findIndex(([t]) => t === type);
  const at = (type: string, deltaMs = 0) => new Date(recorded[revisionOf(type)]!.getTime() + deltaMs);
  const state = (when: Date) => conversationAt(log, conversationId, when, decodeConversationEvent);
  const m1 = (s: ConversationSnapshot) => s.messages.find((m) => m.messageId === 'm-1');

  before(async () => {
    db = await createTestDatabase();
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    const handler = createCommandHandler({ log, eventId: commandEventId, decode: decodeConversationEvent });
    for (const [i, [actor, command]] of steps.entries()) {
      // recordedAt is the database's now(): a few milliseconds apart, each step has its own moment.
      await sleep(5);
      const result = await handler.execute(conversationId, command, { commandId: `step-${i}`, actor });
      assert.ok(result.events.length > 0, `step ${i} (${command.type}) appended nothing`);
    }
    const events = await log.readStream(conversationStream(conversationId));
    recorded = events.map((e) => e.recordedAt);
    occurred = events.map((e) => e.metadata.occurredAt);
  });
  after(async () => {
    await log?.close();
    await db?.drop();
  });

  it('resolves telegram:<clientId> to the conversation the handler wrote', () => {
    assert.equal(
      resolveConversationRef(`telegram:${CLIENT_ID}`, conversationIdOf).conversationId,
      conversationId,
    );
  });

  it('lists every event in stream order, with actor, times and a summary', async () => {
    const history = await conversationHistory(log, conversationId, decodeConversationEvent);
    assert.deepEqual(
      history.map((e) => [e.type, `${e.actor.kind}:${e.actor.id}`, e.summary]),
      expectedHistory,
    );
    assert.deepEqual(
      history.map((e) => e.revision),
      expectedHistory.map((_, i) => i),
    );
    for (const [i, e] of history.entries()) {
      assert.equal(e.recordedAt, recorded[i]!.toISOString());
      assert.ok(!Number.isNaN(Date.parse(e.occurredAt)));
      assert.match(e.position, /^\d+\/\d+$/);
      if (i > 0) assert.ok(e.recordedAt >= history[i - 1]!.recordedAt, 'recorded times never go back');
    }
    assert.equal(history[4]!.actor.name, 'Alice');
    assert.deepEqual(history[6]!.data, {
      text: 'hello there',
      attachments: [],
      messageId: 'm-1',
      previousText: 'hello',
    });
  });

  it('is empty for a conversation the log does not have', async () => {
    const other = conversationIdOf('telegram', 'telegram', '1');
    assert.deepEqual(await conversationHistory(log, other, decodeConversationEvent), []);
    const s = await conversationAt(log, other, new Date(), decodeConversationEvent);
    assert.equal(s.firstRecordedAt, null);
    assert.equal(s.started, false);
  });

  it('before the first event: not started', async () => {
    const s = await state(at('ConversationStarted', -1));
    assert.equal(s.started, false);
    assert.equal(s.revision, -1);
    assert.equal(s.firstRecordedAt, recorded[0]!.toISOString());
    assert.deepEqual(s.messages, []);
  });

  it('before the edit: the original text, no edit, the reply delivered', async () => {
    for (const when of [at('ReplyDelivered'), at('ClientMessageEdited', -1)]) {
      const s = await state(when);
      assert.equal(s.revision, revisionOf('ReplyDelivered'));
      assert.equal(s.started, true);
      assert.equal(s.channel, 'telegram');
      assert.equal(s.clientId, CLIENT_ID);
      assert.deepEqual(s.topic, {
        topicId: '55',
        chatId: GROUP_CHAT,
        title: 'Ivan Petrov · telegram · 424242',
      });
      assert.equal(s.banned, false);
      assert.deepEqual(
        s.messages.map((m) => m.messageId),
        ['m-1', 'm-7'],
      );
      assert.deepEqual(m1(s), {
        messageId: 'm-1',
        direction: 'incoming',
        text: 'hello',
        attachments: [],
        replyTo: null,
        status: 'forwarded',
        suppressed: false,
        createdAt: at('ClientMessageReceived').toISOString(),
        sentAt: occurred[revisionOf('ClientMessageReceived')],
        deleted: false,
        edits: 0,
      });
      const reply = s.messages[1]!;
      assert.equal(reply.status, 'delivered');
      assert.equal(reply.managerName, 'Alice');
      assert.equal(reply.replyTo, 'm-1');
    }
  });

  it('between the edit and the deletion: the edited text, not deleted', async () => {
    const s = await state(at('ClientMessageEdited'));
    assert.equal(s.revision, revisionOf('ClientMessageEdited'));
    const m = m1(s)!;
    assert.equal(m.text, 'hello there');
    assert.equal(m.edits, 1);
    assert.equal(m.editedAt, at('ClientMessageEdited').toISOString());
    assert.equal(m.deleted, false);
    assert.equal(m.deletedAt, undefined);
  });

  it('after the deletion: the message deleted (its last text kept), then the ban', async () => {
    const s = await state(at('ClientMessageDeleted'));
    const m = m1(s)!;
    assert.equal(m.deleted, true);
    assert.equal(m.deletedAt, at('ClientMessageDeleted').toISOString());
    assert.equal(m.text, 'hello there');
    assert.equal(s.banned, false);

    const now = await state(new Date(Date.now() + 60_000));
    assert.equal(now.revision, expectedHistory.length - 1);
    assert.equal(now.banned, true);
    assert.equal(m1(now)!.deleted, true);
    // JSON-able as promised: a round trip changes nothing.
    assert.deepEqual(JSON.parse(JSON.stringify(now)), now);
  });

  describe('topicdesk history (the CLI, as a child process)', () => {
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'history', ...args], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: db.url, EVENT_STORE: 'postgres', LOG_LEVEL: 'warn' },
      });
    const failing = async (...args: string[]) => {
      const error = await cli(...args).then(
        () => assert.fail(`history ${args.join(' ')} succeeded`),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      return error;
    };

    it('prints every event, one per line', async () => {
      const { stdout } = await cli(`telegram:${CLIENT_ID}`);
      const lines = stdout.trimEnd().split('\n');
      assert.equal(lines[0], `conversation telegram:${CLIENT_ID} (${conversationId}): 9 events`);
      assert.match(lines[1]!, /^rev\s+recorded at\s+actor\s+type\s+summary$/);
      assert.equal(lines.length, 2 + expectedHistory.length);
      for (const [i, [type, actor, summary]] of expectedHistory.entries()) {
        const line = lines[i + 2]!;
        assert.ok(line.startsWith(`${i} `), line);
        for (const part of [recorded[i]!.toISOString(), actor, type, summary]) {
          assert.ok(line.includes(part), `${line} lacks ${part}`);
        }
      }
    });

    it('--at prints the state at that moment, marking edits and deletions', async () => {
      const before = at('ClientMessageEdited', -1).toISOString();
      const { stdout } = await cli(conversationId, '--at', before);
      assert.match(
        stdout,
        new RegExp(`^conversation ${conversationId} at ${before} \\(as of revision 5\\)\n`),
      );
      assert.match(stdout, /client: +telegram client 424242 "Ivan Petrov" @ivan/);
      assert.match(stdout, /status: +open · not banned · topic 55 "Ivan Petrov · telegram · 424242"/);
      assert.match(stdout, /m-1 .* client +forwarded +"hello"\n/);
      assert.match(stdout, /m-7 .* manager Alice +delivered +"Hi! How can I help\?"\n/);
      assert.doesNotMatch(stdout, /\[edited\]|\[deleted\]/);

      const later = (await cli(`telegram:${CLIENT_ID}`, '--at', at('ClientBanned').toISOString())).stdout;
      assert.match(later, /status: +open · banned · topic 55/);
      assert.match(later, /m-1 .* "hello there" \[edited\] \[deleted\]\n/);
    });

    it('--at before the first event says the conversation had not started', async () => {
      const { stdout } = await cli(`telegram:${CLIENT_ID}`, '--at', '2000-01-01T00:00:00Z');
      assert.match(stdout, /at 2000-01-01T00:00:00\.000Z: not started yet/);
    });

    it('--json prints the snapshot as JSON', async () => {
      const { stdout } = await cli(
        `telegram:${CLIENT_ID}`,
        '--at',
        at('ClientMessageEdited').toISOString(),
        '--json',
      );
      const s = JSON.parse(stdout) as ConversationSnapshot;
      assert.equal(s.conversationId, conversationId);
      assert.equal(m1(s)!.text, 'hello there');
    });

    it('--at banana fails with a message naming --at', async () => {
      const error = await failing(`telegram:${CLIENT_ID}`, '--at', 'banana');
      assert.equal(error.code, 1);
      assert.match(error.stderr, /--at/);
      assert.match(error.stderr, /ISO 8601/);
      assert.match(error.stderr, /banana/);
      assert.equal(error.stdout, '');
    });

    it('an unknown conversation: "no conversation <ref>", exit code 1', async () => {
      const error = await failing('telegram:999');
      assert.equal(error.code, 1);
      assert.match(error.stderr, /no conversation telegram:999/);
    });
  });
});
