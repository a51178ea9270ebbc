// The texts and hours settings, decided given/when/then: what an operator's change records, and what
// it refuses, naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideHours,
  evolveHours,
  type HoursEvent,
  initialHoursState,
  type WorkingHours,
} from '../../src/domain/settings/hours.ts';
import {
  decideTexts,
  evolveTexts,
  initialTextsState,
  type TextsCommand,
  type TextsEvent,
} from '../../src/domain/settings/texts.ts';
import { SettingsError } from '../../src/domain/settings.ts';
import { textCatalogue } from '../../src/texts/catalogue.ts';

const decide = decideTexts(textCatalogue);
const given = (events: readonly TextsEvent[]) => events.reduce(evolveTexts, initialTextsState);
const refused = (
  command: TextsCommand,
  field: string,
  code: string,
  words: RegExp,
  events: TextsEvent[] = [],
) =>
  assert.throws(
    () => decide(command, given(events)),
    (e: unknown) =>
      e instanceof SettingsError && e.field === field && e.code === code && words.test(e.message),
  );

describe('texts settings', () => {
  it('records an override, and nothing when it is the same text again', () => {
    const set: TextsCommand = {
      type: 'SetTextOverride',
      locale: 'ru',
      key: 'client.closed',
      text: 'Закрыто.',
    };
    const events = decide(set, given([]));
    assert.deepEqual(events, [
      { type: 'TextOverrideSet', data: { locale: 'ru', key: 'client.closed', text: 'Закрыто.' } },
    ]);
    assert.deepEqual(given(events).overrides, { ru: { 'client.closed': 'Закрыто.' } });
    assert.deepEqual(decide(set, given(events)), []);
  });

  it('removes an override, and refuses to remove one that is not there', () => {
    const set: TextsEvent = {
      type: 'TextOverrideSet',
      data: { locale: 'en', key: 'client.banned', text: 'No.' },
    };
    const remove: TextsCommand = { type: 'RemoveTextOverride', locale: 'en', key: 'client.banned' };
    const events = decide(remove, given([set]));
    assert.deepEqual(events, [{ type: 'TextOverrideRemoved', data: { locale: 'en', key: 'client.banned' } }]);
    assert.deepEqual(given([set, ...events]).overrides, { en: {} });
    refused(remove, 'key', 'override_not_found', /"client\.banned" has no override in en/);
  });

  it('refuses an unknown key, an unknown locale, an unknown variable and a missing required one, naming the key', () => {
    refused(
      { type: 'SetTextOverride', locale: 'en', key: 'client.nope', text: 'x' },
      'key',
      'unknown_key',
      /unknown text key "client\.nope"/,
    );
    refused(
      { type: 'SetTextOverride', locale: 'de', key: 'client.closed', text: 'x' },
      'locale',
      'unknown_locale',
      /unknown locale "de": texts are shipped in en, ru/,
    );
    refused(
      { type: 'SetTextOverride', locale: 'en', key: 'topic.answers_cannot_reach', text: 'Cannot ({why})' },
      'text',
      'unknown_variable',
      /"topic\.answers_cannot_reach" uses \{why\}, which "topic\.answers_cannot_reach" does not have \(it has \{reason\}\)/,
    );
    refused(
      { type: 'SetTextOverride', locale: 'en', key: 'client.closed', text: 'Closed, {name}' },
      'text',
      'unknown_variable',
      /it has none/,
    );
    refused(
      { type: 'SetTextOverride', locale: 'en', key: 'client.closed', text: '   ' },
      'text',
      'empty_text',
      /"client\.closed" is empty/,
    );
  });
});

const berlin: WorkingHours = {
  timeZone: 'Europe/Berlin',
  weekly: { fri: ['13:00-18:00', '09:00-12:00'], mon: ['09:00-18:00'] },
  exceptions: [
    { date: '2026-12-31', hours: ['10:00-14:00'] },
    { date: '2026-12-25', hours: [], note: 'Christmas' },
  ],
};

const hoursRefused = (hours: unknown, field: string, words: RegExp) =>
  assert.throws(
    () => decideHours({ type: 'SetWorkingHours', hours: hours as WorkingHours }, initialHoursState),
    (e: unknown) => e instanceof SettingsError && e.field === field && words.test(e.message),
  );

describe('hours settings', () => {
  it('records a schedule in a canonical order, and nothing when it is set again unchanged', () => {
    const events = decideHours({ type: 'SetWorkingHours', hours: berlin }, initialHoursState);
    assert.equal(events.length, 1);
    const recorded = (events[0] as Extract<HoursEvent, { type: 'WorkingHoursSet' }>).data.hours;
    assert.deepEqual(recorded.weekly.fri, ['09:00-12:00', '13:00-18:00']);
    assert.deepEqual(
      recorded.exceptions.map((e) => e.date),
      ['2026-12-25', '2026-12-31'],
    );
    const state = events.reduce(evolveHours, initialHoursState);
    assert.deepEqual(decideHours({ type: 'SetWorkingHours', hours: berlin }, state), []);
    assert.deepEqual(decideHours({ type: 'ClearWorkingHours' }, state), [
      { type: 'WorkingHoursCleared', data: {} },
    ]);
  });

  it('refuses what is not a schedule, naming the field', () => {
    hoursRefused({ ...berlin, timeZone: 'Mars/Olympus' }, 'timeZone', /IANA time zone/);
    hoursRefused({ ...berlin, weekly: { mon: ['9-18'] } }, 'weekly.mon[0]', /"HH:MM-HH:MM"/);
    hoursRefused({ ...berlin, weekly: { mon: ['18:00-09:00'] } }, 'weekly.mon[0]', /end after the start/);
    hoursRefused(
      { ...berlin, weekly: { mon: ['09:00-13:00', '12:00-18:00'] } },
      'weekly.mon',
      /09:00-13:00 and 12:00-18:00 overlap/,
    );
    hoursRefused({ ...berlin, weekly: { monday: ['09:00-18:00'] } }, 'weekly.monday', /not a weekday/);
    hoursRefused(
      { ...berlin, exceptions: [{ date: '2026-02-30', hours: [] }] },
      'exceptions[0].date',
      /YYYY-MM-DD/,
    );
    hoursRefused(
      {
        ...berlin,
        exceptions: [
          { date: '2026-05-01', hours: [] },
          { date: '2026-05-01', hours: ['10:00-12:00'] },
        ],
      },
      'exceptions[1].date',
      /listed twice/,
    );
    assert.throws(
      () => decideHours({ type: 'ClearWorkingHours' }, initialHoursState),
      (e: unknown) => e instanceof SettingsError && e.code === 'hours_not_set',
    );
  });

  it('accepts 24:00 as the end of a day', () => {
    const events = decideHours(
      {
        type: 'SetWorkingHours',
        hours: { timeZone: 'UTC', weekly: { sat: ['20:00-24:00'] }, exceptions: [] },
      },
      initialHoursState,
    );
    assert.equal(events.length, 1);
  });
});
