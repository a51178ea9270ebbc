// Saved answers, decided given/when/then: what a change records (with the template's version), what
// it refuses naming the field; and how a text is picked for a client and filled in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expandTemplate,
  initialTemplatesState,
  pickTemplateText,
  type TemplateCommand,
  type TemplateEvent,
  templatesSettings,
} from '../../src/domain/settings/templates.ts';
import { SettingsError } from '../../src/domain/settings.ts';

const templates = templatesSettings(['en', 'ru']);
const state = (events: readonly TemplateEvent[]) => events.reduce(templates.evolve, initialTemplatesState);

const given = (history: readonly TemplateEvent[]) => ({
  when: (command: TemplateCommand) => ({
    // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; this object is never awaited.
    then(expected: readonly TemplateEvent[] | { field: string; code: string; words: RegExp }) {
      if (Array.isArray(expected)) {
        assert.deepEqual(templates.decide(command, state(history)), expected);
        return;
      }
      const { field, code, words } = expected as { field: string; code: string; words: RegExp };
      assert.throws(
        () => templates.decide(command, state(history)),
        (e: unknown) =>
          e instanceof SettingsError && e.field === field && e.code === code && words.test(e.message),
      );
    },
  }),
});

const set = (name: string, locale: string, text: string): TemplateCommand => ({
  type: 'SetTemplateText',
  name,
  locale,
  text,
});
const textSet = (name: string, locale: string, text: string, version: number): TemplateEvent => ({
  type: 'TemplateTextSet',
  data: { name, locale, text, version },
});

describe('templates settings', () => {
  it('sets a text; every change counts the version up; the same text again changes nothing', () => {
    given([])
      .when(set('greeting', 'en', 'Hello {client_name}!'))
      .then([textSet('greeting', 'en', 'Hello {client_name}!', 1)]);
    const history = [textSet('greeting', 'en', 'Hello {client_name}!', 1)];
    given(history)
      .when(set('greeting', 'ru', 'Здравствуйте, {client_name}!'))
      .then([textSet('greeting', 'ru', 'Здравствуйте, {client_name}!', 2)]);
    given(history)
      .when(set('greeting', 'en', 'Hello {client_name}!'))
      .then([]);
    const both = state([...history, textSet('greeting', 'ru', 'Здравствуйте!', 2)]);
    assert.deepEqual(both.templates.get('greeting'), {
      name: 'greeting',
      version: 2,
      texts: { en: 'Hello {client_name}!', ru: 'Здравствуйте!' },
    });
  });

  it('removes one language, the last one takes the template; removed and set again counts on', () => {
    const history = [textSet('refund', 'en', 'On its way', 1), textSet('refund', 'ru', 'В пути', 2)];
    given(history)
      .when({ type: 'RemoveTemplate', name: 'refund', locale: 'ru' })
      .then([{ type: 'TemplateTextRemoved', data: { name: 'refund', locale: 'ru', version: 3 } }]);
    const oneLeft = [
      ...history,
      { type: 'TemplateTextRemoved', data: { name: 'refund', locale: 'ru', version: 3 } },
    ] as const;
    assert.deepEqual(state(oneLeft).templates.get('refund')?.texts, { en: 'On its way' });
    const gone = [
      ...oneLeft,
      { type: 'TemplateTextRemoved', data: { name: 'refund', locale: 'en', version: 4 } },
    ] as const;
    assert.equal(state(gone).templates.has('refund'), false);
    given(gone)
      .when(set('refund', 'en', 'Sent again'))
      .then([textSet('refund', 'en', 'Sent again', 5)]);
    given(history)
      .when({ type: 'RemoveTemplate', name: 'refund' })
      .then([{ type: 'TemplateRemoved', data: { name: 'refund', version: 3 } }]);
  });

  it('refuses, naming the field: the name, the language, the text, unknown variables', () => {
    given([])
      .when(set('Greeting!', 'en', 'Hi'))
      .then({ field: 'name', code: 'invalid_template_name', words: /"Greeting!" is not a template name/ });
    given([])
      .when(set('a'.repeat(33), 'en', 'Hi'))
      .then({ field: 'name', code: 'invalid_template_name', words: /1 to 32/ });
    given([])
      .when(set('greeting', 'de', 'Hallo'))
      .then({ field: 'locale', code: 'unknown_locale', words: /"de".*en, ru/ });
    given([])
      .when(set('greeting', 'en', '   '))
      .then({ field: 'text', code: 'template_text_empty', words: /empty/ });
    given([])
      .when(set('greeting', 'en', 'x'.repeat(4097)))
      .then({ field: 'text', code: 'template_text_too_long', words: /4097 characters.*4096/ });
    given([])
      .when(set('greeting', 'en', 'Your order {order} ships {when}; {client_name}'))
      .then({
        field: 'text',
        code: 'unknown_template_variable',
        words: /unknown variables \{order\}, \{when\}/,
      });
    given([])
      .when({ type: 'RemoveTemplate', name: 'nothing' })
      .then({ field: 'name', code: 'template_not_found', words: /no template "nothing"/ });
    given([textSet('greeting', 'en', 'Hi', 1)])
      .when({ type: 'RemoveTemplate', name: 'greeting', locale: 'ru' })
      .then({ field: 'locale', code: 'template_text_not_found', words: /no ru text \(it has en\)/ });
  });

  it('braces that are no variable stay text', () => {
    given([])
      .when(set('json', 'en', 'Send us { "id": 1 }'))
      .then([textSet('json', 'en', 'Send us { "id": 1 }', 1)]);
  });

  it('summarizes each change for the audit', () => {
    assert.equal(
      templates.summarize(textSet('greeting', 'ru', 'Привет', 2)),
      'saved answer greeting v2 (ru) set: "Привет"',
    );
    assert.equal(
      templates.summarize({ type: 'TemplateRemoved', data: { name: 'greeting', version: 3 } }),
      'saved answer greeting removed (v3)',
    );
  });
});

describe('a saved answer for a client', () => {
  const template = {
    name: 'greeting',
    version: 2,
    texts: { en: 'Hello {client_name}', ru: 'Привет, {client_name}' },
  };

  it("takes the client's language, else the default, else English, else any", () => {
    assert.deepEqual(pickTemplateText(template, 'ru', 'en'), { locale: 'ru', text: 'Привет, {client_name}' });
    assert.deepEqual(pickTemplateText(template, undefined, 'en'), {
      locale: 'en',
      text: 'Hello {client_name}',
    });
    assert.deepEqual(pickTemplateText(template, undefined, 'ru'), {
      locale: 'ru',
      text: 'Привет, {client_name}',
    });
    const russianOnly = { ...template, texts: { ru: 'Привет' } };
    assert.deepEqual(pickTemplateText(russianOnly, 'en', 'en', ['en', 'ru']), {
      locale: 'ru',
      text: 'Привет',
    });
  });

  it('fills the variables; a missing value is empty, other braces stay', () => {
    assert.equal(
      expandTemplate('Hi {client_name} ({client_username}), {manager_name} here. {x}', {
        client_name: 'Ada',
        manager_name: 'Gina',
      }),
      'Hi Ada (), Gina here. {x}',
    );
  });
});
