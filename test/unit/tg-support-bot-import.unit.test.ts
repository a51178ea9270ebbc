// What a tg-support-bot client becomes (src/app/tg-support-bot-import/plan.ts): which side each old
// message id is on per channel, what cannot come over and why, and that the planned events fold into
// the conversation topicdesk would have had (its topic, its state, both sides' references).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeConversationEvent, decodeEventMetadata } from '../../src/adapters/event-codec.ts';
import { parseImportedToken, parseToken } from '../../src/adapters/sources/tokens.ts';
import { telegramMessageId } from '../../src/adapters/telegram/refs.ts';
import { vkMessageId } from '../../src/adapters/vk/refs.ts';
import type { OldBotUser, OldMessage } from '../../src/app/tg-support-bot-import/old-database.ts';
import {
  type PlanOptions,
  planConversation,
  sourceCodeOf,
} from '../../src/app/tg-support-bot-import/plan.ts';
import { findByChannelMessage, findByGroupMessage } from '../../src/domain/conversation-core.ts';
import { foldConversation } from '../../src/domain/conversation-fold.ts';

const GROUP = '-1001234567890';
const options: PlanOptions = {
  groupChatId: GROUP,
  titleTemplate: '{name} · {source} · {id}',
  sourceCodes: new Map([['Shop', 'shop']]),
};

const user = (over: Partial<OldBotUser> = {}): OldBotUser => ({
  id: '10',
  chatId: '555001',
  topicId: '77',
  platform: 'vk',
  banned: false,
  bannedAt: null,
  closed: false,
  closedAt: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  external: null,
  ...over,
});

let rowId = 100;
const message = (
  direction: 'incoming' | 'outgoing',
  fromId: string,
  toId: string,
  text = 'x',
): OldMessage => ({
  id: String(++rowId),
  botUserId: '10',
  direction,
  fromId,
  toId,
  text,
  attachments: [],
  createdAt: new Date('2026-01-02T00:00:00Z'),
});

const planned = (u: OldBotUser, messages: OldMessage[]) => {
  const result = planConversation(u, messages, options);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
};

const fold = (plan: ReturnType<typeof planned>) =>
  foldConversation(plan.events.map((e) => decodeConversationEvent(e)));

describe('planConversation', () => {
  it('VK: the client writes in its dialog (from_id), answers land there (to_id); the group holds the other side', () => {
    const plan = planned(user(), [
      message('incoming', '7', '501', 'Привет'),
      message('outgoing', '502', '8', 'Да'),
    ]);
    const state = fold(plan);
    assert.equal(state.topic?.topicId, '77');
    assert.equal(state.topic?.chatId, GROUP);
    assert.equal(findByChannelMessage(state, '555001', '7')?.messageId, vkMessageId('555001', '7'));
    assert.equal(findByGroupMessage(state, GROUP, '501')?.messageId, vkMessageId('555001', '7'));
    assert.equal(findByGroupMessage(state, GROUP, '502')?.messageId, telegramMessageId(GROUP, '502'));
    assert.equal(findByChannelMessage(state, '555001', '8')?.messageId, telegramMessageId(GROUP, '502'));
    assert.deepEqual([state.waitingIncoming, state.waitingOutgoing], [[], []], 'nothing left to carry');
    for (const e of plan.events) {
      const meta = decodeEventMetadata(e.metadata);
      assert.deepEqual(meta.actor, { kind: 'import', id: 'tg-support-bot' });
      assert.ok(meta.imported);
    }
  });

  it("a source's client: its ids are the external API's timestamps, so only the group side is a reference", () => {
    const plan = planned(
      user({ platform: 'Shop', chatId: '3', external: { externalId: 'cust-42', source: 'Shop' } }),
      [message('incoming', '1768467900', '601'), message('outgoing', '602', '1768468000')],
    );
    assert.equal(plan.conversationId.length, 36);
    assert.deepEqual([plan.channel, plan.source, plan.clientId], ['external', 'shop', 'cust-42']);
    const received = plan.events.find((e) => e.type === 'ClientMessageReceived')!.data as Record<
      string,
      unknown
    >;
    assert.equal(received.channelMessage, undefined);
    const delivered = plan.events.find((e) => e.type === 'ReplyDelivered')!.data as Record<string, unknown>;
    assert.equal(delivered.channelMessage, undefined);
    const state = fold(plan);
    assert.ok(findByGroupMessage(state, GROUP, '601'));
    assert.ok(findByGroupMessage(state, GROUP, '602'));
  });

  it('a message without a copy in the topic is recorded not carried; an answer from the admin panel has no group message', () => {
    const plan = planned(user({ platform: 'telegram', chatId: '42' }), [
      message('incoming', '5', '0'),
      message('outgoing', '0', '9'),
    ]);
    const state = fold(plan);
    assert.equal(state.messages.get(telegramMessageId('42', '5'))?.suppressed, true);
    assert.deepEqual(state.waitingIncoming, []);
    const replied = plan.events.find((e) => e.type === 'ManagerReplied')!.data as Record<string, unknown>;
    assert.equal(replied.groupMessage, undefined);
  });

  it('the ban and the close come last, so the state ends banned and closed', () => {
    const plan = planned(user({ banned: true, closed: true }), [message('incoming', '1', '2')]);
    assert.deepEqual(
      plan.events.slice(-2).map((e) => e.type),
      ['ClientBanned', 'ConversationClosed'],
    );
    const state = fold(plan);
    assert.equal(state.banned, true);
    assert.equal(state.closed, true);
  });

  it('a second row for the same message is left out, naming the first', () => {
    const first = message('incoming', '3', '4');
    const plan = planned(user(), [first, message('incoming', '3', '5')]);
    assert.match(plan.unmapped[0]!.why, new RegExp(`the same message as messages ${first.id}`));
    assert.equal(plan.events.filter((e) => e.type === 'ClientMessageReceived').length, 1);
  });

  it('the same rows give the same ids', () => {
    const rows = [message('incoming', '1', '2')];
    assert.deepEqual(
      planned(user(), rows).events.map((e) => e.id),
      planned(user(), rows).events.map((e) => e.id),
    );
  });

  for (const [what, u, why] of [
    ['MAX', user({ platform: 'max' }), /platform max: topicdesk has no MAX channel/],
    ['an unknown platform', user({ platform: 'whatsapp' }), /platform "whatsapp": not telegram or vk/],
    ['no topic', user({ topicId: null }), /no topic/],
    [
      'a source without a code',
      user({ platform: 'Мой сайт', external: { externalId: '1', source: 'Мой сайт' } }),
      /has no topicdesk code/,
    ],
  ] as const)
    it(`cannot map ${what}, and says why`, () => {
      const result = planConversation(u, [], options);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.unmapped.why, why);
    });
});

describe('imported tokens and source names', () => {
  it("a tg-support-bot token (letters and digits) is read as an imported one; topicdesk's are not", () => {
    const old = 'a'.repeat(30) + 'B9'.repeat(15);
    assert.equal(parseToken(old), undefined);
    assert.match(parseImportedToken(old)?.tokenId ?? '', /^[0-9a-f]{12}$/);
    assert.equal(parseImportedToken(`td_0123456789ab_${'x'.repeat(43)}`), undefined);
    assert.equal(parseImportedToken('short'), undefined);
  });

  it('a source name becomes its lower-cased code when it can be one', () => {
    assert.equal(sourceCodeOf('Shop'), 'shop');
    assert.equal(sourceCodeOf('my site'), undefined);
  });
});
