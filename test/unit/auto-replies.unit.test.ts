// Automatic replies and the client's language, decided given/when/then: a welcome once per
// conversation, an off-hours answer once per off-period, none to a banned client; the language
// recorded when it changes. And the texts: an override wins, a missing translation falls back to
// the default language and is logged once per key and language.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SendAutomaticReply } from '../../src/domain/conversation.ts';
import { foldConversation } from '../../src/domain/conversation.ts';
import { AUTOMATIC_MANAGER_ID, AUTOMATIC_MANAGER_NAME } from '../../src/domain/conversation-decide.ts';
import type { ConversationEvent, ManagerReplied } from '../../src/domain/events.ts';
import { type Catalogue, catalogue } from '../../src/texts/catalogue.ts';
import { createTexts } from '../../src/texts/texts.ts';
import { given, receive, received, started } from './conversation-fixtures.ts';

const FRIDAY_EVENING = '2026-03-27T17:00:00.000Z';
const SUNDAY_NIGHT = '2026-03-29T02:00:00.000Z';

const offHours = (messageId: string, period: string): SendAutomaticReply => ({
  type: 'SendAutomaticReply',
  reason: 'off_hours',
  messageId,
  period,
  content: { text: 'We are closed.', attachments: [] },
});
const welcome = (messageId: string): SendAutomaticReply => ({
  type: 'SendAutomaticReply',
  reason: 'welcome',
  messageId,
  content: { text: 'Hello!', attachments: [] },
});
const sent = (command: SendAutomaticReply): ManagerReplied => ({
  type: 'ManagerReplied',
  data: {
    text: command.content.text,
    attachments: [],
    messageId: command.messageId,
    managerId: AUTOMATIC_MANAGER_ID,
    managerName: AUTOMATIC_MANAGER_NAME,
    automatic: command.period
      ? { reason: command.reason, period: command.period }
      : { reason: command.reason },
  },
});
const banned: ConversationEvent = { type: 'ClientBanned', data: {} };

describe('SendAutomaticReply', () => {
  test('an off-hours answer is sent once in an off-period', () => {
    given([started, received('m1')])
      .when(offHours('a1', FRIDAY_EVENING))
      .then([sent(offHours('a1', FRIDAY_EVENING))]);
    given([started, received('m1'), sent(offHours('a1', FRIDAY_EVENING)), received('m2')])
      .when(offHours('a2', FRIDAY_EVENING))
      .then([]);
  });

  test('the next off-period gets its own answer', () => {
    given([started, received('m1'), sent(offHours('a1', FRIDAY_EVENING)), received('m2')])
      .when(offHours('a2', SUNDAY_NIGHT))
      .then([sent(offHours('a2', SUNDAY_NIGHT))]);
  });

  test('a welcome is sent once per conversation', () => {
    given([started, received('m1')])
      .when(welcome('w1'))
      .then([sent(welcome('w1'))]);
    given([started, received('m1'), sent(welcome('w1')), received('m2')])
      .when(welcome('w2'))
      .then([]);
  });

  test('the same reply decided again appends nothing (a re-delivered update)', () => {
    given([started, received('m1'), sent(welcome('w1'))])
      .when(welcome('w1'))
      .then([]);
  });

  test('a banned client gets no automatic reply', () => {
    given([started, received('m1'), banned, received('m2', 'again', { suppressed: true })])
      .when(offHours('a1', FRIDAY_EVENING))
      .then([]);
  });

  test('an off-hours answer names its period', () => {
    given([started, received('m1')])
      .when({ ...offHours('a1', FRIDAY_EVENING), period: undefined } as unknown as SendAutomaticReply)
      .then('invalid_command');
  });

  test('the fold keeps what was sent: welcomed, and the off-period answered', () => {
    const state = foldConversation([
      started,
      received('m1'),
      sent(welcome('w1')),
      sent(offHours('a1', SUNDAY_NIGHT)),
    ]);
    assert.equal(state.welcomed, true);
    assert.equal(state.offHoursAnswered, SUNDAY_NIGHT);
    assert.equal(state.messages.get('a1')?.automatic?.reason, 'off_hours');
    assert.deepEqual(state.waitingOutgoing, ['w1', 'a1'], 'carried like any answer');
  });
});

describe("the client's language", () => {
  test('is taken from the conversation start, and recorded again only when it changes', () => {
    given([started, received('m1')])
      .when(receive('m2', 'still english'))
      .then([received('m2', 'still english')]);
    given([started, received('m1')])
      .when(receive('m2', 'по-русски', { profile: { ...started.data.profile, languageCode: 'ru' } }))
      .then([received('m2', 'по-русски', { languageCode: 'ru' })]);
    const state = foldConversation([started, received('m1'), received('m2', 'x', { languageCode: 'ru' })]);
    assert.equal(state.language, 'ru');
    assert.equal(foldConversation([started]).language, 'en');
  });
});

describe('texts', () => {
  const logged: unknown[][] = [];
  const logger = { warn: (...args: unknown[]) => void logged.push(args) };

  test('an override in the client’s language wins; a variant’s own override wins for its channel only', async () => {
    const texts = createTexts({
      defaultLocale: 'en',
      overrides: async () => ({
        ru: { 'client.closed': 'Закрыто.', 'client.welcome.vk': 'Привет из VK!' },
      }),
    });
    assert.equal(await texts.client('client.closed', 'ru-RU'), 'Закрыто.');
    assert.equal(await texts.client('client.closed', 'en'), catalogue['client.closed'].en);
    assert.equal(
      await texts.client('client.closed', 'de'),
      catalogue['client.closed'].en,
      'not shipped: LOCALE',
    );
    assert.equal(await texts.client('client.welcome', 'ru', {}, 'vk'), 'Привет из VK!');
    assert.equal(await texts.client('client.welcome', 'ru', {}, 'telegram'), catalogue['client.welcome'].ru);
  });

  test('a missing translation falls back to the default language and is logged once per key and language', async () => {
    // A catalogue as it stands when a key is added before its Russian text.
    const partial: Catalogue = {
      ...catalogue,
      'client.closed': { vars: [], en: 'Closed by support.' },
      'client.banned': { vars: [], en: 'Not forwarded.' },
    };
    const texts = createTexts({ defaultLocale: 'en', logger, catalogue: partial });
    for (let i = 0; i < 3; i++) assert.equal(await texts.client('client.closed', 'ru'), 'Closed by support.');
    assert.equal(await texts.client('client.banned', 'ru'), 'Not forwarded.');
    assert.equal(await texts.client('client.closed', 'en'), 'Closed by support.');
    assert.equal(logged.length, 2, 'once per key and language');
    assert.deepEqual(logged[0]![0], { key: 'client.closed', locale: 'ru', fallback: 'en' });
    assert.match(String(logged[0]![1]), /client\.closed has no ru translation: using en/);
  });
});
