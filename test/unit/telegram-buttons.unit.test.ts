// The contact card's buttons, callback data within Telegram's 64 bytes, the dispatch by prefix, who
// counts as a member, and how a topic's status looks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChatMember, User } from 'grammy/types';
import { createCallbackRouter, isMemberStatus } from '../../src/adapters/telegram/callbacks.ts';
import {
  answerKeyboard,
  CALLBACK_DATA_LIMIT,
  callbackData,
  cardKeyboard,
} from '../../src/adapters/telegram/contact-card.ts';
import { STATUS_PREFIX, statusIcons, statusTitle } from '../../src/adapters/telegram/topic-status.ts';

const conversationId = '63ce659a-469e-5331-8cee-dcd11f1e02f6';

describe('contact card buttons', () => {
  test('follow the state: Close or Reopen, Ban or Unban, and Info', () => {
    const labels = (closed: boolean, banned: boolean) =>
      cardKeyboard(conversationId, { closed, banned })
        .inline_keyboard.flat()
        .map((b) => b.text);
    assert.deepEqual(labels(false, false), ['Close', 'Ban', 'Info']);
    assert.deepEqual(labels(true, true), ['Reopen', 'Unban', 'Info']);
    const data = cardKeyboard(conversationId, { closed: false, banned: true })
      .inline_keyboard.flat()
      .map((b) => ('callback_data' in b ? b.callback_data : ''));
    assert.deepEqual(data, [
      `card:close:${conversationId}`,
      `card:unban:${conversationId}`,
      `card:info:${conversationId}`,
    ]);
    for (const d of data) assert.ok(Buffer.byteLength(d) <= CALLBACK_DATA_LIMIT, d);
  });

  test('callback data over 64 bytes is refused before Telegram sees it', () => {
    assert.equal(callbackData('tpl', 'greeting'), 'tpl:greeting');
    assert.throws(() => callbackData('tpl', 'я'.repeat(31)), /66 bytes; Telegram takes at most 64/);
  });

  test("an answer's buttons become URL buttons, row by row", () => {
    assert.equal(answerKeyboard(undefined), undefined);
    assert.equal(answerKeyboard([]), undefined);
    assert.deepEqual(
      answerKeyboard([
        [{ text: 'A', url: 'https://a.example' }],
        [{ text: 'B', url: 'tg://resolve?domain=b' }],
      ]),
      {
        inline_keyboard: [
          [{ text: 'A', url: 'https://a.example' }],
          [{ text: 'B', url: 'tg://resolve?domain=b' }],
        ],
      },
    );
  });
});

describe('callback dispatch', () => {
  const handler = (name: string) => async () => ({ text: name, outcome: 'ignored' as const });

  test('by prefix, with what follows it', () => {
    const router = createCallbackRouter();
    router.register('card', handler('card'));
    router.register('tpl', handler('tpl'));
    assert.equal(router.find(`card:close:${conversationId}`)?.args, `close:${conversationId}`);
    assert.equal(router.find('tpl:greeting:v2')?.args, 'greeting:v2');
    assert.equal(router.find('tpl')?.args, '');
    assert.equal(router.find('cards:close'), undefined, 'a prefix is a whole word');
    assert.equal(router.find(''), undefined);
  });

  test('a prefix registered twice, or not a word, is a mistake', () => {
    const router = createCallbackRouter();
    router.register('card', handler('card'));
    assert.throws(() => router.register('card', handler('again')), /registered already/);
    assert.throws(() => router.register('a:b', handler('x')), /not a callback prefix/);
  });
});

describe('who may press', () => {
  const user: User = { id: 1, is_bot: false, first_name: 'A' };
  test('creator, administrators, members and restricted members; not those who left or were banned', () => {
    const member = (m: Record<string, unknown>) => isMemberStatus({ user, ...m } as unknown as ChatMember);
    assert.ok(member({ status: 'creator', is_anonymous: false }));
    assert.ok(member({ status: 'administrator' }));
    assert.ok(member({ status: 'member' }));
    assert.ok(member({ status: 'restricted', is_member: true }));
    assert.ok(!member({ status: 'restricted', is_member: false }));
    assert.ok(!member({ status: 'left' }));
    assert.ok(!member({ status: 'kicked', until_date: 0 }));
  });
});

describe('topic status look', () => {
  test('a prefix before the title, within 128 characters', () => {
    assert.equal(
      statusTitle('Ivan · telegram · 42', 'waiting'),
      `${STATUS_PREFIX.waiting} Ivan · telegram · 42`,
    );
    const long = statusTitle('x'.repeat(128), 'closed');
    assert.ok(long.length <= 128);
    assert.ok(long.startsWith('⚪ x'));
  });

  test('icons are found by their emoji, variation selector or not; a missing one means none', () => {
    const sticker = (emoji: string, id: string) => ({ emoji, custom_emoji_id: id });
    assert.deepEqual(
      statusIcons([sticker('❗️', '1'), sticker('💬', '2'), sticker('✅', '3'), sticker('🔥', '4')]),
      {
        waiting: '1',
        answered: '2',
        closed: '3',
      },
    );
    assert.equal(statusIcons([sticker('❗', '1'), sticker('💬', '2')]), undefined);
  });
});
