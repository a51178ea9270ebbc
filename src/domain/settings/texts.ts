// The `texts` settings: operators' overrides of the catalogue's texts, per language
// (docs/design.md, "Texts and languages"). An override is checked against the catalogue it
// overrides — the key exists, the language is shipped, the text uses only the key's variables and
// keeps the ones it must — so a wrong override is refused when it is set, not found by a client.
import { type SettingsDefinition, SettingsError } from '../settings.ts';

export interface TextOverrideSet {
  readonly type: 'TextOverrideSet';
  readonly data: { readonly locale: string; readonly key: string; readonly text: string };
}

export interface TextOverrideRemoved {
  readonly type: 'TextOverrideRemoved';
  readonly data: { readonly locale: string; readonly key: string };
}

export type TextsEvent = TextOverrideSet | TextOverrideRemoved;
export const textsEventTypes: readonly TextsEvent['type'][] = ['TextOverrideSet', 'TextOverrideRemoved'];

export type TextsCommand =
  | { readonly type: 'SetTextOverride'; readonly locale: string; readonly key: string; readonly text: string }
  | { readonly type: 'RemoveTextOverride'; readonly locale: string; readonly key: string };

/** Overrides by language, then key. */
export interface TextsState {
  readonly overrides: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export const initialTextsState: TextsState = { overrides: {} };

/**
 * What decide checks an override against: the catalogue (src/texts/catalogue.ts) passed in by the
 * composition, since the domain imports nothing outside itself.
 */
export interface TextCatalogue {
  readonly locales: readonly string[];
  /** The variables `key`'s text may use and those it must keep; undefined for an unknown key. */
  readonly entry: (
    key: string,
  ) => { readonly vars: readonly string[]; readonly required: readonly string[] } | undefined;
}

/** The longest text an override may have: a Telegram message holds 4096 characters, and a notice quotes. */
export const MAX_TEXT_LENGTH = 3500;

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)\}/gi;

/** The `{name}` placeholders a text uses, in order of first use. */
export const placeholdersOf = (template: string): string[] => [
  ...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!)),
];

/** `{name}` placeholders filled from `vars`; an unknown placeholder stays as written. */
export const fillPlaceholders = (
  template: string,
  vars: Readonly<Record<string, string | number>> = {},
): string =>
  template.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : whole,
  );

const braces = (names: readonly string[]) => names.map((n) => `{${n}}`).join(', ');

const checkTarget = (catalogue: TextCatalogue, locale: string, key: string) => {
  if (!catalogue.locales.includes(locale)) {
    throw new SettingsError(
      'unknown_locale',
      'locale',
      `unknown locale "${locale}": texts are shipped in ${catalogue.locales.join(', ')}`,
    );
  }
  const entry = catalogue.entry(key);
  if (!entry) {
    throw new SettingsError('unknown_key', 'key', `unknown text key "${key}" (texts:list shows every key)`);
  }
  return entry;
};

/** Refuses a text the key cannot show: unknown variables, required ones missing, empty or too long. */
export const checkOverrideText = (
  catalogue: TextCatalogue,
  locale: string,
  key: string,
  text: string,
): void => {
  const entry = checkTarget(catalogue, locale, key);
  if (text.trim() === '') throw new SettingsError('empty_text', 'text', `the text of "${key}" is empty`);
  if (text.length > MAX_TEXT_LENGTH) {
    throw new SettingsError(
      'text_too_long',
      'text',
      `the text of "${key}" has ${text.length} characters; at most ${MAX_TEXT_LENGTH}`,
    );
  }
  const used = placeholdersOf(text);
  const unknown = used.filter((name) => !entry.vars.includes(name));
  if (unknown.length > 0) {
    const has = entry.vars.length === 0 ? 'it has none' : `it has ${braces(entry.vars)}`;
    throw new SettingsError(
      'unknown_variable',
      'text',
      `the text of "${key}" uses ${braces(unknown)}, which "${key}" does not have (${has})`,
    );
  }
  const missing = entry.required.filter((name) => !used.includes(name));
  if (missing.length > 0) {
    throw new SettingsError('missing_variable', 'text', `the text of "${key}" must use ${braces(missing)}`);
  }
};

export const evolveTexts = (state: TextsState, event: TextsEvent): TextsState => {
  switch (event.type) {
    case 'TextOverrideSet': {
      const { locale, key, text } = event.data;
      return { overrides: { ...state.overrides, [locale]: { ...state.overrides[locale], [key]: text } } };
    }
    case 'TextOverrideRemoved': {
      const { locale, key } = event.data;
      const { [key]: _removed, ...rest } = state.overrides[locale] ?? {};
      return { overrides: { ...state.overrides, [locale]: rest } };
    }
    default: {
      const never: never = event;
      return never;
    }
  }
};

export const decideTexts =
  (catalogue: TextCatalogue) =>
  (command: TextsCommand, state: TextsState): readonly TextsEvent[] => {
    switch (command.type) {
      case 'SetTextOverride': {
        const { locale, key, text } = command;
        checkOverrideText(catalogue, locale, key, text);
        if (state.overrides[locale]?.[key] === text) return [];
        return [{ type: 'TextOverrideSet', data: { locale, key, text } }];
      }
      case 'RemoveTextOverride': {
        const { locale, key } = command;
        checkTarget(catalogue, locale, key);
        if (state.overrides[locale]?.[key] === undefined) {
          throw new SettingsError('override_not_found', 'key', `"${key}" has no override in ${locale}`);
        }
        return [{ type: 'TextOverrideRemoved', data: { locale, key } }];
      }
      default: {
        const never: never = command;
        return never;
      }
    }
  };

const QUOTE = 80;
const quote = (text: string) => JSON.stringify(text.length > QUOTE ? `${text.slice(0, QUOTE - 1)}…` : text);

export const summarizeTexts = (event: TextsEvent): string => {
  switch (event.type) {
    case 'TextOverrideSet':
      return `text ${event.data.key} (${event.data.locale}) set: ${quote(event.data.text)}`;
    case 'TextOverrideRemoved':
      return `text ${event.data.key} (${event.data.locale}) back to the shipped one`;
    default: {
      const never: never = event;
      return never;
    }
  }
};

export const textsSettings = (
  catalogue: TextCatalogue,
): SettingsDefinition<TextsCommand, TextsEvent, TextsState> => ({
  kind: 'texts',
  initial: initialTextsState,
  evolve: evolveTexts,
  decide: decideTexts(catalogue),
  summarize: summarizeTexts,
});
