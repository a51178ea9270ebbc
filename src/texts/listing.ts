// Every text an operator may override, as it reads now in each language: what `texts:list` prints
// and `GET /api/admin/texts` answers.
import { type Catalogue, type Locale, locales, overridableKeys, catalogue as shipped } from './catalogue.ts';
import type { Overrides } from './texts.ts';

export interface TextListing {
  readonly key: string;
  readonly locale: Locale;
  /** The text as the bot uses it (placeholders unfilled). */
  readonly text: string;
  /**
   * `override`: an operator's; `shipped`: topicdesk's own; `fallback`: no text in this language, the
   * default language's is used; `inherited`: a variant without its own, the key's text is used.
   */
  readonly origin: 'override' | 'shipped' | 'fallback' | 'inherited';
  /** The variables the text may use, and those it must. */
  readonly vars: readonly string[];
  readonly required: readonly string[];
}

export const listTexts = (
  overrides: Overrides,
  options: { locale?: Locale; defaultLocale: Locale; catalogue?: Catalogue },
): TextListing[] => {
  const of = options.catalogue ?? shipped;
  const wanted = options.locale ? [options.locale] : locales;
  const rows: TextListing[] = [];
  for (const [key, { base, entry }] of overridableKeys(of)) {
    for (const locale of wanted) {
      const common = { key, locale, vars: entry.vars, required: entry.required ?? [] };
      const own = overrides[locale]?.[key];
      if (own !== undefined) {
        rows.push({ ...common, text: own, origin: 'override' });
        continue;
      }
      if (key !== base) {
        const text =
          overrides[locale]?.[base] ?? entry[locale] ?? overrides[options.defaultLocale]?.[base] ?? entry.en;
        rows.push({ ...common, text, origin: 'inherited' });
        continue;
      }
      const text = entry[locale];
      rows.push(
        text !== undefined
          ? { ...common, text, origin: 'shipped' }
          : { ...common, text: overrides[options.defaultLocale]?.[key] ?? entry.en, origin: 'fallback' },
      );
    }
  }
  return rows;
};
