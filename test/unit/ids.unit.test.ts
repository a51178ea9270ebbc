import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate, version } from 'uuid';
import {
  CONVERSATION_ID_NAMESPACE,
  conversationIdOf,
  EVENT_ID_NAMESPACE,
  eventIdOf,
} from '../../src/adapters/ids.ts';

test('conversation ids are UUIDv5, the same for the same client', () => {
  const id = conversationIdOf('telegram', 'telegram', '5550001');
  assert.ok(validate(id));
  assert.equal(version(id), 5);
  assert.equal(conversationIdOf('telegram', 'telegram', '5550001'), id);
});

test('conversation ids differ by channel, source and client', () => {
  const ids = new Set([
    conversationIdOf('telegram', 'telegram', '5550001'),
    conversationIdOf('vk', 'telegram', '5550001'),
    conversationIdOf('external', 'telegram', '5550001'),
    conversationIdOf('external', 'shop', '5550001'),
    conversationIdOf('telegram', 'telegram', '5550002'),
  ]);
  assert.equal(ids.size, 5);
});

test('conversation ids are pinned: changing the namespace would rename every stream', () => {
  assert.equal(CONVERSATION_ID_NAMESPACE, '1573d9b4-d86d-4f4d-bdae-493b76c7c1ea');
  assert.equal(EVENT_ID_NAMESPACE, '40c809c1-3bb1-456d-9e8a-91293d1b6872');
  assert.equal(conversationIdOf('telegram', 'telegram', '1'), '7d7fa280-671c-5ec1-a1a7-ca6f42b7c40d');
  assert.equal(eventIdOf('tg:1:1001:0'), 'cddda646-eedc-519f-b888-2876e6dbcd18');
});

test('event ids are UUIDv5 of the seed, under their own namespace', () => {
  const id = eventIdOf('tg:1:1001:0');
  assert.ok(validate(id));
  assert.equal(version(id), 5);
  assert.equal(eventIdOf('tg:1:1001:0'), id);
  assert.notEqual(eventIdOf('tg:1:1001:1'), id);
  assert.notEqual(conversationIdOf('telegram', 'telegram', '1'), eventIdOf('telegram:telegram:1'));
});
