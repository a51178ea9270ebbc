// Which files the bot may send as one album (sendMediaGroup), and the InputMedia it builds for them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { albumMedia, groupable, soleFile } from '../../src/adapters/telegram/albums.ts';
import type { Attachment, AttachmentKind } from '../../src/domain/events.ts';

const file = (kind: AttachmentKind, fileRef = `${kind}-id`): Attachment => ({ kind, fileRef });

describe('groupable', () => {
  it('photos and videos mix; documents and audio only go with their own kind', () => {
    assert.equal(groupable(['photo', 'video', 'photo']), true);
    assert.equal(groupable(['document', 'document']), true);
    assert.equal(groupable(['audio', 'audio']), true);
    assert.equal(groupable(['photo', 'document']), false);
    assert.equal(groupable(['audio', 'video']), false);
    assert.equal(groupable(['document', 'audio']), false);
  });

  it('2 to 10 items of kinds an album can hold', () => {
    assert.equal(groupable(['photo']), false);
    assert.equal(groupable(Array<AttachmentKind>(10).fill('photo')), true);
    assert.equal(groupable(Array<AttachmentKind>(11).fill('photo')), false);
    for (const kind of ['voice', 'animation', 'sticker', 'video_note', 'location'] as const)
      assert.equal(groupable(['photo', kind]), false, kind);
  });
});

describe('albumMedia', () => {
  it('one item per file, with the caption and its formatting where given', () => {
    const entities = [{ type: 'bold', offset: 0, length: 4 }];
    assert.deepEqual(
      albumMedia([
        { file: file('photo'), caption: { text: 'look here', entities } },
        { file: file('video'), caption: { text: '' } },
        { file: file('photo', 'p2') },
      ]),
      [
        { type: 'photo', media: 'photo-id', caption: 'look here', caption_entities: entities },
        { type: 'video', media: 'video-id' },
        { type: 'photo', media: 'p2' },
      ],
    );
  });

  it('nothing when a file is missing or Telegram would refuse the mix', () => {
    assert.equal(albumMedia([{ file: file('photo') }, { file: undefined }]), undefined);
    assert.equal(albumMedia([{ file: file('photo') }, { file: { kind: 'photo' } }]), undefined);
    assert.equal(albumMedia([{ file: file('photo') }, { file: file('document') }]), undefined);
  });
});

describe('soleFile', () => {
  it('the one file of an album item; none for text, several files or a file-less attachment', () => {
    assert.deepEqual(soleFile({ text: '', attachments: [file('photo')] }), file('photo'));
    assert.equal(soleFile({ text: 'hi', attachments: [] }), undefined);
    assert.equal(soleFile({ text: '', attachments: [file('photo'), file('video')] }), undefined);
    assert.equal(
      soleFile({ text: '', attachments: [{ kind: 'location', details: { latitude: 1 } }] }),
      undefined,
    );
  });
});
