// Every text the bot writes to a client or into a topic, by key, in the languages shipped (English and
// Russian). A key declares its variables; an operator's override of a text is checked against them
// (docs/design.md, "Texts and languages").

import {
  fillPlaceholders,
  placeholdersOf as placeholders,
  type TextCatalogue,
} from '../domain/settings/texts.ts';
import { clientTexts } from './catalogue/client.ts';
import { commandTexts } from './catalogue/commands.ts';
import type { Entry } from './catalogue/entry.ts';
import { ratingTexts } from './catalogue/rating.ts';
import { reminderTexts } from './catalogue/reminders.ts';
import { topicTexts } from './catalogue/topic.ts';

/** A language the catalogue ships. Other client languages fall back to the configured default. */
export type Locale = 'en' | 'ru';
export const locales: readonly Locale[] = ['en', 'ru'];

export type { Entry } from './catalogue/entry.ts';

/** Every key: the parts spread in this order, the order listings show. */
export const catalogue = {
  ...clientTexts,
  ...topicTexts,
  ...commandTexts,
  ...ratingTexts,
  ...reminderTexts,
} as const satisfies Record<string, Entry>;

export type TextKey = keyof typeof catalogue;
export const textKeys = Object.keys(catalogue) as TextKey[];

/** `{name}` placeholders filled from `vars`; an unknown placeholder stays as written. */
export const fill = fillPlaceholders;

/** The placeholders a text uses, in order of first use. */
export const placeholdersOf = placeholders;

export const isTextKey = (key: string): key is TextKey => Object.hasOwn(catalogue, key);

/** A catalogue: the shipped one, or (in tests) one with a translation left out. */
export type Catalogue = Readonly<Record<string, Entry>>;

/**
 * Every key an operator may override: each entry's own, and `<key>.<variant>` for its variants,
 * with the entry it belongs to.
 */
export const overridableKeys = (of: Catalogue = catalogue): Map<string, { base: string; entry: Entry }> =>
  new Map(
    Object.entries(of).flatMap(([key, e]) => [
      [key, { base: key, entry: e }] as const,
      ...(e.variants ?? []).map((v) => [`${key}.${v}`, { base: key, entry: e }] as const),
    ]),
  );

/** The catalogue as the `texts` settings check overrides against it. */
export const catalogueForOverrides = (of: Catalogue = catalogue): TextCatalogue => {
  const keys = overridableKeys(of);
  return {
    locales,
    entry: (key) => {
      const found = keys.get(key);
      return found && { vars: found.entry.vars, required: found.entry.required ?? [] };
    },
  };
};

export const textCatalogue: TextCatalogue = catalogueForOverrides();

/**
 * A shipped language for a client's language tag (`ru`, `ru-RU`, `en_US`), or undefined when the
 * catalogue does not ship it (the caller falls back to the configured default).
 */
export const localeOf = (tag: string | undefined): Locale | undefined => {
  const primary = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return locales.find((l) => l === primary);
};

/** The shipped text of `key` in `locale` (English where it has none), filled. Overrides: src/texts/texts.ts. */
export const shippedText = (
  key: TextKey,
  locale: Locale,
  vars: Readonly<Record<string, string | number>> = {},
): string => {
  const e: Entry = catalogue[key];
  return fill(e[locale] ?? e.en, vars);
};
