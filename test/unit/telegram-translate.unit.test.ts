import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message, MessageEntity, User } from 'grammy/types';
import { contactCard } from '../../src/adapters/telegram/contact-card.ts';
import { describeForTopic } from '../../src/adapters/telegram/readable-payloads.ts';
import { TOPIC_TITLE_LIMIT, topicTitle, truncate } from '../../src/adapters/telegram/topic-title.ts';
import {
  contentOf,
  displayName,
  editedContentChanged,
  isServiceMessage,
  isSupported,
  messageKindOf,
  profileOf,
} from '../../src/adapters/telegram/translate.ts';
import type { MessageContent } from '../../src/domain/events.ts';

const client: User = {
  id: 5550001,
  is_bot: false,
  first_name: 'Ivan',
  last_name: 'Petrov',
  username: 'ivan_p',
  language_code: 'ru',
};

/** A private-chat message from the client, as Telegram delivers it; `extra` adds the payload. */
const message = (extra: Partial<Message>): Message =>
  ({
    message_id: 1042,
    from: client,
    chat: { id: 5550001, type: 'private', first_name: 'Ivan', last_name: 'Petrov', username: 'ivan_p' },
    date: 1_735_689_600,
    ...extra,
  }) as Message;

/** A message in the support group's topic. */
const groupMessage = (extra: Partial<Message>): Message =>
  ({
    message_id: 77,
    message_thread_id: 75,
    is_topic_message: true,
    from: { id: 3001, is_bot: false, first_name: 'Olga' },
    chat: { id: -1001234567890, type: 'supergroup', title: 'Support', is_forum: true },
    date: 1_735_689_700,
    ...extra,
  }) as Message;

const thumb = {
  file_id: 'AAMCAgADGQEAAgQpZ3xY0thumb0AAVbK6x9Qm4sAAh1mAAJ0o9lLxqQAAW5VAAEBAAdtAAM2BA',
  file_unique_id: 'AQADHWYAAnSj2Ut-',
  width: 320,
  height: 180,
  file_size: 9120,
};

const hasLoneSurrogate = (value: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);

describe('profileOf / displayName', () => {
  it('takes names, username, language and a t.me link', () => {
    assert.deepEqual(profileOf(client), {
      firstName: 'Ivan',
      lastName: 'Petrov',
      username: 'ivan_p',
      languageCode: 'ru',
      link: 'https://t.me/ivan_p',
    });
  });

  it('leaves out what the user does not have (no undefined keys, no link without a username)', () => {
    const profile = profileOf({ id: 5550002, is_bot: false, first_name: 'Мария' });
    assert.deepEqual(profile, { firstName: 'Мария' });
    assert.deepEqual(Object.keys(profile), ['firstName']);
  });

  it('displayName: full name, else @username, else the client id', () => {
    assert.equal(displayName({ firstName: 'Ivan', lastName: 'Petrov' }, '1'), 'Ivan Petrov');
    assert.equal(displayName({ firstName: '  Ivan\n', lastName: '' }, '1'), 'Ivan');
    assert.equal(displayName({ username: 'ivan_p' }, '1'), '@ivan_p');
    assert.equal(displayName({ firstName: '   ' }, '5550001'), '5550001');
    assert.equal(displayName({}, '5550001'), '5550001');
  });
});

describe('contentOf: every message type', () => {
  it('text keeps its entities as received, as plain data', () => {
    const entities: MessageEntity[] = [
      { type: 'bold', offset: 0, length: 5 },
      { type: 'text_link', offset: 6, length: 5, url: 'https://example.com/order/17' },
      {
        type: 'text_mention',
        offset: 12,
        length: 4,
        user: { id: 7, is_bot: false, first_name: 'Olga' },
      },
    ];
    const m = message({ text: 'Hello there Olga, order 17 is late', entities });
    const content = contentOf(m);
    assert.deepEqual(content, { text: 'Hello there Olga, order 17 is late', entities, attachments: [] });
    assert.notEqual(content.entities, entities, 'a copy, not the update object');
    assert.notEqual(content.entities?.[2], entities[2]);
    assert.equal(messageKindOf(m), 'text');
    assert.ok(isSupported(m));
  });

  it('plain text has no entities key', () => {
    const content = contentOf(message({ text: 'hi' }));
    assert.deepEqual(content, { text: 'hi', attachments: [] });
    assert.equal('entities' in content, false);
  });

  it('photo: the largest size, caption and caption entities', () => {
    const m = message({
      photo: [
        {
          file_id: 'AgACAgIAAxkBAAIEKWd8WNLx1fQ0AAFWyusfUJuLAAIdZgACdKPZS8akAAFuVQABAQADAgADcwADNgQ',
          file_unique_id: 'AQADHWYAAnSj2Ut4',
          width: 90,
          height: 67,
          file_size: 1436,
        },
        {
          file_id: 'AgACAgIAAxkBAAIEKWd8WNLx1fQ0AAFWyusfUJuLAAIdZgACdKPZS8akAAFuVQABAQADAgADeQADNgQ',
          file_unique_id: 'AQADHWYAAnSj2Ut-',
          width: 1280,
          height: 960,
          file_size: 143_218,
        },
        {
          file_id: 'AgACAgIAAxkBAAIEKWd8WNLx1fQ0AAFWyusfUJuLAAIdZgACdKPZS8akAAFuVQABAQADAgADbQADNgQ',
          file_unique_id: 'AQADHWYAAnSj2Uty',
          width: 320,
          height: 240,
          file_size: 19_802,
        },
      ],
      caption: 'Broken on arrival',
      caption_entities: [{ type: 'italic', offset: 0, length: 6 }],
      media_group_id: '13849203849203847',
    });
    assert.equal(messageKindOf(m), 'photo');
    assert.deepEqual(contentOf(m), {
      text: 'Broken on arrival',
      entities: [{ type: 'italic', offset: 0, length: 6 }],
      attachments: [
        {
          kind: 'photo',
          fileRef: 'AgACAgIAAxkBAAIEKWd8WNLx1fQ0AAFWyusfUJuLAAIdZgACdKPZS8akAAFuVQABAQADAgADeQADNgQ',
          fileUniqueId: 'AQADHWYAAnSj2Ut-',
          size: 143_218,
          details: { width: 1280, height: 960 },
        },
      ],
    });
  });

  it('document: file name, MIME type, size', () => {
    const m = message({
      document: {
        file_id: 'BQACAgIAAxkBAAIEMGd8WmZ4Q3V2k1pVb0xHAAH4RmQAAnZnAAJ0o9lLm2Cqx3G7N9Q2BA',
        file_unique_id: 'AgADdmcAAnSj2Us',
        file_name: 'invoice-2025-01.pdf',
        mime_type: 'application/pdf',
        file_size: 88_412,
        thumbnail: thumb,
      },
    });
    assert.equal(messageKindOf(m), 'document');
    assert.deepEqual(contentOf(m), {
      text: '',
      attachments: [
        {
          kind: 'document',
          fileRef: 'BQACAgIAAxkBAAIEMGd8WmZ4Q3V2k1pVb0xHAAH4RmQAAnZnAAJ0o9lLm2Cqx3G7N9Q2BA',
          fileUniqueId: 'AgADdmcAAnSj2Us',
          fileName: 'invoice-2025-01.pdf',
          mimeType: 'application/pdf',
          size: 88_412,
        },
      ],
    });
  });

  it('video with caption', () => {
    const m = message({
      video: {
        file_id: 'BAACAgIAAxkBAAIEMmd8WrXr2wABqLZy1bpfOQAB3y0gAAJ4ZwACdKPZS2n8gDbR0xWHNgQ',
        file_unique_id: 'AgADeGcAAnSj2Us',
        width: 1920,
        height: 1080,
        duration: 14,
        file_name: 'unboxing.mp4',
        mime_type: 'video/mp4',
        file_size: 5_120_331,
        thumbnail: thumb,
      },
      caption: 'see 0:12',
    });
    assert.equal(messageKindOf(m), 'video');
    assert.deepEqual(contentOf(m), {
      text: 'see 0:12',
      attachments: [
        {
          kind: 'video',
          fileRef: 'BAACAgIAAxkBAAIEMmd8WrXr2wABqLZy1bpfOQAB3y0gAAJ4ZwACdKPZS2n8gDbR0xWHNgQ',
          fileUniqueId: 'AgADeGcAAnSj2Us',
          fileName: 'unboxing.mp4',
          mimeType: 'video/mp4',
          size: 5_120_331,
          details: { width: 1920, height: 1080, duration: 14 },
        },
      ],
    });
  });

  it('audio: performer, title, duration', () => {
    const m = message({
      audio: {
        file_id: 'CQACAgIAAxkBAAIENGd8Wu4AAb1xYk9n6Q9bR1rYAAGzJwACemcAAnSj2Ut4h0hVbC9aDTYE',
        file_unique_id: 'AgADemcAAnSj2Us',
        duration: 213,
        performer: 'Кино',
        title: 'Группа крови',
        file_name: 'kino.mp3',
        mime_type: 'audio/mpeg',
        file_size: 8_540_012,
      },
    });
    assert.equal(messageKindOf(m), 'audio');
    assert.deepEqual(contentOf(m).attachments, [
      {
        kind: 'audio',
        fileRef: 'CQACAgIAAxkBAAIENGd8Wu4AAb1xYk9n6Q9bR1rYAAGzJwACemcAAnSj2Ut4h0hVbC9aDTYE',
        fileUniqueId: 'AgADemcAAnSj2Us',
        fileName: 'kino.mp3',
        mimeType: 'audio/mpeg',
        size: 8_540_012,
        details: { performer: 'Кино', title: 'Группа крови', duration: 213 },
      },
    ]);
  });

  it('audio without performer/title has no undefined details', () => {
    const m = message({
      audio: {
        file_id: 'CQACAgIAAxkBAAIENWd8WvMAAWFrZy8xT0tqAAE5cXJ3AAJ7ZwACdKPZSyJ0pX1t9kY7NgQ',
        file_unique_id: 'AgADe2cAAnSj2Us',
        duration: 61,
      },
    });
    const [att] = contentOf(m).attachments;
    assert.deepEqual(att?.details, { duration: 61 });
    assert.deepEqual(Object.keys(att!), ['kind', 'fileRef', 'fileUniqueId', 'details']);
  });

  it('voice', () => {
    const m = message({
      voice: {
        file_id: 'AwACAgIAAxkBAAIENmd8WxLQ8mE0VGQqzC2W0AABgQqJAAJ8ZwACdKPZS9y5E6Fd6h1HNgQ',
        file_unique_id: 'AgADfGcAAnSj2Us',
        duration: 7,
        mime_type: 'audio/ogg',
        file_size: 24_310,
      },
    });
    assert.equal(messageKindOf(m), 'voice');
    assert.deepEqual(contentOf(m), {
      text: '',
      attachments: [
        {
          kind: 'voice',
          fileRef: 'AwACAgIAAxkBAAIENmd8WxLQ8mE0VGQqzC2W0AABgQqJAAJ8ZwACdKPZS9y5E6Fd6h1HNgQ',
          fileUniqueId: 'AgADfGcAAnSj2Us',
          mimeType: 'audio/ogg',
          size: 24_310,
          details: { duration: 7 },
        },
      ],
    });
  });

  it('video note', () => {
    const m = message({
      video_note: {
        file_id: 'DQACAgIAAxkBAAIEOGd8WzPw1rZ9hKf1Ww5u8QABDm4nAAJ9ZwACdKPZSw5nT9Wm8q0ANgQ',
        file_unique_id: 'AgADfWcAAnSj2Us',
        length: 384,
        duration: 9,
        file_size: 612_000,
        thumbnail: thumb,
      },
    });
    assert.equal(messageKindOf(m), 'video_note');
    assert.deepEqual(contentOf(m).attachments, [
      {
        kind: 'video_note',
        fileRef: 'DQACAgIAAxkBAAIEOGd8WzPw1rZ9hKf1Ww5u8QABDm4nAAJ9ZwACdKPZSw5nT9Wm8q0ANgQ',
        fileUniqueId: 'AgADfWcAAnSj2Us',
        size: 612_000,
        details: { length: 384, duration: 9 },
      },
    ]);
  });

  it('animation wins over the document Telegram sends alongside it', () => {
    const animation = {
      file_id: 'CgACAgQAAxkBAAIEOmd8W1kqv0mZ0d1oAAF2rXQ9ZgABpgACfmcAAnSj2UtLy9ZP0aTaJjYE',
      file_unique_id: 'AgADfmcAAnSj2Us',
      width: 480,
      height: 270,
      duration: 3,
      file_name: 'facepalm.mp4',
      mime_type: 'video/mp4',
      file_size: 301_442,
    };
    const m = message({
      animation,
      document: {
        file_id: animation.file_id,
        file_unique_id: animation.file_unique_id,
        file_name: animation.file_name,
        mime_type: animation.mime_type,
        file_size: animation.file_size,
      },
    });
    assert.equal(messageKindOf(m), 'animation');
    assert.deepEqual(contentOf(m).attachments, [
      {
        kind: 'animation',
        fileRef: animation.file_id,
        fileUniqueId: 'AgADfmcAAnSj2Us',
        fileName: 'facepalm.mp4',
        mimeType: 'video/mp4',
        size: 301_442,
        details: { width: 480, height: 270, duration: 3 },
      },
    ]);
  });

  it('sticker: emoji, set, animated/video flags', () => {
    const m = message({
      sticker: {
        file_id: 'CAACAgIAAxkBAAIEPGd8W4mFq3x1nR8AAVZ1Xo1cYwABsgACBQADwDZPE_lqX5qCa011NgQ',
        file_unique_id: 'AgADBQADwDZPEw',
        type: 'regular',
        width: 512,
        height: 512,
        is_animated: true,
        is_video: false,
        emoji: '😂',
        set_name: 'HotCherry',
        file_size: 29_876,
        thumbnail: thumb,
      },
    });
    assert.equal(messageKindOf(m), 'sticker');
    assert.deepEqual(contentOf(m), {
      text: '',
      attachments: [
        {
          kind: 'sticker',
          fileRef: 'CAACAgIAAxkBAAIEPGd8W4mFq3x1nR8AAVZ1Xo1cYwABsgACBQADwDZPE_lqX5qCa011NgQ',
          fileUniqueId: 'AgADBQADwDZPEw',
          size: 29_876,
          details: {
            emoji: '😂',
            set_name: 'HotCherry',
            type: 'regular',
            is_animated: true,
            is_video: false,
          },
        },
      ],
    });
  });

  it('location, and live location with its period', () => {
    const still = message({ location: { latitude: 55.751244, longitude: 37.618423 } });
    assert.equal(messageKindOf(still), 'location');
    assert.deepEqual(contentOf(still), {
      text: '',
      attachments: [{ kind: 'location', details: { latitude: 55.751244, longitude: 37.618423 } }],
    });
    const live = message({
      location: { latitude: 59.93863, longitude: 30.31413, live_period: 900, horizontal_accuracy: 12.5 },
    });
    assert.deepEqual(contentOf(live).attachments[0]?.details, {
      latitude: 59.93863,
      longitude: 30.31413,
      horizontal_accuracy: 12.5,
      live_period: 900,
    });
  });

  it('venue wins over the location Telegram sends alongside it', () => {
    const location = { latitude: 55.7539, longitude: 37.6208 };
    const m = message({
      location,
      venue: {
        location,
        title: 'Red Square',
        address: 'Moscow, 109012',
        foursquare_id: '4b5899c8f964a520e16328e3',
      },
    });
    assert.equal(messageKindOf(m), 'venue');
    assert.deepEqual(contentOf(m).attachments, [
      {
        kind: 'venue',
        details: {
          title: 'Red Square',
          address: 'Moscow, 109012',
          latitude: 55.7539,
          longitude: 37.6208,
          foursquare_id: '4b5899c8f964a520e16328e3',
        },
      },
    ]);
  });

  it('contact', () => {
    const m = message({
      contact: { phone_number: '+79161234567', first_name: 'Anna', last_name: 'Sidorova', user_id: 5550099 },
    });
    assert.equal(messageKindOf(m), 'contact');
    assert.deepEqual(contentOf(m).attachments, [
      {
        kind: 'contact',
        details: {
          phone_number: '+79161234567',
          first_name: 'Anna',
          last_name: 'Sidorova',
          user_id: 5550099,
        },
      },
    ]);
  });

  it('poll: question, option texts, flags', () => {
    const m = message({
      poll: {
        id: '5893202359128391680',
        question: 'Which delivery slot?',
        options: [
          { persistent_id: 'a', text: 'Morning', voter_count: 0 },
          { persistent_id: 'b', text: 'Evening', voter_count: 0 },
        ],
        total_voter_count: 0,
        is_closed: false,
        is_anonymous: false,
        type: 'regular',
        allows_multiple_answers: true,
        allows_revoting: true,
        members_only: false,
      },
    });
    assert.equal(messageKindOf(m), 'poll');
    assert.deepEqual(contentOf(m).attachments, [
      {
        kind: 'poll',
        details: {
          question: 'Which delivery slot?',
          options: ['Morning', 'Evening'],
          is_anonymous: false,
          type: 'regular',
          allows_multiple_answers: true,
        },
      },
    ]);
  });

  it('dice', () => {
    const m = message({ dice: { emoji: '🎯', value: 6 } });
    assert.equal(messageKindOf(m), 'dice');
    assert.deepEqual(contentOf(m), {
      text: '',
      attachments: [{ kind: 'dice', details: { emoji: '🎯', value: 6 } }],
    });
  });

  it('unknown types (story, game, paid media) give empty content and are not supported', () => {
    const story = message({ story: { chat: { id: -100777, type: 'channel', title: 'News' }, id: 12 } });
    const game = message({
      game: { title: 'Lumberjack', description: 'Chop', photo: [thumb] },
    } as Partial<Message>);
    const paid = message({
      paid_media: { star_count: 10, paid_media: [{ type: 'preview' }] },
      caption: 'pay to see',
    } as Partial<Message>);
    for (const m of [story, game, paid]) {
      assert.equal(isServiceMessage(m), false);
      assert.equal(messageKindOf(m), undefined);
      assert.equal(isSupported(m), false);
      assert.deepEqual(contentOf(m), { text: '', attachments: [] });
    }
  });

  it('every supported message is supported and has exactly one attachment (text has none)', () => {
    const samples: Partial<Message>[] = [
      { voice: { file_id: 'AwACAgIAAxkBAAIENmd8', file_unique_id: 'AgADfGcA', duration: 1 } },
      { dice: { emoji: '🎲', value: 1 } },
      { location: { latitude: 1, longitude: 2 } },
    ];
    for (const extra of samples) {
      const m = message(extra);
      assert.ok(isSupported(m));
      assert.equal(contentOf(m).attachments.length, 1);
    }
  });
});

describe('isServiceMessage', () => {
  const service: Array<[string, Partial<Message>]> = [
    ['forum_topic_created', { forum_topic_created: { name: 'Ivan · 42', icon_color: 7322096 } }],
    ['forum_topic_edited', { forum_topic_edited: { name: 'Ivan Petrov · 42' } }],
    ['forum_topic_closed', { forum_topic_closed: {} }],
    ['forum_topic_reopened', { forum_topic_reopened: {} }],
    ['new_chat_members', { new_chat_members: [client] }],
    ['left_chat_member', { left_chat_member: client }],
    [
      'pinned_message',
      {
        pinned_message: {
          message_id: 70,
          date: 1_735_689_000,
          chat: { id: -1001234567890, type: 'supergroup', title: 'Support', is_forum: true },
          text: 'Working hours: 9-18',
        },
      },
    ],
    ['new_chat_title', { new_chat_title: 'Support desk' }],
    ['new_chat_photo', { new_chat_photo: [thumb] }],
    ['delete_chat_photo', { delete_chat_photo: true }],
    ['general_forum_topic_hidden', { general_forum_topic_hidden: {} }],
    [
      'message_auto_delete_timer_changed',
      { message_auto_delete_timer_changed: { message_auto_delete_time: 86400 } },
    ],
    ['migrate_from_chat_id', { migrate_from_chat_id: -123456 }],
    ['video_chat_started', { video_chat_started: {} }],
    ['write_access_allowed', { write_access_allowed: { from_request: true } }],
  ];
  for (const [name, extra] of service) {
    it(`${name} is a service message, unsupported, with empty content`, () => {
      const m = groupMessage(extra);
      assert.equal(isServiceMessage(m), true);
      assert.equal(isSupported(m), false);
      assert.deepEqual(contentOf(m), { text: '', attachments: [] });
    });
  }

  it('content messages are not service messages', () => {
    assert.equal(isServiceMessage(groupMessage({ text: 'Hello' })), false);
    assert.equal(isServiceMessage(message({ dice: { emoji: '🎲', value: 3 } })), false);
    assert.equal(isServiceMessage(message({ photo: [thumb], caption: 'x' })), false);
  });
});

describe('editedContentChanged', () => {
  const before: MessageContent = {
    text: 'Order 17 is late',
    entities: [{ type: 'bold', offset: 0, length: 8 }],
    attachments: [],
  };

  it('same text and entities is not a change (reactions, link previews)', () => {
    const edited = message({
      text: 'Order 17 is late',
      entities: [{ type: 'bold', offset: 0, length: 8 }],
      edit_date: 1_735_689_900,
    });
    assert.equal(editedContentChanged(before, edited), false);
  });

  it('new text or new formatting is a change', () => {
    assert.equal(editedContentChanged(before, message({ text: 'Order 18 is late' })), true);
    assert.equal(
      editedContentChanged(before, message({ text: 'Order 17 is late', entities: [] })),
      true,
      'formatting removed',
    );
  });

  it('a re-issued file_id for the same file is not a change; a new file is', () => {
    const photo = (file_id: string, file_unique_id: string) =>
      message({ photo: [{ file_id, file_unique_id, width: 800, height: 600 }], caption: 'c' });
    const original = contentOf(photo('AgACAgIAAxkBAAIEKWd8WNLx1fQ0AAFWyusf', 'AQADHWYAAnSj2Ut-'));
    assert.equal(
      editedContentChanged(original, photo('AgACAgIAAxkBAAIEKWd8WNLx1fQ0AAFWyusg', 'AQADHWYAAnSj2Ut-')),
      false,
    );
    assert.equal(
      editedContentChanged(original, photo('AgACAgIAAxkBAAIEKWd8WNLx1fQ0AAFWyush', 'AQADHWYAAnSj2Uzz')),
      true,
    );
  });
});

describe('topicTitle', () => {
  const v = { name: 'Ivan Petrov', username: 'ivan_p', id: '5550001', source: 'shop', channel: 'external' };

  it('fills every placeholder, username with @', () => {
    assert.equal(
      topicTitle('{name} · {username} · {id} · {source}/{channel}', v),
      'Ivan Petrov · @ivan_p · 5550001 · shop/external',
    );
    assert.equal(topicTitle('{name} {username}', { ...v, username: '@ivan_p' }), 'Ivan Petrov @ivan_p');
  });

  it('an empty username takes its dangling separator with it', () => {
    const noUser = { ...v, username: undefined };
    assert.equal(topicTitle('{name} · {username} · {id}', noUser), 'Ivan Petrov · 5550001');
    assert.equal(topicTitle('{name} · {username} · {id}', { ...v, username: '' }), 'Ivan Petrov · 5550001');
    assert.equal(topicTitle('{username} · {name}', noUser), 'Ivan Petrov');
    assert.equal(topicTitle('{name} | {username}', noUser), 'Ivan Petrov');
    assert.equal(topicTitle('{name} ({username})', noUser), 'Ivan Petrov');
    assert.equal(topicTitle('[{source}] {name}, {username}, #{id}', noUser), '[shop] Ivan Petrov, #5550001');
  });

  it('collapses whitespace and leaves literal text alone', () => {
    assert.equal(topicTitle('  {name}\n\t {id}  ', v), 'Ivan Petrov 5550001');
    assert.equal(
      topicTitle('{name} - {id} {unknown}', { ...v, name: 'Anna-Maria  Smith' }),
      'Anna-Maria Smith - 5550001 {unknown}',
    );
  });

  it('is never empty: falls back to the id', () => {
    assert.equal(topicTitle('{username}', { ...v, username: undefined }), '5550001');
    assert.equal(topicTitle('', v), '5550001');
    assert.equal(topicTitle('{name}', { ...v, name: '   ' }), '5550001');
  });

  it('keeps a 128-character title as is', () => {
    const name = 'a'.repeat(TOPIC_TITLE_LIMIT);
    assert.equal(topicTitle('{name}', { ...v, name }), name);
  });

  it('cuts at 128 on a character boundary, never inside a surrogate pair, ending with …', () => {
    // The emoji would occupy UTF-16 units 126 and 127: it cannot fit before the ellipsis.
    const name = `${'a'.repeat(126)}😀${'b'.repeat(20)}`;
    const title = topicTitle('{name}', { ...v, name });
    assert.ok(title.length <= TOPIC_TITLE_LIMIT);
    assert.equal(hasLoneSurrogate(title), false);
    assert.equal(title, `${'a'.repeat(126)}…`);

    // The emoji fits exactly (units 125-126), then the ellipsis at 127.
    const fits = topicTitle('{name}', { ...v, name: `${'a'.repeat(125)}😀${'b'.repeat(20)}` });
    assert.equal(fits, `${'a'.repeat(125)}😀…`);
    assert.equal(fits.length, TOPIC_TITLE_LIMIT);

    // A whole title of emoji: no split pair anywhere.
    const emoji = topicTitle('{name} · {id}', { ...v, name: '🚀'.repeat(100) });
    assert.ok(emoji.length <= TOPIC_TITLE_LIMIT);
    assert.equal(hasLoneSurrogate(emoji), false);
    assert.ok(emoji.endsWith('…'));
  });

  it('truncate keeps multi-code-point emoji (flags, ZWJ families) whole', () => {
    const family = '👨‍👩‍👧';
    const cut = truncate(`${'x'.repeat(5)}${family}yyyy`, 8);
    assert.equal(cut, `${'x'.repeat(5)}…`);
    assert.equal(truncate('short', 8), 'short');
  });
});

describe('contactCard', () => {
  const conversationId = '7d7fa280-671c-5ec1-a1a7-ca6f42b7c40d';
  const entityText = (text: string, e: MessageEntity) => text.slice(e.offset, e.offset + e.length);

  it('offsets are UTF-16 code units, correct after an emoji in the name', () => {
    const card = contactCard({
      channel: 'telegram',
      source: 'telegram',
      clientId: '5550001',
      conversationId,
      profile: { firstName: 'Иван 🚀', lastName: 'Петров', username: 'ivan_p', languageCode: 'ru' },
    });
    const byType = (type: string) => card.entities.filter((e) => e.type === type);
    const [bold] = byType('bold');
    const [link] = byType('text_link');
    const codes = byType('code');
    assert.equal(entityText(card.text, bold!), 'Иван 🚀 Петров');
    assert.equal(entityText(card.text, link!), '@ivan_p');
    assert.equal(link!.type === 'text_link' && link!.url, 'https://t.me/ivan_p');
    assert.deepEqual(
      codes.map((e) => entityText(card.text, e)),
      ['5550001', conversationId],
    );
    assert.match(card.text, /telegram/);
    assert.match(card.text, /Language: ru/);
    for (const e of card.entities) {
      assert.ok(e.offset + e.length <= card.text.length);
      assert.equal(hasLoneSurrogate(entityText(card.text, e)), false);
    }
  });

  it('emoji before the link shift it by two units each', () => {
    const card = contactCard({
      channel: 'telegram',
      source: 'telegram',
      clientId: '1',
      conversationId,
      profile: { firstName: '🔥🔥🔥', username: 'fire' },
    });
    const link = card.entities.find((e) => e.type === 'text_link')!;
    assert.equal(entityText(card.text, link), '@fire');
    // Code points would place it 3 earlier; the UTF-16 offset is what Telegram wants.
    assert.equal(link.offset, card.text.indexOf('@fire'));
  });

  it('other channels link the profile link; no link, no entity', () => {
    const vk = contactCard({
      channel: 'vk',
      source: 'vk',
      clientId: '123456',
      conversationId,
      profile: { firstName: 'Олег', username: 'oleg_k', link: 'https://vk.com/oleg_k' },
    });
    const link = vk.entities.find((e) => e.type === 'text_link');
    assert.ok(link && link.type === 'text_link');
    assert.equal(link.url, 'https://vk.com/oleg_k');
    assert.equal(entityText(vk.text, link), 'oleg_k');

    const external = contactCard({
      channel: 'external',
      source: 'shop',
      clientId: 'cust-88',
      conversationId,
      profile: { firstName: 'Kate', link: 'javascript:alert(1)' },
    });
    assert.equal(
      external.entities.some((e) => e.type === 'text_link'),
      false,
    );
    assert.match(external.text, /shop/);
    assert.match(external.text, /external/);
    assert.equal(entityText(external.text, external.entities.find((e) => e.type === 'bold')!), 'Kate');

    const bare = contactCard({
      channel: 'telegram',
      source: 'telegram',
      clientId: '9',
      conversationId,
      profile: {},
    });
    assert.equal(entityText(bare.text, bare.entities.find((e) => e.type === 'bold')!), '9');
    assert.equal(bare.text.includes('Language'), false);
  });
});

describe('describeForTopic', () => {
  const describe1 = (extra: Partial<Message>) => describeForTopic(contentOf(message(extra)));

  it('location as a maps link', () => {
    assert.equal(
      describe1({ location: { latitude: 55.751244, longitude: 37.618423 } }),
      '📍 Location: https://maps.google.com/?q=55.751244,37.618423',
    );
    assert.match(
      describe1({ location: { latitude: 1, longitude: 2, live_period: 60 } }),
      /^📍 Live location: /,
    );
  });

  it('venue, contact, poll, dice', () => {
    const location = { latitude: 55.7539, longitude: 37.6208 };
    assert.equal(
      describe1({ location, venue: { location, title: 'Red Square', address: 'Moscow' } }),
      '📍 Red Square, Moscow — https://maps.google.com/?q=55.7539,37.6208',
    );
    assert.equal(
      describe1({ contact: { phone_number: '+79161234567', first_name: 'Anna', last_name: 'Sidorova' } }),
      '👤 Contact: Anna Sidorova, +79161234567',
    );
    assert.equal(
      describe1({
        poll: {
          id: '1',
          question: 'Which slot?',
          options: [
            { persistent_id: 'a', text: 'Morning', voter_count: 0 },
            { persistent_id: 'b', text: 'Evening', voter_count: 0 },
          ],
          total_voter_count: 0,
          is_closed: false,
          is_anonymous: true,
          type: 'quiz',
          allows_multiple_answers: false,
          allows_revoting: false,
          members_only: false,
        },
      }),
      '📊 Quiz: Which slot? — Morning / Evening',
    );
    assert.equal(describe1({ dice: { emoji: '🎲', value: 4 } }), '🎲 Dice: 4');
  });

  it('file payloads and plain text describe to nothing', () => {
    assert.equal(describe1({ text: 'hello' }), '');
    assert.equal(describe1({ photo: [thumb] }), '');
  });
});

describe('topicTitle with tg-support-bot’s placeholders', () => {
  it('fills {first_name}, {last_name} and {platform}; {email} is never known and drops out', () => {
    const v = {
      name: 'Ivan Petrov',
      firstName: 'Ivan',
      lastName: 'Petrov',
      id: '42',
      source: 'telegram',
      channel: 'telegram',
    };
    assert.equal(topicTitle('{first_name} {last_name} {platform}', v), 'Ivan Petrov telegram');
    assert.equal(topicTitle('{first_name} {last_name} ({email})', v), 'Ivan Petrov');
    assert.equal(topicTitle('{first_name} {last_name} · {id}', { ...v, lastName: undefined }), 'Ivan · 42');
  });
});
