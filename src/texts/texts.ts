// The texts the bot writes, as the operators set them (docs/design.md, "Texts and languages"): a key
// in a language, an operator's override first, then the shipped text, then the default language's
// — a missing translation is logged once per key and language, not once per message.
import type { Logger } from 'pino';
import {
  type Catalogue,
  fill,
  type Locale,
  localeOf,
  catalogue as shipped,
  type TextKey,
} from './catalogue.ts';

export type Vars = Readonly<Record<string, string | number>>;

/** Operators' overrides: language → key (or `key.variant`) → text. */
export type Overrides = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface TextsOptions {
  /** LOCALE: the topic's language, and a client's whose language is not shipped. */
  readonly defaultLocale: Locale;
  /** The overrides as the `texts` settings hold them now (cached by the settings store). */
  readonly overrides?: () => Promise<Overrides>;
  readonly logger?: Pick<Logger, 'warn'>;
  /** The shipped catalogue unless a test says otherwise. */
  readonly catalogue?: Catalogue;
}

export interface Texts {
  readonly defaultLocale: Locale;
  /** The language a client's tag (`ru-RU`, `en`) is written to in: a shipped one, else the default. */
  localeFor(tag: string | undefined): Locale;
  /** `key` in `locale`, filled; `variant` (a channel) picks a variant's own override where there is one. */
  text(key: TextKey, locale: Locale, vars?: Vars, variant?: string): Promise<string>;
  /** `key` in the topic's language (LOCALE). */
  topic(key: TextKey, vars?: Vars): Promise<string>;
  /** `key` in the language of a client whose language tag is `tag`. */
  client(key: TextKey, tag: string | undefined, vars?: Vars, variant?: string): Promise<string>;
}

const none: Overrides = {};

export const createTexts = (options: TextsOptions): Texts => {
  const { defaultLocale, logger } = options;
  const entries: Catalogue = options.catalogue ?? shipped;
  const warned = new Set<string>();

  const pick = (overrides: Overrides, key: string, locale: Locale, variant: string | undefined) => {
    const own = overrides[locale];
    if (variant !== undefined && own?.[`${key}.${variant}`] !== undefined) return own[`${key}.${variant}`];
    return own?.[key] ?? entries[key]?.[locale];
  };

  const text = async (key: TextKey, locale: Locale, vars: Vars = {}, variant?: string) => {
    const overrides = options.overrides ? await options.overrides() : none;
    const found = pick(overrides, key, locale, variant);
    if (found !== undefined) return fill(found, vars);
    const inDefault = pick(overrides, key, defaultLocale, variant);
    // English is the catalogue's reference: there when the default language lacks the text too.
    const [fallback, used] =
      inDefault !== undefined ? [inDefault, defaultLocale] : [entries[key]?.en ?? key, 'en'];
    if (!warned.has(`${locale}:${key}`)) {
      warned.add(`${locale}:${key}`);
      logger?.warn(
        { key, locale, fallback: used },
        `text ${key} has no ${locale} translation: using ${used} (texts:set ${locale} ${key} … adds one)`,
      );
    }
    return fill(fallback, vars);
  };

  const localeFor = (tag: string | undefined): Locale => localeOf(tag) ?? defaultLocale;

  return {
    defaultLocale,
    localeFor,
    text,
    topic: (key, vars) => text(key, defaultLocale, vars),
    client: (key, tag, vars, variant) => text(key, localeFor(tag), vars, variant),
  };
};

/** The shipped texts alone, in `defaultLocale`'s default: what an adapter built without settings uses. */
export const shippedTexts = (defaultLocale: Locale = 'en'): Texts => createTexts({ defaultLocale });
