// The conversation reader against a whole fold: random histories (made by decide(), so they are
// histories the domain can produce) read back from a store's copy taken at any point plus the
// stream's tail, with a window small enough to drop and reload messages, give the very same core and
// messages as folding the whole stream; and decide() answers the same on the messages it needs alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type ConversationCommand,
  type ConversationState,
  coreOf,
  decide,
  foldConversation,
  foldCore,
  initialConversationState,
  MessageWindow,
  messagesNeeded,
} from '../../src/domain/conversation.ts';
import { createConversationReader, WINDOW_MESSAGES } from '../../src/domain/conversation-reader.ts';
import type { ConversationStore } from '../../src/domain/conversation-store.ts';
import { DomainError } from '../../src/domain/errors.ts';
import type { EventLog, RecordedEvent } from '../../src/domain/event-log.ts';
import { type ConversationEvent, conversationStream } from '../../src/domain/events.ts';
import { createKnownConversations } from '../../src/domain/known-conversations.ts';
import { CONVERSATION_ID, clientRef, groupRef, receive, text } from './conversation-fixtures.ts';

/** A command drawn against the ids made so far (indices wrap), so most of them apply. */
type Step =
  | { kind: 'client'; reply?: number }
  | { kind: 'answer'; reply?: number; album?: boolean }
  | { kind: 'edit'; of: number; text: string }
  | { kind: 'delete'; of: number }
  | { kind: 'forward'; of: number; topic: number }
  | { kind: 'deliver'; of: number; ok: boolean; permanent: boolean }
  | { kind: 'topic'; lost: boolean }
  | { kind: 'flag'; which: 'ban' | 'unban' | 'close' | 'reopen' | 'notify' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('client' as const),
      reply: fc.option(fc.nat(40), { nil: undefined }),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('answer' as const),
      reply: fc.option(fc.nat(40), { nil: undefined }),
      album: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      of: fc.nat(40),
      text: fc.string({ maxLength: 5 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), of: fc.nat(40) }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('forward' as const), of: fc.nat(40), topic: fc.nat(2) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('deliver' as const),
      of: fc.nat(40),
      ok: fc.boolean(),
      permanent: fc.boolean(),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('topic' as const), lost: fc.boolean() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('flag' as const),
      which: fc.constantFrom('ban', 'unban', 'close', 'reopen', 'notify') as fc.Arbitrary<
        'ban' | 'unban' | 'close' | 'reopen' | 'notify'
      >,
    }),
    weight: 1,
  },
);

/** Turns steps into commands, applies the ones decide() accepts, and keeps what they recorded. */
const historyOf = (steps: readonly Step[]) => {
  let state = initialConversationState;
  const events: ConversationEvent[] = [];
  const commands: ConversationCommand[] = [];
  const clients: string[] = [];
  const answers: string[] = [];
  let group = 100;
  let topic = 0;
  const pick = (list: readonly string[], i: number) => (list.length ? list[i % list.length] : undefined);
  const apply = (command: ConversationCommand) => {
    commands.push(command);
    try {
      const decided = decide(command, state);
      events.push(...decided);
      state = foldConversation(decided, state);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  };
  apply(receive('c0', 'first', { channelMessage: clientRef('1') }));
  clients.push('c0');
  for (const s of steps) {
    switch (s.kind) {
      case 'client': {
        const id = `c${clients.length}`;
        const replyTo = s.reply === undefined ? undefined : pick([...clients, ...answers], s.reply);
        apply(
          receive(id, `client ${id}`, {
            channelMessage: clientRef(String(clients.length + 1)),
            ...(replyTo ? { replyTo } : {}),
          }),
        );
        clients.push(id);
        break;
      }
      case 'answer': {
        const id = `a${answers.length}`;
        const replyTo = s.reply === undefined ? undefined : pick([...clients, ...answers], s.reply);
        apply({
          type: 'ReplyAsManager',
          messageId: id,
          managerId: '7',
          managerName: 'Mia',
          content: text(`answer ${id}`),
          groupMessage: groupRef(String(group++)),
          ...(replyTo ? { replyTo } : {}),
          ...(s.album ? { mediaGroupId: 'album-1' } : {}),
        });
        answers.push(id);
        break;
      }
      case 'edit': {
        const id = pick([...clients, ...answers], s.of);
        if (!id) break;
        apply({
          type: id.startsWith('c') ? 'EditClientMessage' : 'EditManagerReply',
          messageId: id,
          content: text(s.text),
        });
        break;
      }
      case 'delete': {
        const id = pick([...clients, ...answers], s.of);
        if (!id) break;
        apply({ type: id.startsWith('c') ? 'DeleteClientMessage' : 'DeleteManagerReply', messageId: id });
        break;
      }
      case 'forward': {
        const id = pick(clients, s.of);
        if (!id) break;
        apply({
          type: 'RecordForwarded',
          messageId: id,
          topicId: String(s.topic),
          groupMessage: groupRef(String(group++)),
        });
        break;
      }
      case 'deliver': {
        const id = pick(answers, s.of);
        if (!id) break;
        apply(
          s.ok
            ? {
                type: 'RecordDelivered',
                messageId: id,
                operation: 'send',
                channelMessage: clientRef(String(group++)),
              }
            : {
                type: 'RecordDeliveryFailed',
                messageId: id,
                operation: 'send',
                reason: 'Forbidden: bot was blocked by the user',
                permanent: s.permanent,
                attempt: 1 + (group++ % 3),
              },
        );
        break;
      }
      case 'topic':
        apply(
          s.lost
            ? { type: 'RecordTopicLost', topicId: String(topic), reason: 'gone' }
            : { type: 'RecordTopicOpened', topicId: String(++topic), chatId: '-100', title: 'T' },
        );
        break;
      case 'flag':
        apply(
          s.which === 'ban'
            ? { type: 'BanClient' }
            : s.which === 'unban'
              ? { type: 'UnbanClient' }
              : s.which === 'close'
                ? { type: 'CloseConversation' }
                : s.which === 'reopen'
                  ? { type: 'ReopenConversation' }
                  : { type: 'RecordClientNotified', notice: 'banned' },
        );
        break;
    }
  }
  return { events, commands, ids: [...clients, ...answers] };
};

const at = (i: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString();

const recordedOf = (events: readonly ConversationEvent[]): RecordedEvent[] =>
  events.map((e, i) => ({
    id: `e${i}`,
    stream: conversationStream(CONVERSATION_ID),
    revision: i,
    position: { commit: BigInt(i + 1), prepare: 0n },
    type: e.type,
    data: e.data,
    metadata: { occurredAt: at(i), correlationId: 'x', causationId: 'x', actor: { kind: 'system', id: 't' } },
    recordedAt: new Date(at(i)),
  }));

const memoryLog = (recorded: readonly RecordedEvent[]): EventLog => ({
  async append() {
    throw new Error('read only');
  },
  async readStream(_stream, options = {}) {
    return recorded.filter((e) => e.revision >= (options.fromRevision ?? 0));
  },
  async readAll() {
    return [];
  },
  subscribeAll() {
    throw new Error('not used');
  },
  async headPosition() {
    return null;
  },
  async ping() {},
  async close() {},
});

/** A store holding the fold of the first `cut` events, as the conversation-state projection would. */
const storeAt = (recorded: readonly RecordedEvent[], cut: number): ConversationStore => {
  const prefix = recorded.slice(0, cut);
  const folded = foldConversation(
    prefix.map((r) => ({
      event: { type: r.type, data: r.data } as ConversationEvent,
      revision: r.revision,
      at: r.metadata.occurredAt,
    })),
    { ...initialConversationState, messages: MessageWindow.empty(false) },
  );
  const rows = new Map([...folded.messages.entriesWithRevisions()]);
  const refs = new Map([...folded.messages.refEntries()]);
  return {
    async core() {
      return cut === 0
        ? undefined
        : { core: coreOf(folded), revision: cut - 1, recentEventIds: prefix.slice(-64).map((r) => r.id) };
    },
    async messages(_id, ids) {
      return ids.flatMap((m) => {
        const e = rows.get(m);
        return e ? [{ message: structuredClone(e.message), revision: e.revision }] : [];
      });
    },
    async mediaGroup(_id, g) {
      return [...rows.values()]
        .filter((e) => e.message.mediaGroupId === g)
        .map((e) => ({ message: structuredClone(e.message), revision: e.revision }));
    },
    async refs(_id, keys) {
      return keys.flatMap((k) => {
        const v = refs.get(k);
        return v ? [[k, v] as const] : [];
      });
    },
  };
};

describe('conversation reader', () => {
  test('the store’s copy at any point plus the tail equals the whole fold, message by message', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 60 }),
        fc.nat(1000),
        fc.nat(1000),
        async (steps, cutSeed, orderSeed) => {
          const { events, ids } = historyOf(steps);
          const recorded = recordedOf(events);
          const whole = foldConversation(
            recorded.map((r) => ({
              event: { type: r.type, data: r.data } as ConversationEvent,
              revision: r.revision,
              at: r.metadata.occurredAt,
            })),
          );
          const cut = cutSeed % (recorded.length + 1);
          // The core alone caught up from the copy, as the projection does after a restart: no message asked for.
          const storedCore =
            (await storeAt(recorded, cut).core(CONVERSATION_ID))?.core ?? coreOf(initialConversationState);
          const tail = recorded.slice(cut).map((r) => ({
            event: { type: r.type, data: r.data } as ConversationEvent,
            revision: r.revision,
            at: r.metadata.occurredAt,
          }));
          assert.deepEqual(
            foldCore(tail, storedCore, { coreRevision: cut - 1 }),
            coreOf(whole),
            `core alone (cut ${cut})`,
          );
          const reader = createConversationReader({
            log: memoryLog(recorded),
            store: storeAt(recorded, cut),
            windowSize: 2,
          });
          const first = await reader.read(CONVERSATION_ID);
          assert.equal(first.revision, recorded.length - 1);
          assert.deepEqual(coreOf(first.state), coreOf(whole), `core (cut ${cut})`);
          // Messages in a random order, a few at a time: the small window drops and reloads them.
          const order = [...ids].sort(
            (a, b) => ((a.charCodeAt(1) * 31 + orderSeed) % 7) - ((b.charCodeAt(1) * 31 + orderSeed) % 7),
          );
          for (const id of order) {
            const { state } = await reader.read(CONVERSATION_ID, { messageIds: [id] });
            assert.deepEqual(state.messages.get(id), whole.messages.get(id), `message ${id} (cut ${cut})`);
          }
          for (const [key, id] of whole.messages.refEntries()) {
            const { state } = await reader.read(CONVERSATION_ID, { refs: [key] });
            assert.equal(state.messages.byRef(key)?.messageId, id ?? undefined, `reference ${key}`);
          }
          const { state } = await reader.read(CONVERSATION_ID, { mediaGroups: ['album-1'] });
          assert.deepEqual(
            [...state.messages.loaded()]
              .filter((m) => m.mediaGroupId === 'album-1')
              .map((m) => m.messageId)
              .sort(),
            [...whole.messages.values()]
              .filter((m) => m.mediaGroupId === 'album-1')
              .map((m) => m.messageId)
              .sort(),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test('decide() answers the same on the messages it needs alone as on the whole conversation', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        fc.array(stepArb, { minLength: 1, maxLength: 8 }),
        (steps, more) => {
          const { events } = historyOf(steps);
          const whole = foldConversation(events);
          const { commands } = historyOf([...steps, ...more]);
          for (const command of commands.slice(-more.length)) {
            const partial = {
              ...whole,
              messages: MessageWindow.empty(false).withLoaded(
                messagesNeeded(command).flatMap((id) => {
                  const m = whole.messages.get(id);
                  return m ? [{ message: m, revision: 0 }] : [];
                }),
                messagesNeeded(command).filter((id) => !whole.messages.has(id)),
              ),
            };
            const outcome = (s: typeof whole) => {
              try {
                return decide(command, s);
              } catch (error) {
                if (error instanceof DomainError) return error.code;
                throw error;
              }
            };
            assert.deepEqual(outcome(partial), outcome(whole), command.type);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('an id the caller just made up is known absent without asking the store; a client message under it is accepted', async () => {
    const { events } = historyOf([{ kind: 'client' }, { kind: 'answer' }]);
    const recorded = recordedOf(events);
    const store = storeAt(recorded, recorded.length);
    const asked: string[] = [];
    const reader = createConversationReader({
      log: memoryLog(recorded),
      store: {
        ...store,
        messages: (id, ids) => {
          asked.push(...ids);
          return store.messages(id, ids);
        },
      },
    });
    const { state } = await reader.read(CONVERSATION_ID, { newMessageIds: ['fresh-1'], messageIds: ['c0'] });
    assert.deepEqual(asked, ['c0'], 'only the stored message was asked for');
    assert.equal(state.messages.knows('fresh-1'), true);
    assert.equal(state.messages.get('fresh-1'), undefined);
    const decided = decide(receive('fresh-1', 'a new question', { channelMessage: clientRef('99') }), state);
    assert.equal(decided[0]?.type, 'ClientMessageReceived');
  });

  test('told that the store now holds a conversation, a held state lets go of all but the window, and still answers for the rest', async () => {
    const { events } = historyOf(Array.from({ length: 150 }, () => ({ kind: 'client' as const })));
    const recorded = recordedOf(events);
    const full = storeAt(recorded, recorded.length);
    // The store has the messages but no core yet: every message read counts as not stored.
    const reader = createConversationReader({
      log: memoryLog(recorded),
      store: { ...full, core: async () => undefined },
    });
    const held = (state: ConversationState) => [...state.messages.entriesWithRevisions()].length;
    const before = await reader.read(CONVERSATION_ID);
    assert.ok(held(before.state) >= 150, `held ${held(before.state)}`);

    reader.stored(CONVERSATION_ID, recorded.length - 1);
    const after = await reader.read(CONVERSATION_ID);
    assert.equal(after.held, true);
    assert.equal(held(after.state), WINDOW_MESSAGES);
    const oldest = await reader.read(CONVERSATION_ID, { messageIds: ['c0'] });
    assert.equal(oldest.state.messages.get('c0')?.messageId, 'c0');
  });

  test('a conversation it never saw is presumed new for a command that may start one; one it saw, or was told of, is read', async () => {
    const { events } = historyOf([{ kind: 'client' }, { kind: 'answer' }]);
    const recorded = recordedOf(events);
    const reads: string[] = [];
    const log = memoryLog(recorded);
    const reader = createConversationReader({
      log: {
        ...log,
        readStream: (stream, o) => {
          reads.push(stream);
          return log.readStream(stream, o);
        },
      },
      store: storeAt(recorded, recorded.length),
      cacheSize: 1,
    });
    const presumed = await reader.read(CONVERSATION_ID, { mayStart: true, messageIds: ['c0'] });
    assert.deepEqual(reads, [], 'nothing read');
    assert.equal(presumed.held, true, 'the append’s expected revision is left to check it');
    assert.equal(presumed.revision, -1);
    assert.equal(presumed.state.started, false);
    assert.equal(presumed.state.messages.get('c0'), undefined, 'asked-for messages are known absent');

    // Read once (a reactor, a reply), then let go of by the cache: it is known to exist.
    await reader.read(CONVERSATION_ID);
    await reader.read('0193a5e0-0000-7000-8000-000000000002');
    assert.equal(reads.length, 2);
    const known = await reader.read(CONVERSATION_ID, { mayStart: true });
    assert.equal(reads.length, 3, 'read again, not presumed new');
    assert.equal(known.revision, recorded.length - 1);
    assert.equal(known.state.started, true);

    // Told of by the conversation-state runner (another instance's conversation): read as well.
    const told = '0193a5e0-0000-7000-8000-000000000003';
    reader.stored(told, 5);
    await reader.read(told, { mayStart: true });
    assert.equal(reads.at(-1), conversationStream(told));
  });
});

describe('known conversations', () => {
  test('never says no to a conversation it was told of, and rarely says maybe to one it was not', () => {
    const known = createKnownConversations();
    const id = (i: number, kind: string) =>
      `${kind}-${i.toString(16).padStart(8, '0')}-7000-8000-000000000000`;
    for (let i = 0; i < 200_000; i++) known.add(id(i, 'seen'));
    for (let i = 0; i < 200_000; i++) assert.equal(known.mayExist(id(i, 'seen')), true, id(i, 'seen'));
    let maybe = 0;
    for (let i = 0; i < 100_000; i++) if (known.mayExist(id(i, 'never'))) maybe++;
    assert.ok(maybe < 100, `${maybe} of 100,000 unknown ids said maybe`);
    known.clear();
    assert.equal(known.mayExist(id(0, 'seen')), false);
  });
});
