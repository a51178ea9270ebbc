// VK ↔ domain translation without I/O: ids, profiles, what each attachment becomes, how a VK message
// splits into domain messages, what an answer carries to VK, and which failures are retried.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APIError } from 'vk-io';
import { conversationIdOf } from '../../src/adapters/ids.ts';
import { backoffMs, classify, DownloadError, UploadServerError } from '../../src/adapters/vk/errors.ts';
import { profileOf, type VkMessage } from '../../src/adapters/vk/objects.ts';
import { outgoingOf, plainText } from '../../src/adapters/vk/outgoing.ts';
import { eventCommandId, randomIdOf, vkConversationId, vkMessageId } from '../../src/adapters/vk/refs.ts';
import {
  CAPTION_LIMIT,
  composeParts,
  type PlannedFile,
  planAttachment,
  planMessage,
  type ResolvedItem,
  TELEGRAM_UPLOAD_LIMIT,
} from '../../src/adapters/vk/translate.ts';

const resolved = (item: ReturnType<typeof planAttachment>, fileRef = 'AgACtelegram'): ResolvedItem =>
  item.type === 'file'
    ? { type: 'file', vkRef: item.vkRef, attachment: { ...item.attachment, fileRef } }
    : item;

const photo = (id: number) => ({
  type: 'photo',
  photo: {
    id,
    owner_id: 42,
    access_key: 'k',
    album_id: -3,
    date: 1,
    sizes: [
      { type: 's', url: `https://sun.userapi.com/${id}-s.jpg`, width: 75, height: 56 },
      { type: 'z', url: `https://sun.userapi.com/${id}-z.jpg`, width: 1280, height: 960 },
      { type: 'x', url: `https://sun.userapi.com/${id}-x.jpg`, width: 604, height: 453 },
    ],
  },
});

describe('vk refs', () => {
  it('names conversations channel:source:clientId with the channel as source', () => {
    assert.equal(vkConversationId(42), conversationIdOf('vk', 'vk', '42'));
  });

  it('derives message ids, command ids and random_id deterministically', () => {
    assert.equal(vkMessageId(42, 7), vkMessageId('42', '7'));
    assert.notEqual(vkMessageId(42, 7), vkMessageId(42, 7, 'file:photo1_2'));
    assert.equal(eventCommandId(218, 'abc'), 'vk:218:abc');
    const r = randomIdOf('5a556c26-5d60-59af-bc06-5a855a0fede4');
    assert.equal(r, randomIdOf('5a556c26-5d60-59af-bc06-5a855a0fede4'));
    assert.ok(Number.isInteger(r) && r !== 0 && r >= -(2 ** 31) && r < 2 ** 31);
    assert.notEqual(r, randomIdOf('another message'));
  });
});

describe('vk profiles', () => {
  it('keeps names, a real screen name, the language and the profile link', () => {
    assert.deepEqual(
      profileOf(42, { id: 42, first_name: 'Ivan', last_name: 'Petrov', screen_name: 'ivanp' }, 3),
      {
        firstName: 'Ivan',
        lastName: 'Petrov',
        username: 'ivanp',
        languageCode: 'en',
        link: 'https://vk.com/id42',
      },
    );
  });

  it('drops the id-style screen name and survives a user VK could not describe', () => {
    assert.deepEqual(profileOf(42, { id: 42, first_name: 'Ivan', screen_name: 'id42' }), {
      firstName: 'Ivan',
      link: 'https://vk.com/id42',
    });
    assert.deepEqual(profileOf(42, undefined, 99), { link: 'https://vk.com/id42' });
  });
});

describe('vk attachments → topic', () => {
  it('a photo is a file: its largest size, recorded with the VK attachment string and URL', () => {
    const item = planAttachment(photo(7)) as PlannedFile;
    assert.equal(item.type, 'file');
    assert.equal(item.upload, 'photo');
    assert.equal(item.url, 'https://sun.userapi.com/7-z.jpg');
    assert.equal(item.vkRef, 'photo42_7_k');
    assert.deepEqual(item.attachment.details, {
      vk: 'photo42_7_k',
      url: 'https://sun.userapi.com/7-z.jpg',
      width: 1280,
      height: 960,
    });
  });

  it('a document keeps its name; one too big for Telegram becomes a link', () => {
    const doc = {
      id: 5,
      owner_id: 42,
      title: 'invoice',
      ext: 'pdf',
      size: 1000,
      url: 'https://vk.com/doc42_5',
    };
    const item = planAttachment({ type: 'doc', doc }) as PlannedFile;
    assert.equal(item.upload, 'document');
    assert.equal(item.fileName, 'invoice.pdf');
    assert.equal(item.attachment.mimeType, 'application/pdf');
    const big = planAttachment({ type: 'doc', doc: { ...doc, size: TELEGRAM_UPLOAD_LIMIT + 1 } });
    assert.equal(big.type, 'inline');
    assert.equal(big.type === 'inline' && big.line, '📎 Document: invoice.pdf — https://vk.com/doc42_5');
  });

  it('an audio message is a voice file (OGG); a sticker is its picture', () => {
    const voice = planAttachment({
      type: 'audio_message',
      audio_message: {
        id: 1,
        owner_id: 42,
        duration: 3,
        link_ogg: 'https://x/a.ogg',
        link_mp3: 'https://x/a.mp3',
      },
    }) as PlannedFile;
    assert.deepEqual([voice.upload, voice.url, voice.attachment.kind], ['voice', 'https://x/a.ogg', 'voice']);
    const sticker = planAttachment({
      type: 'sticker',
      sticker: {
        sticker_id: 9,
        product_id: 1,
        images: [{ url: 'https://x/64.png', width: 64, height: 64 }],
        images_with_background: [
          { url: 'https://x/b64.png', width: 64, height: 64 },
          { url: 'https://x/b512.png', width: 512, height: 512 },
        ],
      },
    }) as PlannedFile;
    assert.deepEqual(
      [sticker.upload, sticker.url, sticker.attachment.kind],
      ['photo', 'https://x/b512.png', 'photo'],
    );
    assert.equal(sticker.attachment.details?.vkType, 'sticker');
  });

  it('video, audio, wall posts, links, products and polls become readable lines', () => {
    const line = (a: { type: string; [k: string]: unknown }) => {
      const item = planAttachment(a);
      assert.equal(item.type, 'inline');
      return item.type === 'inline' ? item.line : '';
    };
    assert.equal(
      line({ type: 'video', video: { id: 1, owner_id: -5, title: 'Demo' } }),
      '🎬 Video: Demo — https://vk.com/video-5_1',
    );
    assert.equal(
      line({ type: 'audio', audio: { id: 1, owner_id: 2, artist: 'Kino', title: 'Zvezda' } }),
      '🎵 Audio: Kino — Zvezda',
    );
    assert.equal(
      line({ type: 'wall', wall: { id: 3, owner_id: -5, text: 'Big\nnews' } }),
      '📰 Wall post: https://vk.com/wall-5_3 — “Big news”',
    );
    assert.equal(
      line({ type: 'link', link: { url: 'https://a.b/c', title: 'ABC' } }),
      '🔗 ABC — https://a.b/c',
    );
    assert.equal(
      line({ type: 'market', market: { id: 4, owner_id: -5, title: 'Mug', price: { text: '990 ₽' } } }),
      '🛍 Product: Mug (990 ₽) — https://vk.com/product-5_4',
    );
    assert.equal(
      line({
        type: 'poll',
        poll: { id: 1, owner_id: -5, question: 'Size?', answers: [{ text: 'S' }, { text: 'M' }] },
      }),
      '📊 Poll: Size? — S / M',
    );
    assert.match(line({ type: 'call', call: {} }), /^📎 call/);
  });

  it('geo and forwarded messages are lines too', () => {
    const items = planMessage({
      id: 1,
      peer_id: 42,
      from_id: 42,
      date: 1,
      geo: { coordinates: { latitude: 55.75, longitude: 37.61 } },
      fwd_messages: [{ id: 0, peer_id: 42, from_id: 7, date: 1, text: 'original words' }],
    } as VkMessage);
    assert.deepEqual(
      items.map((i) => i.type === 'inline' && i.line),
      [
        '📍 Location: https://maps.google.com/?q=55.75,37.61',
        '↪️ Forwarded from https://vk.com/id7: “original words”',
      ],
    );
  });
});

describe('vk message → domain messages', () => {
  it('text with one photo: one message, the photo captioned by the text', () => {
    const parts = composeParts('my receipt', [resolved(planAttachment(photo(1)))]);
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.key, 'main');
    assert.equal(parts[0]!.content.text, 'my receipt');
    assert.equal(parts[0]!.content.attachments[0]!.fileRef, 'AgACtelegram');
  });

  it('several photos: the first with the text, each further one on its own', () => {
    const parts = composeParts('two', [
      resolved(planAttachment(photo(1)), 'a'),
      resolved(planAttachment(photo(2)), 'b'),
    ]);
    assert.deepEqual(
      parts.map((p) => [p.key, p.content.text, p.content.attachments.map((a) => a.fileRef)]),
      [
        ['main', 'two', ['a']],
        ['file:photo42_2_k', '', ['b']],
      ],
    );
  });

  it('lines follow the text; a line the Telegram reactor writes itself is not repeated', () => {
    const geo = planMessage({
      id: 1,
      peer_id: 1,
      from_id: 1,
      date: 1,
      geo: { coordinates: { latitude: 1, longitude: 2 } },
    });
    const alone = composeParts('', geo);
    assert.equal(alone[0]!.content.text, '', 'the topic describes a location attachment by itself');
    assert.equal(alone[0]!.content.attachments[0]!.kind, 'location');
    const withPhoto = composeParts('here', [resolved(planAttachment(photo(1))), ...geo]);
    assert.equal(withPhoto[0]!.content.text, 'here\n\n📍 Location: https://maps.google.com/?q=1,2');
    const link = planAttachment({ type: 'link', link: { url: 'https://a.b/c', title: 'ABC' } });
    assert.equal(
      composeParts('see https://a.b/c', [link])[0]!.content.text,
      'see https://a.b/c',
      'VK’s own snippet',
    );
    assert.equal(composeParts('see this', [link])[0]!.content.text, 'see this\n\n🔗 ABC — https://a.b/c');
    const video = planAttachment({ type: 'video', video: { id: 1, owner_id: 1, title: 'V' } });
    assert.equal(
      composeParts('look', [video])[0]!.content.text,
      'look\n\n🎬 Video: V — https://vk.com/video1_1',
    );
  });

  it('a text too long for a caption goes alone, its files after it', () => {
    const long = 'x'.repeat(CAPTION_LIMIT + 1);
    const parts = composeParts(long, [resolved(planAttachment(photo(1)))]);
    assert.deepEqual(
      parts.map((p) => [p.key, p.content.attachments.length]),
      [
        ['main', 0],
        ['file:photo42_1_k', 1],
      ],
    );
  });
});

describe('answers → VK', () => {
  it('files are listed for upload by kind; stickers become emoji; a location becomes lat/long', () => {
    const out = outgoingOf({
      text: 'see',
      attachments: [
        { kind: 'photo', fileRef: 'p' },
        { kind: 'voice', fileRef: 'v' },
        { kind: 'document', fileRef: 'd', fileName: 'terms.pdf' },
        { kind: 'video', fileRef: 'm' },
        { kind: 'sticker', fileRef: 's', details: { emoji: '👍' } },
        { kind: 'location', details: { latitude: 1.5, longitude: 2.5 } },
        { kind: 'contact', details: { first_name: 'Ann', phone_number: '+100' } },
      ],
    });
    assert.deepEqual(out.files, [
      { fileRef: 'p', upload: 'photo', fileName: 'photo.jpg' },
      { fileRef: 'v', upload: 'audio_message', fileName: 'voice.ogg' },
      { fileRef: 'd', upload: 'doc', fileName: 'terms.pdf' },
      { fileRef: 'm', upload: 'doc', fileName: 'video.mp4' },
    ]);
    assert.equal(out.text, 'see\n👍\n👤 Contact: Ann, +100');
    assert.deepEqual(out.location, { latitude: 1.5, longitude: 2.5 });
  });

  it('hidden links keep their address', () => {
    assert.equal(
      plainText('read our FAQ please', [{ type: 'text_link', offset: 9, length: 3, url: 'https://x.y/faq' }]),
      'read our FAQ (https://x.y/faq) please',
    );
  });
});

describe('vk failures', () => {
  const api = (code: number) => new APIError({ error_code: code, error_msg: 'msg', request_params: [] });

  it('retries rate limits, VK’s internal errors, the network and upload servers', () => {
    for (const code of [6, 9, 10]) assert.equal(classify(api(code)).kind, 'transient');
    assert.equal(
      classify(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).kind,
      'transient',
    );
    assert.equal(classify(new UploadServerError('VK upload server: Bad Gateway')).kind, 'transient');
    assert.equal(classify(new DownloadError('x', 502)).kind, 'transient');
  });

  it('901 and its kin make the client unreachable; other refusals are permanent', () => {
    assert.deepEqual(classify(api(901)), { kind: 'unreachable', reason: 'VK error 901: msg', code: 901 });
    assert.equal(classify(api(902)).kind, 'unreachable');
    assert.equal(classify(api(914)).kind, 'permanent');
    assert.equal(classify(new DownloadError('x', 404)).kind, 'permanent');
  });

  it('a bug is not a delivery failure', () => {
    assert.throws(() => classify(new RangeError('oops')), RangeError);
  });

  it('backs off exponentially up to a cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10].map((n) => backoffMs(n, 1000, 5000)),
      [1000, 2000, 4000, 5000, 5000],
    );
  });
});
