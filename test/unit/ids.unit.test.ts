import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { v5, validate, version } from 'uuid';
import {
  apiMessageId,
  CONVERSATION_ID_NAMESPACE,
  commandEventId,
  commandIdOf,
  conversationIdOf,
  EVENT_ID_NAMESPACE,
  eventIdOf,
  namespaceOf,
  uuidv5,
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

test('ids from UTF-8 bytes are the ids the string form gives, for any text (Cyrillic, emoji, surrogates)', () => {
  const namespace = namespaceOf(EVENT_ID_NAMESPACE);
  assert.equal(uuidv5('Привет, мир 👋', namespace), v5('Привет, мир 👋', EVENT_ID_NAMESPACE));
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (name) => {
      assert.equal(uuidv5(name, namespace), v5(name, EVENT_ID_NAMESPACE));
    }),
    { numRuns: 2000 },
  );
  // No UTF-8 form: refused, not quietly turned into U+FFFD (two such names would share an id).
  assert.throws(() => uuidv5('a\ud800b', namespace), URIError);
});

test('event ids are UUIDv5 of the seed, under their own namespace', () => {
  const id = eventIdOf('tg:1:1001:0');
  assert.ok(validate(id));
  assert.equal(version(id), 5);
  assert.equal(eventIdOf('tg:1:1001:0'), id);
  assert.notEqual(eventIdOf('tg:1:1001:1'), id);
  assert.notEqual(conversationIdOf('telegram', 'telegram', '1'), eventIdOf('telegram:telegram:1'));
});

// Ids built from several parts, where a part is free text (an external id, an Idempotency-Key).
const part = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom(':', '::', '/', '%', '%3A', '"', '\\', ',', '[', ']', 'ё', '😀', '\uD800', ''),
  fc.array(fc.constantFrom('a', ':', '/', '%', '3A', 'ж'), { maxLength: 5 }).map((a) => a.join('')),
);
const code = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,5}$/);

test('API message ids: distinct (source, external id, key) never share an id', () => {
  fc.assert(
    fc.property(fc.tuple(code, part, part), fc.tuple(code, part, part), (a, b) => {
      fc.pre(a.join('\u0001') !== b.join('\u0001'));
      assert.notEqual(apiMessageId(...a), apiMessageId(...b));
    }),
    { numRuns: 5000 },
  );
  // The collision the old `api:<source>:<externalId>:<key>` seed had.
  assert.notEqual(apiMessageId('shop', 'a', 'b:c'), apiMessageId('shop', 'a:b', 'c'));
});

test('command ids keep their parts apart; event ids differ by stream, command and index', () => {
  fc.assert(
    fc.property(fc.array(part, { maxLength: 4 }), fc.array(part, { maxLength: 4 }), (a, b) => {
      fc.pre(JSON.stringify(a) !== JSON.stringify(b));
      assert.notEqual(commandIdOf('api', ...a), commandIdOf('api', ...b));
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(
      fc.tuple(part, part, fc.nat(3)),
      fc.tuple(part, part, fc.nat(3)),
      ([s1, c1, i1], [s2, c2, i2]) => {
        fc.pre(s1 !== s2 || c1 !== c2 || i1 !== i2);
        assert.notEqual(commandEventId(s1, c1, i1), commandEventId(s2, c2, i2));
      },
    ),
    { numRuns: 5000 },
  );
  assert.equal(commandIdOf('telegram', 7, 1001), 'telegram:7:1001');
  assert.equal(commandIdOf('api', 'a:b', 'c'), 'api:a%3Ab:c');
});

test('event ids of commands are pinned: changing the seed lets re-delivered updates append twice', () => {
  assert.equal(
    commandEventId('conversation-7d7fa280-671c-5ec1-a1a7-ca6f42b7c40d', 'telegram:7:1001', 0),
    '204553f1-4112-5b01-a0a6-bc034be65c78',
  );
});
