// The audit history's pure parts: references, times, summaries, and reading a stream page by page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeConversationEvent } from '../../src/adapters/event-codec.ts';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import type { EventLog, RecordedEvent } from '../../src/domain/event-log.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import { conversationAt, conversationHistory } from '../../src/projections/history.ts';
import {
  ConversationRefError,
  parseIsoTime,
  resolveConversationRef,
} from '../../src/projections/history-refs.ts';
import { summarize } from '../../src/projections/history-summary.ts';
import { CONVERSATION_ID, received, started } from './conversation-fixtures.ts';

describe('resolveConversationRef', () => {
  it('takes a UUID as the conversation id (lower-cased)', () => {
    assert.deepEqual(resolveConversationRef(CONVERSATION_ID.toUpperCase(), conversationIdOf), {
      conversationId: CONVERSATION_ID,
    });
  });

  it('names Telegram and VK clients with the channel as their source', () => {
    assert.deepEqual(resolveConversationRef('telegram:42', conversationIdOf), {
      conversationId: conversationIdOf('telegram', 'telegram', '42'),
      channel: 'telegram',
      source: 'telegram',
      clientId: '42',
    });
    assert.equal(
      resolveConversationRef('vk:7', conversationIdOf).conversationId,
      conversationIdOf('vk', 'vk', '7'),
    );
  });

  it('names external clients by source and client id (which may hold colons)', () => {
    assert.deepEqual(resolveConversationRef('external:shop:c:9', conversationIdOf), {
      conversationId: conversationIdOf('external', 'shop', 'c:9'),
      channel: 'external',
      source: 'shop',
      clientId: 'c:9',
    });
  });

  for (const bad of ['foo', 'telegram:', 'external:shop', 'external::1', 'email:1', '']) {
    it(`refuses ${JSON.stringify(bad)}, saying which forms it takes`, () => {
      assert.throws(
        () => resolveConversationRef(bad, conversationIdOf),
        (e) => e instanceof ConversationRefError && /telegram:<clientId>/.test(e.message),
      );
    });
  }
});

describe('parseIsoTime', () => {
  const cases: readonly [string, string][] = [
    ['2025-03-01T12:30:00Z', '2025-03-01T12:30:00.000Z'],
    ['2025-03-01t12:30:00z', '2025-03-01T12:30:00.000Z'],
    ['2025-03-01T15:30:00.250+03:00', '2025-03-01T12:30:00.250Z'],
    ['2025-03-01T15:30:00+0300', '2025-03-01T12:30:00.000Z'],
    ['2025-03-01T10:00-02', '2025-03-01T12:00:00.000Z'],
    ['2025-03-01T12:30:00.123456Z', '2025-03-01T12:30:00.123Z'],
    ['2025-03-01 12:30:00,5Z', '2025-03-01T12:30:00.500Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ];
  for (const [input, iso] of cases) {
    it(`reads ${input}`, () => assert.equal(parseIsoTime(input)?.toISOString(), iso));
  }

  it('takes a time without an offset, and a bare date, as local time', () => {
    assert.equal(parseIsoTime('2025-03-01T12:30')?.getTime(), new Date(2025, 2, 1, 12, 30).getTime());
    assert.equal(parseIsoTime('2025-03-01')?.getTime(), new Date(2025, 2, 1).getTime());
  });

  for (const bad of [
    'banana',
    '',
    '1700000000',
    'March 1, 2025',
    '2025-02-30',
    '2025-02-29T00:00:00Z',
    '2025-13-01',
    '2025-03-01T25:00Z',
    '2025-03-01T12:60Z',
    '2025-03-01T12:00+25:00',
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(parseIsoTime(bad), null));
  }
});

describe('summarize', () => {
  const cases: readonly [ConversationEvent, string][] = [
    [started, 'conversation started: telegram client 5550001 "Ada" @ada'],
    [
      {
        type: 'ConversationStarted',
        data: {
          conversationId: CONVERSATION_ID,
          channel: 'external',
          source: 'shop',
          clientId: 'c-9',
          profile: {},
        },
      },
      'conversation started: external source shop client c-9',
    ],
    [
      received('m-2', 'hi', { replyTo: 'm-1', suppressed: true }),
      'client message m-2: "hi" (reply to m-1) (not forwarded: client banned)',
    ],
    [
      received('m-3', '', {
        attachments: [
          { kind: 'photo', fileRef: 'f' },
          { kind: 'document', fileName: 'a.pdf' },
        ],
      }),
      'client message m-3: [photo, document "a.pdf"]',
    ],
    [received('m-4', 'x'.repeat(200)), `client message m-4: "${'x'.repeat(79)}…"`],
    [received('m-5', 'two\nlines "quoted"'), 'client message m-5: "two\\nlines \\"quoted\\""'],
    [
      {
        type: 'ManagerReplyEdited',
        data: { messageId: 'm-7', previousText: 'a', text: 'b', attachments: [] },
      },
      'manager edited m-7: "a" → "b"',
    ],
    [{ type: 'ManagerReplyDeleted', data: { messageId: 'm-7' } }, 'manager deleted m-7'],
    [
      {
        type: 'DeliveryFailed',
        data: { messageId: 'm-7', operation: 'send', reason: 'bot was blocked', permanent: true, attempt: 1 },
      },
      'delivery of m-7 failed (permanent): bot was blocked',
    ],
    [
      {
        type: 'DeliveryFailed',
        data: {
          messageId: 'm-7',
          operation: 'edit',
          reason: '429: retry after 3',
          permanent: false,
          attempt: 2,
          nextAttemptAt: '2025-03-01T12:00:03.000Z',
        },
      },
      'delivery of edit of m-7 failed (attempt 2, next try 2025-03-01T12:00:03.000Z): 429: retry after 3',
    ],
    [{ type: 'ReplyDelivered', data: { messageId: 'm-7', operation: 'delete' } }, 'delivered m-7 (delete)'],
    [
      { type: 'TopicLost', data: { topicId: '55', reason: 'message thread not found' } },
      'topic 55 lost: message thread not found',
    ],
    [
      {
        type: 'ClientMessageForwarded',
        data: { messageId: 'm-1', topicId: '55', groupMessage: { chatId: '-100', messageId: '101' } },
      },
      'forwarded m-1 to topic 55 (group message 101)',
    ],
    [
      {
        type: 'ClientMessageForwarded',
        data: {
          messageId: 'm-8',
          topicId: '55',
          groupMessage: { chatId: '-100', messageId: '110' },
          moreGroupMessages: [
            { chatId: '-100', messageId: '111' },
            { chatId: '-100', messageId: '112' },
          ],
        },
      },
      'forwarded m-8 to topic 55 (group messages 110, 111, 112)',
    ],
    [{ type: 'ClientUnbanned', data: {} }, 'client unbanned'],
    [{ type: 'ConversationClosed', data: {} }, 'conversation closed'],
    [{ type: 'ConversationReopened', data: {} }, 'conversation reopened'],
    [{ type: 'ClientNotified', data: { notice: 'closed' } }, 'client told the conversation is closed'],
  ];
  for (const [event, line] of cases) {
    it(`${event.type}: ${line}`, () => assert.equal(summarize(event), line));
  }
});

/** A log holding one stream, read through readStream only (what the history promises to use). */
const streamLog = (events: readonly Omit<RecordedEvent, 'stream' | 'revision' | 'position' | 'id'>[]) => {
  const reads: { fromRevision?: number; maxCount?: number }[] = [];
  const recorded: RecordedEvent[] = events.map((e, i) => ({
    ...e,
    id: `e-${i}`,
    stream: `conversation-${CONVERSATION_ID}`,
    revision: i,
    position: { commit: BigInt(i + 1), prepare: BigInt(i) },
  }));
  const log = {
    async readStream(stream: string, options: { fromRevision?: number; maxCount?: number } = {}) {
      reads.push(options);
      if (stream !== `conversation-${CONVERSATION_ID}`) return [];
      const from = options.fromRevision ?? 0;
      return recorded.slice(from, options.maxCount === undefined ? undefined : from + options.maxCount);
    },
  } as unknown as EventLog;
  return { log, reads };
};

const meta = {
  occurredAt: '2025-03-01T12:00:00.000Z',
  correlationId: 'c',
  causationId: 'c',
  actor: { kind: 'client', id: '1' },
} as const;
const at = (s: number) => new Date(Date.UTC(2025, 2, 1, 12, 0, s));

describe('conversationHistory / conversationAt over any EventLog', () => {
  it('lists an event of an unknown type and an unreadable one instead of failing the whole history', async () => {
    const { log } = streamLog([
      { type: started.type, data: started.data, metadata: meta, recordedAt: at(0) },
      { type: 'SomethingNewer', data: { x: 1 }, metadata: meta, recordedAt: at(1) },
      { type: 'ClientMessageReceived', data: { messageId: 7 }, metadata: meta, recordedAt: at(2) },
    ]);
    const history = await conversationHistory(log, CONVERSATION_ID, decodeConversationEvent);
    assert.deepEqual(
      history.map((e) => e.summary),
      [
        'conversation started: telegram client 5550001 "Ada" @ada',
        'SomethingNewer (not a conversation event this version knows)',
        'unreadable ClientMessageReceived event: invalid ClientMessageReceived event: data.text: Invalid input: expected string, received undefined',
      ],
    );
    assert.deepEqual(history[1]!.data, { x: 1 });
    // The state skips the unknown type (as evolve does) and refuses the malformed known one.
    assert.equal((await conversationAt(log, CONVERSATION_ID, at(1), decodeConversationEvent)).revision, 1);
    await assert.rejects(conversationAt(log, CONVERSATION_ID, at(2), decodeConversationEvent), /data\.text/);
  });

  it('reads long streams page by page and stops at the first event recorded after `at`', async () => {
    const messages = Array.from({ length: 1200 }, (_, i) => ({
      type: 'ClientMessageReceived',
      data: received(`m-${i}`, `text ${i}`).data,
      metadata: meta,
      recordedAt: at(1 + Math.floor(i / 100)),
    }));
    const { log, reads } = streamLog([
      { type: started.type, data: started.data, metadata: meta, recordedAt: at(0) },
      ...messages,
    ]);
    assert.equal((await conversationHistory(log, CONVERSATION_ID, decodeConversationEvent)).length, 1201);
    assert.deepEqual(
      reads.map((r) => r.fromRevision),
      [0, 500, 1000],
    );

    reads.length = 0;
    const s = await conversationAt(log, CONVERSATION_ID, at(3), decodeConversationEvent);
    assert.equal(s.revision, 300);
    assert.equal(s.messages.length, 300);
    assert.equal(s.messages.at(-1)!.messageId, 'm-299');
    assert.equal(reads.length, 1, 'the pages after the cut are not read');
  });

  it('takes the stream prefix: a later revision with an earlier timestamp waits for the one before it', async () => {
    const { log } = streamLog([
      { type: started.type, data: started.data, metadata: meta, recordedAt: at(0) },
      { type: 'ClientMessageReceived', data: received('m-1').data, metadata: meta, recordedAt: at(5) },
      { type: 'ClientMessageDeleted', data: { messageId: 'm-1' }, metadata: meta, recordedAt: at(4) },
    ]);
    const s = await conversationAt(log, CONVERSATION_ID, at(4), decodeConversationEvent);
    assert.equal(s.revision, 0);
    assert.deepEqual(s.messages, []);
  });

  it('refuses an invalid date', async () => {
    const { log } = streamLog([]);
    await assert.rejects(
      conversationAt(log, CONVERSATION_ID, new Date(Number.NaN), decodeConversationEvent),
      RangeError,
    );
  });
});
