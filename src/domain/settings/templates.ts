// Saved answers (templates): named texts per language that a manager sends with `/t <name>`
// (docs/design.md, "Notes and saved answers"). Their settings stream, `settings-templates`, holds
// every change with its actor; each change counts the template's version up, so an answer records
// exactly which text went out (`ManagerReplied.template`).
import { type SettingsDefinition, SettingsError } from '../settings.ts';

/** The variables a template may use; the sender fills them from the conversation and the manager. */
export const TEMPLATE_VARIABLES = [
  'client_name',
  'client_username',
  'client_id',
  'manager_name',
  'source',
  'channel',
  'conversation_id',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** Telegram's (and VK's) limit for one text message. */
export const TEMPLATE_TEXT_LIMIT = 4096;

/** Short and plain: typed after `/t`, and `tpl:<name>` must fit a button's 64-byte callback data. */
export const isValidTemplateName = (name: string): boolean => /^[a-z0-9][a-z0-9_-]{0,31}$/.test(name);

export interface TemplateTextSet {
  readonly type: 'TemplateTextSet';
  readonly data: {
    readonly name: string;
    readonly locale: string;
    readonly text: string;
    /** The template's version after this change. */
    readonly version: number;
  };
}

export interface TemplateTextRemoved {
  readonly type: 'TemplateTextRemoved';
  readonly data: { readonly name: string; readonly locale: string; readonly version: number };
}

export interface TemplateRemoved {
  readonly type: 'TemplateRemoved';
  readonly data: { readonly name: string; readonly version: number };
}

export type TemplateEvent = TemplateTextSet | TemplateTextRemoved | TemplateRemoved;
export const templateEventTypes: readonly TemplateEvent['type'][] = [
  'TemplateTextSet',
  'TemplateTextRemoved',
  'TemplateRemoved',
];

export type TemplateCommand =
  | {
      readonly type: 'SetTemplateText';
      readonly name: string;
      readonly locale: string;
      readonly text: string;
    }
  /** Without `locale` the whole template goes; with it, that language's text (the last one takes the template). */
  | { readonly type: 'RemoveTemplate'; readonly name: string; readonly locale?: string };

export interface Template {
  readonly name: string;
  readonly version: number;
  /** Text per language, at least one. */
  readonly texts: Readonly<Record<string, string>>;
}

export interface TemplatesState {
  /** Templates in use, by name. */
  readonly templates: ReadonlyMap<string, Template>;
  /** The last version of every name ever used: a template removed and set again counts on. */
  readonly versions: ReadonlyMap<string, number>;
}

export const initialTemplatesState: TemplatesState = { templates: new Map(), versions: new Map() };

/** The `{placeholders}` a text uses, in order of first use. */
export const templatePlaceholders = (text: string): string[] => [
  ...new Set([...text.matchAll(/\{([a-z_][a-z0-9_]*)\}/gi)].map((m) => m[1]!)),
];

const isVariable = (name: string): name is TemplateVariable =>
  (TEMPLATE_VARIABLES as readonly string[]).includes(name);

/** The text with each known `{variable}` filled; anything else in braces stays as written. */
export const expandTemplate = (
  text: string,
  values: Readonly<Partial<Record<TemplateVariable, string>>>,
): string =>
  text.replace(/\{([a-z_][a-z0-9_]*)\}/gi, (whole, name: string) =>
    isVariable(name) ? (values[name] ?? '') : whole,
  );

export const evolveTemplates = (state: TemplatesState, event: TemplateEvent): TemplatesState => {
  const templates = new Map(state.templates);
  const versions = new Map(state.versions);
  const { name, version } = event.data;
  versions.set(name, Math.max(version, versions.get(name) ?? 0));
  switch (event.type) {
    case 'TemplateTextSet': {
      const texts = { ...(templates.get(name)?.texts ?? {}), [event.data.locale]: event.data.text };
      templates.set(name, { name, version, texts });
      break;
    }
    case 'TemplateTextRemoved': {
      const { [event.data.locale]: _removed, ...texts } = templates.get(name)?.texts ?? {};
      if (Object.keys(texts).length === 0) templates.delete(name);
      else templates.set(name, { name, version, texts });
      break;
    }
    case 'TemplateRemoved':
      templates.delete(name);
      break;
    default: {
      // A type written by a newer version is skipped, as the conversation fold skips one.
      const unknown: never = event;
      void unknown;
      return state;
    }
  }
  return { templates, versions };
};

const checkText = (text: string): void => {
  if (text.trim() === '') throw new SettingsError('template_text_empty', 'text', 'the text is empty');
  if (text.length > TEMPLATE_TEXT_LIMIT)
    throw new SettingsError(
      'template_text_too_long',
      'text',
      `the text has ${text.length} characters; a message holds at most ${TEMPLATE_TEXT_LIMIT}`,
    );
  const unknown = templatePlaceholders(text).filter((p) => !isVariable(p));
  if (unknown.length > 0)
    throw new SettingsError(
      'unknown_template_variable',
      'text',
      `unknown variable${unknown.length > 1 ? 's' : ''} ${unknown.map((v) => `{${v}}`).join(', ')}: ` +
        `a template may use ${TEMPLATE_VARIABLES.map((v) => `{${v}}`).join(', ')}`,
    );
};

const checkName = (name: string): void => {
  if (!isValidTemplateName(name))
    throw new SettingsError(
      'invalid_template_name',
      'name',
      `"${name}" is not a template name: 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit`,
    );
};

const checkLocale = (locales: readonly string[], locale: string | undefined): void => {
  if (locale !== undefined && !locales.includes(locale))
    throw new SettingsError(
      'unknown_locale',
      'locale',
      `unknown locale "${locale}": a template's texts are in ${locales.join(', ')}`,
    );
};

/** `locales`: the languages a text may be in (the catalogue's, passed in by the composition). */
export const decideTemplates =
  (locales: readonly string[]) =>
  (command: TemplateCommand, state: TemplatesState): readonly TemplateEvent[] => {
    checkName(command.name);
    checkLocale(locales, command.locale);
    const { name } = command;
    const current = state.templates.get(name);
    const next = (state.versions.get(name) ?? 0) + 1;
    switch (command.type) {
      case 'SetTemplateText': {
        checkText(command.text);
        // The same text again changes nothing: no new version.
        if (current?.texts[command.locale] === command.text) return [];
        return [
          {
            type: 'TemplateTextSet',
            data: { name, locale: command.locale, text: command.text, version: next },
          },
        ];
      }
      case 'RemoveTemplate': {
        if (!current) throw new SettingsError('template_not_found', 'name', `no template "${name}"`);
        if (command.locale === undefined) return [{ type: 'TemplateRemoved', data: { name, version: next } }];
        if (current.texts[command.locale] === undefined)
          throw new SettingsError(
            'template_text_not_found',
            'locale',
            `template "${name}" has no ${command.locale} text (it has ${Object.keys(current.texts).sort().join(', ')})`,
          );
        return [{ type: 'TemplateTextRemoved', data: { name, locale: command.locale, version: next } }];
      }
      default: {
        const never: never = command;
        return never;
      }
    }
  };

/**
 * The text to send to a client: in the client's language when the template has it, else the
 * default language, else the first of `preferred` it has, else the first by name (a template always
 * has one).
 */
export const pickTemplateText = (
  template: Template,
  clientLocale: string | undefined,
  defaultLocale: string,
  preferred: readonly string[] = [],
): { locale: string; text: string } => {
  const order = [clientLocale, defaultLocale, ...preferred, ...Object.keys(template.texts).sort()];
  const locale = order.find((l): l is string => l !== undefined && template.texts[l] !== undefined)!;
  return { locale, text: template.texts[locale]! };
};

const QUOTE = 80;
const quote = (text: string) => JSON.stringify(text.length > QUOTE ? `${text.slice(0, QUOTE - 1)}…` : text);

export const summarizeTemplates = (event: TemplateEvent): string => {
  switch (event.type) {
    case 'TemplateTextSet':
      return `saved answer ${event.data.name} v${event.data.version} (${event.data.locale}) set: ${quote(event.data.text)}`;
    case 'TemplateTextRemoved':
      return `saved answer ${event.data.name} v${event.data.version}: ${event.data.locale} text removed`;
    case 'TemplateRemoved':
      return `saved answer ${event.data.name} removed (v${event.data.version})`;
    default: {
      const never: never = event;
      return never;
    }
  }
};

/** The `templates` settings, with the languages a text may be in. */
export const templatesSettings = (
  locales: readonly string[],
): SettingsDefinition<TemplateCommand, TemplateEvent, TemplatesState> => ({
  kind: 'templates',
  initial: initialTemplatesState,
  evolve: evolveTemplates,
  decide: decideTemplates(locales),
  summarize: summarizeTemplates,
});
